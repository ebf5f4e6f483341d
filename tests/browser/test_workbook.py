"""A participant's link: it opens their own workbook only, once, and not after it expires."""

from __future__ import annotations

import datetime as dt

from playwright.sync_api import expect

from aftercrisis.intervention.models import CaseloadAssignment
from aftercrisis.participants.links import issue_link
from aftercrisis.workbook.models import WorkbookEntry


def test_the_participant_link_opens_their_own_workbook_once(
    browser, page, live_server, sign_in, accessible, demo
):
    assignment = (
        CaseloadAssignment.objects.filter(worker__username="psw.cam").select_related("participant").first()
    )
    participant = assignment.participant
    someone_else = CaseloadAssignment.objects.exclude(participant=participant).first().participant
    before = WorkbookEntry.objects.filter(participant=someone_else).count()

    # The peer support worker creates the link and code.
    sign_in("psw.cam")
    page.goto(f"{live_server.url}/workbook/participants/{participant.trial_id}/link/")
    page.get_by_role("button", name="Create a link and code").click()
    link = page.locator("#workbook-link").inner_text().strip()
    code = page.locator("#workbook-code").inner_text().strip()
    accessible(page)

    # The participant, on their own device.
    own = browser.new_context()
    mine = own.new_page()
    mine.goto(link)
    accessible(mine)
    mine.get_by_label("Your 6-digit code").fill(f"{(int(code) + 1) % 10**6:06d}")
    mine.get_by_role("button", name="Continue").click()
    expect(mine.get_by_role("alert")).to_contain_text("That code is not right. You have 4 more tries.")
    mine.get_by_label("Your 6-digit code").fill(code)
    mine.get_by_role("button", name="Continue").click()
    expect(mine.get_by_role("heading", name="My personal recovery workbook")).to_be_visible()
    accessible(mine)

    mine.get_by_role("link", name="Change My personal recovery goals").or_(
        mine.get_by_role("link", name="Fill in My personal recovery goals")
    ).click()
    goal_1 = mine.get_by_role("group", name="Goal 1")
    goal_1.get_by_label("My goal").fill("Swim at the leisure centre on Fridays")
    goal_1.get_by_label("Date to review how it is going").fill("2027-01-15")
    accessible(mine)
    mine.get_by_role("button", name="Save this page").click()
    expect(mine.get_by_text("“My personal recovery goals” was saved.")).to_be_visible()
    expect(mine.get_by_text("Swim at the leisure centre on Fridays")).to_be_visible()
    assert WorkbookEntry.objects.filter(
        participant=participant, section="goals", value="Swim at the leisure centre on Fridays"
    ).exists()

    # Nothing else is reachable: staff pages send them to sign in; other participants are not addressable.
    for path in [
        "/caseload/",
        "/participants/",
        f"/workbook/participants/{someone_else.trial_id}/workbook.pdf",
    ]:
        mine.goto(f"{live_server.url}{path}")
        expect(mine).to_have_url(f"{live_server.url}/account/login/?next={path}")
    response = mine.request.get(f"{live_server.url}/caseload/{someone_else.trial_id}/", max_redirects=0)
    assert response.status == 302 and "/account/login/" in response.headers["location"]
    assert WorkbookEntry.objects.filter(participant=someone_else).count() == before
    own.close()

    # The link has been spent.
    again = browser.new_context()
    reuse = again.new_page()
    reuse.goto(link)
    reuse.get_by_label("Your 6-digit code").fill(code)
    reuse.get_by_role("button", name="Continue").click()
    expect(reuse.get_by_role("alert")).to_contain_text("This link has already been used.")
    reuse.goto(f"{live_server.url}/workbook/")
    expect(reuse.get_by_role("heading", name="You cannot open this page")).to_be_visible()

    # An expired link is refused.
    expired = issue_link(participant, "workbook", by=None, lifetime=dt.timedelta(seconds=-1))
    reuse.goto(f"{live_server.url}/workbook/open/{expired.token}/")
    reuse.get_by_label("Your 6-digit code").fill(expired.code)
    reuse.get_by_role("button", name="Continue").click()
    expect(reuse.get_by_role("alert")).to_contain_text("This link has expired.")
    again.close()
