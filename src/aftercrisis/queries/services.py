"""Writes of data queries: the automatic run, queries raised by hand, and each step of a thread.

Every write goes through the audit (and so is refused while the database is locked). The trial
manager is unblinded and the researchers who answer are not: no text naming an arm is kept.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F

from aftercrisis.accounts.models import User
from aftercrisis.accounts.policy import Actor, Capability
from aftercrisis.audit import audited_update, record_creation
from aftercrisis.followup.instruments import instrument
from aftercrisis.followup.models import QuestionnaireResponse, VisitRecord
from aftercrisis.followup.schedule import follow_up_windows
from aftercrisis.lock.services import refuse_if_locked
from aftercrisis.outcomes.models import AcuteCareEpisode, EpisodeReconciliation
from aftercrisis.participants.models import Participant, Withdrawal, WithdrawalLevel
from aftercrisis.protocol import Protocol
from aftercrisis.queries import checks
from aftercrisis.queries.models import DataQuery, QueryAction, QueryMessage, QueryState

CLOSED_BY_CHECK = "The check no longer finds this discrepancy: closed automatically."
REOPENED_BY_CHECK = "The check finds this discrepancy again: re-opened automatically."
TEXT_MAX_LENGTH: int = QueryMessage._meta.get_field("text").max_length or 2000


@dataclass(frozen=True)
class Step:
    """Who may take a step of a query's thread, from which states, and where it leaves the query."""

    capability: Capability
    from_states: frozenset[str]
    to_state: QueryState


STEPS = {
    QueryAction.ANSWERED: Step(Capability.ANSWER_QUERIES, frozenset({QueryState.OPEN}), QueryState.ANSWERED),
    QueryAction.RESOLVED: Step(
        Capability.MANAGE_QUERIES, frozenset({QueryState.OPEN, QueryState.ANSWERED}), QueryState.RESOLVED
    ),
    QueryAction.CLOSED: Step(
        Capability.MANAGE_QUERIES, frozenset({QueryState.OPEN, QueryState.ANSWERED}), QueryState.CLOSED
    ),
    QueryAction.REOPENED: Step(
        Capability.MANAGE_QUERIES,
        frozenset({QueryState.ANSWERED, QueryState.RESOLVED, QueryState.CLOSED}),
        QueryState.OPEN,
    ),
}


def steps_for(actor: Actor, query: DataQuery) -> list[QueryAction]:
    """The steps the actor may take on the query now, in the order the page offers them."""
    return [
        action
        for action, step in STEPS.items()
        if actor.can(step.capability) and query.state in step.from_states
    ]


def arm_named(protocol: Protocol, text: str) -> str | None:
    """The arm code or name the text contains, if any: masked staff read every query."""
    for arm in protocol.arms:
        for word in (arm.code, arm.name):
            if re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text, re.IGNORECASE):
                return word
    return None


def _clean_text(protocol: Protocol, text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": "Enter the message"})
    if len(text) > TEXT_MAX_LENGTH:
        raise ValidationError({"text": f"The message must be {TEXT_MAX_LENGTH} characters or fewer"})
    if word := arm_named(protocol, text):
        raise ValidationError(
            {"text": f"The message names a trial arm ('{word}'): masked staff read queries, so leave it out"}
        )
    return text


def _add_message(query: DataQuery, action: QueryAction, text: str, by: User | None) -> QueryMessage:
    return record_creation(
        QueryMessage(query=query, action=action, text=text, by=by),
        by=by,
        reason=f"query {action.label.lower()}",
    )


def _scope(actor: Actor, participant: Participant) -> None:
    if not actor.covers_site(participant.site_id):
        raise PermissionDenied


@transaction.atomic
def raise_query(
    actor: Actor, protocol: Protocol, participant: Participant, *, field: str, text: str, by: User
) -> DataQuery:
    """A query raised by hand on any field of a participant's data; the researchers at their site answer it."""
    if not actor.can(Capability.MANAGE_QUERIES):
        raise PermissionDenied
    _scope(actor, participant)
    chosen = next((f for f in checks.FIELDS if f.code == field), None)
    if chosen is None:
        raise ValidationError({"field": "Select the form and field the query is about"})
    text = _clean_text(protocol, text)
    query = record_creation(
        DataQuery(participant=participant, form=chosen.form, field=chosen.field, raised_by=by),
        by=by,
        reason="query raised",
    )
    _add_message(query, QueryAction.RAISED, text, by)
    return query


@transaction.atomic
def respond(
    actor: Actor, protocol: Protocol, query: DataQuery, *, action: str, text: str, by: User
) -> DataQuery:
    """One step of the thread: answer, resolve, close or re-open, always with a message."""
    step = STEPS.get(QueryAction(action)) if action in QueryAction.values else None
    if step is None:
        raise ValidationError({"action": "Select what to do with the query"})
    if not actor.can(step.capability):
        raise PermissionDenied
    query = DataQuery.objects.select_for_update().select_related("participant").get(pk=query.pk)
    _scope(actor, query.participant)
    if query.state not in step.from_states:
        raise ValidationError(
            {"action": f"This query is {query.get_state_display().lower()}: it cannot be {action} now"}
        )
    text = _clean_text(protocol, text)
    label = QueryAction(action).label.lower()
    audited_update(query, {"state": step.to_state}, by=by, reason=f"query {label}")
    _add_message(query, QueryAction(action), text, by)
    return query


@dataclass(frozen=True)
class RunSummary:
    raised: int
    reopened: int
    closed: int
    still_open: int

    def __str__(self) -> str:
        return (
            f"{self.raised} queries raised, {self.reopened} re-opened, {self.closed} closed automatically; "
            f"{self.still_open} automatic queries open or answered"
        )


def scales(protocol: Protocol) -> dict[str, checks.Scale]:
    """The possible answers and totals of every instrument of the protocol's visits."""
    found = {}
    for code in {c for v in protocol.visits for c in v.instruments}:
        inst = instrument(code)
        items = {i.code: (i.minimum, i.maximum) for i in inst.items}
        scored = inst.scored_items
        total = (
            (float(sum(i.minimum for i in scored)), float(sum(i.maximum for i in scored)))
            if inst.method == "sum"
            else None
        )
        found[code] = checks.Scale(inst.name, items, total)
    return found


def facts_of(protocol: Protocol, today: dt.date) -> dict[int, checks.Facts]:
    """Every randomised participant's values for the checks, by participant id, in seven queries."""
    people = list(
        Participant.objects.filter(allocation__isnull=False)
        .select_related("death")
        .annotate(randomised_on=F("allocation__randomised_on"))
    )
    ids = [p.pk for p in people]
    questionnaires: dict[int, list[checks.Questionnaire]] = defaultdict(list)
    for r in QuestionnaireResponse.objects.filter(participant_id__in=ids):
        questionnaires[r.participant_id].append(
            checks.Questionnaire(
                r.visit, r.instrument, r.completed_on, r.total, r.answers or {}, r.outside_window_reason
            )
        )
    visits: dict[int, list[checks.Visit]] = defaultdict(list)
    for pid, visit, on in VisitRecord.objects.filter(participant_id__in=ids).values_list(
        "participant_id", "visit", "on"
    ):
        visits[pid].append(checks.Visit(visit, on))
    episodes: dict[int, list[checks.Episode]] = defaultdict(list)
    for pk, pid, start, end in AcuteCareEpisode.objects.filter(
        participant_id__in=ids, superseded_by__isnull=True
    ).values_list("pk", "participant_id", "start", "end"):
        episodes[pid].append(checks.Episode(pk, start, end))
    reconciled = frozenset(
        (min(a, b), max(a, b)) for a, b in EpisodeReconciliation.objects.values_list("first_id", "second_id")
    )
    withdrawn: dict[int, dt.date] = {}
    for pid, on in (
        Withdrawal.objects.filter(
            participant_id__in=ids, level__in=[WithdrawalLevel.FOLLOW_UP, WithdrawalLevel.ALL_DATA]
        )
        .order_by("on")
        .values_list("participant_id", "on")
    ):
        withdrawn.setdefault(pid, on)
    baseline = next((tuple(v.instruments) for v in protocol.visits if v.day == 0), ())
    found_scales = scales(protocol)
    facts = {}
    for p in people:
        death = getattr(p, "death", None)
        facts[p.pk] = checks.Facts(
            today=today,
            randomised_on=p.randomised_on,
            horizon_days=protocol.outcomes.primary.horizon_days,
            windows=tuple(follow_up_windows(protocol, p.randomised_on)),
            baseline_instruments=baseline,
            scales=found_scales,
            questionnaires=tuple(questionnaires[p.pk]),
            visits=tuple(visits[p.pk]),
            episodes=tuple(episodes[p.pk]),
            reconciled=reconciled,
            died_on=death.died_on if death else None,
            follow_up_withdrawn_on=withdrawn.get(p.pk),
        )
    return facts


@transaction.atomic
def run_checks(
    protocol: Protocol, today: dt.date, progress: Callable[[int], object] | None = None
) -> RunSummary:
    """Raise a query for each new discrepancy, close those whose discrepancy is gone, re-open those
    closed that way whose discrepancy is back. Running it again changes nothing."""
    refuse_if_locked()
    found: dict[tuple[int, str, str], tuple[checks.Check, checks.Finding]] = {}
    for pid, facts in facts_of(protocol, today).items():
        for check, finding in checks.discrepancies(facts):
            found[(pid, check.code, finding.key)] = (check, finding)
        if progress:
            progress(1)
    existing = {
        (q.participant_id, q.check_code, q.key): q
        for q in DataQuery.objects.exclude(check_code="").select_for_update()
    }
    last_by_check = {
        query_id: by_id is None and action == QueryAction.CLOSED
        for query_id, action, by_id in QueryMessage.objects.filter(
            query__state=QueryState.CLOSED, query__check_code__gt=""
        )
        .order_by("query_id", "at", "pk")
        .values_list("query_id", "action", "by_id")
    }
    raised = reopened = closed = 0
    for (pid, code, key), (check, finding) in sorted(found.items()):
        query = existing.get((pid, code, key))
        if query is None:
            query = record_creation(
                DataQuery(participant_id=pid, form=check.form, field=check.field, check_code=code, key=key),
                by=None,
                reason="query raised by an automatic check",
            )
            _add_message(query, QueryAction.RAISED, check.text(finding), None)
            raised += 1
        elif query.state == QueryState.CLOSED and last_by_check.get(query.pk):
            audited_update(query, {"state": QueryState.OPEN}, by=None, reason="query re-opened by a check")
            _add_message(query, QueryAction.REOPENED, REOPENED_BY_CHECK, None)
            reopened += 1
    unresolved = (QueryState.OPEN, QueryState.ANSWERED)
    for identity, query in existing.items():
        if identity not in found and query.state in unresolved:
            audited_update(query, {"state": QueryState.CLOSED}, by=None, reason="query closed by a check")
            _add_message(query, QueryAction.CLOSED, CLOSED_BY_CHECK, None)
            closed += 1
    still_open = DataQuery.objects.exclude(check_code="").filter(state__in=unresolved).count()
    return RunSummary(raised, reopened, closed, still_open)
