"""Audited writes: who, when, before and after, and why.

django-simple-history stores every version of an audited row with its user and reason.
A change after first entry must say why; `audited_update` refuses it otherwise.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Collection, Mapping, Sequence
from functools import cache, reduce
from typing import Any, TypeVar

from django.core.exceptions import NON_FIELD_ERRORS, FieldDoesNotExist, ValidationError
from django.db import connection, models, transaction
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
    instances: Sequence[M],
    *,
    by: User | Sequence[User | None] | None,
    reason: str | Sequence[str],
    unique_held: bool = False,
) -> list[M]:
    """Create new rows of one model, each validated and audited as one created alone, in one statement
    for the rows and one for their history; `by` and `reason` are one for all or one for each row.

    `unique_held`: the caller holds the locks under which it has read that none of the rows' unique
    values is taken (a randomisation, under the participant's and the stratum's locks), so the database
    is not asked again; two rows of the batch that clash are still refused, and the database's own
    constraints still refuse a clash, as ever."""
    if not instances:
        return []
    users = list(by) if isinstance(by, Sequence) else [by] * len(instances)
    reasons = [reason] * len(instances) if isinstance(reason, str) else list(reason)
    for text in set(reasons):
        _refuse_too_long(text)
    refuse_if_locked()
    model = type(instances[0])
    known = _existing_references(model, instances)
    unique = _clear_of_stored_rows(model, instances, asked=not unique_held)
    for instance, user, text, clear in zip(instances, users, reasons, unique, strict=True):
        instance._history_user = user  # type: ignore[attr-defined]
        instance._change_reason = text  # type: ignore[attr-defined]
        _full_clean(
            instance,
            {name for name, pks in known.items() if instance.serializable_value(name) in pks},
            clear,
        )
    with transaction.atomic(savepoint=False):
        created = model._default_manager.bulk_create(instances)
        _record_history(created)
    return created


def _existing_references(model: type[models.Model], instances: Sequence[models.Model]) -> dict[str, set[Any]]:
    """For each foreign key, the rows the instances refer to that exist: one query a key, not one a row,
    and none for a row the caller holds as read from the database (trial data and staff are never
    deleted, and the database refuses a reference to a row that is gone)."""
    known = {}
    for field in model._meta.concrete_fields:
        if not isinstance(field, models.ForeignKey) or field.remote_field.parent_link:
            continue
        limit = field.get_limit_choices_to()
        held = {
            getattr(i, field.attname)
            for i in instances
            if not limit and field.is_cached(i) and _read(field.get_cached_value(i))
        }
        values = {getattr(i, field.attname) for i in instances} - held - {None}
        target = field.remote_field.model._base_manager.complex_filter(limit)
        name = field.target_field.attname
        found = target.filter(**{f"{name}__in": values}).values_list(name, flat=True) if values else []
        known[field.name] = held | set(found)
    return known


def _read(row: models.Model | None) -> bool:
    return row is not None and not row._state.adding and row.pk is not None


@cache
def _unique_columns(model: type[models.Model]) -> dict[tuple[str, ...], models.UniqueConstraint | None]:
    """The model's unique fields (None) and unconditional unique constraints, by the columns they cover."""
    unique: dict[tuple[str, ...], models.UniqueConstraint | None] = {
        (f.attname,): None for f in model._meta.concrete_fields if f.unique and not f.primary_key
    }
    for constraint in model._meta.constraints:
        if (
            isinstance(constraint, models.UniqueConstraint)
            and constraint.fields
            and constraint.condition is None
            and constraint.nulls_distinct is not False
        ):
            unique[tuple(model._meta.get_field(f).attname for f in constraint.fields)] = constraint  # type: ignore[union-attr]
    return unique


@cache
def _unique_checks_known(model: type[models.Model]) -> bool:
    """Whether _unique_columns is every uniqueness Model.full_clean checks."""
    return not model._meta.unique_together and not any(
        getattr(f, f"unique_for_{part}", None)
        for f in model._meta.concrete_fields
        for part in ("date", "month", "year")
    )


def _refuse_repeats_within(model: type[models.Model], instances: Sequence[models.Model]) -> None:
    for columns in _unique_columns(model):
        seen: dict[tuple[Any, ...], int] = {}
        for k, instance in enumerate(instances, start=1):
            value = tuple(getattr(instance, c) for c in columns)
            if None in value:
                continue
            if value in seen:
                named = {f.attname: str(f.verbose_name) for f in model._meta.concrete_fields}
                names = ", ".join(named[c] for c in columns)
                raise ValidationError(
                    {NON_FIELD_ERRORS: f"row {k}: the same {names} as row {seen[value]} of this batch"}
                )
            seen[value] = k


def _clear_of_stored_rows(
    model: type[models.Model], instances: Sequence[models.Model], *, asked: bool = True
) -> list[bool]:
    """For each instance, whether none of its unique fields or unconditional unique constraints can clash
    with a stored row, asked in one query for the batch. A row that might clash is checked again alone,
    for the error Model.full_clean gives; two new rows of the batch that clash with each other are
    refused here, naming the later one, since neither is stored for full_clean to find."""
    _refuse_repeats_within(model, instances)
    if not _unique_checks_known(model):
        return [False] * len(instances)
    if not asked:
        return [True] * len(instances)
    values = {
        columns: [tuple(getattr(i, c) for c in columns) for i in instances]
        for columns in _unique_columns(model)
    }
    # A stored row that clashes on some columns has the first of them among the batch's values.
    wanted = {columns: {v[0] for v in found if None not in v} for columns, found in values.items()}
    near = [models.Q(**{f"{columns[0]}__in": first}) for columns, first in wanted.items() if first]
    read = sorted({c for columns in wanted for c in columns})
    stored = list(model._base_manager.filter(reduce(operator.or_, near)).values_list(*read)) if near else []
    clear = [True] * len(instances)
    for columns, found in values.items():
        at = [read.index(c) for c in columns]
        taken = {tuple(row[k] for k in at) for row in stored}
        for k, value in enumerate(found):
            if value in taken:
                clear[k] = False
    return clear


def _full_clean(instance: models.Model, checked: Collection[str], clear: bool = False) -> None:
    """Model.full_clean, but without asking the database again whether the foreign keys in `checked`
    refer to a row, nor, when `clear`, whether its unique fields and constraints are free: the caller
    knows. Other constraints are checked as ever."""
    errors: dict[str, Any] = {}
    try:
        instance.clean_fields(exclude=checked)
    except ValidationError as exc:
        errors = exc.update_error_dict(errors)
    try:
        instance.clean()
    except ValidationError as exc:
        errors = exc.update_error_dict(errors)
    failed = {name for name in errors if name != NON_FIELD_ERRORS}
    if not clear:
        try:
            instance.validate_unique(exclude=failed)
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
    known = {c.name for c in _unique_columns(type(instance)).values() if c is not None} if clear else set()
    for model, constraints in instance.get_constraints():
        for constraint in constraints:
            if constraint.name in known:
                continue
            asked = _check_asked(model, constraint, instance, failed)
            if asked in _CHECKS_HELD:
                continue
            try:
                constraint.validate(model, instance, exclude=failed)
            except ValidationError as exc:
                # As Model.validate_constraints files them.
                if getattr(exc, "code", None) == "unique" and len(constraint.fields) == 1:  # type: ignore[attr-defined]
                    errors.setdefault(constraint.fields[0], []).append(exc)  # type: ignore[attr-defined]
                else:
                    errors = exc.update_error_dict(errors)
            else:
                if asked is not None:
                    if len(_CHECKS_HELD) >= 10_000:
                        _CHECKS_HELD.clear()
                    _CHECKS_HELD.add(asked)
    if errors:
        raise ValidationError(errors)


# A check constraint asks the database whether its condition holds for the row's values: the answer
# depends on those values alone, so each combination that held is asked once.
_CHECKS_HELD: set[tuple[Any, ...]] = set()


def _check_asked(
    model: type[models.Model], constraint: Any, instance: models.Model, failed: set[str]
) -> tuple[Any, ...] | None:
    """The question a check constraint asks of this row, or None when it cannot be remembered."""
    if not isinstance(constraint, models.CheckConstraint):
        return None
    names = sorted(constraint.condition.referenced_base_fields)  # type: ignore[union-attr]
    if set(names) & failed:
        return None  # not asked at all
    try:
        values = tuple(getattr(instance, model._meta.get_field(name).attname) for name in names)  # type: ignore[union-attr]
        asked = (connection.vendor, model._meta.label, constraint.name, values)
        hash(asked)
    except (FieldDoesNotExist, TypeError):
        return None
    return asked


@cache
def _history_model(model: type[models.Model]) -> Any:
    """The model's history table (asked once: its manager is made anew at each access)."""
    return model.history.model  # type: ignore[attr-defined]


def _version(instance: models.Model, history_type: str, when: dt.datetime) -> Any:
    """The version django-simple-history writes when a row is saved, with its signal still sent (so that
    what a request with an API token writes is named as such), for writing with others in one statement."""
    history = _history_model(type(instance))
    version = history(
        history_date=when,
        history_type=history_type,
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
    return version


def _record_history(instances: Sequence[models.Model]) -> None:
    when = timezone.now()
    versions = [_version(instance, "+", when) for instance in instances]
    _history_model(type(instances[0])).objects.bulk_create(versions)


def audited_update(instance: M, changes: Mapping[str, Any], *, by: User | None, reason: str) -> M:
    """Apply field changes with a reason; a no-op change writes nothing."""
    return audited_updates(instance, [changes], by=by, reason=reason)


def audited_updates(instance: M, changes: Sequence[Mapping[str, Any]], *, by: User | None, reason: str) -> M:
    """Apply successive changes to one row, each validated and kept as a version as if made one after
    the other, with one write of the row and one of its versions."""
    return audited_changes([(instance, changes)], by=by, reason=reason)[0]


def audited_changes(
    rows: Sequence[tuple[M, Sequence[Mapping[str, Any]]]],
    *,
    by: User | Sequence[User | None] | None,
    reason: str | Sequence[str],
) -> list[M]:
    """audited_updates for each row with its successive changes, all or none, with one write for the
    rows that change the same fields and one for the versions of each model; `by` and `reason` are one
    for all or one for each row."""
    users = list(by) if isinstance(by, Sequence) else [by] * len(rows)
    reasons = [(text or "").strip() for text in ([reason] * len(rows) if isinstance(reason, str) else reason)]
    for text in set(reasons):
        if not text:
            raise ValidationError({"reason": "Give a reason for changing data that has already been entered"})
        _refuse_too_long(text)
    if not rows:
        return []
    refuse_if_locked()
    when = timezone.now()
    writes: dict[tuple[type[models.Model], tuple[str, ...]], list[models.Model]] = {}
    versions: dict[type[models.Model], list[Any]] = {}
    for (instance, changes), user, text in zip(rows, users, reasons, strict=True):
        instance._history_user = user  # type: ignore[attr-defined]
        instance._change_reason = text  # type: ignore[attr-defined]
        model = type(instance)
        written: set[str] = set()
        for change in changes:
            changed = {name: value for name, value in change.items() if getattr(instance, name) != value}
            if not changed:
                continue
            for name, value in changed.items():
                setattr(instance, name, value)
            # A foreign key left as it was still refers to its row: rows are never deleted, only protected;
            # unique values left as they were are still unique: the database holds them so.
            columns = {model._meta.get_field(name).attname for name in changed}  # type: ignore[union-attr]
            clear = _unique_checks_known(model) and not any(set(u) & columns for u in _unique_columns(model))
            _full_clean(instance, _foreign_keys(model) - set(changed), clear)
            written |= set(changed)
            versions.setdefault(model, []).append(_version(instance, "~", when))
        if written:
            writes.setdefault((model, tuple(sorted(written))), []).append(instance)
    with transaction.atomic(savepoint=False):
        for (kind, fields), same in writes.items():
            if len({row.pk for row in same}) < len(same):
                raise ValueError(f"a {kind._meta.verbose_name} is changed twice: give its changes as one row")
            if len(same) > 1:
                kind._base_manager.bulk_update(same, fields)
                continue
            (row,) = same
            row.skip_history_when_saving = True  # type: ignore[attr-defined]
            try:
                row.save(update_fields=fields)
            finally:
                del row.skip_history_when_saving  # type: ignore[attr-defined]
        for kind, made in versions.items():
            _history_model(kind).objects.bulk_create(made)
    return [instance for instance, _ in rows]


@cache
def _foreign_keys(model: type[models.Model]) -> frozenset[str]:
    return frozenset(f.name for f in model._meta.concrete_fields if isinstance(f, models.ForeignKey))


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
