"""Concealed allocation lists and the allocations taken from them."""

from __future__ import annotations

from django.db import models
from simple_history.models import HistoricalRecords

from aftercrisis.accounts.models import Site, User
from aftercrisis.participants.models import Participant, TrialRecord


class AllocationSlot(models.Model):
    """One position of a stratum's concealed allocation list."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveIntegerField()
    block = models.PositiveIntegerField(null=True, blank=True)
    block_size = models.PositiveSmallIntegerField(null=True, blank=True)
    arm = models.CharField(max_length=40)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["site", "position"], name="one_slot_per_position")]
        ordering = ["site", "position"]

    def __str__(self) -> str:  # never the arm: this text may reach logs
        return f"list position {self.position} at site {self.site_id}"


class StratumCursor(models.Model):
    """The last list position used in a stratum; locked while the next allocation is taken."""

    site = models.OneToOneField(Site, on_delete=models.PROTECT, primary_key=True, related_name="+")
    last_position = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"site {self.site_id} at list position {self.last_position}"


class Allocation(TrialRecord):
    participant = models.OneToOneField(Participant, on_delete=models.PROTECT, related_name="allocation")
    slot = models.OneToOneField(AllocationSlot, on_delete=models.PROTECT, related_name="allocation")
    arm = models.CharField(max_length=40)
    randomised_on = models.DateField()
    allocated_at = models.DateTimeField(auto_now_add=True)
    allocated_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    history = HistoricalRecords()

    def __str__(self) -> str:
        return f"allocation of {self.participant}"
