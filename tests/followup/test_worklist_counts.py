"""The worklist's counts, made in the database, against each participant's own windows and records."""

from __future__ import annotations

from collections import Counter

import pytest
from tests.conftest import DEMO_TODAY

from aftercrisis.accounts.models import User
from aftercrisis.accounts.roles import Role
from aftercrisis.accounts.selectors import actor_for
from aftercrisis.followup.models import VisitRecord
from aftercrisis.followup.schedule import WindowState, follow_up_windows
from aftercrisis.followup.selectors import worklist_counts
from aftercrisis.participants.models import Participant, Status
from aftercrisis.randomisation.models import UnblindingRequest, UnblindingStatus

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("username", "role"), [("researcher1", Role.RESEARCHER), ("manager", Role.TRIAL_MANAGER)]
)
def test_worklist_counts_equal_each_participants_windows_without_a_record(
    demo, core_protocol, username, role
):
    actor = actor_for(User.objects.get(username=username), role)
    recorded = set(VisitRecord.objects.values_list("participant_id", "visit"))
    unblinded = set(
        UnblindingRequest.objects.filter(
            requested_by_id=actor.user_id, status=UnblindingStatus.APPROVED
        ).values_list("participant_id", flat=True)
    )
    expected: Counter[WindowState] = Counter()
    for p in Participant.objects.filter(allocation__isnull=False).select_related("allocation"):
        if p.status != Status.RANDOMISED or p.pk in unblinded:
            continue
        if actor.site_ids is not None and p.site_id not in actor.site_ids:
            continue
        for window in follow_up_windows(core_protocol, p.allocation.randomised_on):
            if (p.pk, window.code) not in recorded:
                expected[window.state(DEMO_TODAY)] += 1
    counts = worklist_counts(actor, core_protocol, DEMO_TODAY)
    assert counts == {state: expected[state] for state in WindowState if state is not WindowState.NOT_OPEN}
    assert sum(counts.values()) > 0 and recorded
