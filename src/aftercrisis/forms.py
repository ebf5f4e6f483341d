"""Form behaviour shared by every page: error messages that name the field."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError


class NamedErrors:
    """'Enter the date of referral', not 'This field is required.' (NHS.UK error message style)."""

    fields: dict[str, forms.Field]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            label = str(field.label or "").lower()
            if field.error_messages.get("required") == forms.Field.default_error_messages["required"]:
                verb = "Select" if isinstance(field, forms.ChoiceField | forms.ModelChoiceField) else "Enter"
                field.error_messages["required"] = f"{verb} {label}"
            if "invalid" in field.error_messages and isinstance(field, forms.DateField):
                field.error_messages["invalid"] = f"{label.capitalize()} must be a real date, like 31 3 1980"


def show_refusal(form: forms.BaseForm, exc: ValidationError, aliases: dict[str, str] | None = None) -> None:
    """A service's refusal on the form: on the field it names, or at the top (a lock, say, names none)."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for name, errors in exc.message_dict.items():
        name = (aliases or {}).get(name, name)
        form.add_error(name if name in form.fields else None, errors)
