"""A participant's workbook entries: one row per answer, keyed by the edition's section, group, item and field."""

from __future__ import annotations

from django.db import models
from simple_history.models import HistoricalRecords

from aftercrisis.participants.models import Participant, TrialRecord


class WorkbookEntry(TrialRecord):
    participant = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="workbook_entries")
    edition = models.CharField(max_length=8)
    section = models.CharField(max_length=40)
    group = models.CharField(max_length=40, blank=True)  # blank for a single prompt
    item = models.PositiveSmallIntegerField(default=0)  # row of a repeated group
    field = models.CharField(max_length=40)
    value = models.TextField(blank=True)  # cleared, never deleted
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name_plural = "workbook entries"
        constraints = [
            models.UniqueConstraint(
                fields=["participant", "edition", "section", "group", "item", "field"],
                name="one_workbook_entry_per_answer",
            )
        ]
        ordering = ["participant", "section", "group", "item", "field"]

    def __str__(self) -> str:
        return f"{self.participant} {self.section}.{self.group or '-'}[{self.item}].{self.field}"
