"""Audited writes: who, when, before and after, and why.

django-simple-history stores every version of an audited row with its user and reason.
A change after first entry must say why; `audited_update` refuses it otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import models, transaction

from aftercrisis.accounts.models import User
from aftercrisis.lock.services import refuse_if_locked

M = TypeVar("M", bound=models.Model)

# The reason is kept in django-simple-history's own column, the same on every audited table.
REASON_MAX_LENGTH: int = User.history.model._meta.get_field("history_change_reason").max_length


def _refuse_too_long(reason: str) -> None:
    """Forms say so first; this stops any other caller before the database does."""
    if len(reason) > REASON_MAX_LENGTH:
        raise ValidationError({"reason": f"Reason must be {REASON_MAX_LENGTH} characters or fewer"})


def record_creation(instance: M, *, by: User | None, reason: str) -> M:
    _refuse_too_long(reason)
    refuse_if_locked()
    instance._history_user = by  # type: ignore[attr-defined]
    instance._change_reason = reason  # type: ignore[attr-defined]
    instance.full_clean()
    instance.save()
    return instance


@transaction.atomic
def audited_update(instance: M, changes: Mapping[str, Any], *, by: User | None, reason: str) -> M:
    """Apply field changes with a reason; a no-op change writes nothing."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Give a reason for changing data that has already been entered"})
    _refuse_too_long(reason)
    refuse_if_locked()
    changed = {name: value for name, value in changes.items() if getattr(instance, name) != value}
    if not changed:
        return instance
    for name, value in changed.items():
        setattr(instance, name, value)
    instance.full_clean()
    instance._history_user = by  # type: ignore[attr-defined]
    instance._change_reason = reason  # type: ignore[attr-defined]
    instance.save(update_fields=list(changed))
    return instance


def history_of(instance: models.Model) -> list[dict[str, Any]]:
    """Every version of a row, newest first, with what changed from the version before."""
    records = list(instance.history.select_related("history_user").order_by("-history_date", "-history_id"))  # type: ignore[attr-defined]
    entries = []
    for newer, older in zip(records, [*records[1:], None], strict=True):
        changes = []
        if older is not None:
            delta = newer.diff_against(older)
            for change in delta.changes:
                field = instance._meta.get_field(change.field)
                assert isinstance(field, models.Field)  # history tracks concrete fields only
                changes.append(
                    {
                        "field": field.verbose_name,
                        "before": _shown(field, change.old),
                        "after": _shown(field, change.new),
                    }
                )
        entries.append(
            {
                "when": newer.history_date,
                "who": newer.history_user.display_name if newer.history_user else "system",
                "kind": {"+": "Created", "~": "Changed", "-": "Removed"}[newer.history_type],
                "reason": newer.history_change_reason or "",
                "changes": changes,
                "model": instance._meta.verbose_name,
            }
        )
    return entries


def _shown(field: Any, value: Any) -> str:
    if value in (None, ""):
        return "(blank)"
    choices = dict(getattr(field, "flatchoices", ()) or ())
    return str(choices.get(value, value))
