from __future__ import annotations

from django.db import models
from simple_history.models import HistoricalRecords

from aftercrisis.accounts.models import User
from aftercrisis.participants.models import Participant, TrialRecord


class VisitOutcome(models.TextChoices):
    COMPLETED = "completed", "Completed"
    MISSED = "missed", "Missed (window closed without contact)"
    DECLINED = "declined", "Declined this visit"
    NOT_POSSIBLE = "not_possible", "Not possible (the participant had died)"


class VisitMethod(models.TextChoices):
    IN_PERSON = "in_person", "In person"
    PHONE = "phone", "Phone"
    POST = "post", "Post"
    ONLINE = "online", "Online, through a secure link"


class VisitRecord(TrialRecord):
    """What happened at one follow-up visit of one participant."""

    participant = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="visit_records")
    visit = models.CharField(max_length=40)
    outcome = models.CharField(max_length=16, choices=VisitOutcome.choices)
    method = models.CharField(max_length=16, choices=VisitMethod.choices, blank=True)
    on = models.DateField()
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    history = HistoricalRecords()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["participant", "visit"], name="one_record_per_visit")]
