"""Emergency unblinding: request with a reason, decision by the designated role, the arm revealed
to the requester only, the trial manager told, and every request listed for the data monitoring committee.

Each e-mail goes once its request or decision is committed, never for one that was rolled back."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from aftercrisis.accounts.models import User
from aftercrisis.accounts.policy import Actor, Capability
from aftercrisis.accounts.roles import Role
from aftercrisis.audit import audited_update, record_creation
from aftercrisis.notifications import email, send_on_commit
from aftercrisis.participants.models import Participant
from aftercrisis.randomisation.announce import _emails
from aftercrisis.randomisation.models import Allocation, UnblindingRequest, UnblindingStatus


def request_unblinding(
    actor: Actor, participant: Participant, *, reason: str, by: User, notify: bool = True
) -> UnblindingRequest:
    if not actor.can(Capability.REQUEST_UNBLINDING):
        raise PermissionDenied
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Give the clinical reason the arm must be known"})
    with transaction.atomic():
        # Asked the same way whether or not the participant is randomised, so the answer reveals nothing.
        request = record_creation(
            UnblindingRequest(participant=participant, requested_by=by, reason=reason),
            by=by,
            reason="emergency unblinding requested",
        )
        managers = _emails(Role.TRIAL_MANAGER) if notify else []
        if managers:
            send_on_commit(
                [
                    email(
                        managers,
                        f"Emergency unblinding requested for {participant.trial_id}",
                        f"{by.display_name} asks to know the arm of {participant.trial_id}.\n"
                        f"Reason: {reason}\nDecide on the unblinding requests page.",
                        reference=participant.trial_id,
                    )
                ]
            )
    return request


@transaction.atomic
def decide_unblinding(
    actor: Actor, request: UnblindingRequest, *, approve: bool, note: str, by: User, notify: bool = True
) -> UnblindingRequest:
    if not actor.can(Capability.APPROVE_UNBLINDING):
        raise PermissionDenied
    locked: UnblindingRequest = UnblindingRequest.objects.select_for_update().get(pk=request.pk)
    if locked.status != UnblindingStatus.REQUESTED:
        raise ValidationError({"status": "This request has already been decided"})
    if approve and not Allocation.objects.filter(participant=locked.participant).exists():
        raise ValidationError({"status": f"{locked.participant.trial_id} has not been randomised"})
    status = UnblindingStatus.APPROVED if approve else UnblindingStatus.REFUSED
    audited_update(
        locked,
        {"status": status, "decided_by": by, "decided_at": timezone.now(), "decision_note": note.strip()},
        by=by,
        reason=f"emergency unblinding {status}",
    )
    requester = locked.requested_by
    if notify and requester.email:
        # The e-mail says only that a decision was made: the arm is shown on the requester's page.
        send_on_commit(
            [
                email(
                    requester.email,
                    f"Your unblinding request for {locked.participant.trial_id} was {status}",
                    "Sign in to see the decision on your unblinding requests page.",
                    reference=locked.participant.trial_id,
                )
            ]
        )
    return locked


def requests_for(actor: Actor) -> QuerySet[UnblindingRequest]:
    """Approvers (and the data monitoring committee's listing) see every request; requesters their own."""
    rows = UnblindingRequest.objects.select_related("participant", "requested_by", "decided_by")
    if actor.can(Capability.APPROVE_UNBLINDING):
        return rows
    if actor.can(Capability.REQUEST_UNBLINDING):
        return rows.filter(requested_by_id=actor.user_id)
    return rows.none()


def revealed_arm(actor: Actor, request: UnblindingRequest) -> str | None:
    """The arm, for the requester of an approved request (or an approver); None for anyone else."""
    if request.status != UnblindingStatus.APPROVED:
        return None
    if request.requested_by_id != actor.user_id and not actor.can(Capability.APPROVE_UNBLINDING):
        return None
    allocation = Allocation.objects.filter(participant_id=request.participant_id).only("arm").first()
    return allocation.arm if allocation else None
