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
    # None: completed by the participant through a secure link.
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    history = HistoricalRecords()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["participant", "visit"], name="one_record_per_visit")]


class QuestionnaireResponse(TrialRecord):
    """One instrument completed at one visit: the item answers and the score, with the instrument version."""

    participant = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="questionnaires")
    visit = models.CharField(max_length=40)
    instrument = models.CharField(max_length=40)
    instrument_version = models.CharField(max_length=80)
    answers = models.JSONField(default=dict)  # item code -> value, None when unanswered
    total = models.FloatField(null=True, blank=True)
    prorated = models.BooleanField(default=False)
    method = models.CharField(max_length=16, choices=VisitMethod.choices)
    completed_on = models.DateField()
    # Why a date outside the visit window is right, as the person entering it confirmed.
    outside_window_reason = models.TextField("reason for a date outside the visit window", blank=True)
    entered_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["participant", "visit", "instrument"], name="one_response_per_instrument"
            )
        ]

    def __str__(self) -> str:
        return f"{self.instrument} at {self.visit} ({self.participant})"


class ContactChannel(models.TextChoices):
    PHONE = "phone", "Phone"
    EMAIL = "email", "E-mail"
    SMS = "sms", "Text message"
    LETTER = "letter", "Letter"


class ContactOutcome(models.TextChoices):
    REACHED = "reached", "Reached: visit arranged"
    NO_ANSWER = "no_answer", "No answer"
    MESSAGE_LEFT = "message_left", "Message left"
    SENT = "sent", "Sent"
    WRONG_DETAILS = "wrong_details", "Contact details wrong"
    DECLINED = "declined", "Declined this visit"


class ContactAttempt(TrialRecord):
    participant = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="contact_attempts")
    visit = models.CharField(max_length=40)
    channel = models.CharField(max_length=8, choices=ContactChannel.choices)
    outcome = models.CharField(max_length=16, choices=ContactOutcome.choices)
    on = models.DateField("date")
    note = models.CharField(max_length=200, blank=True)
    automatic = models.BooleanField(default=False)  # a reminder sent by the scheduled command
    by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    history = HistoricalRecords()

    class Meta:
        ordering = ["-on", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.on} ({self.participant})"
