from __future__ import annotations

from django import forms

from aftercrisis.forms import DateInput, NamedErrors


class TokenForm(NamedErrors, forms.Form):
    name = forms.CharField(
        label="Name of the token", max_length=60, help_text="What it is for, for example: ward import"
    )
    expires_on = forms.DateField(label="Expiry date", widget=DateInput, help_text="At most a year from today")
