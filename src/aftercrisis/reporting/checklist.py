"""What is still to do before the database is locked, each with a count and the list that resolves it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, Q
from django.urls import reverse

from aftercrisis.accounts.policy import Actor
from aftercrisis.followup.models import VisitRecord
from aftercrisis.followup.schedule import follow_up_windows
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


def lock_checklist(actor: Actor, protocol: Protocol, today: dt.date) -> list[ChecklistItem]:
    """The pre-lock checklist for the trial manager, in five queries whatever the trial size."""
    # A visit is in its window today for those randomised between these two days.
    in_window = {
        w.code: (today - (w.closes - today), today - (w.opens - today))
        for w in follow_up_windows(protocol, today)
    }
    counted = Participant.objects.aggregate(
        queries=Count("data_queries", filter=Q(data_queries__state__in=UNRESOLVED), distinct=True),
        saes=Count(
            "serious_adverse_events",
            filter=Q(serious_adverse_events__signed_off_on__isnull=True),
            distinct=True,
        ),
        **{
            f"visit_{code}": Count(
                "pk",
                filter=Q(
                    ~Exists(VisitRecord.objects.filter(participant=OuterRef("pk"), visit=code)),
                    allocation__randomised_on__range=days,
                ),
                distinct=True,
            )
            for code, days in in_window.items()
        },
    )
    outcomes = derive_all(
        reviewed_to(today, protocol, histories(Participant.objects.all())), rules_for(protocol)
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
            "Follow-up visits still in their window",
            sum(counted[f"visit_{code}"] for code in in_window),
            reverse("reporting:index"),
            "See follow-up",
        ),
    ]
