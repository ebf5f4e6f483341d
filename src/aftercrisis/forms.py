"""Form behaviour shared by every page: error messages that name the field, and the reason for a change."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from aftercrisis.audit import REASON_MAX_LENGTH


class DateInput(forms.DateInput):
    """A browser's date field, holding its value as YYYY-MM-DD: it shows any other (the locale's 30/11/2026) as
    empty, so a form saved again would ask for a date it already had."""

    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%d")


# A label starting with one of these reads on after "Enter" or "Select" without "the" ("Select how ...").
_NO_ARTICLE = {
    "a",
    "an",
    "the",
    "your",
    "how",
    "if",
    "what",
    "when",
    "where",
    "which",
    "who",
    "why",
    "whether",
}


def _in_sentence(label: str) -> str:
    """A label as the object of a sentence: 'the date of referral', 'the NHS number', 'how it was sent'."""
    if not label[:2].isupper():  # an initialism (NHS, SAE) keeps its capitals
        label = label[:1].lower() + label[1:]
    first = label.split(" ", 1)[0].lower()
    return label if first in _NO_ARTICLE else f"the {label}"


class NamedErrors:
    """'Enter the date of referral', not 'This field is required.' (NHS.UK error message style)."""

    fields: dict[str, forms.Field]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            label = str(field.label or "").lower()
            if field.error_messages.get("required") == forms.Field.default_error_messages["required"]:
                if isinstance(field, forms.BooleanField):  # a confirmation that must be ticked
                    field.error_messages["required"] = f"Tick “{field.label}” to go on"
                else:
                    verb = (
                        "Select" if isinstance(field, forms.ChoiceField | forms.ModelChoiceField) else "Enter"
                    )
                    field.error_messages["required"] = f"{verb} {_in_sentence(str(field.label or ''))}"
            if "invalid" in field.error_messages and isinstance(field, forms.DateField):
                field.error_messages["invalid"] = f"{label.capitalize()} must be a real date, like 31 3 1980"
            if getattr(field, "max_length", None) is not None:
                field.error_messages["max_length"] = (
                    f"{label.capitalize()} must be %(limit_value)d characters or fewer (it has %(show_value)d)"
                )


REASON_HELP = (
    "Say why this is being changed, for example 'typing error at entry' or 'participant moved house'."
)


class ReasonField(forms.CharField):
    """A reason kept in the audit history, no longer than the column that keeps it.

    Without a label it is the reason for correcting data already entered.
    """

    def __init__(self, **kwargs: Any) -> None:
        if "label" not in kwargs:
            kwargs |= {
                "label": "Reason for the change",
                "help_text": REASON_HELP,
                "error_messages": {
                    "required": "Give a reason for changing data that has already been entered"
                },
            }
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 2}))
        super().__init__(max_length=REASON_MAX_LENGTH, **kwargs)


# Ids are BigAutoField: anything outside this range names no record, and SQLite cannot even compare it.
RECORD_ID_MAX = 2**63 - 1


class RecordIdField(forms.IntegerField):
    """The id of a record that a page sends back: hidden, a whole number, within the range of ids."""

    widget = forms.HiddenInput

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(min_value=1, max_value=RECORD_ID_MAX, **kwargs)
        damaged = f"{self.label or 'The record'} does not match a record on this page: reload the page and try again"
        given = kwargs.get("error_messages") or {}
        self.error_messages |= {c: damaged for c in ("invalid", "min_value", "max_value") if c not in given}


class RecordIdsField(forms.Field):
    """Ids of records that a page sends back, one hidden input each, each one a RecordIdField."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value: Any) -> list[int]:
        one = RecordIdField(label=self.label)
        return [one.clean(v) for v in value or []]


def confirmed_reason(
    form: forms.BaseForm, confirmed: str, reason: str, *, unconfirmed: str, unexplained: str
) -> str:
    """A confirmation ("I confirm this date is outside the visit window") and its reason go together.

    Either without the other is an error on the form; returns the reason once both are given, else "".
    """
    given = str(form.cleaned_data.get(reason) or "").strip()
    if form.cleaned_data.get(confirmed) and not given:
        form.add_error(reason, unexplained)
    elif given and not form.cleaned_data.get(confirmed):
        form.add_error(confirmed, unconfirmed)
    return given if form.cleaned_data.get(confirmed) else ""


def show_refusal(form: forms.BaseForm, exc: ValidationError, aliases: dict[str, str] | None = None) -> None:
    """A service's refusal on the form: on the field it names, or at the top (a lock, say, names none).

    Views without a form let the refusal go: `config.errors.RefusalMiddleware` shows it."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for name, errors in exc.message_dict.items():
        name = (aliases or {}).get(name, name)
        form.add_error(name if name in form.fields else None, errors)
