from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone

from aftercrisis.accounts.models import Site
from aftercrisis.forms import DateInput, NamedErrors, ReasonField, RecordIdField


class UnblindingRequestForm(NamedErrors, forms.Form):
    reason = forms.CharField(
        label="Clinical reason the arm must be known",
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Give the clinical reason the arm must be known"},
    )


class UnblindingDecisionForm(NamedErrors, forms.Form):
    request = RecordIdField(label="Unblinding request")
    decision = forms.ChoiceField(
        label="Decision", widget=forms.RadioSelect, choices=[("approve", "Approve"), ("refuse", "Refuse")]
    )
    note = forms.CharField(label="Note", required=False, widget=forms.Textarea(attrs={"rows": 2}))


class CorrectionForm(NamedErrors, forms.Form):
    kind = forms.ChoiceField(
        label="What is wrong?",
        widget=forms.RadioSelect,
        choices=[("stratum", "Randomised in the wrong stratum"), ("error", "Randomised in error")],
    )
    site = forms.ModelChoiceField(
        queryset=Site.objects.order_by("code"), label="Correct stratum (wrong stratum only)", required=False
    )
    reason = ReasonField(label="Reason")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("kind") == "stratum" and not data.get("site"):
            self.add_error("site", "Select the correct stratum")
        return data


class BackupAllocationForm(NamedErrors, forms.Form):
    trial_id = forms.CharField(label="Trial ID", max_length=16)
    position = forms.IntegerField(label="Backup list position", min_value=1)
    arm = forms.ChoiceField(label="Arm given")
    randomised_on = forms.DateField(label="Date randomised", widget=DateInput)

    def __init__(self, *args: Any, arms: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["arm"].choices = arms  # type: ignore[attr-defined]

    def clean_randomised_on(self) -> dt.date:
        day: dt.date = self.cleaned_data["randomised_on"]
        if day > timezone.localdate():
            raise forms.ValidationError("Date randomised cannot be in the future")
        return day
