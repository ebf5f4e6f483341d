from __future__ import annotations

from typing import Any

from django import forms

from aftercrisis.followup.instruments import Instrument
from aftercrisis.followup.models import ContactChannel, ContactOutcome, VisitMethod
from aftercrisis.forms import DateInput, NamedErrors, ReasonField, confirmed_reason

OUTSIDE_WINDOW_CONFIRMATION = "I confirm this date is outside the visit window"


class QuestionnaireForm(NamedErrors, forms.Form):
    """One field per item, options in the paper form's order; an item may be left unanswered.

    Staff entering answers already stored (`correcting`) give the reason for the change; a first entry needs none.
    """

    def __init__(
        self, *args: Any, instrument: Instrument, staff: bool, correcting: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        for item in instrument.items:
            if item.maximum - item.minimum > 10:
                self.fields[item.code] = forms.IntegerField(
                    label=item.label, required=False, min_value=item.minimum, max_value=item.maximum
                )
            else:
                self.fields[item.code] = forms.TypedChoiceField(
                    label=item.label,
                    required=False,
                    coerce=int,
                    empty_value=None,
                    choices=[*item.choices(), ("", "Not answered")],
                    widget=forms.RadioSelect,
                )
        if staff:
            self.fields["method"] = forms.ChoiceField(
                label="How the answers came back",
                choices=[
                    (VisitMethod.PHONE, "Phone"),
                    (VisitMethod.POST, "Post"),
                    (VisitMethod.IN_PERSON, "In person"),
                ],
                widget=forms.RadioSelect,
            )
            self.fields["completed_on"] = forms.DateField(label="Date completed", widget=DateInput)
            self.fields["outside_window_confirmed"] = forms.BooleanField(
                label=OUTSIDE_WINDOW_CONFIRMATION, required=False
            )
            self.fields["outside_window_reason"] = forms.CharField(
                label="Why this date is right",
                required=False,
                widget=forms.Textarea(attrs={"rows": 2}),
                help_text="Only for a date outside the visit window, for example 'returned late by post'",
            )
        if staff and correcting:
            self.fields["reason"] = ReasonField()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if "outside_window_confirmed" in self.fields:
            data["outside_window_reason"] = confirmed_reason(
                self,
                "outside_window_confirmed",
                "outside_window_reason",
                unconfirmed="Confirm the date is outside the visit window, or clear the reason",
                unexplained="Give the reason the date outside the visit window is right",
            )
        return data


class ContactForm(NamedErrors, forms.Form):
    channel = forms.ChoiceField(label="How", choices=ContactChannel.choices, widget=forms.RadioSelect)
    outcome = forms.ChoiceField(label="Outcome", choices=ContactOutcome.choices, widget=forms.RadioSelect)
    on = forms.DateField(label="Date", widget=DateInput)
    note = forms.CharField(label="Note", required=False, max_length=200)


class CodeForm(NamedErrors, forms.Form):
    code = forms.CharField(label="Your 6-digit code", max_length=6)
