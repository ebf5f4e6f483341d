"""The researcher's worklist: follow-up visits in or past their window, by date only."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import F

from aftercrisis.accounts.policy import Actor
from aftercrisis.followup.models import VisitRecord
from aftercrisis.followup.schedule import VisitWindow, WindowState, follow_up_windows
from aftercrisis.participants.models import Participant, Status
from aftercrisis.participants.selectors import participants_for
from aftercrisis.protocol import Protocol
from aftercrisis.randomisation.selectors import unblinded_to


@dataclass(frozen=True)
class WorklistEntry:
    participant: Participant
    window: VisitWindow
    state: WindowState


def worklist(actor: Actor, protocol: Protocol, today: dt.date) -> list[WorklistEntry]:
    """Visits due, closing or overdue with nothing recorded, most urgent first.

    Three queries whatever the trial size. The order depends only on dates that every
    arm shares, so it cannot hint at an allocation. Participants the actor was emergency-unblinded
    for are left to the other researchers at the site.
    """
    participants = (
        participants_for(actor)
        .filter(status=Status.RANDOMISED, allocation__isnull=False)
        .exclude(pk__in=unblinded_to(actor.user_id).values("participant_id"))
        .select_related("site")
        .annotate(randomised_on=F("allocation__randomised_on"))
    )
    recorded = set(
        VisitRecord.objects.filter(participant__in=participants).values_list("participant_id", "visit")
    )
    entries = []
    for participant in participants:
        for window in follow_up_windows(protocol, participant.randomised_on):
            state = window.state(today)
            if state is not WindowState.NOT_OPEN and (participant.pk, window.code) not in recorded:
                entries.append(WorklistEntry(participant, window, state))
    return sorted(entries, key=lambda e: (e.window.closes, e.participant.trial_id))


def due_questionnaires(protocol: Protocol, participant: Participant, today: dt.date) -> list[tuple[str, str]]:
    """(visit, instrument) pairs open for this participant today and not yet returned, earliest first."""
    allocation = getattr(participant, "allocation", None)
    if allocation is None:
        return []
    from aftercrisis.followup.models import QuestionnaireResponse

    done = set(
        QuestionnaireResponse.objects.filter(participant=participant).values_list("visit", "instrument")
    )
    due = []
    for window in follow_up_windows(protocol, allocation.randomised_on):
        if window.opens <= today <= window.closes:
            due += [
                (window.code, c)
                for c in protocol.visit(window.code).instruments
                if (window.code, c) not in done
            ]
    return due
