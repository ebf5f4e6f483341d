"""A page of the workbook as a form, built from the edition's content."""

from __future__ import annotations

from typing import Any

from django import forms

from aftercrisis.forms import DateInput, NamedErrors
from aftercrisis.workbook.content import EntryKey, Prompt, Section


def _form_field(prompt: Prompt) -> forms.Field:
    if prompt.kind == "date":
        return forms.DateField(
            label=prompt.label,
            required=False,
            widget=DateInput,
            error_messages={"invalid": f"{prompt.label} must be a real date, like 31 3 2026"},
        )
    widget: forms.Widget = forms.Textarea(attrs={"rows": 3}) if prompt.kind == "text" else forms.TextInput()
    return forms.CharField(
        label=prompt.label,
        required=False,
        max_length=300 if prompt.kind == "line" else 5000,
        widget=widget,
    )


class SectionForm(NamedErrors, forms.Form):
    def __init__(self, section: Section, initial_answers: dict[EntryKey, str], *args: Any, **kwargs: Any):
        self.section = section
        initial = {self.name_of(k): v for k, v in initial_answers.items() if k.section == section.code}
        super().__init__(*args, initial=initial, **kwargs)
        for prompt in section.prompts:
            self.fields[prompt.code] = _form_field(prompt)
        for group in section.groups:
            for item in range(group.rows):
                for prompt in group.fields:
                    self.fields[self.name_of(EntryKey(section.code, group.code, item, prompt.code))] = (
                        _form_field(prompt)
                    )

    @staticmethod
    def name_of(key: EntryKey) -> str:
        return f"{key.group}-{key.item}-{key.field}" if key.group else key.field

    def prompt_fields(self) -> list[forms.BoundField]:
        return [self[p.code] for p in self.section.prompts]

    def group_rows(self) -> list[tuple[str, list[list[forms.BoundField]]]]:
        """(group label, rows of bound fields) for each repeated group."""
        return [
            (
                g.label,
                [
                    [self[self.name_of(EntryKey(self.section.code, g.code, i, f.code))] for f in g.fields]
                    for i in range(g.rows)
                ],
            )
            for g in self.section.groups
        ]

    def answers(self) -> dict[EntryKey, str]:
        found: dict[EntryKey, str] = {}
        for prompt in self.section.prompts:
            found[EntryKey(self.section.code, "", 0, prompt.code)] = _text(self.cleaned_data[prompt.code])
        for group in self.section.groups:
            for item in range(group.rows):
                for prompt in group.fields:
                    key = EntryKey(self.section.code, group.code, item, prompt.code)
                    found[key] = _text(self.cleaned_data[self.name_of(key)])
        return found


def _text(value: object) -> str:
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)
