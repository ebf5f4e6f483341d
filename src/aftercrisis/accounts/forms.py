from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django import forms
from django.contrib.auth.forms import AuthenticationForm, SetPasswordForm
from django.core import validators

from aftercrisis.accounts.models import Site, User
from aftercrisis.accounts.roles import Role
from aftercrisis.forms import NamedErrors, ReasonField, RecordIdField

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


def _site_choices(sites: Iterable[Site]) -> list[tuple[str, str]]:
    return [("", "All sites (trial-wide roles)"), *((str(s.pk), f"{s.name} ({s.code})") for s in sites)]


class RoleFields(NamedErrors, forms.Form):
    role = forms.ChoiceField(label="Role", choices=Role.choices, widget=forms.RadioSelect)
    site = forms.ChoiceField(
        label="Site",
        required=False,
        help_text="A trial manager, statistician, chief investigator or randomisation statistician works "
        "across all sites; everyone else at one site.",
    )

    def __init__(self, *args: Any, sites: Iterable[Site], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._sites = {str(s.pk): s for s in sites}
        self.fields["site"].choices = _site_choices(self._sites.values())  # type: ignore[attr-defined]

    def chosen_site(self) -> Site | None:
        return self._sites.get(self.cleaned_data["site"] or "")


class StaffForm(RoleFields):
    username = forms.RegexField(
        label="Username",
        regex=r"^[\w.@+-]+$",
        max_length=USERNAME_MAX_LENGTH,
        error_messages={"invalid": "Username can only hold letters, digits and @ . + - _"},
    )
    first_name = forms.CharField(label="First name", max_length=150)
    last_name = forms.CharField(label="Last name", max_length=150)
    email = forms.EmailField(
        label="E-mail address", required=False, max_length=254, help_text="Their sign-in link is sent here."
    )
    field_order = ["first_name", "last_name", "username", "email", "role", "site"]


class ActiveForm(NamedErrors, forms.Form):
    reason = ReasonField(label="Reason", widget=forms.TextInput)


class RemoveRoleForm(NamedErrors, forms.Form):
    assignment = RecordIdField(label="The role")
    reason = ReasonField(label="Reason for removing the role", widget=forms.TextInput)


class DutyContactForm(NamedErrors, forms.Form):
    name = forms.CharField(label="Duty contact's name", max_length=120, required=False)
    email = forms.EmailField(label="Duty contact's e-mail address", required=False, max_length=254)
    reason = ReasonField(label="Reason for the change", widget=forms.TextInput)


class ChoosePasswordForm(NamedErrors, SetPasswordForm):  # type: ignore[type-arg]
    """Django's form for a new password, its advice as a sentence rather than HTML."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields[
            "new_password1"
        ].help_text = "At least 12 characters, not all digits, not a common password and not like your name."
        self.fields["new_password2"].label = "Enter the new password again"
