from __future__ import annotations

from django.db import models
from simple_history.models import HistoricalRecords

from aftercrisis.accounts.models import User
from aftercrisis.participants.models import Participant, TrialRecord


class CaseloadAssignment(TrialRecord):
    """A peer support worker's responsibility for one intervention-arm participant."""

    participant = models.OneToOneField(
        Participant, on_delete=models.PROTECT, related_name="caseload_assignment"
    )
    worker = models.ForeignKey(User, on_delete=models.PROTECT, related_name="caseload")
    assigned_on = models.DateField()
    assigned_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    history = HistoricalRecords()
