"""Reads of allocations. An arm leaves the database only through these selectors, and each asks the
one policy rule (`accounts.policy.arm_visibility`) whether the actor may know it.

The rule questions at the end serve services that enforce what an arm may receive (sessions, the
workbook online): they answer the question, not the arm, and are asked on behalf of roles that
already know it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet

from aftercrisis.accounts.policy import Actor, ArmVisibility, arm_visibility
from aftercrisis.lock.services import is_locked
from aftercrisis.participants.models import Participant
from aftercrisis.protocol import Protocol
from aftercrisis.randomisation.models import Allocation, UnblindingRequest, UnblindingStatus


def visibility(actor: Actor) -> ArmVisibility:
    return arm_visibility(actor, locked=is_locked)


def sees_every_arm(actor: Actor) -> bool:
    """Unblinded roles always; the statistician once the database is locked for analysis."""
    return visibility(actor) is ArmVisibility.EVERY


def _visible(actor: Actor) -> QuerySet[Allocation]:
    """The allocations whose arm the actor may know, within the actor's sites."""
    rows = Allocation.objects.all()
    if actor.site_ids is not None:
        rows = rows.filter(participant__site_id__in=actor.site_ids)
    match visibility(actor):
        case ArmVisibility.EVERY:
            return rows
        case ArmVisibility.OWN_CASELOAD:
            return rows.filter(participant__caseload_assignment__worker_id=actor.user_id)
        case _:
            return rows.none()


def arms_for(actor: Actor, participant_ids: Iterable[int] | QuerySet[Participant, Any]) -> dict[int, str]:
    """Participant id -> arm, for those whose arm the actor may know; the others are simply absent."""
    return dict(_visible(actor).filter(participant__in=participant_ids).values_list("participant_id", "arm"))


def arm_for(actor: Actor, participant: Participant) -> str | None:
    """The participant's arm if the actor may know it, else None (the same answer as 'not randomised')."""
    return arms_for(actor, [participant.pk]).get(participant.pk)


def allocation_for(actor: Actor, participant: Participant) -> tuple[str, Allocation] | None:
    """The participant's arm and allocation if the actor may know the arm, else None (as for 'not
    randomised'): in one query, for the participant's page."""
    allocation = (
        _visible(actor).filter(participant=participant).select_related("stratum_corrected_to").first()
    )
    return (allocation.arm, allocation) if allocation else None


def randomised_by_arm(actor: Actor) -> dict[str, int] | None:
    """How many were randomised to each arm in the actor's sites; None unless the actor sees every arm."""
    if not sees_every_arm(actor):
        return None
    return {row["arm"]: row["n"] for row in _visible(actor).values("arm").annotate(n=Count("pk")).order_by()}


def counts_by_arm(actor: Actor, arm_codes: Iterable[str], *, allocation: str) -> dict[str, Count]:
    """Annotations `arm_<code>` counting allocations reached through the relation path `allocation`,
    for a query that already counts pooled; none unless the actor sees every arm."""
    if not sees_every_arm(actor):
        return {}
    return {f"arm_{code}": Count(allocation, filter=Q(**{f"{allocation}__arm": code})) for code in arm_codes}


def allocated_to(actor: Actor, arm: str) -> QuerySet[Allocation]:
    """The allocations to one arm in the actor's sites; none unless the actor sees every arm."""
    if not sees_every_arm(actor):
        return Allocation.objects.none()
    return _visible(actor).filter(arm=arm)


def analysis_arms(participant_ids: Iterable[int]) -> dict[int, str]:
    """Every arm, for the analysis dataset only: the report codes the arms until database lock, and the
    dataset itself is released only to those who see every arm."""
    return dict(
        Allocation.objects.filter(participant__in=participant_ids).values_list("participant_id", "arm")
    )


def unblinded_to(user_id: int) -> QuerySet[UnblindingRequest]:
    """The approved emergency unblindings of this member of staff: each takes them off that participant's
    outcome assessment, which another researcher at the site takes on."""
    return UnblindingRequest.objects.filter(requested_by_id=user_id, status=UnblindingStatus.APPROVED)


def refuse_unblinded_assessor(participant: Participant, user_id: int | None) -> None:
    """Refuse outcome assessment by someone who was emergency-unblinded for this participant."""
    refuse_unblinded_assessors([(participant, user_id)])


def refuse_unblinded_assessors(assessments: Iterable[tuple[Participant, int | None]]) -> None:
    """refuse_unblinded_assessor for each (participant, member of staff), in one query."""
    # None: the participant, through their own link
    assessments = [(p, user_id) for p, user_id in assessments if user_id is not None]
    if not assessments:
        return
    unblinded: dict[tuple[int, int | None], Any] = {}
    for u in UnblindingRequest.objects.filter(
        status=UnblindingStatus.APPROVED,
        requested_by_id__in={user_id for _, user_id in assessments},
        participant__in={p.pk for p, _ in assessments},
        decided_at__isnull=False,
    ).only("participant_id", "requested_by_id", "decided_at"):
        unblinded.setdefault((u.participant_id, u.requested_by_id), u.decided_at)
    for participant, user_id in assessments:
        decided_at = unblinded.get((participant.pk, user_id))
        if decided_at is not None:
            raise ValidationError(
                f"You were unblinded for {participant.trial_id} on {decided_at:%-d %B %Y}, so you no "
                "longer assess their outcomes: another researcher at the site does"
            )


# Rule questions.


def receives_peer_support(participant: Participant, protocol: Protocol) -> bool:
    """Whether the participant was allocated to peer support (and so may join a caseload or leave it)."""
    return Allocation.objects.filter(participant=participant, arm=protocol.intervention.arm).exists()


def offered_digital_workbook(participant: Participant, protocol: Protocol) -> bool:
    """Whether the protocol offers this participant's arm the workbook online."""
    return Allocation.objects.filter(
        participant=participant, arm__in=protocol.intervention.digital_workbook_arms
    ).exists()
