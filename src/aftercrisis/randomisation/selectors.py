"""Reads of allocations. The arm leaves the database only through `arm_for`."""

from __future__ import annotations

from aftercrisis.accounts.policy import UNBLINDED_AFTER_LOCK, Actor, Capability
from aftercrisis.participants.models import Participant
from aftercrisis.randomisation.models import Allocation


def sees_every_arm(actor: Actor) -> bool:
    """Unblinded roles always; the statistician once the database is locked for analysis."""
    if actor.can(Capability.VIEW_ALL_ALLOCATIONS):
        return True
    from aftercrisis.lock.services import is_locked

    return actor.role in UNBLINDED_AFTER_LOCK and is_locked()


def arm_for(actor: Actor, participant: Participant) -> str | None:
    """The participant's arm if the actor may know it, else None (the same answer as 'not randomised')."""
    if sees_every_arm(actor):
        allocation = Allocation.objects.filter(participant=participant).only("arm").first()
        return allocation.arm if allocation else None
    if actor.can(Capability.VIEW_CASELOAD):
        from aftercrisis.intervention.models import CaseloadAssignment

        assignment = CaseloadAssignment.objects.filter(
            participant=participant, worker_id=actor.user_id
        ).first()
        if assignment is not None:
            return Allocation.objects.get(participant=participant).arm
    return None
