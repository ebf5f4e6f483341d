"""Resource use for the economic evaluation, counted from clinical records by masked researchers."""

from __future__ import annotations

from django.core.validators import MaxValueValidator
from django.db import models
from simple_history.models import HistoricalRecords

from aftercrisis.accounts.models import User
from aftercrisis.participants.models import Participant, TrialRecord

MAX_UNITS = 10_000  # as the analysis dataset's resource-use columns allow


class Period(models.TextChoices):
    # the values are the analysis dataset's column suffixes (use_RESOURCE_0, use_RESOURCE_1y)
    BEFORE = "0", "The year before randomisation"
    AFTER = "1y", "The year after randomisation"


class ResourceUse(TrialRecord):
    """The units of one resource of the protocol used by a participant in one period.

    Units left empty mean the records do not say (not known), which is not zero; a resource with
    no row has not been looked at yet."""

    participant = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="resource_use")
    period = models.CharField(max_length=2, choices=Period.choices)
    resource = models.CharField(max_length=25)  # a unit cost code of the protocol
    units = models.PositiveIntegerField(null=True, blank=True, validators=[MaxValueValidator(MAX_UNITS)])
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["participant_id", "period", "resource"]
        constraints = [
            models.UniqueConstraint(
                fields=["participant", "period", "resource"], name="one_count_per_resource"
            ),
        ]

    def __str__(self) -> str:
        shown = "not known" if self.units is None else str(self.units)
        return f"{self.resource} ({self.get_period_display().lower()}): {shown} ({self.participant})"
