"""A peer support worker's journey: caseload, sessions up to the protocol's limit, the printed workbook."""

from __future__ import annotations

import datetime as dt
import re
import subprocess

from django.utils import timezone
from playwright.sync_api import expect

from aftercrisis.intervention.models import CaseloadAssignment, Session


def test_a_worker_records_ten_sessions_is_refused_the_eleventh_and_prints_the_workbook(
    page, live_server, sign_in, accessible, demo, tmp_path, core_protocol
):
    window_open = timezone.localdate() - dt.timedelta(days=core_protocol.intervention.window_days)
    # Any worker with someone in their support window (the demo's recently randomised participants).
    assignment = min(
        CaseloadAssignment.objects.filter(
            participant__allocation__randomised_on__gt=window_open
        ).select_related("participant__identity", "worker"),
        key=lambda a: Session.objects.filter(participant=a.participant, outcome="held").count(),
    )
    participant, identity = assignment.participant, assignment.participant.identity
    already = Session.objects.filter(participant=participant, outcome="held").count()
    assert already < 10

    sign_in(assignment.worker.username)
    expect(page.get_by_role("heading", name="My caseload")).to_be_visible()
    accessible(page)
    page.get_by_role("link", name=f"{identity.given_name} {identity.family_name}").first.click()
    expect(page.get_by_role("heading", name=f"{identity.given_name} {identity.family_name}")).to_be_visible()
    accessible(page)

    for number in range(already + 1, 11):
        page.get_by_role("link", name="Record a session").click()
        page.get_by_label("Held", exact=True).check()
        page.get_by_label("Duration in minutes").fill("55")
        page.get_by_label("Face to face").check()
        page.get_by_label("My personal recovery goals").check()
        if number == already + 1:
            accessible(page)
        page.get_by_role("button", name="Save session").click()
        expect(page.get_by_text(re.compile(rf"Session {number} on .* was recorded\."))).to_be_visible()

    expect(page.get_by_text("All 10 sessions have been held.")).to_be_visible()
    page.get_by_role("link", name="Record a session").click()
    page.get_by_label("Held", exact=True).check()
    page.get_by_label("Duration in minutes").fill("50")
    page.get_by_label("Phone").check()
    page.get_by_role("button", name="Save session").click()
    expect(page.get_by_role("alert")).to_contain_text(
        f"{participant.trial_id} has already had 10 sessions, the most the protocol allows. "
        "Session 11 cannot be recorded."
    )
    accessible(page)
    assert Session.objects.filter(participant=participant, outcome="held").count() == 10

    page.get_by_role("link", name="Cancel").click()
    href = page.get_by_role("link", name="Print their workbook (PDF)").get_attribute("href")
    response = page.request.get(f"{live_server.url}{href}")
    assert response.ok and response.headers["content-type"] == "application/pdf"
    pdf = tmp_path / "workbook.pdf"
    pdf.write_bytes(response.body())
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, check=True).stdout.decode()
    assert f"{identity.given_name} {identity.family_name}" in text and "My personal recovery goals" in text
