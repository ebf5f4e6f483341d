from __future__ import annotations

from django.db import models

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
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} by {self.by} at {self.at:%Y-%m-%d %H:%M}"


class ReportSnapshot(models.Model):
    """A trial report produced from the live database, kept exactly as it was produced."""

    produced_at = models.DateTimeField(auto_now_add=True)
    produced_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    blinded = models.BooleanField()
    database_locked = models.BooleanField()
    dataset_sha256 = models.CharField(max_length=64)
    protocol_version = models.CharField(max_length=40)
    software_version = models.CharField(max_length=40)
    participants = models.PositiveIntegerField()
    html = models.TextField()
    results = models.JSONField()

    class Meta:
        ordering = ["-produced_at", "-pk"]

    def __str__(self) -> str:
        return f"{'blinded' if self.blinded else 'unblinded'} report of {self.produced_at:%Y-%m-%d %H:%M}"
