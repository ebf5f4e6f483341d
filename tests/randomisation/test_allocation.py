from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from aftercrisis.accounts.roles import Role
from aftercrisis.participants.models import Status
from aftercrisis.randomisation.models import Allocation, AllocationSlot
from aftercrisis.randomisation.services import RandomisationRefused, randomise

pytestmark = pytest.mark.django_db


def test_allocations_take_list_positions_in_order(allocation_lists, make_participant):
    made = [make_participant("CAM", Status.RANDOMISED) for _ in range(6)]
    allocations = (
        Allocation.objects.filter(participant__in=made).select_related("slot").order_by("slot__position")
    )
    assert [a.slot.position for a in allocations] == [1, 2, 3, 4, 5, 6]
    expected = list(
        AllocationSlot.objects.filter(site__code="CAM").order_by("position").values_list("arm", flat=True)[:6]
    )
    assert [a.arm for a in allocations] == expected
    assert all(p.status == Status.RANDOMISED for p in made)


def test_randomising_twice_returns_the_same_allocation(allocation_lists, make_participant, staff, actor_of):
    participant = make_participant("CAM", Status.CONSENTED)
    manager = staff[Role.TRIAL_MANAGER]
    first = randomise(actor_of(Role.TRIAL_MANAGER), participant, by=manager)
    second = randomise(actor_of(Role.TRIAL_MANAGER), participant, by=manager)
    assert first.pk == second.pk
    assert Allocation.objects.count() == 1


def test_only_consented_participants_are_randomised(allocation_lists, make_participant, staff, actor_of):
    participant = make_participant("CAM", Status.SCREENED)
    with pytest.raises(RandomisationRefused, match="not consented"):
        randomise(actor_of(Role.TRIAL_MANAGER), participant, by=staff[Role.TRIAL_MANAGER])
    assert not Allocation.objects.exists()


@pytest.mark.parametrize(
    "role", [Role.RESEARCHER, Role.STATISTICIAN, Role.PEER_SUPPORT_WORKER, Role.REFERRER]
)
def test_only_the_trial_manager_randomises(allocation_lists, make_participant, staff, actor_of, role):
    participant = make_participant("CAM", Status.CONSENTED)
    with pytest.raises(PermissionDenied):
        randomise(actor_of(role), participant, by=staff[role])


def test_an_exhausted_list_is_reported(sites, make_participant, staff, actor_of):
    participant = make_participant("CAM", Status.CONSENTED)  # no list loaded
    with pytest.raises(RandomisationRefused, match="list for CAM is used up"):
        randomise(actor_of(Role.TRIAL_MANAGER), participant, by=staff[Role.TRIAL_MANAGER])


def test_allocation_history_records_who_and_why(allocation_lists, make_participant, staff):
    participant = make_participant("CAM", Status.RANDOMISED)
    record = participant.allocation.history.get()
    assert record.history_user == staff[Role.TRIAL_MANAGER]
    assert record.history_change_reason == "randomised"
