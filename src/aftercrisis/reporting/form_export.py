"""Every form's data, one table per form, for the roles that may have it: CSV per form, and one bundle
(a zip of CSV, Parquet and, where the types allow, Stata .dta per form) with a data dictionary drawn
from the models themselves.

What a role gets follows the one policy rule. A role that may not know the arms gets no arm and none of
the tables that reveal one (allocations, unblinding, peer support, the workbook, resource use); only the
trial manager gets identity. The arm itself comes only from the randomisation selectors.
"""

from __future__ import annotations

import io
import json
import warnings
import zipfile
from dataclasses import dataclass
from typing import Any

import pandas as pd
from django.apps import apps
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Q
from pandas.errors import InvalidColumnName

from aftercrisis.accounts.policy import Actor, Capability
from aftercrisis.accounts.roles import Role
from aftercrisis.participants.models import WithdrawalLevel
from aftercrisis.randomisation.selectors import arms_for, sees_every_arm


@dataclass(frozen=True)
class Form:
    name: str  # the table's file name
    model: str  # app_label.ModelName
    reveals_arm: bool = False
    identity: bool = False


FORMS = (
    Form("participants", "participants.Participant"),
    Form("identity", "participants.Identity", identity=True),
    Form("withdrawals", "participants.Withdrawal"),
    Form("deaths", "participants.Death"),
    Form("screening", "recruitment.Screening"),
    Form("anonymous_screen_failures", "recruitment.AnonymousScreenFailure"),
    Form("consent", "recruitment.ConsentRecord"),
    Form("allocations", "randomisation.Allocation", reveals_arm=True),
    Form("unblinding_requests", "randomisation.UnblindingRequest", reveals_arm=True),
    Form("caseload", "intervention.CaseloadAssignment", reveals_arm=True),
    Form("sessions", "intervention.Session", reveals_arm=True),
    Form("peer_support_contact_attempts", "intervention.ContactAttempt", reveals_arm=True),
    Form("risk_concerns", "intervention.RiskEscalation", reveals_arm=True),
    Form("workbook_dispatch", "intervention.Dispatch", reveals_arm=True),
    Form("workbook_entries", "workbook.WorkbookEntry", reveals_arm=True),
    Form("follow_up_visits", "followup.VisitRecord"),
    Form("questionnaires", "followup.QuestionnaireResponse"),
    Form("follow_up_contact_attempts", "followup.ContactAttempt"),
    Form("acute_care_episodes", "outcomes.AcuteCareEpisode"),
    Form("episode_reconciliation", "outcomes.EpisodeReconciliation"),
    Form("serious_adverse_events", "outcomes.SeriousAdverseEvent"),
    Form("resource_use", "economics.ResourceUse", reveals_arm=True),
)
# Allocation columns that are the arm or lead to it (the concealed list's slot).
ARM_FIELDS = frozenset({"arm", "slot"})
# Rows that reveal an arm in a table that otherwise does not: a withdrawal from peer support.
ARM_REVEALING_ROWS = {"participants.Withdrawal": Q(level=WithdrawalLevel.PEER_SUPPORT)}


def forms_for(actor: Actor) -> list[Form]:
    """The forms the actor may export, in order."""
    if not actor.can(Capability.FULL_EXPORT):
        raise PermissionDenied
    unblinded = sees_every_arm(actor)
    installed = {c.label for c in apps.get_app_configs()}
    return [
        f
        for f in FORMS
        if f.model.split(".")[0] in installed
        and (unblinded or not f.reveals_arm)
        and (exports_identity(actor) or not f.identity)
    ]


def exports_identity(actor: Actor) -> bool:
    """Whether the actor's exports may hold who participants are (names, NHS numbers, contact details): the
    trial manager's only. Roles that see one person's identity on the pages, to contact them, get none in bulk."""
    return actor.role == Role.TRIAL_MANAGER


def columns(model: type[models.Model]) -> list[models.Field[Any, Any]]:
    """A form's columns: every stored field but the arm and what leads to it."""
    return [f for f in model._meta.concrete_fields if f.name not in ARM_FIELDS]


def kind(field: models.Field[Any, Any]) -> str:
    """The type of a column's values, as the data dictionary names it."""
    if isinstance(field, models.ForeignKey):
        return "integer (id)"
    if isinstance(field, models.BooleanField):
        return "true/false"
    if isinstance(field, (models.IntegerField, models.AutoField)):
        return "integer"
    if isinstance(field, (models.FloatField, models.DecimalField)):
        return "number"
    if isinstance(field, models.DateTimeField):
        return "date and time (UTC)"
    if isinstance(field, models.DateField):
        return "date"
    if isinstance(field, models.JSONField):
        return "JSON text"
    return "text"


def table(actor: Actor, form: Form) -> pd.DataFrame:
    """One form's rows within the actor's sites: a column per field (a foreign key as its id), the
    participant's trial ID beside each row that has one, and the arm only where the actor may know it."""
    if form not in forms_for(actor):
        raise PermissionDenied
    return _table(actor, form, unblinded=sees_every_arm(actor))


def rows_for(actor: Actor, form: Form, *, unblinded: bool) -> models.QuerySet[Any]:
    """The form's rows within the actor's sites, less the rows that reveal an arm unless `unblinded`
    (as forms_for decided for the actor)."""
    model = apps.get_model(form.model)
    rows: models.QuerySet[Any] = model._default_manager.all()
    if not unblinded and form.model in ARM_REVEALING_ROWS:
        rows = rows.exclude(ARM_REVEALING_ROWS[form.model])
    if actor.site_ids is not None:
        names = {f.name for f in model._meta.concrete_fields}
        if "participant" in names:
            rows = rows.filter(participant__site_id__in=actor.site_ids)
        elif "site" in names:
            rows = rows.filter(site_id__in=actor.site_ids)
    return rows


def _table(actor: Actor, form: Form, *, unblinded: bool) -> pd.DataFrame:
    model = apps.get_model(form.model)
    fields = columns(model)
    rows = rows_for(actor, form, unblinded=unblinded)
    has_participant = any(f.name == "participant" for f in fields)
    names = [f.attname for f in fields]
    if has_participant:
        names.append("participant__trial_id")
    frame = pd.DataFrame.from_records(list(rows.order_by("pk").values_list(*names)), columns=names)
    frame = frame.rename(columns={"participant__trial_id": "trial_id"})
    for field in fields:
        column = frame[field.attname]
        if isinstance(field, models.JSONField):
            frame[field.attname] = column.map(lambda v: "" if v is None else json.dumps(v, sort_keys=True))
        elif isinstance(field, models.DateTimeField):
            frame[field.attname] = pd.to_datetime(column, utc=True).dt.tz_localize(None)
        elif isinstance(field, models.DateField):
            frame[field.attname] = pd.to_datetime(column)
        elif kind(field) == "text":
            frame[field.attname] = column.fillna("").astype(str)
    if form.model == "randomisation.Allocation":
        arms = arms_for(actor, frame["participant_id"].tolist())
        frame["arm"] = frame["participant_id"].map(arms).fillna("")
    return frame


def dictionary(forms: list[Form]) -> pd.DataFrame:
    """Form, field, label, type and allowed values of every column of these forms."""
    entries = []
    for form in forms:
        model = apps.get_model(form.model)
        for field in columns(model):
            allowed = "; ".join(f"{value} = {label}" for value, label in field.choices or [])
            entries.append((form.name, field.attname, str(field.verbose_name), kind(field), allowed))
        if any(f.name == "participant" for f in model._meta.fields):
            entries.append((form.name, "trial_id", "trial ID of the participant", "text", ""))
        if form.model == "randomisation.Allocation":
            entries.append((form.name, "arm", "arm allocated", "text", ""))
    return pd.DataFrame(entries, columns=["form", "field", "label", "type", "allowed_values"])


def bundle(actor: Actor) -> bytes:
    """A zip: per form a CSV, a Parquet file and a Stata .dta (left out, and said so in the README,
    when a column cannot be held by Stata), and the data dictionary as CSV."""
    buffer = io.BytesIO()
    notes = []
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        forms = forms_for(actor)
        unblinded = any(f.reveals_arm for f in forms)  # as forms_for decided, without asking again
        for form in forms:  # one query each
            frame = _table(actor, form, unblinded=unblinded)
            archive.writestr(f"csv/{form.name}.csv", frame.to_csv(index=False))
            parquet = io.BytesIO()
            frame.to_parquet(parquet, index=False)
            archive.writestr(f"parquet/{form.name}.parquet", parquet.getvalue())
            stata = io.BytesIO()
            try:
                with warnings.catch_warnings(record=True) as renamed:
                    warnings.simplefilter("always", InvalidColumnName)
                    frame.to_stata(stata, write_index=False, version=118)
            except (ValueError, TypeError) as exc:
                notes.append(f"{form.name}: no Stata file ({exc})")
            else:
                archive.writestr(f"stata/{form.name}.dta", stata.getvalue())
                # A column named as a Stata reserved word (end) is renamed (_end): say so.
                notes += [f"{form.name}.dta: {' '.join(str(w.message).split())}" for w in renamed]
        archive.writestr("data_dictionary.csv", dictionary(forms).to_csv(index=False))
        archive.writestr(
            "README.txt",
            "One table per form, as CSV, Parquet and Stata; data_dictionary.csv describes every column.\n"
            + "".join(f"{n}\n" for n in notes),
        )
    return buffer.getvalue()
