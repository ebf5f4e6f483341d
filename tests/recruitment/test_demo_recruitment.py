"""The demo's recruitment went through the services: every randomised person was screened eligible,
consented on every required item and had a baseline; the screening log feeds CONSORT counts."""

from __future__ import annotations

import pytest

from aftercrisis.accounts.models import User
from aftercrisis.accounts.roles import Role
from aftercrisis.accounts.selectors import actor_for
from aftercrisis.followup.models import VisitRecord
from aftercrisis.randomisation.models import Allocation, UnblindingRequest
from aftercrisis.recruitment.models import ConsentRecord, Screening
from aftercrisis.recruitment.selectors import consort_counts

pytestmark = pytest.mark.django_db


def test_every_randomised_demo_participant_passed_the_gate(demo, core_protocol):
    randomised = Allocation.objects.values_list("participant_id", flat=True)
    eligible = set(Screening.objects.filter(outcome="eligible").values_list("participant_id", flat=True))
    consented = {
        c.participant_id
        for c in ConsentRecord.objects.all()
        if all(c.items[i.code] for i in core_protocol.consent.items if i.required)
    }
    baselines = set(VisitRecord.objects.filter(visit="baseline").values_list("participant_id", flat=True))
    assert set(randomised) <= eligible & consented & baselines


def test_demo_consort_counts_add_up(demo):
    manager = actor_for(User.objects.get(username="manager"), Role.TRIAL_MANAGER)
    counts = consort_counts(manager)
    assert counts.screened == counts.not_eligible + counts.eligible
    assert counts.eligible >= counts.not_approached + counts.declined + counts.consented
    assert counts.consented >= counts.randomised == Allocation.objects.count()
    assert sum(counts.randomised_by_arm.values()) == counts.randomised
    assert counts.not_eligible > 0 and counts.declined > 0 and counts.not_approached > 0
    assert UnblindingRequest.objects.filter(status="approved").count() == 1
