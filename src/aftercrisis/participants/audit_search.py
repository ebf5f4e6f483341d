"""The audit trail searched across participants: every version of every audited trial record, by who
made the change, when, in which form and which field. It includes allocations, so only a role that sees
every arm may search it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import F, OuterRef, Q, QuerySet, Subquery

from aftercrisis.accounts.policy import Actor, Capability
from aftercrisis.randomisation.selectors import sees_every_arm

# The apps whose records are trial data about participants.
TRIAL_APPS = (
    "participants",
    "recruitment",
    "randomisation",
    "intervention",
    "workbook",
    "followup",
    "outcomes",
)


def audited_forms() -> dict[str, type[models.Model]]:
    """Each audited record kind ("app.model") and its model, in the order of the apps."""
    found = {}
    for label in TRIAL_APPS:
        for model in apps.get_app_config(label).get_models():
            if hasattr(model, "history") and not model.__name__.startswith("Historical"):
                found[model._meta.label_lower] = model
    return found


def fields_of(model: type[models.Model]) -> list[tuple[str, str]]:
    """The concrete fields a change can be searched by: (name, label)."""
    return [(f.attname, str(f.verbose_name)) for f in model._meta.concrete_fields if f.attname not in {"id"}]


@dataclass(frozen=True)
class AuditQuery:
    form: str  # an "app.model" of `audited_forms`
    user_id: int | None = None
    since: dt.date | None = None
    until: dt.date | None = None
    field: str = ""  # a field of the form: only versions that changed it


def audit_search(actor: Actor, query: AuditQuery) -> QuerySet[Any]:
    """The versions that match, newest first, with who made each (one query per page shown).

    With a field, each version carries `before` (that field in the version before it) beside its own value.
    """
    if not (actor.can(Capability.SEARCH_AUDIT) and sees_every_arm(actor)):
        raise PermissionDenied
    model = audited_forms()[query.form]
    history = model.history.model  # type: ignore[attr-defined]
    rows: QuerySet[Any] = history.objects.select_related("history_user")
    if any(f.name == "participant" for f in model._meta.fields):
        rows = rows.select_related("participant")
        if actor.site_ids is not None:
            rows = rows.filter(participant__site_id__in=actor.site_ids)
    if query.user_id is not None:
        rows = rows.filter(history_user_id=query.user_id)
    if query.since is not None:
        rows = rows.filter(history_date__date__gte=query.since)
    if query.until is not None:
        rows = rows.filter(history_date__date__lte=query.until)
    if query.field:
        before = history.objects.filter(
            id=OuterRef("id"), history_date__lt=OuterRef("history_date")
        ).order_by("-history_date", "-history_id")
        rows = rows.annotate(before=Subquery(before.values(query.field)[:1])).filter(
            Q(history_type="+", **{f"{query.field}__isnull": False})
            | ~Q(**{query.field: F("before")})
            | Q(before__isnull=True, **{f"{query.field}__isnull": False})
            | Q(before__isnull=False, **{f"{query.field}__isnull": True})
        )
    return rows.order_by("-history_date", "-history_id")
