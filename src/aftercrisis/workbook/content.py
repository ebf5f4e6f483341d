"""The personal recovery workbook as data: its editions, sections, prompts and repeated groups.

An edition is a YAML file beside this module (`v1.yaml`). A participant's entries are rows keyed by
(section, group, item, field): a prompt is a field with no group and item 0; a repeated group, such as
a recovery goal, has one item per row. `arrange` turns those rows back into the workbook's shape.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

Code = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)]
Text = Annotated[str, StringConstraints(min_length=1, strip_whitespace=True)]
Kind = Literal["line", "text", "date"]

HERE = Path(__file__).resolve().parent
CURRENT_VERSION = "1"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Prompt(_Strict):
    code: Code
    label: Text
    kind: Kind


class Group(_Strict):
    """A repeated set of fields, such as one goal with its steps and review date."""

    code: Code
    label: Text  # one row: "Goal 1"
    title: Text  # all rows: "My goals"
    rows: int = Field(ge=1, le=20, description="rows offered on the page and in the printed edition")
    fields: list[Prompt] = Field(min_length=1)


class Section(_Strict):
    code: Code
    title: Text
    introduction: Text
    optional: bool = False
    prompts: list[Prompt] = Field(default_factory=list)
    groups: list[Group] = Field(default_factory=list)

    @model_validator(mode="after")
    def _has_something_to_fill_in(self) -> Section:
        if not self.prompts and not self.groups:
            raise ValueError(f"section {self.code} has neither prompts nor groups")
        codes = [p.code for p in self.prompts] + [g.code for g in self.groups]
        if len(codes) != len(set(codes)):
            raise ValueError(f"section {self.code} repeats a prompt or group code")
        return self

    def group(self, code: str) -> Group:
        return next(g for g in self.groups if g.code == code)


class Workbook(_Strict):
    version: Text
    title: Text
    introduction: Text
    sections: list[Section] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_sections(self) -> Workbook:
        codes = [s.code for s in self.sections]
        if len(codes) != len(set(codes)):
            raise ValueError("two sections share a code")
        return self

    def section(self, code: str) -> Section:
        for s in self.sections:
            if s.code == code:
                return s
        raise KeyError(code)

    @property
    def section_codes(self) -> list[str]:
        return [s.code for s in self.sections]

    def field(self, section: str, group: str, field: str) -> Prompt:
        """The prompt a stored entry answers; KeyError if the edition has no such field."""
        s = self.section(section)
        candidates = s.prompts if not group else next((g.fields for g in s.groups if g.code == group), [])
        for p in candidates:
            if p.code == field:
                return p
        raise KeyError(f"{section}.{group + '.' if group else ''}{field}")


@cache
def load_workbook(version: str = CURRENT_VERSION) -> Workbook:
    path = HERE / f"v{version}.yaml"
    if not path.is_file():
        raise KeyError(f"there is no workbook edition {version!r}")
    workbook = Workbook.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    if workbook.version != version:
        raise ValueError(f"{path.name} says it is edition {workbook.version!r}, not {version!r}")
    return workbook


@dataclass(frozen=True)
class EntryKey:
    section: str
    group: str  # "" for a prompt
    item: int  # 0 for a prompt; the row of a group, from 0
    field: str


@dataclass(frozen=True)
class FilledGroup:
    group: Group
    items: list[dict[str, str]]  # only rows with something written in them, in row order


@dataclass(frozen=True)
class FilledSection:
    section: Section
    answers: dict[str, str]  # prompt code -> text
    groups: list[FilledGroup]

    @property
    def is_empty(self) -> bool:
        return not any(self.answers.values()) and not any(g.items for g in self.groups)


def arrange(workbook: Workbook, entries: Iterable[tuple[EntryKey, str]]) -> list[FilledSection]:
    """A participant's entries in the workbook's order; blank values and unknown keys are left out."""
    latest = dict(entries)  # a later value for the same key replaces an earlier one
    values = {k: v for k, v in latest.items() if v.strip()}
    filled = []
    for section in workbook.sections:
        answers = {p.code: values.get(EntryKey(section.code, "", 0, p.code), "") for p in section.prompts}
        groups = []
        for group in section.groups:
            items_seen = sorted(
                {k.item for k in values if k.section == section.code and k.group == group.code}
            )
            items = [
                {f.code: values.get(EntryKey(section.code, group.code, i, f.code), "") for f in group.fields}
                for i in items_seen
            ]
            groups.append(FilledGroup(group, [row for row in items if any(row.values())]))
        filled.append(FilledSection(section, answers, groups))
    return filled


def parse_value(prompt: Prompt, raw: str) -> str:
    """The stored form of an answer: trimmed text, or an ISO date. ValueError names the prompt."""
    text = raw.strip()
    if prompt.kind == "line" and len(text) > 300:
        raise ValueError(f"{prompt.label} must be 300 characters or fewer")
    if prompt.kind == "text" and len(text) > 5000:
        raise ValueError(f"{prompt.label} must be 5000 characters or fewer")
    if prompt.kind == "date" and text:
        try:
            return dt.date.fromisoformat(text).isoformat()
        except ValueError:
            raise ValueError(f"{prompt.label} must be a real date, like 2026-03-31") from None
    return text
