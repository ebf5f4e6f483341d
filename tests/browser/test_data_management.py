"""A data query raised by the trial manager, answered by a researcher and closed; the pre-lock checklist,
the lock's confirmation and the two-person unlock."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from aftercrisis.accounts.models import User
from aftercrisis.lock.services import is_locked
from aftercrisis.participants.models import Participant, Status
from aftercrisis.queries.models import DataQuery, QueryState


def _session(browser, live_server, username: str):
    page = browser.new_context().new_page()
    page.goto(f"{live_server.url}/account/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("demo-crisis-2026")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    return page


def test_a_query_raised_answered_and_closed(browser, live_server, accessible, demo):
    sites = User.objects.get(username="researcher1").role_assignments.values_list("site_id", flat=True)
    participant = Participant.objects.filter(site_id__in=sites, status=Status.RANDOMISED).order_by(
        "-trial_id"
    )[0]

    manager = _session(browser, live_server, "manager")
    manager.get_by_role("link", name="Data queries").first.click()
    expect(manager.get_by_role("heading", name="Data queries")).to_be_visible()
    accessible(manager)
    manager.get_by_role("link", name="Raise a query").click()
    expect(manager.get_by_text("Masked staff read this")).to_be_visible()
    accessible(manager)
    manager.get_by_role("textbox", name="Trial ID").fill(participant.trial_id)
    manager.get_by_label("Form and field").select_option(
        label="Baseline: acute admissions in the previous two years"
    )
    manager.get_by_label("Query").fill("Was this participant in the control group?")
    manager.get_by_role("button", name="Raise the query").click()
    expect(manager.get_by_text("names a trial arm").first).to_be_visible()
    manager.get_by_label("Query").fill("Six admissions in two years: please check against the notes.")
    manager.get_by_role("button", name="Raise the query").click()
    query = DataQuery.objects.get(
        participant=participant, raised_by__username="manager", field="prior_admissions"
    )
    expect(manager.get_by_role("heading", name=f"Query {query.pk}")).to_be_visible()
    accessible(manager)

    researcher = _session(browser, live_server, "researcher1")
    expect(researcher.get_by_role("heading", name="Data queries")).to_be_visible()
    researcher.get_by_role("link", name="All data queries at your sites").click()
    researcher.get_by_role("link", name=f"Query {query.pk}", exact=True).click()
    expect(researcher.get_by_text("Six admissions in two years")).to_be_visible()
    assert not re.search(r"(?<![\w-])(intervention|control)(?![\w-])", researcher.content(), re.I)
    accessible(researcher)
    researcher.get_by_label("Answer the query").check()
    researcher.get_by_label("Message").fill("Checked: the notes show six admissions.")
    researcher.get_by_role("button", name="Send").click()
    expect(researcher.get_by_text("Answered", exact=True)).to_be_visible()
    query.refresh_from_db()
    assert query.state == QueryState.ANSWERED

    manager.reload()
    manager.get_by_label("Close: no change is needed").check()
    manager.get_by_label("Message").fill("Thank you.")
    manager.get_by_role("button", name="Send").click()
    expect(manager.get_by_text("Closed", exact=True)).to_be_visible()
    query.refresh_from_db()
    assert query.state == QueryState.CLOSED
    assert [m.by.username for m in query.messages.all()] == ["manager", "researcher1", "manager"]


def test_the_pre_lock_checklist_the_confirmation_and_the_unlock(browser, live_server, accessible, demo):
    manager = _session(browser, live_server, "manager")
    manager.goto(f"{live_server.url}/reports/lock/")
    checklist = manager.get_by_role("table", name="Before locking")
    expect(checklist.get_by_role("cell", name="Data queries open or answered", exact=True)).to_be_visible()
    expect(checklist.get_by_role("link", name=re.compile("Reconcile the episodes"))).to_be_visible()
    accessible(manager)
    for link, heading in [
        ("See the participants", "Participants whose primary outcome is not known"),
        ("See the visits", "Follow-up visits still in their window"),
    ]:
        checklist.get_by_role("link", name=re.compile(link)).click()
        expect(manager.get_by_role("heading", name=heading, level=1)).to_be_visible()
        accessible(manager)
        manager.get_by_role("link", name="database lock").click()
    manager.get_by_label("Reason").fill("All queries resolved; final analysis")
    manager.get_by_role("button", name="Lock the database").click()
    expect(manager.get_by_text("Confirm that you have reviewed the checklist").first).to_be_visible()
    assert not is_locked()
    manager.get_by_label("I have reviewed the checklist").check()
    manager.get_by_role("button", name="Lock the database").click()
    expect(manager.get_by_text("The database is now locked.")).to_be_visible()
    assert is_locked()
    manager.get_by_label("Reason for unlocking").fill("A late death certificate")
    manager.get_by_role("button", name="Ask to unlock the database").click()
    expect(manager.get_by_text("It is waiting for the other person to agree.")).to_be_visible()
    accessible(manager)

    chief = _session(browser, live_server, "chief")
    expect(chief.get_by_text("A late death certificate")).to_be_visible()
    accessible(chief)
    chief.get_by_label("Agree: unlock the database").check()
    chief.get_by_role("button", name="Send the decision").click()
    expect(chief.get_by_text("The database is now unlocked.")).to_be_visible()
    assert not is_locked()
