"""What is still to do before the database is locked, each with a count and the list that resolves it."""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Sequence
from dataclasses import dataclass
from functools import reduce

from django.db.models import Count, Exists, F, OuterRef, Q
from django.urls import reverse

from aftercrisis.accounts.policy import Actor
from aftercrisis.followup.models import VisitRecord
from aftercrisis.followup.schedule import VisitWindow, follow_up_windows, window_of
from aftercrisis.outcomes.derivation import derive_all, reviewed_to, rules_for
from aftercrisis.outcomes.selectors import histories, overlaps_for
from aftercrisis.participants.models import Participant
from aftercrisis.protocol import Protocol
from aftercrisis.queries.selectors import UNRESOLVED


@dataclass(frozen=True)
class ChecklistItem:
    what: str
    count: int
    href: str
    action: str


@dataclass(frozen=True)
class InWindow:
    participant: Participant
    window: VisitWindow


def lock_checklist(actor: Actor, protocol: Protocol, today: dt.date) -> list[ChecklistItem]:
    """The pre-lock checklist for the trial manager, in a fixed number of queries whatever the trial size."""
    counted = Participant.objects.aggregate(
        queries=Count("data_queries", filter=Q(data_queries__state__in=UNRESOLVED), distinct=True),
        saes=Count(
            "serious_adverse_events",
            filter=Q(serious_adverse_events__signed_off_on__isnull=True),
            distinct=True,
        ),
    )
    return [
        ChecklistItem(
            "Data queries open or answered", counted["queries"], reverse("queries:list"), "See the queries"
        ),
        ChecklistItem(
            "Serious adverse events not yet signed off",
            counted["saes"],
            reverse("outcomes:safety"),
            "See the safety listing",
        ),
        ChecklistItem(
            "Overlapping acute-care episodes not reconciled",
            len(overlaps_for(actor)),
            reverse("outcomes:reconcile"),
            "Reconcile the episodes",
        ),
        ChecklistItem(
            "Participants whose primary outcome is not known",
            len(primary_outcome_not_known(protocol, today)),
            reverse("reporting:lock_outcomes"),
            "See the participants",
        ),
        ChecklistItem(
            "Follow-up visits still in their window",
            len(visits_in_window(protocol, today)),
            reverse("reporting:lock_visits"),
            "See the visits",
        ),
    ]


def primary_outcome_not_known(protocol: Protocol, today: dt.date) -> list[str]:
    """The trial IDs, in order, of the randomised participants whose primary outcome cannot be derived today."""
    outcomes = derive_all(
        reviewed_to(today, protocol, histories(Participant.objects.all())), rules_for(protocol)
    )
    return sorted(o.participant for o in outcomes if o.readmitted_1y is None)


def with_trial_ids(trial_ids: Sequence[str]) -> list[Participant]:
    """The participants with these trial IDs (a page of them), in their order, with site and randomisation date."""
    found = (
        Participant.objects.select_related("site")
        .annotate(randomised_on=F("allocation__randomised_on"))
        .in_bulk(trial_ids, field_name="trial_id")
    )
    return [found[t] for t in trial_ids]


def visits_in_window(protocol: Protocol, today: dt.date) -> list[InWindow]:
    """Follow-up visits in their window today with nothing recorded, closing soonest first: one query."""
    # A visit is in its window today for those randomised between these two days.
    randomised = {
        w.code: (today - (w.closes - today), today - (w.opens - today))
        for w in follow_up_windows(protocol, today)
    }
    if not randomised:
        return []
    candidates = (
        Participant.objects.filter(
            reduce(operator.or_, (Q(allocation__randomised_on__range=days) for days in randomised.values()))
        )
        .select_related("site")
        .annotate(
            randomised_on=F("allocation__randomised_on"),
            **{
                f"recorded_{code}": Exists(VisitRecord.objects.filter(participant=OuterRef("pk"), visit=code))
                for code in randomised
            },
        )
    )
    found = []
    for participant in candidates:
        for code in randomised:
            window = window_of(protocol, code, participant.randomised_on)
            assert window is not None  # a follow-up visit, dated by the randomisation
            if window.opens <= today <= window.closes and not getattr(participant, f"recorded_{code}"):
                found.append(InWindow(participant, window))
    return sorted(found, key=lambda v: (v.window.closes, v.participant.trial_id, v.window.due))
