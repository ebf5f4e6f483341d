from __future__ import annotations

from django import forms

from aftercrisis.forms import NamedErrors
from aftercrisis.participants.models import Identity, Participant

REASON_HELP = (
    "Say why this is being changed, for example 'typing error at entry' or 'participant moved house'."
)


class ReasonField(forms.CharField):
    def __init__(self) -> None:
        super().__init__(
            label="Reason for the change",
            help_text=REASON_HELP,
            widget=forms.Textarea(attrs={"rows": 2}),
            error_messages={"required": "Give a reason for changing data that has already been entered"},
        )


class ResearchDataForm(NamedErrors, forms.ModelForm[Participant]):
    reason = ReasonField()

    class Meta:
        model = Participant
        fields = ["sex", "ethnicity", "prior_admissions", "age_at_entry"]


class IdentityForm(NamedErrors, forms.ModelForm[Identity]):
    reason = ReasonField()

    class Meta:
        model = Identity
        fields = [
            "nhs_number",
            "given_name",
            "family_name",
            "date_of_birth",
            "address",
            "postcode",
            "phone",
            "email",
        ]
        widgets = {
            "date_of_birth": forms.DateInput(attrs={"type": "date"}),
            "address": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {
            "nhs_number": "10 digits, for example 999 123 4560",
            "date_of_birth": "For example, 31 3 1980",
        }

    def clean_nhs_number(self) -> str:
        return "".join(self.cleaned_data["nhs_number"].split())
