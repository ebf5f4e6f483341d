"""Taking allocations: only through here, atomically, once per participant."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from aftercrisis.accounts.models import Site, User
from aftercrisis.accounts.policy import Actor, Capability
from aftercrisis.audit import audited_update
from aftercrisis.participants.models import Participant, Status
from aftercrisis.protocol import Protocol
from aftercrisis.randomisation.engine import Slot, new_seed, permuted_blocks
from aftercrisis.randomisation.models import Allocation, AllocationSlot, StratumCursor


@transaction.atomic
def load_allocation_list(site: Site, slots: Iterable[Slot]) -> int:
    """Append slots to a stratum's list (positions continue the existing list)."""
    start = AllocationSlot.objects.filter(site=site).count()
    rows = [
        AllocationSlot(site=site, position=start + i + 1, block=s.block, block_size=s.block_size, arm=s.arm)
        for i, s in enumerate(slots)
    ]
    AllocationSlot.objects.bulk_create(rows)
    StratumCursor.objects.get_or_create(site=site)
    return len(rows)


def generate_allocation_lists(protocol: Protocol, length_per_site: int, seed: int | None = None) -> None:
    """A concealed list per site from the protocol's scheme, seeded from the OS CSPRNG."""
    master = new_seed() if seed is None else seed
    arms = [(a.code, a.ratio) for a in protocol.arms]
    for i, site in enumerate(Site.objects.order_by("code")):
        load_allocation_list(
            site, permuted_blocks(arms, protocol.randomisation.block_sizes, length_per_site, master + i)
        )


class RandomisationRefused(ValidationError):
    pass


def randomise(actor: Actor, participant: Participant, *, by: User, on: dt.date | None = None) -> Allocation:
    """Allocate the participant from their stratum's next list position.

    Idempotent: a participant who already has an allocation gets the same one back.
    The stratum cursor row is locked for the transaction, so concurrent requests queue and
    every position is used exactly once.
    """
    if not actor.can(Capability.RANDOMISE):
        raise PermissionDenied
    with transaction.atomic():
        locked = Participant.objects.select_for_update().get(pk=participant.pk)
        existing: Allocation | None = Allocation.objects.filter(participant=locked).first()
        if existing is not None:
            return existing
        if locked.status != Status.CONSENTED:
            raise RandomisationRefused(
                f"{locked.trial_id} cannot be randomised: status is {locked.get_status_display().lower()}, "
                "not consented"
            )
        cursor = StratumCursor.objects.select_for_update().filter(site=locked.site).first()
        slot = (
            AllocationSlot.objects.filter(site=locked.site, position=cursor.last_position + 1).first()
            if cursor
            else None
        )
        if cursor is None or slot is None:
            raise RandomisationRefused(
                f"the allocation list for {locked.site.code} is used up; load more positions"
            )
        cursor.last_position = slot.position
        cursor.save(update_fields=["last_position"])
        allocation = Allocation(
            participant=locked,
            slot=slot,
            arm=slot.arm,
            randomised_on=on or timezone.localdate(),
            allocated_by=by,
        )
        allocation._history_user = by  # type: ignore[attr-defined]
        allocation._change_reason = "randomised"  # type: ignore[attr-defined]
        allocation.save()
        audited_update(locked, {"status": Status.RANDOMISED}, by=by, reason="randomised")
    participant.refresh_from_db(fields=["status"])
    return allocation
