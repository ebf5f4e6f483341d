"""Screening log, consent, re-consent, the randomisation gate, and withdrawal's effects."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from aftercrisis.accounts.roles import Role
from aftercrisis.demo.recruitment import baseline, eligible_answers
from aftercrisis.participants.models import Status
from aftercrisis.randomisation.services import RandomisationRefused, randomise
from aftercrisis.recruitment.consent import consent_covers, consenting_to, needs_reconsent
from aftercrisis.recruitment.models import AnonymousScreenFailure, ConsentRecord, Screening
from aftercrisis.recruitment.services import (
    record_anonymous_screen_failures,
    record_consent,
    record_decline,
    record_screening,
)

pytestmark = pytest.mark.django_db
DAY = dt.date(2026, 1, 6)


@pytest.fixture
def researcher(staff, actor_of):
    return actor_of(Role.RESEARCHER), staff[Role.RESEARCHER]


def _screen(participant, protocol, researcher, **kw):
    actor, user = researcher
    answers = {**eligible_answers(protocol), **kw.pop("answers", {})}
    return record_screening(actor, participant, protocol, answers=answers, on=DAY, by=user, **kw)


def _consent(participant, protocol, researcher, **items):
    actor, user = researcher
    agreed = {
        "take_part": True,
        "clinical_records": True,
        "routine_data_linkage": False,
        "future_contact": True,
    }
    agreed.update(items)
    return record_consent(
        actor, participant, protocol, items=agreed, capacity_confirmed=True, on=DAY, by=user
    )


def test_ineligible_person_is_logged_with_the_failing_criterion(make_participant, core_protocol, researcher):
    p = make_participant()
    screening = _screen(p, core_protocol, researcher, answers={"risk_to_others": True})
    assert (screening.outcome, screening.reason, p.status) == (
        "not_eligible",
        "risk_to_others",
        Status.NOT_ENROLLED,
    )
    assert screening.answers["risk_to_others"] is True and len(screening.answers) == 7


def test_not_approached_and_declined_need_a_coded_reason(make_participant, core_protocol, researcher):
    p = make_participant()
    with pytest.raises(ValidationError) as exc:
        _screen(p, core_protocol, researcher, outcome="not_approached", reason="busy")
    assert "reason" in exc.value.message_dict
    assert not Screening.objects.exists()
    p.refresh_from_db()
    assert p.status == Status.REFERRED
    _screen(p, core_protocol, researcher, outcome="not_approached", reason="not_contactable")
    q = make_participant()
    _screen(q, core_protocol, researcher)
    record_decline(researcher[0], q, reason="too_unwell", by=researcher[1])
    q.refresh_from_db()
    assert (q.screening.outcome, q.status) == ("declined", Status.NOT_ENROLLED)


def test_anonymous_screen_failures_are_counts_without_identity(sites, core_protocol, researcher):
    actor, user = researcher
    row = record_anonymous_screen_failures(
        actor,
        core_protocol,
        site=sites["CAM"],
        on=DAY,
        outcome="not_eligible",
        reason="adult",
        count=3,
        by=user,
    )
    assert row.count == 3 and not hasattr(row, "participant")
    with pytest.raises(ValidationError, match="count"):
        record_anonymous_screen_failures(
            actor,
            core_protocol,
            site=sites["CAM"],
            on=DAY,
            outcome="declined",
            reason="no_time",
            count=0,
            by=user,
        )
    assert AnonymousScreenFailure.objects.count() == 1


def test_consent_needs_capacity_and_every_required_item(make_participant, core_protocol, researcher):
    p = make_participant()
    _screen(p, core_protocol, researcher)
    actor, user = researcher
    items = {"take_part": True, "clinical_records": True}
    with pytest.raises(ValidationError, match="capacity"):
        record_consent(actor, p, core_protocol, items=items, capacity_confirmed=False, on=DAY, by=user)
    with pytest.raises(ValidationError) as exc:
        _consent(p, core_protocol, researcher, clinical_records=False)
    assert "clinical_records" in exc.value.message_dict
    assert not ConsentRecord.objects.exists()
    consent = _consent(p, core_protocol, researcher)
    p.refresh_from_db()
    assert p.status == Status.CONSENTED and consent.version == "2.1" and consent.taken_by == user


def test_routine_data_linkage_only_with_that_item(make_participant, core_protocol, researcher):
    yes, no = make_participant(), make_participant()
    for p, linkage in [(yes, True), (no, False)]:
        _screen(p, core_protocol, researcher)
        _consent(p, core_protocol, researcher, routine_data_linkage=linkage)
    assert consent_covers(yes, "routine_data_linkage") and not consent_covers(no, "routine_data_linkage")
    assert list(consenting_to("routine_data_linkage")) == [yes]


def test_randomisation_gate_needs_consent_on_the_current_form_and_a_baseline(
    make_participant, core_protocol, researcher, staff, actor_of, allocation_lists
):
    manager = staff[Role.TRIAL_MANAGER]
    p = make_participant()
    _screen(p, core_protocol, researcher)
    _consent(p, core_protocol, researcher)
    with pytest.raises(RandomisationRefused, match="baseline"):
        randomise(actor_of(Role.TRIAL_MANAGER), p, core_protocol, by=manager)
    baseline(p, researcher[1], DAY)
    # A new form version: randomisation waits for re-consent.
    v3 = core_protocol.model_copy(
        update={"consent": core_protocol.consent.model_copy(update={"version": "3.0"})}
    )
    assert needs_reconsent(p, v3) and not needs_reconsent(p, core_protocol)
    from aftercrisis.randomisation.readiness import why_not_ready

    assert why_not_ready(p, v3) == ["consent on form version 3.0 does not cover: take_part, clinical_records"]
    _consent(p, v3, researcher)
    assert ConsentRecord.objects.filter(participant=p).count() == 2 and why_not_ready(p, v3) == []
    assert randomise(actor_of(Role.TRIAL_MANAGER), p, core_protocol, by=manager).allocation.arm in {
        "intervention",
        "control",
    }


def test_baseline_gate_can_be_relaxed(make_participant, core_protocol, researcher):
    from aftercrisis.randomisation.readiness import why_not_ready

    p = make_participant()
    _screen(p, core_protocol, researcher)
    _consent(p, core_protocol, researcher)
    relaxed = core_protocol.model_copy(
        update={"randomisation": core_protocol.randomisation.model_copy(update={"require_baseline": False})}
    )
    assert why_not_ready(p, relaxed) == [] and why_not_ready(p, core_protocol) != []
