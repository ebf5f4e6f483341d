"""The screening log and consent: who was screened, why they were not enrolled, what they agreed to."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from simple_history.models import HistoricalRecords

from aftercrisis.accounts.models import Site, User
from aftercrisis.participants.models import Participant, TrialRecord


class ScreeningOutcome(models.TextChoices):
    ELIGIBLE = "eligible", "Eligible"
    NOT_ELIGIBLE = "not_eligible", "Not eligible"
    NOT_APPROACHED = "not_approached", "Eligible but not approached"
    DECLINED = "declined", "Eligible but declined"


class NotApproachedReason(models.TextChoices):
    CLINICIAN_ADVISED = "clinician_advised", "The clinical team advised against contact"
    NOT_CONTACTABLE = "not_contactable", "Could not be contacted"
    DISCHARGED_BEFORE_CONTACT = "discharged_before_contact", "Discharged more than a month before contact"
    OTHER = "other", "Another reason"


class DeclineReason(models.TextChoices):
    NOT_INTERESTED = "not_interested", "Not interested in research"
    TOO_UNWELL = "too_unwell", "Feels too unwell"
    NO_TIME = "no_time", "Does not have the time"
    NO_PEER_SUPPORT = "no_peer_support", "Does not want peer support"
    DISLIKES_RANDOMISATION = "dislikes_randomisation", "Does not want to be randomised"
    OTHER = "other", "Another reason"


class Screening(TrialRecord):
    """One screening of a referred person: the answer to every criterion and what followed."""

    participant = models.OneToOneField(Participant, on_delete=models.PROTECT, related_name="screening")
    screened_on = models.DateField("date screened")
    screened_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    answers = models.JSONField(help_text="criterion code -> whether it applies")
    outcome = models.CharField(max_length=16, choices=ScreeningOutcome.choices)
    # A criterion code when not eligible; a NotApproachedReason or DeclineReason code otherwise.
    reason = models.CharField(max_length=40, blank=True)
    history = HistoricalRecords()

    class Meta:
        # The screening log shows the newest first, a page at a time: read in this order, its page is the
        # first rows of the index rather than every screening sorted.
        indexes = [models.Index(fields=["-screened_on", "-id"], name="screening_newest_first")]

    def __str__(self) -> str:
        return f"screening of {self.participant}"


# One line of the screening log is one site, one day, one reason. A crisis team discharges a few
# people a day, so a line over 50 people is unusual (asked again on the form) and one over 1,000 is
# a mistake; the bound also keeps every CONSORT sum far from integer overflow.
SCREENED_LARGE = 50
SCREENED_MAX = 1000
SCREENED_RANGE = f"Number of people must be between 1 and {SCREENED_MAX:,}"


class AnonymousScreenFailure(TrialRecord):
    """People screened but not enrolled, counted without identity (no referral was made)."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    screened_on = models.DateField("date screened")
    outcome = models.CharField(
        max_length=16, choices=[c for c in ScreeningOutcome.choices if c[0] != ScreeningOutcome.ELIGIBLE]
    )
    reason = models.CharField(max_length=40)
    count = models.PositiveIntegerField(
        default=1,
        validators=[
            MinValueValidator(1, SCREENED_RANGE),
            MaxValueValidator(SCREENED_MAX, SCREENED_RANGE),
        ],
    )
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(count__gte=1, count__lte=SCREENED_MAX), name="screened_count_in_range"
            )
        ]

    def __str__(self) -> str:
        return f"{self.count} screened at site {self.site_id} on {self.screened_on}"


class ConsentRecord(TrialRecord):
    """Consent on one version of the form. A new version means a new record (re-consent)."""

    participant = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="consents")
    version = models.CharField("consent form version", max_length=20)
    items = models.JSONField(help_text="consent item code -> agreed")
    capacity_confirmed = models.BooleanField("capacity to consent confirmed")
    taken_on = models.DateField("date of consent")
    taken_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["participant", "version"], name="one_consent_per_version")
        ]
        ordering = ["participant", "taken_on", "pk"]

    def __str__(self) -> str:
        return f"consent of {self.participant} on version {self.version}"
