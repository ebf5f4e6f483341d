from __future__ import annotations

from typing import Any

from django import forms

from aftercrisis.accounts.roles import Role
from aftercrisis.forms import NamedErrors


class ChooseRoleForm(NamedErrors, forms.Form):
    role = forms.ChoiceField(label="Act as", widget=forms.RadioSelect)

    def __init__(self, *args: Any, roles: list[Role], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [(r.value, r.label) for r in roles]  # type: ignore[attr-defined]


class TokenForm(NamedErrors, forms.Form):
    token = forms.RegexField(
        label="Security code",
        regex=r"^\d{6}$",
        max_length=6,
        help_text="The 6-digit code shown in your authenticator app.",
        error_messages={"invalid": "Enter the 6-digit code from your authenticator app"},
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )
