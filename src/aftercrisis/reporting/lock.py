"""Database lock: once the trial manager locks the database, trial data cannot change until an audited unlock."""

from __future__ import annotations

from django.core.exceptions import ValidationError

from aftercrisis.reporting.models import DatabaseLockEvent, LockAction


def is_locked() -> bool:
    latest = DatabaseLockEvent.objects.only("action").first()
    return latest is not None and latest.action == LockAction.LOCKED


class DatabaseLocked(ValidationError):
    pass


def refuse_if_locked() -> None:
    if is_locked():
        raise DatabaseLocked(
            "The trial database is locked for analysis: trial data cannot be changed until it is unlocked"
        )
