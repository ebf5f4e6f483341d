"""A peer support worker's own caseload."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import F

from aftercrisis.accounts.policy import Actor, Capability
from aftercrisis.participants.models import Identity, Participant
from aftercrisis.protocol import Protocol


@dataclass(frozen=True)
class CaseloadEntry:
    participant: Participant
    identity: Identity
    randomised_on: dt.date
    days_since_randomisation: int
    days_left_in_window: int


def caseload(actor: Actor, protocol: Protocol, today: dt.date) -> list[CaseloadEntry]:
    if not actor.can(Capability.VIEW_CASELOAD):
        return []
    rows = (
        Participant.objects.filter(caseload_assignment__worker_id=actor.user_id)
        .select_related("identity", "site")
        .annotate(randomised_on=F("allocation__randomised_on"))
    )
    entries = []
    for p in rows:
        days = (today - p.randomised_on).days
        entries.append(
            CaseloadEntry(p, p.identity, p.randomised_on, days, protocol.intervention.window_days - days)
        )
    # Those whose window is still open come first, the nearest to closing at the top.
    return sorted(entries, key=lambda e: (e.days_left_in_window < 0, abs(e.days_left_in_window)))
