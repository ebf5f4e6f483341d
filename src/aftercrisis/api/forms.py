from __future__ import annotations

from typing import Any

from django import forms

from aftercrisis.accounts.roles import Role
from aftercrisis.forms import DateInput, NamedErrors


class TokenForm(NamedErrors, forms.Form):
    name = forms.CharField(
        label="Name of the token", max_length=60, help_text="What it is for, for example: ward import"
    )
    role = forms.ChoiceField(label="Role the token acts in")
    expires_on = forms.DateField(label="Expiry date", widget=DateInput, help_text="At most a year from today")

    def __init__(self, *args: Any, roles: list[Role], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [(r.value, r.label) for r in roles]  # type: ignore[attr-defined]
