"""Acute-care episodes, their reconciliation, and serious adverse events."""

from __future__ import annotations

from django.db import models
from simple_history.models import HistoricalRecords

from aftercrisis.accounts.models import User
from aftercrisis.participants.models import Participant, TrialRecord


class EpisodeSource(models.TextChoices):
    CLINICAL_RECORDS = "clinical_records", "Clinical records"
    SELF_REPORT = "self_report", "Self-report"
    IMPORT = "import", "Import"


class AdmissionType(models.TextChoices):
    INFORMAL = "informal", "Informal"
    DETAINED = "detained", "Detained under the Mental Health Act"


class AcuteCareEpisode(TrialRecord):
    """One stay in, or contact with, an acute-care setting of the protocol."""

    participant = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="acute_episodes")
    setting = models.CharField(max_length=40)  # a setting code of the protocol
    start = models.DateField("start date")
    end = models.DateField("end date", null=True, blank=True)
    admission_type = models.CharField(max_length=12, choices=AdmissionType.choices, blank=True)
    source = models.CharField(max_length=20, choices=EpisodeSource.choices)
    source_reference = models.CharField(max_length=200, blank=True)
    # Why an episode starting before randomisation is recorded all the same, as the person entering it confirmed.
    before_randomisation_reason = models.TextField("reason for a start before randomisation", blank=True)
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)
    # Set when reconciliation decides this row describes the same episode as another, kept, row.
    superseded_by = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["participant_id", "start", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__isnull=True) | models.Q(end__gte=models.F("start")),
                name="episode_ends_after_it_starts",
            )
        ]

    def __str__(self) -> str:
        return f"{self.setting} from {self.start} ({self.participant})"


class Decision(models.TextChoices):
    SAME = "same", "The same episode: keep one record"
    DISTINCT = "distinct", "Different episodes: keep both"


class EpisodeReconciliation(TrialRecord):
    """A researcher's decision on two overlapping episodes from different sources."""

    first = models.ForeignKey(AcuteCareEpisode, on_delete=models.PROTECT, related_name="+")
    second = models.ForeignKey(AcuteCareEpisode, on_delete=models.PROTECT, related_name="+")
    decision = models.CharField(max_length=12, choices=Decision.choices)
    kept = models.ForeignKey(
        AcuteCareEpisode, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reason = models.TextField()
    decided_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["first", "second"], name="one_decision_per_pair")]

    def __str__(self) -> str:
        return f"{self.get_decision_display()}: {self.first_id} and {self.second_id}"


class SaeCategory(models.TextChoices):
    DEATH = "death", "Death"
    HOSPITAL_ADMISSION = "hospital_admission", "Hospital admission"
    SELF_HARM = "self_harm", "Self-harm"
    DETENTION = "detention", "Detention under the Mental Health Act"
    OTHER = "other", "Other"


class Seriousness(models.TextChoices):
    DEATH = "death", "Resulted in death"
    LIFE_THREATENING = "life_threatening", "Life-threatening"
    HOSPITALISATION = "hospitalisation", "Required or prolonged hospital admission"
    DISABILITY = "disability", "Persistent or significant disability"
    OTHER_IMPORTANT = "other_important", "Other important medical event"


class Relatedness(models.TextChoices):
    NOT_RELATED = "not_related", "Not related"
    UNLIKELY = "unlikely", "Unlikely to be related"
    POSSIBLY = "possibly", "Possibly related"
    PROBABLY = "probably", "Probably related"
    DEFINITELY = "definitely", "Definitely related"


class Expectedness(models.TextChoices):
    EXPECTED = "expected", "Expected"
    UNEXPECTED = "unexpected", "Unexpected"


# Every SAE is serious; one related to the programme and unexpected is a suspected unexpected serious
# adverse reaction (SUSAR), which the chief investigator and the sponsor hear of at once.
RELATED = (Relatedness.POSSIBLY, Relatedness.PROBABLY, Relatedness.DEFINITELY)
SUSAR = models.Q(relatedness__in=RELATED, expectedness=Expectedness.UNEXPECTED)


def suspected_reaction(relatedness: str, expectedness: str) -> bool:
    """The rule of `SUSAR` on values, for an event or a review of one."""
    return relatedness in RELATED and expectedness == Expectedness.UNEXPECTED


class SeriousAdverseEvent(TrialRecord):
    participant = models.ForeignKey(
        Participant, on_delete=models.PROTECT, related_name="serious_adverse_events"
    )
    category = models.CharField(max_length=20, choices=SaeCategory.choices)
    onset = models.DateField("date of onset")
    description = models.TextField()
    seriousness = models.CharField(max_length=20, choices=Seriousness.choices)
    relatedness = models.CharField(max_length=12, choices=Relatedness.choices)
    expectedness = models.CharField(max_length=12, choices=Expectedness.choices)
    reported_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    reported_on = models.DateField("date reported")
    # Review and sign-off by the chief investigator.
    review_notes = models.TextField(blank=True)
    signed_off_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    signed_off_on = models.DateField("date signed off", null=True, blank=True)
    # Set when the chief investigators and the sponsor were told of it as a SUSAR: they are told once.
    susar_notified_at = models.DateTimeField("SUSAR notification sent", null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["onset", "pk"]
        verbose_name = "serious adverse event"

    @property
    def is_susar(self) -> bool:
        return suspected_reaction(self.relatedness, self.expectedness)

    def __str__(self) -> str:
        return f"SAE {self.pk}: {self.get_category_display()} ({self.participant})"
