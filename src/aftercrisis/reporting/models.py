from __future__ import annotations

from django.db import models

from aftercrisis.accounts.models import User


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
