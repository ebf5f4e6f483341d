"""Every text a form accepts fits the column that keeps it (SQLite stores anything; PostgreSQL refuses).

A form that is not a ModelForm declares here which model it fills; a new one fails until it does.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest
from django import forms
from django.db import models

import aftercrisis
from aftercrisis.accounts.forms import USERNAME_MAX_LENGTH, SignInForm
from aftercrisis.audit import REASON_MAX_LENGTH
from aftercrisis.followup.forms import QuestionnaireForm
from aftercrisis.followup.services import instrument_for_entry
from aftercrisis.forms import ReasonField

FILLS: dict[str, str | None] = {
    # form (module.Class): the model its text fields are written to; None: nothing is stored
    "accounts.ChooseRoleForm": None,
    "accounts.ChoosePasswordForm": None,  # kept only as a hash
    "accounts.DutyContactForm": "accounts.Site",
    "accounts.StaffForm": "accounts.User",
    "accounts.TokenForm": None,
    "api.TokenForm": "api.ApiToken",
    "followup.CodeForm": None,
    "followup.ContactForm": "followup.ContactAttempt",
    "followup.QuestionnaireForm": None,
    "intervention.SessionForm": "intervention.Session",
    "intervention.ContactAttemptForm": "intervention.ContactAttempt",
    "intervention.SupervisionForm": "intervention.SupervisionRecord",
    "outcomes.EpisodeForm": "outcomes.AcuteCareEpisode",
    "outcomes.ReconcileForm": "outcomes.EpisodeReconciliation",
    "outcomes.SaeForm": "outcomes.SeriousAdverseEvent",
    "outcomes.SaeReviewForm": "outcomes.SeriousAdverseEvent",
    "randomisation.UnblindingRequestForm": "randomisation.UnblindingRequest",
    "randomisation.UnblindingDecisionForm": "randomisation.UnblindingRequest",
    "randomisation.CorrectionForm": None,
    "randomisation.BackupAllocationForm": "participants.Participant",
    "recruitment.ReferralForm": "participants.Identity",
    "recruitment.WithdrawalForm": "participants.Withdrawal",
    "reporting.LockForm": "lock.DatabaseLockEvent",
    "reporting.UnlockRequestForm": "lock.UnlockRequest",
    "reporting.UnlockDecisionForm": None,
    "queries.QueryForm": "queries.QueryMessage",
    "queries.RespondForm": "queries.QueryMessage",
    "workbook.SectionForm": "workbook.WorkbookEntry",
}
# A form field kept in a column of another name; None: not kept as typed.
COLUMN: dict[str, str | None] = {
    "accounts.DutyContactForm.name": "duty_contact_name",
    "accounts.DutyContactForm.email": "duty_contact_email",
    "randomisation.UnblindingDecisionForm.note": "decision_note",
    "intervention.SessionForm.risk_concern": None,  # the escalation's concern, a text column
    "recruitment.ReferralForm.nhs_number": None,  # spaces allowed; cleaned to the 10 digits kept
    "queries.QueryForm.trial_id": None,  # names the participant the query is raised on
}


def _forms() -> list[tuple[str, type[forms.BaseForm]]]:
    found = []
    for module_info in pkgutil.walk_packages(aftercrisis.__path__, "aftercrisis."):
        if module_info.name.rsplit(".", 1)[-1] != "forms":
            continue
        module = importlib.import_module(module_info.name)
        app = module_info.name.split(".")[1]
        for name, cls in vars(module).items():
            if inspect.isclass(cls) and issubclass(cls, forms.BaseForm) and cls.__module__ == module.__name__:
                found.append((f"{app}.{name}", cls))
    return found


def _text_fields(form: type[forms.BaseForm]) -> dict[str, forms.CharField]:
    return {name: f for name, f in form.base_fields.items() if isinstance(f, forms.CharField)}


@pytest.mark.parametrize(("name", "form"), _forms(), ids=lambda v: v if isinstance(v, str) else "")
def test_every_text_field_fits_its_column(name, form):
    from django.apps import apps

    if issubclass(form, forms.ModelForm):
        model = form._meta.model
    elif name == "accounts.SignInForm":
        return  # test_the_sign_in_username_fits_every_column_it_is_logged_in
    else:
        if not any(not isinstance(f, ReasonField) for f in _text_fields(form).values()):
            return
        assert name in FILLS, f"say which model {name} fills"
        model = apps.get_model(FILLS[name]) if FILLS[name] else None
    for field_name, field in _text_fields(form).items():
        if isinstance(field, ReasonField):
            assert field.max_length == REASON_MAX_LENGTH
            continue
        if model is None:
            continue
        column_name = COLUMN.get(f"{name}.{field_name}", field_name)
        if column_name is None:
            continue
        column = model._meta.get_field(column_name)
        if isinstance(column, models.CharField):
            assert field.max_length is not None and field.max_length <= column.max_length, (
                f"{name}.{field_name} takes {field.max_length} characters; "
                f"{model.__name__}.{column_name} holds {column.max_length}"
            )
        else:
            assert isinstance(column, models.TextField), f"{name}.{field_name}: {column!r}"


def test_a_reason_kept_only_in_the_audit_history_is_a_reason_field():
    # A reason that is not also a text column of its own is kept only in the audit's 100-character column.
    from django.apps import apps

    for name, form in _forms():
        reason = form.base_fields.get("reason")
        if not isinstance(reason, forms.CharField) or isinstance(reason, ReasonField):
            continue
        model = apps.get_model(FILLS[name]) if FILLS.get(name) else None
        assert model is not None and isinstance(model._meta.get_field("reason"), models.TextField), name


def test_the_questionnaire_correction_reason_fits_the_audit_column():
    form = QuestionnaireForm(instrument=instrument_for_entry("qpr15"), staff=True, correcting=True)
    assert isinstance(form.fields["reason"], ReasonField)


def test_the_sign_in_username_fits_every_column_it_is_logged_in():
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog

    from aftercrisis.accounts.models import User

    assert SignInForm().fields["username"].max_length == USERNAME_MAX_LENGTH
    for model in (User, AccessAttempt, AccessLog, AccessFailureLog):
        assert model._meta.get_field("username").max_length >= USERNAME_MAX_LENGTH
