"""The participant registry. Research data and identity live in separate tables, so that
research queries and exports never touch a name or an NHS number."""

from __future__ import annotations

import unicodedata
from typing import Any, NoReturn

from django.core.exceptions import ValidationError
from django.db import models
from nhs_number import is_valid as nhs_number_is_valid
from simple_history.models import HistoricalRecords

from aftercrisis.accounts.models import Site, User


class TrialDataQuerySet(models.QuerySet[Any]):
    def delete(self) -> NoReturn:
        raise PermissionError("trial data is never deleted: withdraw, correct or supersede it instead")


class TrialRecord(models.Model):
    """Base for trial data: audited by each subclass, and never deleted."""

    objects = TrialDataQuerySet.as_manager()

    class Meta:
        abstract = True

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise PermissionError("trial data is never deleted: withdraw, correct or supersede it instead")


class Status(models.TextChoices):
    REFERRED = "referred", "Referred"
    SCREENED = "screened", "Screened"
    NOT_ENROLLED = "not_enrolled", "Not enrolled"
    CONSENTED = "consented", "Consented"
    RANDOMISED = "randomised", "Randomised"
    WITHDRAWN = "withdrawn", "Withdrawn"
    COMPLETED = "completed", "Completed"


class Sex(models.TextChoices):
    FEMALE = "female", "Female"
    MALE = "male", "Male"


class Ethnicity(models.TextChoices):
    WHITE = "white", "White"
    BLACK = "black", "Black, Black British, Caribbean or African"
    ASIAN = "asian", "Asian or Asian British"
    MIXED = "mixed", "Mixed or multiple ethnic groups"
    OTHER = "other", "Another ethnic group"
    NOT_STATED = "not_stated", "Not stated"


class SiteSequence(models.Model):
    """The last trial number issued at a site; rows are locked while the next is taken."""

    site = models.OneToOneField(Site, on_delete=models.PROTECT, primary_key=True)
    last_number = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.site_id}: {self.last_number}"


class Participant(TrialRecord):
    trial_id = models.CharField("trial ID", max_length=16, unique=True, editable=False)
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="participants")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.REFERRED)
    referred_on = models.DateField()
    referred_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    # Baseline characteristics (research data).
    age_at_entry = models.PositiveSmallIntegerField("age at entry", null=True, blank=True)
    sex = models.CharField(max_length=8, choices=Sex.choices, blank=True)
    ethnicity = models.CharField(max_length=16, choices=Ethnicity.choices, blank=True)
    prior_admissions = models.PositiveSmallIntegerField(
        "acute admissions in the previous two years", null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["trial_id"]

    def __str__(self) -> str:
        return self.trial_id


def normalise_nhs_number(value: str) -> str:
    """The NHS number as stored and compared, however it was typed or sent: spaces dropped and every
    decimal digit (full-width, Arabic-Indic, ...) made ASCII, so one person has one number."""
    return "".join(str(unicodedata.decimal(c, c)) for c in value if not c.isspace())


def validate_nhs_number(value: str) -> None:
    if not (value.isascii() and value.isdigit() and len(value) == 10 and nhs_number_is_valid(value)):
        raise ValidationError("Enter a valid 10-digit NHS number", code="invalid_nhs_number")


class Identity(TrialRecord):
    """Who the participant is and how to reach them. Only roles that need it see it."""

    participant = models.OneToOneField(Participant, on_delete=models.PROTECT, related_name="identity")
    nhs_number = models.CharField("NHS number", max_length=10, unique=True, validators=[validate_nhs_number])
    given_name = models.CharField(max_length=80)
    family_name = models.CharField(max_length=80)
    date_of_birth = models.DateField()
    address = models.TextField(blank=True)
    postcode = models.CharField(max_length=10, blank=True)
    phone = models.CharField(max_length=20, blank=True)
    email = models.EmailField(blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name_plural = "identities"

    def __str__(self) -> str:
        return f"{self.given_name} {self.family_name}"


class WithdrawalLevel(models.TextChoices):
    # Withdrawal from peer support reveals the arm: only unblinded roles may see that level.
    PEER_SUPPORT = "peer_support", "From peer support only"
    FOLLOW_UP = "follow_up", "From follow-up questionnaires (records may still be used)"
    ALL_DATA = "all_data", "From all further data collection"


class Withdrawal(TrialRecord):
    participant = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="withdrawals")
    level = models.CharField(max_length=16, choices=WithdrawalLevel.choices)
    on = models.DateField("date of withdrawal")
    reason = models.TextField(blank=True)
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    history = HistoricalRecords()

    def __str__(self) -> str:
        return f"withdrawal of {self.participant} ({self.level})"


class CauseOfDeath(models.TextChoices):
    NATURAL = "natural", "Natural causes"
    SUICIDE = "suicide", "Suicide"
    ACCIDENT = "accident", "Accident"
    UNDETERMINED = "undetermined", "Open or undetermined verdict"
    UNKNOWN = "unknown", "Not yet known"


class Death(TrialRecord):
    participant = models.OneToOneField(Participant, on_delete=models.PROTECT, related_name="death")
    died_on = models.DateField("date of death")
    cause = models.CharField(max_length=16, choices=CauseOfDeath.choices, default=CauseOfDeath.UNKNOWN)
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    history = HistoricalRecords()

    def __str__(self) -> str:
        return f"death of {self.participant}"


class LinkPurpose(models.TextChoices):
    WORKBOOK = "workbook", "Personal recovery workbook"
    QUESTIONNAIRES = "questionnaires", "Follow-up questionnaires"


class ParticipantLink(models.Model):
    """A secure, expiring, single-use link plus a short code, for a participant to open their own pages.

    Only hashes are stored: the link and the code are shown once, when issued.
    """

    participant = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="links")
    purpose = models.CharField(max_length=16, choices=LinkPurpose.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, related_name="+")
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    failed_attempts = models.PositiveSmallIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} link for {self.participant}"
