from __future__ import annotations

from django.db import models
from simple_history.models import HistoricalRecords

from aftercrisis.accounts.models import User
from aftercrisis.participants.models import Participant, TrialRecord


class CaseloadAssignment(TrialRecord):
    """A peer support worker's responsibility for one intervention-arm participant.

    Sessions are numbered while this row is locked, so two at once can never both become session ten.
    """

    participant = models.OneToOneField(
        Participant, on_delete=models.PROTECT, related_name="caseload_assignment"
    )
    worker = models.ForeignKey(User, on_delete=models.PROTECT, related_name="caseload")
    assigned_on = models.DateField()
    assigned_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    next_session_on = models.DateField("next planned session", null=True, blank=True)
    history = HistoricalRecords()


class SessionMode(models.TextChoices):
    FACE_TO_FACE = "face_to_face", "Face to face"
    PHONE = "phone", "Phone"
    VIDEO = "video", "Video"


class SessionOutcome(models.TextChoices):
    HELD = "held", "Held"
    DID_NOT_ATTEND = "did_not_attend", "Did not attend"
    CANCELLED = "cancelled", "Cancelled"


class Session(TrialRecord):
    """One planned peer support session. Only held sessions take a number, up to the protocol's limit."""

    participant = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="peer_sessions")
    worker = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    number = models.PositiveSmallIntegerField(null=True, blank=True)
    outcome = models.CharField(max_length=16, choices=SessionOutcome.choices, default=SessionOutcome.HELD)
    on = models.DateField("date of the session")
    duration_minutes = models.PositiveSmallIntegerField("duration in minutes", null=True, blank=True)
    mode = models.CharField(max_length=16, choices=SessionMode.choices, blank=True)
    place = models.CharField(max_length=120, blank=True)
    sections_covered = models.JSONField("workbook sections covered", default=list, blank=True)
    goals_reviewed = models.BooleanField("recovery goals reviewed", default=False)
    notes = models.TextField(blank=True)
    risk_concern = models.BooleanField("a risk concern was raised", default=False)
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["participant", "number"], name="one_session_per_number"),
            models.CheckConstraint(
                condition=models.Q(outcome="held", number__isnull=False)
                | (~models.Q(outcome="held") & models.Q(number__isnull=True)),
                name="held_sessions_and_only_they_are_numbered",
            ),
        ]
        ordering = ["participant", "on", "pk"]

    def __str__(self) -> str:
        what = f"session {self.number}" if self.number else self.get_outcome_display().lower()
        return f"{self.participant}: {what} on {self.on:%Y-%m-%d}"


class ContactMethod(models.TextChoices):
    PHONE = "phone", "Phone call"
    TEXT = "text", "Text message"
    EMAIL = "email", "E-mail"
    LETTER = "letter", "Letter"
    VISIT = "visit", "Home visit"


class ContactAttempt(TrialRecord):
    """An attempt to reach a participant, to arrange or rearrange a session."""

    participant = models.ForeignKey(
        Participant, on_delete=models.PROTECT, related_name="peer_support_contacts"
    )
    worker = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    on = models.DateField("date of the attempt")
    method = models.CharField(max_length=8, choices=ContactMethod.choices)
    reached = models.BooleanField("reached the participant", default=False)
    notes = models.TextField(blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["participant", "on", "pk"]

    def __str__(self) -> str:
        return f"{self.participant}: {self.get_method_display().lower()} on {self.on:%Y-%m-%d}"


ESCALATED_TO_WIDTH = 254


class RiskEscalation(TrialRecord):
    """A risk concern from a session, sent to the site's duty contact."""

    session = models.OneToOneField(Session, on_delete=models.PROTECT, related_name="escalation")
    participant = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="+")
    concern = models.TextField()
    escalated_to = models.CharField(max_length=ESCALATED_TO_WIDTH)
    sent_at = models.DateTimeField()
    raised_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    # Open until someone who may know the arm says it has been dealt with; an e-mail alone can go unread.
    acknowledged_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords()

    def __str__(self) -> str:
        return f"risk concern about {self.participant} sent to {self.escalated_to}"


class DispatchMethod(models.TextChoices):
    POST = "post", "Post"
    IN_PERSON = "in_person", "In person"
    EMAIL = "email", "E-mail"


class Dispatch(TrialRecord):
    """The workbook on its way to a participant: every randomised participant gets one, in both arms."""

    participant = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="dispatches")
    edition = models.CharField("workbook edition", max_length=8)
    method = models.CharField(max_length=12, choices=DispatchMethod.choices)
    queued_on = models.DateField()
    sent_on = models.DateField(null=True, blank=True)
    address_confirmed = models.BooleanField("address confirmed with the participant", default=False)
    returned_on = models.DateField("returned undelivered on", null=True, blank=True)
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    history = HistoricalRecords()

    class Meta:
        verbose_name_plural = "dispatches"
        ordering = ["queued_on", "pk"]

    def __str__(self) -> str:
        return f"workbook for {self.participant} by {self.get_method_display().lower()}"


class SupervisionRecord(TrialRecord):
    worker = models.ForeignKey(User, on_delete=models.PROTECT, related_name="supervision_records")
    supervisor = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    on = models.DateField("date of supervision")
    topics = models.TextField()
    concerns = models.TextField(blank=True)
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    history = HistoricalRecords()

    class Meta:
        ordering = ["-on", "pk"]

    def __str__(self) -> str:
        return f"supervision of {self.worker} on {self.on:%Y-%m-%d}"
