"""Locking and unlocking the trial database: the trial manager only, always with a reason."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from aftercrisis.accounts.models import User
from aftercrisis.accounts.policy import Actor, Capability
from aftercrisis.reporting.lock import is_locked
from aftercrisis.reporting.models import DatabaseLockEvent, LockAction


@transaction.atomic
def set_lock(actor: Actor, *, lock: bool, by: User, reason: str) -> DatabaseLockEvent:
    if not actor.can(Capability.LOCK_DATABASE):
        raise PermissionDenied
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "Give a reason for locking or unlocking the database"})
    if is_locked() == lock:
        raise ValidationError({"reason": f"The database is already {'locked' if lock else 'unlocked'}"})
    return DatabaseLockEvent.objects.create(
        action=LockAction.LOCKED if lock else LockAction.UNLOCKED, by=by, reason=reason
    )
