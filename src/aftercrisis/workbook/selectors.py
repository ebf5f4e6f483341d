"""Reads of a participant's workbook."""

from __future__ import annotations

from aftercrisis.participants.models import Participant
from aftercrisis.workbook.content import EntryKey, FilledSection, Workbook, arrange, load_workbook
from aftercrisis.workbook.models import WorkbookEntry


def answers_of(participant: Participant, workbook: Workbook | None = None) -> dict[EntryKey, str]:
    workbook = workbook or load_workbook()
    rows = WorkbookEntry.objects.filter(participant=participant, edition=workbook.version).values_list(
        "section", "group", "item", "field", "value"
    )
    return {EntryKey(s, g, i, f): v for s, g, i, f, v in rows}


def filled_workbook(participant: Participant, workbook: Workbook | None = None) -> list[FilledSection]:
    workbook = workbook or load_workbook()
    return arrange(workbook, answers_of(participant, workbook).items())
