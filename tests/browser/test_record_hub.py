"""Finding a participant and working from their page: the schedule, its links, the next step; and a peer
support worker recording a session on a phone."""

from __future__ import annotations

import datetime as dt
import re

from django.utils import timezone
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import expect

from aftercrisis.accounts.models import User
from aftercrisis.demo.recruitment import consent, screen
from aftercrisis.intervention.models import CaseloadAssignment, Session
from aftercrisis.participants.models import Participant, Status

PHONE = {"width": 390, "height": 844}


OVERFLOW = "document.documentElement.scrollWidth - document.documentElement.clientWidth"


def _fits(page) -> None:
    """Nothing wider than the screen once the page has loaded and laid itself out for the window's width:
    no sideways scrolling. (Asked at once, it can catch the page mid-navigation or mid-resize.)"""
    page.wait_for_load_state()
    try:
        page.wait_for_function(f"{OVERFLOW} <= 0", timeout=5_000)
    except PlaywrightTimeoutError:
        overflow = page.evaluate(OVERFLOW)
        raise AssertionError(f"{page.url} is {overflow}px wider than the screen") from None


def test_a_researcher_finds_a_participant_and_enters_the_baseline_from_their_page(
    page, live_server, sign_in, accessible, demo, core_protocol
):
    researcher = User.objects.get(username="researcher1")
    consented = Participant.objects.filter(status=Status.REFERRED, site__code="CAM").first()
    assert consented is not None, "the demo has someone referred at CAM"
    screen(consented, core_protocol, researcher, timezone.localdate())
    consent(consented, core_protocol, researcher, timezone.localdate())
    identity = consented.identity
    sign_in(researcher.username)

    page.get_by_role("searchbox", name=re.compile("Find a participant")).fill(identity.nhs_number)
    page.get_by_role("button", name="Find a participant").click()
    expect(page.get_by_role("link", name=consented.trial_id)).to_be_visible()
    accessible(page)
    page.get_by_role("link", name=consented.trial_id).click()

    expect(page.get_by_role("heading", name=consented.trial_id, level=1)).to_be_visible()
    expect(page.get_by_role("heading", name="Visits and questionnaires")).to_be_visible()
    expect(page.get_by_role("link", name="Report a serious adverse event")).to_be_visible()
    expect(page.get_by_role("link", name="Record a death")).to_be_visible()
    accessible(page)
    assert (
        page.evaluate("getComputedStyle(document.body).fontFamily")
        .lower()
        .startswith('"frutiger w01", arial')
    )
    page.set_viewport_size(PHONE)
    _fits(page)

    page.get_by_role("link", name="Enter the baseline questionnaires").click()
    expect(page.get_by_role("heading", name="Baseline")).to_be_visible()
    page.go_back()
    page.get_by_role("link", name=re.compile(r"^Enter .*QPR-15.* at baseline")).first.click()
    expect(page.get_by_role("heading", name=re.compile("QPR-15"))).to_be_visible()
    expect(page.get_by_label("Reason for the change")).to_have_count(0)  # a first entry


def test_a_trial_manager_reaches_the_imports_from_the_menu_and_sorts_the_participants(
    page, live_server, sign_in, accessible, demo
):
    sign_in("manager")
    page.get_by_role("link", name="Import episodes").first.click()
    expect(page).to_have_url(re.compile(r"/episodes/import/$"))
    page.get_by_role("link", name="Participants", exact=True).first.click()
    page.get_by_role("link", name=re.compile("^Referred")).click()
    expect(page.get_by_role("columnheader", name=re.compile("^Referred"))).to_have_attribute(
        "aria-sort", "ascending"
    )
    accessible(page)
    first = page.locator("tbody tr").first.get_by_role("link").inner_text()
    assert first == Participant.objects.order_by("referred_on", "pk").first().trial_id


def test_a_peer_support_worker_records_a_session_on_a_phone(
    page, live_server, sign_in, accessible, demo, core_protocol
):
    page.set_viewport_size(PHONE)
    window_open = timezone.localdate() - dt.timedelta(days=core_protocol.intervention.window_days)
    assignment = (
        CaseloadAssignment.objects.filter(participant__allocation__randomised_on__gt=window_open)
        .select_related("participant__identity", "worker")
        .first()
    )
    participant, identity = assignment.participant, assignment.participant.identity
    before = Session.objects.filter(participant=participant).count()
    sign_in(assignment.worker.username)
    expect(page.get_by_role("heading", name="My caseload")).to_be_visible()
    _fits(page)
    accessible(page)
    page.get_by_role("link", name=f"{identity.given_name} {identity.family_name}").first.click()
    _fits(page)
    page.get_by_role("link", name="Record a session").click()
    page.get_by_label("Held", exact=True).check()
    page.get_by_label("Duration in minutes").fill("45")
    page.get_by_label("Phone").check()
    _fits(page)
    accessible(page)
    page.get_by_role("button", name="Save session").click()
    expect(page.get_by_text(re.compile(r"Session \d+ on .* was recorded\."))).to_be_visible()
    _fits(page)
    assert Session.objects.filter(participant=participant).count() == before + 1
