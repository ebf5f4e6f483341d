from __future__ import annotations

import pytest

from aftercrisis.accounts.roles import Role
from aftercrisis.participants.services import update_research_data
from aftercrisis.reporting.lock import DatabaseLocked, is_locked
from aftercrisis.reporting.models import DatabaseLockEvent, LockAction

pytestmark = pytest.mark.django_db


def test_a_locked_database_refuses_changes_until_unlocked(make_participant, staff):
    participant = make_participant(prior_admissions=1)
    manager = staff[Role.TRIAL_MANAGER]
    DatabaseLockEvent.objects.create(action=LockAction.LOCKED, by=manager, reason="final analysis")
    assert is_locked()
    with pytest.raises(DatabaseLocked):
        update_research_data(participant, {"prior_admissions": 2}, by=manager, reason="late correction")
    with pytest.raises(DatabaseLocked):
        make_participant()
    DatabaseLockEvent.objects.create(action=LockAction.UNLOCKED, by=manager, reason="query from the DMC")
    update_research_data(participant, {"prior_admissions": 2}, by=manager, reason="late correction")
    participant.refresh_from_db()
    assert participant.prior_admissions == 2
