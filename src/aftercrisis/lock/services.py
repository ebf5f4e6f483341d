"""Database lock: once the trial manager locks the database, trial data cannot change until an audited unlock."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from aftercrisis.accounts.models import User
from aftercrisis.accounts.policy import Actor, Capability
from aftercrisis.lock.models import DatabaseLockEvent, LockAction

LOCKED = "The trial database is locked for analysis: trial data cannot be changed until it is unlocked"


def is_locked() -> bool:
    latest = DatabaseLockEvent.objects.only("action").first()
    return latest is not None and latest.action == LockAction.LOCKED


class DatabaseLocked(ValidationError):
    pass


def refuse_if_locked() -> None:
    if is_locked():
        raise DatabaseLocked(LOCKED)


def lock_notice() -> str:
    """What a form says while the database is locked, before anyone fills it in."""
    return LOCKED if is_locked() else ""


@transaction.atomic
def set_lock(actor: Actor, *, lock: bool, by: User, reason: str) -> DatabaseLockEvent:
    """Lock or unlock: the trial manager only, always with a reason."""
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
