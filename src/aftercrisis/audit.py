"""Audited writes: who, when, before and after, and why.

django-simple-history stores every version of an audited row with its user and reason.
A change after first entry must say why; `audited_update` refuses it otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models, transaction
from django.utils import timezone
from simple_history.signals import pre_create_historical_record

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
    return record_creations([instance], by=by, reason=reason)[0]


def record_creations(
    instances: Sequence[M], *, by: User | Sequence[User | None] | None, reason: str | Sequence[str]
) -> list[M]:
    """Create new rows of one model, each validated and audited as one created alone, in one statement
    for the rows and one for their history; `by` and `reason` are one for all or one for each row."""
    if not instances:
        return []
    users = list(by) if isinstance(by, Sequence) else [by] * len(instances)
    reasons = [reason] * len(instances) if isinstance(reason, str) else list(reason)
    for text in set(reasons):
        _refuse_too_long(text)
    refuse_if_locked()
    model = type(instances[0])
    known = _existing_references(model, instances)
    for instance, user, text in zip(instances, users, reasons, strict=True):
        instance._history_user = user  # type: ignore[attr-defined]
        instance._change_reason = text  # type: ignore[attr-defined]
        _full_clean(
            instance, {name for name, pks in known.items() if instance.serializable_value(name) in pks}
        )
    with transaction.atomic(savepoint=False):
        created = model._default_manager.bulk_create(instances)
        _record_history(created)
    return created


def _existing_references(model: type[models.Model], instances: Sequence[models.Model]) -> dict[str, set[Any]]:
    """For each foreign key, the rows the instances refer to that exist: one query a key, not one a row."""
    known = {}
    for field in model._meta.concrete_fields:
        if not isinstance(field, models.ForeignKey) or field.remote_field.parent_link:
            continue
        values = {getattr(i, field.attname) for i in instances} - {None}
        target = field.remote_field.model._base_manager.complex_filter(field.get_limit_choices_to())  # type: ignore[union-attr]
        name = field.remote_field.field_name  # type: ignore[attr-defined]
        known[field.name] = set(target.filter(**{f"{name}__in": values}).values_list(name, flat=True))
    return known


def _full_clean(instance: models.Model, checked: set[str]) -> None:
    """Model.full_clean, but without asking the database again whether the foreign keys in `checked`
    refer to a row: the batch knows. Unique fields and constraints are checked in full."""
    errors: dict[str, Any] = {}
    for step in (lambda: instance.clean_fields(exclude=checked), instance.clean):
        try:
            step()
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
    failed = {name for name in errors if name != NON_FIELD_ERRORS}
    for step in (instance.validate_unique, instance.validate_constraints):
        try:
            step(exclude=failed)
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
    if errors:
        raise ValidationError(errors)


def _record_history(instances: Sequence[models.Model]) -> None:
    """The versions django-simple-history writes when a row is saved, written together, with its
    signals still sent (so that what a request with an API token creates is named as such)."""
    history = type(instances[0]).history.model  # type: ignore[attr-defined]
    when = timezone.now()
    versions = []
    for instance in instances:
        version = history(
            history_date=when,
            history_type="+",
            history_user=instance._history_user,  # type: ignore[attr-defined]
            history_change_reason=instance._change_reason,  # type: ignore[attr-defined]
            **{field.attname: getattr(instance, field.attname) for field in history.tracked_fields},
        )
        pre_create_historical_record.send(
            sender=history,
            instance=instance,
            history_date=when,
            history_user=version.history_user,
            history_change_reason=version.history_change_reason,
            history_instance=version,
            using=None,
        )
        versions.append(version)
    history.objects.bulk_create(versions)


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
