"""Journeys through the foundation: an audited correction, a referral without JavaScript, a randomisation."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from aftercrisis.participants.models import Participant, Status
from aftercrisis.randomisation.models import Allocation


def test_a_correction_needs_a_reason_and_shows_in_the_audit_history(
    page, live_server, sign_in, accessible, demo
):
    participant = Participant.objects.filter(status=Status.COMPLETED, prior_admissions=1).first()
    sign_in("manager")
    page.goto(f"{live_server.url}/participants/{participant.trial_id}/")
    page.get_by_role("link", name=re.compile("Change research data")).click()
    page.get_by_label("Acute admissions in the previous two years").fill("2")
    page.get_by_role("button", name="Save change").click()

    expect(page.get_by_role("alert")).to_contain_text("Give a reason")
    accessible(page)
    participant.refresh_from_db()
    assert participant.prior_admissions == 1

    page.get_by_label("Reason for the change").fill("Records show two admissions, not one")
    page.get_by_role("button", name="Save change").click()
    expect(page.get_by_text("The change was saved")).to_be_visible()
    participant.refresh_from_db()
    assert participant.prior_admissions == 2

    page.get_by_role("link", name=re.compile("Audit history")).click()
    latest = page.locator(".nhsuk-card").first
    expect(latest).to_contain_text("Records show two admissions, not one")
    expect(latest).to_contain_text("Morgan Ellis")
    row = latest.get_by_role("row", name=re.compile("acute admissions"))
    expect(row.get_by_role("cell").nth(1)).to_have_text("1")
    expect(row.get_by_role("cell").nth(2)).to_have_text("2")


def test_a_referral_works_without_javascript(browser, live_server, demo):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{live_server.url}/account/login/")
    page.get_by_label("Username").fill("referrer.cam")
    page.get_by_label("Password").fill("demo-crisis-2026")
    page.get_by_role("button", name="Sign in").click()

    page.get_by_label("First name").fill("Jo")
    page.get_by_label("Last name").fill("Referral")
    page.get_by_label("NHS number").fill("999 000 0018")
    page.get_by_label("Date of birth").fill("1990-04-01")
    expect(page.get_by_label("Date of referral")).not_to_have_value(
        ""
    )  # today, shown as a date input takes it
    page.get_by_label("Date of referral").fill("")
    page.get_by_role("button", name="Refer").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "Enter the date of referral"
    )  # left empty: named, nothing saved
    assert not Participant.objects.filter(identity__family_name="Referral").exists()
    expect(page.get_by_label("First name")).to_have_value("Jo")  # what was typed is kept

    page.get_by_label("Date of referral").fill("2026-11-01")
    page.get_by_role("button", name="Refer").click()
    expect(page.get_by_text(re.compile(r"Jo Referral is referred as CAM-\d{4}-\w"))).to_be_visible()
    expect(page.get_by_role("cell", name="Jo Referral")).to_be_visible()
    context.close()


def test_the_manager_randomises_and_the_peer_support_worker_sees_the_participant(browser, live_server, demo):
    def session(username):
        context = browser.new_context()
        page = context.new_page()
        page.goto(f"{live_server.url}/account/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill("demo-crisis-2026")
        page.get_by_role("button", name="Sign in").click()
        return context, page

    manager_context, manager = session("manager")
    waiting = Participant.objects.filter(status=Status.CONSENTED).order_by("trial_id")
    for participant in waiting:
        manager.goto(f"{live_server.url}/participants/{participant.trial_id}/")
        manager.get_by_role("button", name=f"Randomise {participant.trial_id}").click()
        expect(manager.get_by_text(f"{participant.trial_id} is allocated to")).to_be_visible()
        allocation = Allocation.objects.get(participant=participant)
        if allocation.arm == "intervention":
            break
    else:
        raise AssertionError("no consented participant was allocated to peer support")
    expect(manager.get_by_text("Added to")).to_be_visible()
    manager_context.close()

    worker = participant.caseload_assignment.worker.username
    psw_context, psw = session(worker)
    expect(psw.get_by_role("cell", name=participant.trial_id)).to_be_visible()
    psw_context.close()

    researcher_context, researcher = session(
        "researcher1"
        if participant.site.code in ("CAM", "ISL")
        else "researcher2"
        if participant.site.code in ("HAR", "ENF")
        else "researcher3"
    )
    researcher.goto(f"{live_server.url}/participants/{participant.trial_id}/")
    expect(researcher.get_by_role("heading", name=participant.trial_id)).to_be_visible()
    content = researcher.content()
    assert "Peer-supported self-management" not in content and "Workbook by post" not in content
    assert "intervention" not in content.lower() and "Allocation" not in content
    researcher_context.close()
