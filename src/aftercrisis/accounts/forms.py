from __future__ import annotations

from typing import Any

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core import validators

from aftercrisis.accounts.models import User
from aftercrisis.accounts.roles import Role
from aftercrisis.forms import NamedErrors

# No one can sign in with a longer name, and axes logs every attempt in columns this wide.
USERNAME_MAX_LENGTH: int = min(
    int(model._meta.get_field("username").max_length)  # type: ignore[arg-type]
    for model in (User, AccessAttempt, AccessLog, AccessFailureLog)
)


class SignInForm(AuthenticationForm):
    """Django's sign-in form, refusing a username too long to exist before it is tried and logged."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        username = self.fields["username"]
        username.max_length = USERNAME_MAX_LENGTH  # type: ignore[attr-defined]
        username.widget.attrs["maxlength"] = str(USERNAME_MAX_LENGTH)
        username.validators.append(
            validators.MaxLengthValidator(
                USERNAME_MAX_LENGTH, f"Username must be {USERNAME_MAX_LENGTH} characters or fewer"
            )
        )


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
