"""The demo trial has follow-up returns with missing items, episodes from two sources, and SAEs."""

from __future__ import annotations

import pytest

from aftercrisis.followup.models import QuestionnaireResponse
from aftercrisis.outcomes.models import AcuteCareEpisode, SeriousAdverseEvent

pytestmark = pytest.mark.django_db


def test_demo_has_follow_up_outcomes_and_safety_data(demo):
    responses = QuestionnaireResponse.objects.all()
    assert responses.filter(visit="m4", instrument="csq8").exists()
    assert any(None in r.answers.values() for r in responses)  # realistic item missingness
    sources = set(AcuteCareEpisode.objects.values_list("source", flat=True))
    assert sources == {"clinical_records", "self_report"}
    assert AcuteCareEpisode.objects.filter(superseded_by__isnull=False).exists()
    assert SeriousAdverseEvent.objects.exists()
    assert SeriousAdverseEvent.objects.filter(signed_off_on__isnull=False).exists()
    # Complete QPR-15 returns add up exactly; the simulator's totals are whole numbers.
    complete = [r for r in QuestionnaireResponse.objects.filter(instrument="qpr15") if not r.prorated]
    assert complete and all(r.total == sum(v for v in r.answers.values()) for r in complete)
