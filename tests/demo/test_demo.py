from __future__ import annotations

import pytest
from tests.conftest import DEMO_TODAY

from aftercrisis.accounts.models import User
from aftercrisis.accounts.roles import Role
from aftercrisis.demo.loader import PIPELINE
from aftercrisis.followup.models import VisitRecord
from aftercrisis.intervention.models import CaseloadAssignment
from aftercrisis.participants.models import Identity, Participant, Status
from aftercrisis.participants.trial_id import is_valid_trial_id
from aftercrisis.randomisation.models import Allocation

pytestmark = pytest.mark.django_db


def test_demo_has_a_login_for_every_role(demo):
    assert {login.role for login in demo} == set(Role)
    for login in demo:
        assert User.objects.get(username=login.username).check_password("demo-crisis-2026")


def test_demo_participants_pass_every_validation(demo):
    participants = list(Participant.objects.all())
    enrolled = [
        p for p in participants if p.status != Status.NOT_ENROLLED
    ]  # the rest are screening-log entries
    assert len(enrolled) == 60 + sum(n for _, n in PIPELINE)
    for participant in participants:
        participant.full_clean()
        assert is_valid_trial_id(participant.trial_id)
    for identity in Identity.objects.all():
        identity.full_clean()
        assert identity.nhs_number.startswith("999")


def test_demo_allocations_are_balanced_and_on_caseloads(demo, core_protocol):
    allocations = Allocation.objects.all()
    arms = [a.arm for a in allocations]
    randomised = 60 + dict(PIPELINE)[Status.RANDOMISED]
    assert len(arms) == randomised
    assert (
        abs(arms.count("intervention") - arms.count("control")) <= 12
    )  # blocks per site, plus the recent few
    caseload = set(CaseloadAssignment.objects.values_list("participant_id", flat=True))
    assert caseload == {a.participant_id for a in allocations if a.arm == core_protocol.intervention.arm}


def test_demo_has_follow_up_with_missing_visits(demo):
    records = VisitRecord.objects.all()
    outcomes = {r.outcome for r in records}
    assert {"completed", "missed"} <= outcomes
    assert all(r.on <= DEMO_TODAY for r in records)


def test_demo_every_change_is_audited(demo):
    for participant in Participant.objects.all()[:20]:
        history = list(participant.history.all())
        assert history and all(h.history_change_reason for h in history)


def test_the_demo_refuses_a_trial_smaller_than_the_simulator_draws(capsys):
    from aftercrisis.cli import main

    with pytest.raises(SystemExit):
        main(["demo", "--participants", "1"])
    assert "the demo needs at least 2 participants, not 1" in capsys.readouterr().err
