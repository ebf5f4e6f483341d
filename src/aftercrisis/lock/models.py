from __future__ import annotations

from django.db import models
from simple_history.models import HistoricalRecords

from aftercrisis.accounts.models import User


class LockAction(models.TextChoices):
    LOCKED = "locked", "Locked"
    UNLOCKED = "unlocked", "Unlocked"


class DatabaseLockEvent(models.Model):
    """Each lock and unlock of the trial database, with who and why; the latest one is in force."""

    action = models.CharField(max_length=8, choices=LockAction.choices)
    at = models.DateTimeField(auto_now_add=True)
    by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField()

    class Meta:
        db_table = "reporting_databaselockevent"  # kept from when the lock belonged to reporting
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} by {self.by} at {self.at:%Y-%m-%d %H:%M}"


class UnlockRequest(models.Model):
    """An unlock takes two people: the trial manager and the chief investigator, one asking, the other agreeing."""

    reason = models.TextField()
    requested_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    requested_as = models.CharField(max_length=32)  # the role the request was made in
    requested_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    agreed = models.BooleanField(null=True)  # None: not yet decided
    history = HistoricalRecords()

    class Meta:
        ordering = ["-requested_at", "-pk"]

    def __str__(self) -> str:
        return f"unlock requested by {self.requested_by} at {self.requested_at:%Y-%m-%d %H:%M}"
