"""Withdrawal at three levels, and what each level stops.

- peer support: off the peer support worker's caseload; the status is unchanged, because the
  level itself reveals the arm and only unblinded roles may see it;
- follow-up: no more questionnaires or visits (records may still be used);
- all data: nothing further is collected or used after the date of withdrawal.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet

from aftercrisis.accounts.models import User
from aftercrisis.accounts.policy import Actor, Capability
from aftercrisis.audit import audited_update, record_creation
from aftercrisis.participants.models import Participant, Status, Withdrawal, WithdrawalLevel
from aftercrisis.protocol import Protocol
from aftercrisis.randomisation.selectors import receives_peer_support, sees_every_arm

# Statuses from which each level can be recorded.
_FROM = {
    WithdrawalLevel.PEER_SUPPORT: {Status.RANDOMISED},
    WithdrawalLevel.FOLLOW_UP: {Status.RANDOMISED},
    WithdrawalLevel.ALL_DATA: {Status.SCREENED, Status.CONSENTED, Status.RANDOMISED, Status.WITHDRAWN},
}
# Levels that stop a given kind of work, broadest last.
STOPS_PEER_SUPPORT = (WithdrawalLevel.PEER_SUPPORT, WithdrawalLevel.ALL_DATA)
STOPS_FOLLOW_UP = (WithdrawalLevel.FOLLOW_UP, WithdrawalLevel.ALL_DATA)


def levels_for(actor: Actor) -> list[tuple[str, str]]:
    """The levels an actor may record or see: masked roles never meet the peer support level."""
    return [
        (value, label)
        for value, label in WithdrawalLevel.choices
        if value != WithdrawalLevel.PEER_SUPPORT or sees_every_arm(actor)
    ]


@transaction.atomic
def withdraw(
    actor: Actor,
    participant: Participant,
    protocol: Protocol,
    *,
    level: str,
    on: dt.date,
    reason: str,
    by: User,
) -> Withdrawal:
    if not actor.can(Capability.EDIT_PARTICIPANTS):
        raise PermissionDenied
    if level not in dict(levels_for(actor)):
        # The same message for a masked role asking for the peer support level as for nonsense.
        raise ValidationError({"level": "Choose a level of withdrawal"})
    locked = Participant.objects.select_for_update().get(pk=participant.pk)
    if Withdrawal.objects.filter(participant=locked, level=level).exists():
        raise ValidationError({"level": f"{locked.trial_id} has already withdrawn at this level"})
    if locked.status not in _FROM[WithdrawalLevel(level)]:
        raise ValidationError(
            {
                "level": f"{locked.trial_id} cannot withdraw at this level while {locked.get_status_display().lower()}"
            }
        )
    if on < locked.referred_on:
        raise ValidationError({"on": "Date of withdrawal cannot be before the date of referral"})
    if level == WithdrawalLevel.PEER_SUPPORT and not receives_peer_support(locked, protocol):
        raise ValidationError({"level": f"{locked.trial_id} is not receiving peer support"})
    withdrawal = record_creation(
        Withdrawal(participant=locked, level=level, on=on, reason=reason.strip(), recorded_by=by),
        by=by,
        reason="withdrawal recorded",
    )
    if level != WithdrawalLevel.PEER_SUPPORT and locked.status != Status.WITHDRAWN:
        audited_update(
            locked, {"status": Status.WITHDRAWN}, by=by, reason=f"withdrew: {level.replace('_', ' ')}"
        )
        participant.refresh_from_db(fields=["status"])
    return withdrawal


def withdrawals_for(actor: Actor, participant: Participant) -> QuerySet[Withdrawal]:
    """The withdrawals an actor may see; the peer support level only for unblinded roles."""
    rows = Withdrawal.objects.filter(participant=participant).order_by("on", "pk")
    if not sees_every_arm(actor):
        rows = rows.exclude(level=WithdrawalLevel.PEER_SUPPORT)
    return rows


def stopped(levels: tuple[str, ...], prefix: str = "") -> Q:
    """A filter on participants who have withdrawn at any of `levels` (prefix: a relation path)."""
    return Q(**{f"{prefix}withdrawals__level__in": list(levels)})


def off_caseload() -> Q:
    """Participants a peer support worker no longer supports."""
    return stopped(STOPS_PEER_SUPPORT)


def off_follow_up() -> Q:
    """Participants no longer asked for questionnaires or visits."""
    return stopped(STOPS_FOLLOW_UP)
