"""What is still to do before the database is locked, each with a count and the list that resolves it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q
from django.urls import reverse

from aftercrisis.accounts.policy import Actor
from aftercrisis.followup.models import VisitRecord
from aftercrisis.followup.schedule import follow_up_windows
from aftercrisis.outcomes.derivation import derive_all
from aftercrisis.outcomes.selectors import histories, overlaps_for
from aftercrisis.participants.models import Participant
from aftercrisis.protocol import Protocol
from aftercrisis.queries.selectors import UNRESOLVED
from aftercrisis.reporting.dataset import reviewed_to, rules_for


@dataclass(frozen=True)
class ChecklistItem:
    what: str
    count: int
    href: str
    action: str


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
    recorded = histories(Participant.objects.all())
    outcomes = derive_all(reviewed_to(today, protocol, recorded), rules_for(protocol))
    visited = set(VisitRecord.objects.values_list("participant__trial_id", "visit"))
    in_window = sum(
        1
        for h in recorded
        for w in follow_up_windows(protocol, h.randomised_on)
        if w.opens <= today <= w.closes and (h.participant, w.code) not in visited
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
            sum(1 for o in outcomes if o.readmitted_1y is None),
            reverse("participants:list"),
            "See the participants",
        ),
        ChecklistItem(
            "Follow-up visits still in their window", in_window, reverse("reporting:index"), "See follow-up"
        ),
    ]
