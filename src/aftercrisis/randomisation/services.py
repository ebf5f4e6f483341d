"""Taking allocations: only through here, atomically, once per participant.

Randomising is one service from start to finish: the allocation and, in the intervention arm, the
peer support worker's caseload in one transaction under the participant's and the stratum's locks;
the notifications after it commits, once.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import reduce

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from aftercrisis.accounts.models import Site, User
from aftercrisis.accounts.policy import Actor, Capability
from aftercrisis.audit import audited_changes, audited_update, record_creation, record_creations
from aftercrisis.intervention.models import CaseloadAssignment
from aftercrisis.intervention.services import assign_least_loaded_workers
from aftercrisis.lock.services import asked_once
from aftercrisis.notifications import Message, send_on_commit
from aftercrisis.participants.models import Participant, Status
from aftercrisis.participants.selectors import participants_for
from aftercrisis.protocol import Protocol
from aftercrisis.randomisation.announce import allocation_notices
from aftercrisis.randomisation.engine import Minimiser, Slot, new_seed, permuted_blocks, simple
from aftercrisis.randomisation.lists import ListError, parse_csv, to_csv
from aftercrisis.randomisation.minimisation import MissingFactor, draw_seed, factor_levels
from aftercrisis.randomisation.models import Allocation, AllocationSlot, AllocationSource, StratumCursor
from aftercrisis.randomisation.readiness import why_not_ready, with_readiness


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


def generate_allocation_lists(trial: Protocol, length_per_site: int, seed: int | None = None) -> None:
    """A concealed list per site from the protocol's scheme, seeded from the OS CSPRNG (or, for
    minimisation, a secret per site)."""
    scheme = trial.randomisation
    if scheme.method == "minimisation":
        set_up_minimisation()  # allocations are made one at a time; there is no list to draw up
        return
    master = new_seed() if seed is None else seed
    arms = [(a.code, a.ratio) for a in trial.arms]
    for i, site in enumerate(Site.objects.order_by("code")):
        slots = (
            simple(arms, length_per_site, master + i)
            if scheme.method == "simple"
            else permuted_blocks(arms, scheme.block_sizes, length_per_site, master + i)
        )
        load_allocation_list(site, slots)


class RandomisationRefused(ValidationError):
    pass


@dataclass(frozen=True)
class Randomised:
    """What a randomisation did. `created` is False when the participant already had the allocation:
    then nothing was assigned and nothing sent."""

    allocation: Allocation
    created: bool
    assignment: CaseloadAssignment | None = None  # the peer support worker's, in the intervention arm
    notifications: tuple[Message, ...] = ()  # sent once the transaction commits


def randomise(
    actor: Actor,
    participant: Participant,
    trial: Protocol,
    *,
    by: User,
    on: dt.date | None = None,
    notify: bool = True,
) -> Randomised:
    """Allocate the participant from their stratum's next list position (or by minimisation), put an
    intervention participant on the least loaded peer support worker's caseload, and send the
    allocation's notifications after commit.

    Idempotent: a participant who already has an allocation gets the same one back, and nothing else
    happens. The participant's row and the stratum cursor row are locked for the transaction, so
    concurrent requests queue, every position is used exactly once, and a double click assigns and
    notifies once.
    """
    return randomise_all(actor, [(participant, on)], trial, by=by, notify=notify)[0]


def randomise_all(
    actor: Actor,
    participants: Sequence[tuple[Participant, dt.date | None]],
    trial: Protocol,
    *,
    by: User,
    notify: bool = True,
) -> list[Randomised]:
    """randomise for each participant, with the day they were randomised (None: today), all or none:
    each takes the next position of their stratum in the order given, and the locks, the checks and
    the writes are made once for the lot."""
    pks = sorted({p.pk for p, _ in participants})
    return _randomise(
        actor, Participant.objects.filter(pk__in=pks), participants, trial, by=by, notify=notify
    )


def randomise_in_scope(
    actor: Actor, trial_id: str, trial: Protocol, *, by: User, notify: bool = True
) -> Randomised:
    """randomise for the participant with this trial ID among those the actor may open (participants_for),
    read once, under the lock: the page's randomisation. Http404 for any other, as participant_for."""
    return _randomise(
        actor, participants_for(actor).filter(trial_id=trial_id), None, trial, by=by, notify=notify
    )[0]


def _randomise(
    actor: Actor,
    rows: QuerySet[Participant],
    participants: Sequence[tuple[Participant, dt.date | None]] | None,
    trial: Protocol,
    *,
    by: User,
    notify: bool,
) -> list[Randomised]:
    """randomise_all for the participants, which are `rows`; or, when None, for the one of `rows` there is
    (Http404 when none), as read under the lock."""
    if not actor.can(Capability.RANDOMISE):
        raise PermissionDenied
    today = timezone.localdate()
    with transaction.atomic():
        # In one order, as the cursors are; SQLite's write lock, taken at BEGIN, holds them all already.
        if connection.features.has_select_for_update:
            of = ("self",) if connection.features.has_select_for_update_of else ()
            pks = list(rows.select_for_update(of=of).order_by("pk").values_list("pk", flat=True))
            rows = Participant.objects.filter(pk__in=pks)
        # Read once the locks are held, so that an allocation committed while waiting for them is seen.
        locked = {
            p.pk: p for p in with_readiness(rows.select_related("site", "identity", "allocation"), trial)
        }
        if participants is None:
            if len(locked) != 1:
                raise Http404("no such participant")
            participants = [(next(iter(locked.values())), None)]
        earlier = {pk: a for pk, p in locked.items() if (a := getattr(p, "allocation", None)) is not None}
        ready: dict[int, tuple[Participant, dt.date]] = {}
        for participant, on in participants:
            if participant.pk in earlier or participant.pk in ready:
                continue
            refusals = why_not_ready(locked[participant.pk], trial)
            if refusals:
                raise RandomisationRefused(
                    f"{participant.trial_id} cannot be randomised: {'; '.join(refusals)}"
                )
            ready[participant.pk] = (locked[participant.pk], on or today)
        made, assignments = _allocate(list(ready.values()), trial, by=by) if ready else ([], [])
        # Composed before the commit, so that a notice that cannot be made undoes the allocation rather
        # than leaving it made and never announced (a repeat would find it made and announce nothing).
        notices = _announce(made, trial, notify=notify)
    first = {
        a.participant_id: Randomised(a, True, assignment, sent)
        for a, assignment, sent in zip(made, assignments, notices, strict=True)
    }
    done = []
    for participant, _ in participants:
        participant.status = locked[participant.pk].status
        new = first.pop(participant.pk, None)
        if new is None:  # allocated before, or earlier in this batch
            allocation = earlier.get(participant.pk) or next(
                a for a in made if a.participant_id == participant.pk
            )
            new = Randomised(allocation, created=False)
        done.append(new)
    return done


def _allocate(
    ready: Sequence[tuple[Participant, dt.date]], trial: Protocol, *, by: User
) -> tuple[list[Allocation], list[CaseloadAssignment | None]]:
    """The participants' new status, the allocations and the caseload, in the caller's transaction. The
    participants' rows are locked already, so their status is written first: the strata's cursors, which
    every randomisation in the stratum waits for, are then held for as short a time as may be."""
    with asked_once():
        audited_changes([(p, [{"status": Status.RANDOMISED}]) for p, _ in ready], by=by, reason="randomised")
        if trial.randomisation.method == "minimisation":
            made = [_minimised(p, on, trial, by=by) for p, on in ready]  # each counts for the next
        else:
            slots = _next_positions([p for p, _ in ready])
            made = record_creations(
                [
                    Allocation(participant=p, slot=slot, arm=slot.arm, randomised_on=on, allocated_by=by)
                    for (p, on), slot in zip(ready, slots, strict=True)
                ],
                by=by,
                reason="randomised",
                # The participants had no allocation when read under their locks, and the positions are
                # past the cursor the stratum's lock held: none is taken.
                unique_held=True,
            )
        peer = [a.arm == trial.intervention.arm for a in made]
        return made, assign_least_loaded_workers(made, peer, by=by)


def _next_positions(participants: Sequence[Participant]) -> list[AllocationSlot]:
    """Each participant's next position on their stratum's list, in the order given. Each stratum's
    cursor is moved on first, which locks it until the transaction ends (in one order, so that two
    batches cannot each hold a cursor the other waits for), and says where it now is; then the positions
    it passed are read."""
    wanted = Counter(p.site_id for p in participants)
    last = {site_id: _move_cursor(site_id, n) for site_id, n in sorted(wanted.items())}
    passed = [
        Q(site_id=site_id, position__gt=at - wanted[site_id], position__lte=at)
        for site_id, at in last.items()
        if at is not None
    ]
    slots: dict[int, list[AllocationSlot]] = {}
    if passed:
        for slot in AllocationSlot.objects.filter(reduce(operator.or_, passed)).order_by("position"):
            slots.setdefault(slot.site_id, []).append(slot)
    for participant in participants:
        if len(slots.get(participant.site_id, [])) < wanted[participant.site_id]:
            raise RandomisationRefused(
                f"the allocation list for {participant.site.code} is used up; load more positions"
            )
    return [slots[p.site_id].pop(0) for p in participants]


def _move_cursor(site_id: int, by: int) -> int | None:
    """Move the stratum's cursor on by `by` positions, in one statement that locks it and returns where
    it is now (PostgreSQL and SQLite both return a row an UPDATE writes); None for a stratum without one."""
    name = connection.ops.quote_name
    table, column, site = name(StratumCursor._meta.db_table), name("last_position"), name("site_id")
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {column} = {column} + %s WHERE {site} = %s RETURNING {column}", [by, site_id]
        )
        row = cursor.fetchone()
    return None if row is None else int(row[0])


def _minimised(participant: Participant, on: dt.date, trial: Protocol, *, by: User) -> Allocation:
    cursor, slot = _minimised_slot(participant, trial)
    if cursor is None or slot is None:
        raise RandomisationRefused(
            f"the allocation list for {participant.site.code} is used up; load more positions"
        )
    cursor.last_position = slot.position
    cursor.save(update_fields=["last_position"])
    return record_creation(
        Allocation(participant=participant, slot=slot, arm=slot.arm, randomised_on=on, allocated_by=by),
        by=by,
        reason="randomised",
    )


def _announce(
    allocations: Sequence[Allocation], trial: Protocol, *, notify: bool
) -> list[tuple[Message, ...]]:
    """The allocations' notifications, composed in their transaction and sent once it commits."""
    if not notify:
        return [() for _ in allocations]
    notices = [tuple(n) for n in allocation_notices(allocations, trial)]
    for messages in notices:
        send_on_commit(messages)
    return notices


def set_up_minimisation() -> None:
    """A cursor with a fresh secret seed for every site that has none (minimisation schemes)."""
    for site in Site.objects.order_by("code"):
        cursor, _ = StratumCursor.objects.get_or_create(site=site)
        if not cursor.secret:
            cursor.secret = f"{new_seed():032x}"
            cursor.save(update_fields=["secret"])


def _minimised_slot(
    participant: Participant, trial: Protocol
) -> tuple[StratumCursor | None, AllocationSlot | None]:
    """The next position of the participant's stratum, its arm chosen by minimisation.

    Site is a stratum (its own history and secret) or a factor over the whole trial (every
    cursor is locked, in a fixed order, so that allocations queue), never both.
    """
    scheme = trial.randomisation
    stratified = "site" in scheme.stratify_by
    cursors = StratumCursor.objects.select_for_update().order_by("site_id")
    locked = {c.site_id: c for c in (cursors.filter(site=participant.site) if stratified else cursors)}
    cursor = locked.get(participant.site_id)
    if cursor is None or not cursor.secret:
        return None, None
    try:
        levels = factor_levels(participant, scheme.factors)
    except MissingFactor as exc:
        raise RandomisationRefused(f"{participant.trial_id} cannot be randomised: {exc}") from exc
    history = Allocation.objects.select_related("participant__site")
    if stratified:
        history = history.filter(participant__site=participant.site)
    minimiser = Minimiser(
        [(a.code, a.ratio) for a in trial.arms],
        {f.code: f.weight for f in scheme.factors},
        scheme.imbalance,
        scheme.preferred_probability,
        draw_seed(cursor.secret, participant.site.code, cursor.last_position + 1),
    )
    for earlier in history:
        minimiser.record(factor_levels(earlier.participant, scheme.factors), earlier.arm)
    arm = minimiser.allocate(levels)
    slot = AllocationSlot.objects.create(site=participant.site, position=cursor.last_position + 1, arm=arm)
    return cursor, slot


def allocation_list_csv() -> str:
    """Every stratum's concealed list, used positions included, as the list file format."""
    lists: dict[str, list[Slot]] = {}
    rows = AllocationSlot.objects.order_by("site__code", "position").values_list(
        "site__code", "position", "block", "block_size", "arm"
    )
    for site, position, block, block_size, arm in rows:
        lists.setdefault(site, []).append(Slot(position, block, block_size, arm))
    return to_csv(lists)


@transaction.atomic
def import_allocation_lists(trial: Protocol, text: str, expected_checksum: str) -> dict[str, int]:
    """Load lists generated elsewhere, all or nothing, after checking the file against its checksum.

    Only strata with no list yet may be loaded, so that an import never rewrites positions in use.
    """
    sites = {s.code: s for s in Site.objects.all()}
    lists = parse_csv(text, trial.arm_codes, sorted(sites), expected_checksum)
    taken = sorted(code for code in lists if AllocationSlot.objects.filter(site=sites[code]).exists())
    if taken:
        raise ListError(f"stratum: {', '.join(taken)} already has a list; nothing was loaded")
    return {code: load_allocation_list(sites[code], slots) for code, slots in lists.items()}


def correct_stratum(actor: Actor, allocation: Allocation, site: Site, *, by: User, reason: str) -> Allocation:
    """Record that the participant belonged to another stratum. The allocation itself stands (ITT)."""
    if not actor.can(Capability.RANDOMISE):
        raise PermissionDenied
    if site.pk == allocation.participant.site_id and allocation.stratum_corrected_to_id is None:
        raise ValidationError({"site": "That is the stratum the participant was randomised in"})
    return audited_update(allocation, {"stratum_corrected_to": site}, by=by, reason=reason)


def flag_randomised_in_error(actor: Actor, allocation: Allocation, *, by: User, reason: str) -> Allocation:
    """Flag an allocation made in error (for example, an ineligible person). Never deleted."""
    if not actor.can(Capability.RANDOMISE):
        raise PermissionDenied
    return audited_update(allocation, {"randomised_in_error": True}, by=by, reason=reason)


def enter_backup_allocation(
    actor: Actor,
    participant: Participant,
    trial: Protocol,
    *,
    position: int,
    arm: str,
    on: dt.date,
    by: User,
    notify: bool = True,
) -> Randomised:
    """Enter an allocation made by the backup procedure while the system was unavailable.

    The backup procedure hands out the stratum's next list positions in order, so the position
    must be the next unused one. The arm the participant was given stands; if it differs from
    the list's arm at that position, the allocation is flagged for the trial manager to reconcile.
    What follows an allocation follows this one too: the caseload, and the notifications after commit.
    """
    if not actor.can(Capability.RANDOMISE):
        raise PermissionDenied
    if arm not in trial.arm_codes:
        raise RandomisationRefused({"arm": f"{arm!r} is not an arm of this trial"})
    with transaction.atomic(), asked_once():
        locked = Participant.objects.select_for_update().get(pk=participant.pk)
        if Allocation.objects.filter(participant=locked).exists():
            raise RandomisationRefused({"participant": f"{locked.trial_id} already has an allocation"})
        refusals = why_not_ready(locked, trial)
        if refusals:
            raise RandomisationRefused({"participant": f"{locked.trial_id}: {'; '.join(refusals)}"})
        cursor = StratumCursor.objects.select_for_update().filter(site=locked.site).first()
        expected = (cursor.last_position if cursor else 0) + 1
        if position != expected:
            raise RandomisationRefused(
                {"position": f"the next backup position at {locked.site.code} is {expected}, not {position}"}
            )
        slot = AllocationSlot.objects.filter(site=locked.site, position=position).first()
        if cursor is None or slot is None:
            raise RandomisationRefused({"position": f"{locked.site.code} has no list position {position}"})
        cursor.last_position = position
        cursor.save(update_fields=["last_position"])
        allocation = record_creation(
            Allocation(
                participant=locked,
                slot=slot,
                arm=arm,
                randomised_on=on,
                allocated_by=by,
                source=AllocationSource.BACKUP,
                matches_list=slot.arm == arm,
            ),
            by=by,
            reason="backup procedure, entered afterwards",
        )
        audited_update(
            locked, {"status": Status.RANDOMISED}, by=by, reason="randomised by the backup procedure"
        )
        [assignment] = assign_least_loaded_workers(
            [allocation], [allocation.arm == trial.intervention.arm], by=by
        )
        [notices] = _announce([allocation], trial, notify=notify)
    participant.status = locked.status
    return Randomised(allocation, created=True, assignment=assignment, notifications=notices)
