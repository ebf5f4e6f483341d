"""In the browser: a SUSAR reported by a researcher reaches the chief investigator's awaiting-review view
and is e-mailed once; the trial manager adds a member of staff; the new pages pass axe."""

from __future__ import annotations

import datetime as dt

from django.core import mail
from playwright.sync_api import expect

from aftercrisis.accounts.models import RoleAssignment, User
from aftercrisis.participants.models import Participant


def test_a_susar_reported_by_a_researcher_awaits_the_chief_investigators_review(
    page, live_server, sign_in, accessible, demo
):
    sites = RoleAssignment.objects.filter(user__username="researcher1").values_list("site_id", flat=True)
    participant = (
        Participant.objects.filter(site_id__in=sites, allocation__isnull=False).order_by("trial_id").first()
    )
    sign_in("researcher1")
    page.goto(f"{live_server.url}/outcomes/{participant.trial_id}/sae/")
    accessible(page)
    page.get_by_label("Self-harm").check()
    page.get_by_label("Date of onset").fill((dt.date.today() - dt.timedelta(days=2)).isoformat())
    page.get_by_label("What happened").fill(
        "Admitted after an overdose the day after a peer support session."
    )
    page.get_by_label("Required or prolonged hospital admission").check()
    page.get_by_label("Probably related").check()
    page.get_by_label("Unexpected", exact=True).check()
    mail.outbox.clear()
    page.get_by_role("button", name="Report event").click()
    expect(page.get_by_text("The serious adverse event was reported.")).to_be_visible()
    alerts = [m for m in mail.outbox if "suspected unexpected serious adverse reaction" in m.subject]
    assert len(alerts) == 1 and "chief@example.org" in alerts[0].to

    page.context.clear_cookies()
    sign_in("chief")
    page.get_by_role("link", name="awaiting review").click()
    row = page.get_by_role("row").filter(has_text=participant.trial_id).filter(has_text="SUSAR")
    expect(row).to_have_count(1)
    expect(row.get_by_role("link", name="Review")).to_be_visible()
    accessible(page)
    assert len([m for m in mail.outbox if "suspected unexpected" in m.subject]) == 1


def test_the_trial_manager_adds_a_member_of_staff(page, live_server, sign_in, accessible, demo):
    sign_in("manager")
    page.goto(f"{live_server.url}/sites/")
    page.get_by_role("link", name="Add a member of staff").click()
    accessible(page)
    page.get_by_label("First name").fill("Robin")
    page.get_by_label("Last name").fill("Okafor")
    page.get_by_label("Username").fill("rokafor")
    page.get_by_label("E-mail address").fill("robin.okafor@example.org")
    page.get_by_label("Researcher").check()
    page.get_by_label("Site").select_option(label="Islington Crisis Resolution Team (ISL)")
    page.get_by_role("button", name="Add member of staff").click()
    expect(page.get_by_role("heading", level=1, name="Robin Okafor")).to_be_visible()
    accessible(page)
    person = User.objects.get(username="rokafor")
    assert list(person.role_assignments.values_list("role", "site__code")) == [("researcher", "ISL")]
    mail.outbox.clear()
    page.get_by_role("button", name="Send a sign-in link").click()
    expect(page.get_by_text("A sign-in link was e-mailed to robin.okafor@example.org.")).to_be_visible()
    assert [m.to for m in mail.outbox] == [["robin.okafor@example.org"]]


def test_the_new_pages_of_the_trial_manager_are_accessible(page, live_server, sign_in, accessible, demo):
    sign_in("manager")
    for path in [
        "/recruitment/",
        "/peer-support/risk-concerns/",
        "/participants/audit/?form=participants.participant&field=prior_admissions",
        "/account/sites/CAM/duty-contact/",
        "/reports/forms/",
        "/outcomes/safety/?review=awaiting",
    ]:
        page.goto(f"{live_server.url}{path}")
        expect(page.locator("h1")).to_be_visible()
        accessible(page)
