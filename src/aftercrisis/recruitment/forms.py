from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone

from aftercrisis.accounts.models import Site
from aftercrisis.forms import NamedErrors
from aftercrisis.participants.models import validate_nhs_number


class ReferralForm(NamedErrors, forms.Form):
    site = forms.ModelChoiceField(
        queryset=Site.objects.none(), label="Crisis resolution team", empty_label=None
    )
    given_name = forms.CharField(label="First name", max_length=80)
    family_name = forms.CharField(label="Last name", max_length=80)
    nhs_number = forms.CharField(
        label="NHS number", max_length=12, help_text="10 digits, for example 999 123 4560"
    )
    date_of_birth = forms.DateField(
        label="Date of birth",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="For example, 1980-03-31",
    )
    phone = forms.CharField(label="Phone", max_length=20, required=False)
    email = forms.EmailField(label="Email", required=False)
    address = forms.CharField(label="Address", widget=forms.Textarea(attrs={"rows": 3}), required=False)
    postcode = forms.CharField(label="Postcode", max_length=10, required=False)
    referred_on = forms.DateField(
        label="Date of referral", widget=forms.DateInput(attrs={"type": "date"}), initial=timezone.localdate
    )

    def __init__(self, *args: Any, sites: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = sites  # type: ignore[attr-defined]

    def clean_nhs_number(self) -> str:
        number = "".join(self.cleaned_data["nhs_number"].split())
        validate_nhs_number(number)
        return number

    def clean_date_of_birth(self) -> dt.date:
        born: dt.date = self.cleaned_data["date_of_birth"]
        if born > timezone.localdate():
            raise forms.ValidationError("Date of birth must be in the past")
        return born

    def clean_referred_on(self) -> dt.date:
        day: dt.date = self.cleaned_data["referred_on"]
        if day > timezone.localdate():
            raise forms.ValidationError("Date of referral cannot be in the future")
        return day
