"""The researcher's worklist (follow-up visits in or past their window, by date only) and one
participant's schedule of visits and questionnaires."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import (
    CharField,
    Count,
    DateField,
    Exists,
    ExpressionWrapper,
    F,
    FilteredRelation,
    OuterRef,
    Q,
    QuerySet,
    Value,
)

from aftercrisis.accounts.policy import Actor
from aftercrisis.followup.models import QuestionnaireResponse, VisitOutcome, VisitRecord
from aftercrisis.followup.schedule import (
    FormState,
    VisitWindow,
    WindowState,
    follow_up_windows,
    follow_up_windows_on,
    form_state,
    visit_windows,
    window_of,
)
from aftercrisis.participants.models import Participant, Status, Withdrawal
from aftercrisis.participants.selectors import participants_for
from aftercrisis.participants.withdrawals import STOPS_FOLLOW_UP
from aftercrisis.protocol import Protocol
from aftercrisis.randomisation.selectors import unblinded_to


@dataclass(frozen=True)
class WorklistEntry:
    participant: Participant
    window: VisitWindow
    state: WindowState


def _awaiting_follow_up(actor: Actor) -> QuerySet[Participant]:
    """Randomised participants the actor follows up. Participants the actor
    was emergency-unblinded for are left to the other researchers at the site."""
    return (
        participants_for(actor)
        .filter(status=Status.RANDOMISED, allocation__isnull=False)
        .exclude(pk__in=unblinded_to(actor.user_id).values("participant_id"))
    )


def _recorded(visit: str) -> Exists:
    return Exists(VisitRecord.objects.filter(participant=OuterRef("pk"), visit=visit))


def due_visits(actor: Actor, protocol: Protocol, today: dt.date) -> QuerySet[Any]:
    """Visits due, closing or overdue with nothing recorded, most urgent first, as rows (participant's
    key, visit, window's close, trial ID) for `worklist_entries`; selected, ordered and counted in the
    database, so a page of them costs the same whatever the trial's size. The order depends only on
    dates that every arm shares, so it cannot hint at an allocation."""
    participants = _awaiting_follow_up(actor)
    visits = [
        participants.filter(
            ~_recorded(on.code), allocation__randomised_on__lte=on.randomised[WindowState.OPEN][1]
        )
        .annotate(
            visit=Value(on.code, output_field=CharField()),
            # Compared only with other closing dates, never with a date: on SQLite it is a timestamp's text.
            closes=ExpressionWrapper(
                F("allocation__randomised_on") + on.closes_after, output_field=DateField()
            ),
        )
        .values_list("pk", "visit", "closes", "trial_id")
        .order_by()
        for on in follow_up_windows_on(protocol, today)
    ]
    if not visits:
        return participants.none()
    first, *others = visits
    return first.union(*others, all=True).order_by("closes", "trial_id")


def with_visit_records(participants: QuerySet[Participant], visits: Iterable[str]) -> QuerySet[Participant]:
    """The participants with their record of each visit joined as `visit_0`, `visit_1`, ... in the order of
    `visits`. A participant has at most one record of a visit (`one_record_per_visit`), so a count over the
    joins counts no one twice; looking each record up instead is a subquery inside a count's filter, which
    PostgreSQL runs once per participant and visit."""
    return participants.annotate(
        **{
            f"visit_{i}": FilteredRelation("visit_records", condition=Q(visit_records__visit=code))
            for i, code in enumerate(visits)
        }
    )


def worklist_counts(actor: Actor, protocol: Protocol, today: dt.date) -> dict[WindowState, int]:
    """How many visits of the worklist are due, closing and overdue: one query whatever the trial size,
    counting the participants without a record of each visit (`with_visit_records`)."""
    windows = follow_up_windows_on(protocol, today)
    counted = with_visit_records(_awaiting_follow_up(actor), (on.code for on in windows)).aggregate(
        **{
            f"{on.code}_{state.name}": Count(
                "pk",
                filter=Q(**{f"visit_{i}__id__isnull": True}, allocation__randomised_on__lte=latest)
                & (Q() if earliest is None else Q(allocation__randomised_on__gte=earliest)),
            )
            for i, on in enumerate(windows)
            for state, (earliest, latest) in on.randomised.items()
        }
    )
    return {
        state: sum(counted[f"{on.code}_{state.name}"] for on in windows)
        for state in WindowState
        if state is not WindowState.NOT_OPEN
    }


def worklist_entries(
    protocol: Protocol, rows: Iterable[Sequence[Any]], today: dt.date
) -> list[WorklistEntry]:
    """The worklist's entries for rows of `due_visits` (a page of them, say), in their order: one query."""
    rows = list(rows)
    participants = (
        Participant.objects.select_related("site")
        .annotate(randomised_on=F("allocation__randomised_on"))
        .in_bulk([row[0] for row in rows])
    )
    entries = []
    for pk, visit, *_ in rows:
        participant = participants[pk]
        window = window_of(protocol, visit, participant.randomised_on)
        assert window is not None  # a follow-up visit, dated by the randomisation
        entries.append(WorklistEntry(participant, window, window.state(today)))
    return entries


def worklist(actor: Actor, protocol: Protocol, today: dt.date) -> list[WorklistEntry]:
    """Visits due, closing or overdue with nothing recorded, most urgent first: the whole worklist."""
    return worklist_entries(protocol, due_visits(actor, protocol, today), today)


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


def responses_by_visit(
    protocol: Protocol, participant: Participant
) -> list[tuple[str, list[QuestionnaireResponse]]]:
    """Each visit of the protocol, baseline first, with the questionnaires returned at it in the visit's
    order of instruments. One query; the participant comes from the actor's scope."""
    returned = {
        (r.visit, r.instrument): r for r in QuestionnaireResponse.objects.filter(participant=participant)
    }
    return [
        (
            visit.code,
            [returned[visit.code, code] for code in visit.instruments if (visit.code, code) in returned],
        )
        for visit in protocol.visits
    ]


@dataclass(frozen=True)
class ScheduledForm:
    instrument: str
    name: str
    state: FormState


@dataclass(frozen=True)
class ScheduledVisit:
    code: str
    name: str
    window: VisitWindow | None  # None until randomisation dates the visits
    outcome: str  # how the visit was closed, "" while open
    forms: list[ScheduledForm]


_MISSED = (VisitOutcome.MISSED, VisitOutcome.DECLINED)


def schedule_of(
    protocol: Protocol,
    participant: Participant,
    today: dt.date,
    *,
    randomised_on: dt.date | None,
    withdrawals: Iterable[Withdrawal],
) -> list[ScheduledVisit]:
    """Every visit of the protocol for this participant, with its window and the state of each form.

    Dates, returns, the death and the withdrawals that end follow-up only: the same for every arm.
    One query (the death is read with the participant).
    """
    windows = {w.code: w for w in visit_windows(protocol, randomised_on)} if randomised_on else {}
    returns = QuestionnaireResponse.objects.filter(participant=participant).values_list(
        "visit", "instrument", Value("", output_field=CharField())
    )
    records = VisitRecord.objects.filter(participant=participant).values_list(
        "visit", Value("", output_field=CharField()), "outcome"
    )
    returned, outcomes = set(), {}
    for visit, instrument, outcome in returns.union(records, all=True):
        if outcome:
            outcomes[visit] = outcome
        else:
            returned.add((visit, instrument))
    ended = [w.on for w in withdrawals if w.level in STOPS_FOLLOW_UP]
    if hasattr(participant, "death"):
        ended.append(participant.death.died_on)
    stopped_on = min(ended, default=None)
    names = {i.code: i.name for i in protocol.instruments}
    schedule = []
    for visit in protocol.visits:
        window = windows.get(visit.code)
        outcome = outcomes.get(visit.code, "")
        forms = [
            ScheduledForm(
                code,
                names.get(code, code),
                form_state(
                    window,
                    today,
                    # A visit recorded as completed (on paper, say) completes its forms.
                    returned=(visit.code, code) in returned or outcome == VisitOutcome.COMPLETED,
                    missed=outcome in _MISSED,
                    # A visit recorded as not possible is so from its start, whatever the dates.
                    stopped_on=dt.date.min if outcome == VisitOutcome.NOT_POSSIBLE else stopped_on,
                    open_now=visit.day == 0 and participant.status == Status.CONSENTED,
                ),
            )
            for code in visit.instruments
        ]
        label = VisitOutcome(outcome).label if outcome else ""
        schedule.append(ScheduledVisit(visit.code, visit.name, window, label, forms))
    return schedule
