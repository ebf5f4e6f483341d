from __future__ import annotations

from typing import Any

from django import forms

from aftercrisis.economics.models import MAX_UNITS
from aftercrisis.economics.selectors import Typed
from aftercrisis.forms import NamedErrors, ReasonField


def units_field(typed: Typed) -> str:
    return f"units_{typed.period}_{typed.code}"


def unknown_field(typed: Typed) -> str:
    return f"unknown_{typed.period}_{typed.code}"


class ResourceUseForm(NamedErrors, forms.Form):
    """A number, or 'not known', for each resource counted from the records, in each period."""

    reason = ReasonField(required=False)

    def __init__(
        self,
        *args: Any,
        resources: list[Typed],
        entered: dict[tuple[str, str], int | None],
        **kwargs: Any,
    ) -> None:
        initial: dict[str, Any] = {}
        for typed in resources:
            if (typed.period, typed.code) in entered:
                units = entered[(typed.period, typed.code)]
                initial[units_field(typed)] = units
                initial[unknown_field(typed)] = units is None
        super().__init__(*args, initial=initial, **kwargs)
        self.resources = resources
        self.corrects = bool(entered)
        reason = self.fields.pop("reason")
        for typed in resources:
            self.fields[units_field(typed)] = forms.IntegerField(
                label=typed.name,
                required=False,
                min_value=0,
                max_value=MAX_UNITS,
                help_text=f"Number ({typed.unit}s), 0 if none",
            )
            self.fields[unknown_field(typed)] = forms.BooleanField(
                label=f"Not known from the records ({typed.name.lower()})", required=False
            )
        if self.corrects:
            self.fields["reason"] = reason

    def periods(self) -> list[tuple[str, list[tuple[forms.BoundField, forms.BoundField]]]]:
        """The fields in pairs (units, not known), grouped by period, for the page."""
        grouped: dict[str, list[tuple[forms.BoundField, forms.BoundField]]] = {}
        for typed in self.resources:
            grouped.setdefault(typed.period, []).append(
                (self[units_field(typed)], self[unknown_field(typed)])
            )
        return list(grouped.items())

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for typed in self.resources:
            units, unknown = data.get(units_field(typed)), data.get(unknown_field(typed))
            if units_field(typed) in self.errors:
                continue
            if units is not None and unknown:
                self.add_error(
                    units_field(typed), f"Enter the number of {typed.unit}s or tick not known, not both"
                )
            elif units is None and not unknown:
                self.add_error(
                    units_field(typed),
                    f"Enter the number of {typed.unit}s, or tick not known ({typed.name.lower()})",
                )
        return data

    def units(self) -> dict[tuple[str, str], int | None]:
        return {
            (t.period, t.code): None
            if self.cleaned_data[unknown_field(t)]
            else self.cleaned_data[units_field(t)]
            for t in self.resources
        }
