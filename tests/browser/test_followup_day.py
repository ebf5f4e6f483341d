"""A researcher's day: worklist, a questionnaire returned by phone, an acute-care episode; no arm anywhere."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from aftercrisis.config.trial import protocol
from aftercrisis.followup.models import QuestionnaireResponse
from aftercrisis.outcomes.models import AcuteCareEpisode

LSNS = [
    "Relatives seen or heard from monthly",
    "Relatives at ease to talk about private matters",
    "Relatives close enough to call for help",
    "Friends seen or heard from monthly",
    "Friends at ease to talk about private matters",
    "Friends close enough to call for help",
]


def _no_arm(page) -> None:
    text = page.content()
    for arm in protocol().arms:
        for word in (arm.code, arm.name):
            assert not re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text, re.I), (word, page.url)


def test_a_researchers_day(page, live_server, sign_in, accessible, demo):
    sign_in("researcher1")
    expect(page.get_by_role("heading", name="Follow-up worklist")).to_be_visible()
    _no_arm(page)
    accessible(page)

    page.locator("table.nhsuk-table tbody tr").first.get_by_role("link").nth(1).click()
    trial_id = page.locator(".nhsuk-caption-l").inner_text().strip()
    visit = page.url.rstrip("/").rsplit("/", 1)[-1]
    expect(page.get_by_role("heading", name="Questionnaires")).to_be_visible()
    _no_arm(page)
    accessible(page)

    page.get_by_role("link", name=re.compile("Lubben Social Network Scale")).click()
    for label, value in zip(LSNS, ["2", "1", "1", "3", "2", "9"], strict=True):
        if value != "9":
            page.get_by_role("group", name=re.compile(re.escape(label))).get_by_label(
                re.compile(rf"^{value} ")  # the value and its wording: "2 Two"
            ).check()
    page.get_by_role("group", name="How the answers came back").get_by_label("Phone").check()
    page.get_by_label("Date completed").fill("2026-10-30")
    accessible(page)
    page.get_by_role("button", name="Save answers").click()
    expect(page.get_by_text("answers were saved")).to_be_visible()
    saved = QuestionnaireResponse.objects.get(participant__trial_id=trial_id, visit=visit, instrument="lsns6")
    # One item left unanswered: 2+1+1+3+2 = 9 over five items, times six.
    assert (saved.total, saved.prorated, saved.answers["friends_help"]) == (10.8, True, None)

    page.get_by_label("Phone").first.check()
    page.get_by_role("group", name="Outcome").get_by_label("No answer").check()
    page.get_by_role("button", name="Log contact attempt").click()
    expect(page.get_by_text("The contact attempt was logged")).to_be_visible()

    page.get_by_role("link", name=re.compile("Acute-care episodes of")).click()
    _no_arm(page)
    page.get_by_role("group", name="Setting").get_by_label("Crisis house").check()
    page.get_by_label("Start date").fill("2026-09-01")
    page.get_by_label("End date").fill("2026-09-08")
    page.get_by_role("group", name="Source").get_by_label("Clinical records").check()
    page.get_by_role("button", name="Record episode").click()
    expect(page.get_by_text("The episode was recorded")).to_be_visible()
    _no_arm(page)
    accessible(page)
    assert AcuteCareEpisode.objects.filter(
        participant__trial_id=trial_id, setting="crisis_house", source="clinical_records"
    ).exists()
