"""Withdrawal at three levels: what each stops, and who may see the peer support level."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from aftercrisis.accounts.roles import Role
from aftercrisis.followup.selectors import worklist
from aftercrisis.intervention.selectors import caseload
from aftercrisis.participants.models import Status, Withdrawal, WithdrawalLevel
from aftercrisis.participants.withdrawals import levels_for, withdraw, withdrawals_for

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 6, 1)  # the four-month window of a January randomisation is open


@pytest.fixture
def pair(allocation_lists, make_participant):
    """One randomised CAM participant in each arm; the intervention one on the PSW's caseload."""
    by_arm = {}
    while len(by_arm) < 2:
        p = make_participant("CAM", Status.RANDOMISED)
        by_arm.setdefault(p.allocation.arm, p)
    return by_arm


def test_peer_support_level_takes_the_participant_off_the_caseload_only(pair, staff, actor_of, core_protocol):
    p = pair["intervention"]
    psw, researcher = actor_of(Role.PEER_SUPPORT_WORKER), actor_of(Role.RESEARCHER)
    assert [e.participant for e in caseload(psw, core_protocol, TODAY)] == [p]
    withdraw(
        actor_of(Role.TRIAL_MANAGER),
        p,
        core_protocol,
        level="peer_support",
        on=TODAY,
        reason="",
        by=staff[Role.TRIAL_MANAGER],
    )
    p.refresh_from_db()
    assert caseload(psw, core_protocol, TODAY) == []
    assert p.status == Status.RANDOMISED  # a status change would tell masked roles
    assert p in [e.participant for e in worklist(researcher, core_protocol, TODAY)]
    assert list(withdrawals_for(researcher, p)) == []
    assert [w.level for w in withdrawals_for(actor_of(Role.TRIAL_MANAGER), p)] == ["peer_support"]


def test_masked_roles_cannot_record_or_even_name_the_peer_support_level(pair, staff, actor_of, core_protocol):
    researcher = actor_of(Role.RESEARCHER)
    assert "peer_support" not in dict(levels_for(researcher))
    messages = []
    for level in ["peer_support", "nonsense"]:
        with pytest.raises(ValidationError) as exc:
            withdraw(
                researcher,
                pair["control"],
                core_protocol,
                level=level,
                on=TODAY,
                reason="",
                by=staff[Role.RESEARCHER],
            )
        messages.append(exc.value.message_dict)
    assert messages[0] == messages[1]  # the refusal does not differ by arm-revealing level
    assert not Withdrawal.objects.exists()


def test_peer_support_level_is_refused_for_the_control_arm(pair, staff, actor_of, core_protocol):
    with pytest.raises(ValidationError, match="not receiving peer support"):
        withdraw(
            actor_of(Role.TRIAL_MANAGER),
            pair["control"],
            core_protocol,
            level="peer_support",
            on=TODAY,
            reason="",
            by=staff[Role.TRIAL_MANAGER],
        )


@pytest.mark.parametrize("level", [WithdrawalLevel.FOLLOW_UP, WithdrawalLevel.ALL_DATA])
def test_follow_up_and_all_data_levels_leave_the_worklist_and_caseload(
    pair, staff, actor_of, core_protocol, level
):
    researcher = actor_of(Role.RESEARCHER)
    for p in pair.values():
        assert p in [e.participant for e in worklist(researcher, core_protocol, TODAY)]
    p = pair["intervention"]
    withdraw(
        researcher, p, core_protocol, level=level, on=TODAY, reason="moved away", by=staff[Role.RESEARCHER]
    )
    p.refresh_from_db()
    assert p.status == Status.WITHDRAWN
    assert p not in [e.participant for e in worklist(researcher, core_protocol, TODAY)]
    assert pair["control"] in [e.participant for e in worklist(researcher, core_protocol, TODAY)]
    psw = actor_of(Role.PEER_SUPPORT_WORKER)
    assert (caseload(psw, core_protocol, TODAY) == []) is (level == WithdrawalLevel.ALL_DATA)
    with pytest.raises(ValidationError, match="already withdrawn"):
        withdraw(researcher, p, core_protocol, level=level, on=TODAY, reason="", by=staff[Role.RESEARCHER])
