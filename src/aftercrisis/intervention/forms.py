from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet

from aftercrisis.accounts.models import User
from aftercrisis.forms import DateInput, NamedErrors, RecordIdField, RecordIdsField
from aftercrisis.intervention.models import ContactMethod, DispatchMethod, SessionMode, SessionOutcome
from aftercrisis.intervention.services import SessionDetails
from aftercrisis.workbook.content import load_workbook


class SessionForm(NamedErrors, forms.Form):
    outcome = forms.ChoiceField(
        label="What happened", choices=SessionOutcome.choices, widget=forms.RadioSelect, initial="held"
    )
    on = forms.DateField(label="Date of the session", widget=DateInput, help_text="For example, 31 3 2026")
    duration_minutes = forms.IntegerField(
        label="Duration in minutes",
        required=False,
        min_value=1,
        max_value=480,
        help_text="Held sessions only",
    )
    mode = forms.ChoiceField(
        label="How it took place",
        choices=SessionMode.choices,
        widget=forms.RadioSelect,
        required=False,
        help_text="Held sessions only",
    )
    place = forms.CharField(
        label="Place", max_length=120, required=False, help_text="For example, a café or home"
    )
    sections_covered = forms.MultipleChoiceField(
        label="Workbook sections covered", widget=forms.CheckboxSelectMultiple, required=False
    )
    goals_reviewed = forms.BooleanField(label="Recovery goals reviewed", required=False)
    notes = forms.CharField(label="Notes", widget=forms.Textarea(attrs={"rows": 3}), required=False)
    risk_concern = forms.CharField(
        label="Risk concern",
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text="If a risk concern was raised, describe it: it is sent to the site's duty contact as soon as "
        "the session is saved. Leave blank if there was none.",
    )
    next_session_on = forms.DateField(label="Next planned session", widget=DateInput, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        sections = load_workbook().sections
        self.fields["sections_covered"].choices = [(s.code, s.title) for s in sections]  # type: ignore[attr-defined]

    def details(self) -> SessionDetails:
        d = self.cleaned_data
        return SessionDetails(
            outcome=d["outcome"],
            on=d["on"],
            duration_minutes=d["duration_minutes"],
            mode=d["mode"],
            place=d["place"],
            sections_covered=tuple(d["sections_covered"]),
            goals_reviewed=d["goals_reviewed"],
            notes=d["notes"],
            risk_concern=d["risk_concern"],
            next_session_on=d["next_session_on"],
        )


class ContactAttemptForm(NamedErrors, forms.Form):
    on = forms.DateField(label="Date of the attempt", widget=DateInput)
    method = forms.ChoiceField(label="How", choices=ContactMethod.choices, widget=forms.RadioSelect)
    reached = forms.BooleanField(label="Reached the participant", required=False)
    notes = forms.CharField(label="Notes", widget=forms.Textarea(attrs={"rows": 2}), required=False)


class DispatchForm(NamedErrors, forms.Form):
    method = forms.ChoiceField(
        label="How the workbook is sent", choices=DispatchMethod.choices, widget=forms.RadioSelect
    )
    on = forms.DateField(
        label="Date", widget=DateInput, help_text="Posted copies are sent when their batch is posted"
    )
    address_confirmed = forms.BooleanField(label="Address confirmed with the participant", required=False)


class ReturnedForm(NamedErrors, forms.Form):
    dispatch = RecordIdField(label="Workbook dispatch")
    returned_on = forms.DateField(label="Returned undelivered on", widget=DateInput)


class PostedForm(NamedErrors, forms.Form):
    dispatches = RecordIdsField(label="Print batch")
    posted_on = forms.DateField(label="Date posted", widget=DateInput)


class SupervisionForm(NamedErrors, forms.Form):
    worker = forms.ModelChoiceField(label="Peer support worker", queryset=User.objects.none())
    on = forms.DateField(label="Date of supervision", widget=DateInput)
    topics = forms.CharField(label="Topics discussed", widget=forms.Textarea(attrs={"rows": 3}))
    concerns = forms.CharField(label="Concerns", widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def __init__(self, workers: QuerySet[User], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["worker"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = workers
        field.label_from_instance = _display_name  # type: ignore[method-assign,assignment]


def _display_name(user: User) -> str:
    return user.display_name
