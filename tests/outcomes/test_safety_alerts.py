"""Suspected unexpected serious adverse reactions reach the chief investigator and the sponsor once,
with no arm; the safety page's review view, filters and due dates."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.urls import reverse

from aftercrisis.accounts.roles import Role
from aftercrisis.outcomes.models import SeriousAdverseEvent
from aftercrisis.outcomes.selectors import SafetyFilters, safety_listing
from aftercrisis.outcomes.services import report_sae, sign_off_sae
from aftercrisis.participants.models import Status

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 3, 2)


def _event(participant, *, relatedness="not_related", expectedness="expected", reported_on=TODAY, **more):
    return SeriousAdverseEvent(
        participant=participant,
        category=more.pop("category", "self_harm"),
        onset=reported_on - dt.timedelta(days=1),
        description="Attended the emergency department after self-harm.",
        seriousness=more.pop("seriousness", "hospitalisation"),
        relatedness=relatedness,
        expectedness=expectedness,
        reported_on=reported_on,
    )


@pytest.fixture
def randomised(allocation_lists, make_participant):
    return make_participant("CAM", Status.RANDOMISED)


def test_a_susar_is_sent_once_to_the_chief_investigator_and_the_sponsor_with_no_arm(
    randomised, staff, actor_of, core_protocol, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        sae = report_sae(
            actor_of(Role.RESEARCHER),
            core_protocol,
            _event(randomised, relatedness="probably", expectedness="unexpected"),
            by=staff[Role.RESEARCHER],
        )
    assert sae.is_susar and sae.susar_notified_at is not None
    # Marked notified in the version that records the report: one version, kept in the audit history.
    (version,) = sae.history.all()
    assert version.susar_notified_at == sae.susar_notified_at
    (message,) = mail.outbox
    assert sorted(message.to) == ["chief_investigator@example.org", core_protocol.safety.sponsor_email]
    assert "suspected unexpected serious adverse reaction" in message.subject
    assert randomised.trial_id in message.body
    for arm in core_protocol.arms:
        assert arm.name.lower() not in message.body.lower() and arm.code not in message.body
    with django_capture_on_commit_callbacks(execute=True):
        sign_off_sae(
            actor_of(Role.CHIEF_INVESTIGATOR),
            core_protocol,
            sae,
            {},
            by=staff[Role.CHIEF_INVESTIGATOR],
            on=TODAY,
            reason="reviewed",
        )
    assert len(mail.outbox) == 1


def test_an_expected_or_unrelated_event_sends_nothing_until_a_review_finds_it_a_susar(
    randomised, staff, actor_of, core_protocol, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        sae = report_sae(
            actor_of(Role.RESEARCHER), core_protocol, _event(randomised), by=staff[Role.RESEARCHER]
        )
    assert not sae.is_susar and mail.outbox == []
    with django_capture_on_commit_callbacks(execute=True):
        sign_off_sae(
            actor_of(Role.CHIEF_INVESTIGATOR),
            core_protocol,
            sae,
            {"relatedness": "possibly", "expectedness": "unexpected"},
            by=staff[Role.CHIEF_INVESTIGATOR],
            on=TODAY,
            reason="related after review",
        )
    assert len(mail.outbox) == 1


def test_awaiting_review_comes_due_first_and_overdue_is_flagged(randomised, staff, actor_of, core_protocol):
    researcher = actor_of(Role.RESEARCHER)
    days = core_protocol.safety.review_days
    late = report_sae(
        researcher,
        core_protocol,
        _event(randomised, reported_on=TODAY - dt.timedelta(days=days + 1)),
        by=staff[Role.RESEARCHER],
    )
    fresh = report_sae(
        researcher,
        core_protocol,
        _event(randomised, reported_on=TODAY, relatedness="definitely", expectedness="unexpected"),
        by=staff[Role.RESEARCHER],
    )
    chief = actor_of(Role.CHIEF_INVESTIGATOR)
    listing = safety_listing(
        chief,
        SafetyFilters(review="awaiting"),
        review_days=days,
        today=TODAY,
        arm_codes=core_protocol.arm_codes,
    )
    assert [e.pk for e in listing.events] == [late.pk, fresh.pk]
    assert listing.due == {late.pk: TODAY - dt.timedelta(days=1), fresh.pk: TODAY + dt.timedelta(days=days)}
    assert listing.overdue == {late.pk} and listing.awaiting == 2 and listing.arms is None
    only = safety_listing(
        chief, SafetyFilters(susar=True), review_days=days, today=TODAY, arm_codes=core_protocol.arm_codes
    )
    assert [e.pk for e in only.events] == [fresh.pk]
    other_site = safety_listing(
        chief, SafetyFilters(site="ISL"), review_days=days, today=TODAY, arm_codes=core_protocol.arm_codes
    )
    assert other_site.events == [] and other_site.awaiting == 2


def test_the_safety_page_filters_on_listed_values_only_and_shows_what_is_due(
    randomised, staff, actor_of, core_protocol, client
):
    report_sae(
        actor_of(Role.RESEARCHER),
        core_protocol,
        _event(randomised, relatedness="probably", expectedness="unexpected"),
        by=staff[Role.RESEARCHER],
    )
    client.force_login(staff[Role.CHIEF_INVESTIGATOR])
    page = client.get(reverse("outcomes:safety"), {"review": "awaiting", "susar": "yes"}).content.decode()
    assert "SUSAR" in page and "1 awaiting review" in page and "Sign-off due" in page
    hostile = client.get(reverse("outcomes:safety"), {"category": "x", "site": "' OR 1=1", "review": "?"})
    assert hostile.status_code == 200 and randomised.trial_id in hostile.content.decode()
    none = client.get(reverse("outcomes:safety"), {"category": "death"}).content.decode()
    assert "No serious adverse events match these filters" in none


def test_the_safety_list_orders_by_the_columns_it_offers_and_never_by_arm(
    allocation_lists, make_participant, staff, actor_of, core_protocol, client
):
    people = [make_participant("CAM", Status.RANDOMISED) for _ in range(3)]
    onsets = [5, 20, 10]  # days before today, one event each
    events = [
        report_sae(
            actor_of(Role.RESEARCHER),
            core_protocol,
            _event(p, reported_on=TODAY - dt.timedelta(days=days - 1)),
            by=staff[Role.RESEARCHER],
        )
        for p, days in zip(people, onsets, strict=True)
    ]
    client.force_login(staff[Role.TRIAL_MANAGER])

    def order(sort):
        page = client.get(reverse("outcomes:safety"), {"sort": sort}).content.decode()
        return sorted(events, key=lambda e: page.index(f">{e.participant.trial_id}<"))

    by_onset = sorted(events, key=lambda e: e.onset)
    assert order("onset") == by_onset
    assert order("-onset") == by_onset[::-1]
    assert order("trial_id") == sorted(events, key=lambda e: e.participant.trial_id)
    for hostile in ["arm", "-participant__allocation__arm", "onset'; --"]:
        assert order(hostile) == by_onset  # the listing's own order: here, by onset
