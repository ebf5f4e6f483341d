from __future__ import annotations

from django import forms

from aftercrisis.forms import DateInput, NamedErrors, ReasonField
from aftercrisis.participants.models import Identity, Participant, normalise_nhs_number


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
            "date_of_birth": DateInput,
            "address": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {
            "nhs_number": "10 digits, for example 999 123 4560",
            "date_of_birth": "For example, 31 3 1980",
        }

    def clean_nhs_number(self) -> str:
        return normalise_nhs_number(self.cleaned_data["nhs_number"])
