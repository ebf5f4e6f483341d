"""Pooled trial reports for blinded and unblinded readers alike, and the research export."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from aftercrisis.accounts.policy import Actor, Capability
from aftercrisis.followup.models import QuestionnaireResponse, VisitOutcome
from aftercrisis.followup.schedule import WindowState, follow_up_windows_on
from aftercrisis.followup.selectors import with_visit_records
from aftercrisis.outcomes.models import AcuteCareEpisode
from aftercrisis.participants.models import Participant
from aftercrisis.protocol import Protocol
from aftercrisis.randomisation.models import UnblindingRequest, UnblindingStatus
from aftercrisis.randomisation.selectors import arms_for, sees_every_arm

# Research data only: no name, NHS number, date of birth or contact detail, ever.
EXPORT_COLUMNS = [
    "trial_id",
    "site",
    "status",
    "referred_on",
    "randomised_on",
    "age_at_entry",
    "sex",
    "ethnicity",
    "prior_admissions",
]


def _reported(actor: Actor) -> QuerySet[Participant]:
    """Everyone at the actor's sites, for pooled reports; nobody for roles without reports."""
    if not actor.can(Capability.VIEW_REPORTS):
        return Participant.objects.none()
    everyone = Participant.objects.all()
    return everyone if actor.site_ids is None else everyone.filter(site_id__in=actor.site_ids)


def randomisations_by_month(actor: Actor) -> list[tuple[str, int]]:
    """(YYYY-MM, participants randomised) for every month from the first randomisation to the last,
    from the randomisations counted by day in the database."""
    days = (
        _reported(actor)
        .filter(allocation__isnull=False)
        .order_by()
        .values_list("allocation__randomised_on")
        .annotate(n=Count("pk"))
    )
    counts: Counter[str] = Counter()
    for day, n in days:
        counts[day.strftime("%Y-%m")] += n
    if not counts:
        return []
    first, last = min(counts), max(counts)
    months = []
    year, month = int(first[:4]), int(first[5:])
    while f"{year:04d}-{month:02d}" <= last:
        key = f"{year:04d}-{month:02d}"
        months.append((key, counts.get(key, 0)))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


@dataclass(frozen=True)
class VisitCompleteness:
    code: str
    name: str
    window_closed: int
    completed: int
    missed_or_declined: int
    not_recorded: int


def follow_up_completeness(actor: Actor, protocol: Protocol, today: dt.date) -> list[VisitCompleteness]:
    """For each follow-up visit, of those whose window has closed: how many were completed (pooled).
    Counted in the database, in one query whatever the trial size, through each visit's record joined to
    its participant (`with_visit_records`)."""
    windows = follow_up_windows_on(protocol, today)
    outcomes = {
        "completed": [VisitOutcome.COMPLETED],
        "missed": [VisitOutcome.MISSED, VisitOutcome.DECLINED],
    }
    counted = with_visit_records(
        _reported(actor).filter(allocation__isnull=False), (on.code for on in windows)
    ).aggregate(
        **{
            f"{on.code}_{what}": Count(
                "pk",
                # randomised on or before the last day that makes the window overdue: it closed before today
                filter=Q(
                    allocation__randomised_on__lte=on.randomised[WindowState.OVERDUE][1],
                    **({f"visit_{i}__outcome__in": outcomes[what]} if what in outcomes else {}),
                ),
            )
            for i, on in enumerate(windows)
            for what in ("closed", "completed", "missed")
        }
    )
    names = {v.code: v.name for v in protocol.visits}
    return [
        VisitCompleteness(
            on.code,
            names[on.code],
            counted[f"{on.code}_closed"],
            counted[f"{on.code}_completed"],
            counted[f"{on.code}_missed"],
            counted[f"{on.code}_closed"] - counted[f"{on.code}_completed"] - counted[f"{on.code}_missed"],
        )
        for on in windows
    ]


def unblinded_assessments() -> dict[str, int]:
    """Outcome assessments made by someone already emergency-unblinded for that participant (pooled):
    questionnaires they entered that were completed on or after the day of the unblinding, and
    acute-care episodes they recorded after it."""
    approved = UnblindingRequest.objects.filter(
        status=UnblindingStatus.APPROVED, participant=OuterRef("participant")
    )
    questionnaires = QuestionnaireResponse.objects.filter(
        Exists(
            approved.filter(
                requested_by=OuterRef("entered_by"), decided_at__date__lte=OuterRef("completed_on")
            )
        )
    )
    episodes = AcuteCareEpisode.objects.filter(
        Exists(approved.filter(requested_by=OuterRef("recorded_by"), decided_at__lte=OuterRef("recorded_at")))
    )
    return {"questionnaires": questionnaires.count(), "acute_care_episodes": episodes.count()}


def research_export(actor: Actor) -> tuple[list[str], Iterator[list[object]]]:
    """Pseudonymous rows for analysis. The arm column exists only for actors who may see every arm."""
    with_arm = sees_every_arm(actor)
    columns = EXPORT_COLUMNS + (["arm"] if with_arm else [])
    fields = [
        "trial_id",
        "site__code",
        "status",
        "referred_on",
        "allocation__randomised_on",
        "age_at_entry",
        "sex",
        "ethnicity",
        "prior_admissions",
    ]
    reported = _reported(actor)
    arms = arms_for(actor, reported.values("pk")) if with_arm else {}
    rows = reported.order_by("trial_id").values_list("pk", *fields)

    def generate() -> Iterator[list[object]]:
        for pk, *row in rows.iterator(chunk_size=1000):
            if with_arm:
                row.append(arms.get(pk))
            yield ["" if v is None else v for v in row]

    return columns, generate()
