"""The printed workbook: the blank postal edition, and one participant's own copy (WeasyPrint)."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core.cache import cache
from django.template.loader import render_to_string

from aftercrisis.protocol import Protocol
from aftercrisis.workbook.content import FilledSection, Section, Workbook, load_workbook

CSS = Path(__file__).resolve().parent / "print.css"


@dataclass(frozen=True)
class _Part:
    section: Section
    answers: dict[str, str] | None  # None: the blank edition
    items: dict[str, list[dict[str, str]]] | None


def shown(kind: str, value: str) -> str:
    """An answer as printed: dates in words (31 March 2026), text as written."""
    if kind == "date" and value:
        return f"{dt.date.fromisoformat(value):%-d %B %Y}"
    return value


def render_pdf(html: str) -> bytes:
    from weasyprint import HTML  # imported late: it takes half a second

    pdf: bytes = HTML(string=html).write_pdf()
    return pdf


def _html(protocol: Protocol, workbook: Workbook, parts: list[_Part], **context: Any) -> str:
    return render_to_string(
        "workbook/print.jinja",
        {
            "workbook": workbook,
            "sections": parts,
            "css": CSS.read_text(encoding="utf-8"),
            "study": f"{protocol.trial.short_name} study",
            **context,
        },
    )


@dataclass(frozen=True)
class PrintedEdition:
    content: bytes
    etag: str  # a quoted hash of what was printed: the same for every copy of one edition


def blank_workbook_pdf(protocol: Protocol, workbook: Workbook | None = None) -> PrintedEdition:
    """The blank edition, rendered once for each version of its content and kept in the cache.

    The key is the hash of the page that is printed, so a new protocol, workbook text or style
    is a new edition, rendered when first asked for.
    """
    workbook = workbook or load_workbook()
    html = _html(protocol, workbook, [_Part(s, None, None) for s in workbook.sections])
    digest = hashlib.sha256(html.encode()).hexdigest()
    key = f"blank-workbook-pdf:{protocol.trial.protocol_version}:{digest}"
    edition: PrintedEdition | None = cache.get(key)
    if edition is None:
        edition = PrintedEdition(render_pdf(html), f'"{digest}"')
        cache.set(key, edition, timeout=None)
    return edition


def personal_workbook_pdf(
    protocol: Protocol,
    filled: list[FilledSection],
    *,
    person: str,
    trial_id: str,
    printed_on: dt.date,
    workbook: Workbook | None = None,
) -> bytes:
    workbook = workbook or load_workbook()
    parts = [
        _Part(
            f.section,
            {p.code: shown(p.kind, f.answers[p.code]) for p in f.section.prompts},
            {
                g.group.code: [
                    {p.code: shown(p.kind, row[p.code]) for p in g.group.fields} for row in g.items
                ]
                for g in f.groups
            },
        )
        for f in filled
        # An optional page left empty is not printed in a personal copy.
        if not (f.section.optional and f.is_empty)
    ]
    return render_pdf(
        _html(protocol, workbook, parts, person=person, trial_id=trial_id, printed_on=printed_on)
    )
