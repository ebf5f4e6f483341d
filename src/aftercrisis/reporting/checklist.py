"""What is still to do before the database is locked, each with a count and the list that resolves it."""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Sequence
from dataclasses import dataclass
from functools import reduce

from django.db.models import BooleanField, Count, Exists, ExpressionWrapper, F, OuterRef, Q
from django.urls import reverse

from aftercrisis.accounts.policy import Actor
from aftercrisis.followup.models import VisitRecord
from aftercrisis.followup.schedule import VisitWindow, follow_up_windows_on, window_of
from aftercrisis.outcomes.derivation import derive_all, reviewed_to, rules_for
from aftercrisis.outcomes.selectors import histories, overlaps_for
from aftercrisis.participants.models import Participant, Status
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
    """The pre-lock checklist for the trial manager, in five queries whatever the trial size."""
    in_window = _in_window(protocol, today)
    counted = Participant.objects.aggregate(
        queries=Count("data_queries", filter=Q(data_queries__state__in=UNRESOLVED), distinct=True),
        saes=Count(
            "serious_adverse_events",
            filter=Q(serious_adverse_events__signed_off_on__isnull=True),
            distinct=True,
        ),
        **{f"visit_{code}": Count("pk", filter=q, distinct=True) for code, q in in_window.items()},
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
            sum(counted[f"visit_{code}"] for code in in_window),
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


def _in_window(protocol: Protocol, today: dt.date) -> dict[str, Q]:
    """For each follow-up visit, the participants still followed up (as on the worklist: randomised, not
    withdrawn, no death recorded) whose window for it is open today with nothing recorded."""
    return {
        w.code: Q(
            ~Exists(VisitRecord.objects.filter(participant=OuterRef("pk"), visit=w.code)),
            status=Status.RANDOMISED,
            death__isnull=True,
            allocation__randomised_on__range=w.in_window,
        )
        for w in follow_up_windows_on(protocol, today)
    }


def visits_in_window(protocol: Protocol, today: dt.date) -> list[InWindow]:
    """The visits the checklist counts as still in their window, closing soonest first: one query."""
    in_window = _in_window(protocol, today)
    if not in_window:
        return []
    candidates = (
        Participant.objects.filter(reduce(operator.or_, in_window.values()))
        .select_related("site")
        .annotate(
            randomised_on=F("allocation__randomised_on"),
            **{
                f"in_{code}": ExpressionWrapper(q, output_field=BooleanField())
                for code, q in in_window.items()
            },
        )
    )
    found = []
    for participant in candidates:
        for code in in_window:
            window = window_of(protocol, code, participant.randomised_on)
            if getattr(participant, f"in_{code}") and window is not None:
                found.append(InWindow(participant, window))
    return sorted(found, key=lambda v: (v.window.closes, v.participant.trial_id, v.window.due))
