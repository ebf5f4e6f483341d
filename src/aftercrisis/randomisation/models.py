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
    # Minimisation only: the stratum's secret seed (hex), from which each allocation's random draw is derived.
    secret = models.CharField(max_length=64, blank=True)

    def __str__(self) -> str:
        return f"site {self.site_id} at list position {self.last_position}"


class AllocationSource(models.TextChoices):
    SYSTEM = "system", "This system"
    BACKUP = "backup", "Backup procedure, entered afterwards"


class Allocation(TrialRecord):
    participant = models.OneToOneField(Participant, on_delete=models.PROTECT, related_name="allocation")
    slot = models.OneToOneField(AllocationSlot, on_delete=models.PROTECT, related_name="allocation")
    arm = models.CharField(max_length=40)
    randomised_on = models.DateField()
    allocated_at = models.DateTimeField(auto_now_add=True)
    allocated_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    source = models.CharField(
        max_length=16, choices=AllocationSource.choices, default=AllocationSource.SYSTEM
    )
    # Backup procedure: False when the arm given differs from the concealed list's arm at that position.
    matches_list = models.BooleanField(default=True)
    # Corrections keep the original: a participant randomised in the wrong stratum, or in error.
    stratum_corrected_to = models.ForeignKey(
        Site,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="correct stratum",
    )
    randomised_in_error = models.BooleanField(default=False)
    history = HistoricalRecords()

    def __str__(self) -> str:
        return f"allocation of {self.participant}"


class UnblindingStatus(models.TextChoices):
    REQUESTED = "requested", "Requested"
    APPROVED = "approved", "Approved"
    REFUSED = "refused", "Refused"


class UnblindingRequest(TrialRecord):
    """Emergency unblinding: asked with a reason, decided by the designated role, shown to the requester."""

    participant = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="unblinding_requests")
    requested_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    reason = models.TextField()
    status = models.CharField(
        max_length=16, choices=UnblindingStatus.choices, default=UnblindingStatus.REQUESTED
    )
    decided_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-requested_at", "-pk"]

    def __str__(self) -> str:
        return f"unblinding request for {self.participant}"
