"""Referral -> screening -> consent -> baseline -> randomisation -> the peer support worker's caseload,
while the researcher who screened and consented the participant never sees the arm."""

from __future__ import annotations

import datetime as dt
import re

from playwright.sync_api import expect
from tests.conftest import fresh_nhs_number
from tests.test_masking import _arm_patterns

from aftercrisis.accounts.models import Site, User
from aftercrisis.accounts.roles import Role
from aftercrisis.accounts.selectors import actor_for
from aftercrisis.config.trial import protocol
from aftercrisis.demo.recruitment import baseline, enrol
from aftercrisis.participants.models import Participant
from aftercrisis.participants.services import register_participant
from aftercrisis.randomisation.models import AllocationSlot, StratumCursor
from aftercrisis.randomisation.services import randomise


def _next_cam_slot_is_intervention() -> None:
    """Randomise others at CAM through the services until the next concealed position is peer support."""
    manager, researcher = User.objects.get(username="manager"), User.objects.get(username="researcher1")
    cam = Site.objects.get(code="CAM")
    while True:
        cursor = StratumCursor.objects.get(site=cam)
        if AllocationSlot.objects.get(site=cam, position=cursor.last_position + 1).arm == "intervention":
            return
        today = dt.date.today()
        p = register_participant(
            site=cam,
            referred_on=today,
            by=researcher,
            identity={"nhs_number": fresh_nhs_number(), "given_name": "F", "family_name": "Iller",
                      "date_of_birth": dt.date(1980, 1, 1)},
        )  # fmt: skip
        enrol(p, protocol(), researcher, today)
        randomise(actor_for(manager, Role.TRIAL_MANAGER), p, protocol(), by=manager, on=today)


def test_from_referral_to_the_caseload_with_the_researcher_kept_masked(
    browser, live_server, accessible, demo
):
    def session(username):
        context = browser.new_context()
        page = context.new_page()
        page.goto(f"{live_server.url}/account/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill("demo-crisis-2026")
        page.get_by_role("button", name="Sign in").click()
        return context, page

    today = dt.date.today().isoformat()
    _next_cam_slot_is_intervention()

    # The crisis team refers.
    context, referrer = session("referrer.cam")
    referrer.get_by_label("First name").fill("Sam")
    referrer.get_by_label("Last name").fill("Journey")
    referrer.get_by_label("NHS number").fill(fresh_nhs_number())
    referrer.get_by_label("Date of birth").fill("1984-02-29")
    referrer.get_by_label("Date of referral").fill(today)
    referrer.get_by_role("button", name="Refer").click()
    expect(referrer.get_by_text(re.compile(r"Sam Journey is referred as CAM-"))).to_be_visible()
    context.close()
    participant = Participant.objects.get(identity__family_name="Journey")
    detail = f"{live_server.url}/participants/{participant.trial_id}/"

    # The researcher screens item by item, then takes consent.
    context, researcher = session("researcher1")
    researcher.goto(detail)
    researcher.get_by_role("link", name=re.compile("Screen for eligibility")).click()
    researcher.get_by_label("Date screened").fill(today)
    researcher.get_by_role("button", name="Save screening").click()
    expect(researcher.get_by_role("alert")).to_contain_text("Answer whether")  # every criterion is asked
    accessible(researcher)
    for group in researcher.get_by_role("group", name=re.compile("^(Inclusion|Exclusion)")).all():
        name = group.locator("legend").inner_text()
        group.get_by_label("Yes" if name.startswith("Inclusion") else "No", exact=True).check()
    researcher.get_by_role("button", name="Save screening").click()
    expect(researcher.get_by_text(f"Screening of {participant.trial_id} is recorded")).to_be_visible()

    researcher.get_by_role("link", name=re.compile("Record consent")).click()
    researcher.get_by_label("Date of consent").fill(today)
    researcher.get_by_label(re.compile("I agree to take part")).check()
    researcher.get_by_role("button", name="Save consent").click()
    expect(researcher.get_by_role("alert")).to_contain_text("capacity")
    accessible(researcher)
    researcher.get_by_label(re.compile("has capacity")).check()
    researcher.get_by_label(re.compile("look at my clinical records")).check()
    researcher.get_by_role("button", name="Save consent").click()
    expect(researcher.get_by_text(re.compile("Consent of .* is recorded"))).to_be_visible()
    # Baseline questionnaires (their entry pages belong to follow-up) complete the gate.
    baseline(participant, User.objects.get(username="researcher1"), dt.date.today())

    # The trial manager randomises.
    manager_context, manager = session("manager")
    manager.goto(detail)
    manager.get_by_role("button", name=f"Randomise {participant.trial_id}").click()
    expect(manager.get_by_text(f"{participant.trial_id} is allocated to: Peer-supported")).to_be_visible()
    expect(manager.get_by_text("Added to")).to_be_visible()
    manager_context.close()

    # The peer support worker sees the participant on their caseload.
    psw_context, psw = session("psw.cam")
    expect(psw.get_by_role("cell", name=participant.trial_id)).to_be_visible()
    psw_context.close()

    # The researcher opening the same participant sees no arm anywhere.
    researcher.goto(detail)
    expect(researcher.get_by_role("heading", name=participant.trial_id)).to_be_visible()
    visible = re.sub(r"<script.*?</script>", "", researcher.content(), flags=re.S)
    for pattern in _arm_patterns(protocol()):
        assert not pattern.search(visible), pattern.pattern
    context.close()
