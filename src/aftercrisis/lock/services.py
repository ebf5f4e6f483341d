"""Database lock: once the trial manager locks the database, trial data cannot change until an audited unlock."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from aftercrisis.accounts.models import User
from aftercrisis.accounts.policy import Actor, Capability
from aftercrisis.lock.models import DatabaseLockEvent, LockAction, UnlockRequest

LOCKED = "The trial database is locked for analysis: trial data cannot be changed until it is unlocked"


def is_locked() -> bool:
    latest = DatabaseLockEvent.objects.only("action").first()
    return _in_force(latest)


def _in_force(latest: DatabaseLockEvent | None) -> bool:
    """The latest lock or unlock is in force."""
    return latest is not None and latest.action == LockAction.LOCKED


def lock_history(limit: int = 50) -> tuple[bool, list[DatabaseLockEvent]]:
    """Whether the database is locked, and its latest locks and unlocks with who made them: one query."""
    events = list(DatabaseLockEvent.objects.select_related("by")[:limit])
    return _in_force(events[0] if events else None), events


class DatabaseLocked(ValidationError):
    pass


# Set inside `asked_once`: the database was open when the unit of work began.
_found_open: ContextVar[bool] = ContextVar("found_open", default=False)


def refuse_if_locked() -> None:
    if not _found_open.get() and is_locked():
        raise DatabaseLocked(LOCKED)


@contextlib.contextmanager
def asked_once() -> Iterator[None]:
    """A unit of work that writes through several services asks whether the database is locked once, on
    entry, not at each write: a lock taken while it runs applies from the next one, as it would had the
    lock come a moment later."""
    refuse_if_locked()
    found = _found_open.set(True)
    try:
        yield
    finally:
        _found_open.reset(found)


def lock_notice() -> str:
    """What a form says while the database is locked, before anyone fills it in."""
    return LOCKED if is_locked() else ""


@transaction.atomic
def lock_database(actor: Actor, *, by: User, reason: str, reviewed: bool) -> DatabaseLockEvent:
    """Lock: the trial manager only, with a reason, having reviewed the pre-lock checklist."""
    if not actor.can(Capability.LOCK_DATABASE):
        raise PermissionDenied
    errors = {}
    if not reason.strip():
        errors["reason"] = "Give a reason for locking the database"
    if not reviewed:
        errors["reviewed"] = "Confirm that you have reviewed the checklist"
    if errors:
        raise ValidationError(errors)
    if is_locked():
        raise ValidationError({"reason": "The database is already locked"})
    return DatabaseLockEvent.objects.create(action=LockAction.LOCKED, by=by, reason=reason.strip())


def pending_unlock() -> UnlockRequest | None:
    return UnlockRequest.objects.filter(agreed__isnull=True).select_related("requested_by").first()


@transaction.atomic
def request_unlock(actor: Actor, *, by: User, reason: str) -> UnlockRequest:
    """The first of the two people an unlock needs asks for it, with a reason; the other decides."""
    if not actor.can(Capability.AGREE_UNLOCK):
        raise PermissionDenied
    if not reason.strip():
        raise ValidationError({"reason": "Give a reason for unlocking the database"})
    if not is_locked():
        raise ValidationError({"reason": "The database is not locked"})
    if pending_unlock() is not None:
        raise ValidationError(
            {"reason": "An unlock has already been requested: it is waiting for a decision"}
        )
    request = UnlockRequest(reason=reason.strip(), requested_by=by, requested_as=actor.role)
    request._history_user = by  # type: ignore[attr-defined]
    request.save()
    return request


@transaction.atomic
def decide_unlock(actor: Actor, *, by: User, agree: bool) -> UnlockRequest:
    """The second person agrees, and the database is unlocked with the request's reason, or declines."""
    if not actor.can(Capability.AGREE_UNLOCK):
        raise PermissionDenied
    request = UnlockRequest.objects.select_for_update().filter(agreed__isnull=True).first()
    if request is None:
        raise ValidationError("No unlock is waiting for a decision")
    if request.requested_by_id == by.pk or request.requested_as == actor.role:
        raise ValidationError(
            "An unlock needs two people: the trial manager and the chief investigator, "
            "so the one who asked cannot also agree"
        )
    request.decided_by, request.decided_at, request.agreed = by, timezone.now(), agree
    request._history_user = by  # type: ignore[attr-defined]
    request.save()
    if agree:
        DatabaseLockEvent.objects.create(
            action=LockAction.UNLOCKED,
            by=by,
            reason=f"{request.reason} (asked by {request.requested_by.display_name}, agreed by {by.display_name})",
        )
    return request


@dataclass(frozen=True)
class UnlockState:
    """What the page of a person who may take part in an unlock offers while the database is locked."""

    pending: UnlockRequest | None
    may_request: bool
    may_decide: bool


def unlock_state(actor: Actor, by: User) -> UnlockState | None:
    """None when there is nothing to offer: the database is open, or the actor takes no part in unlocks."""
    if not actor.can(Capability.AGREE_UNLOCK) or not is_locked():
        return None
    pending = pending_unlock()
    if pending is None:
        return UnlockState(None, may_request=True, may_decide=False)
    theirs = pending.requested_by_id == by.pk or pending.requested_as == actor.role
    return UnlockState(pending, may_request=False, may_decide=not theirs)
