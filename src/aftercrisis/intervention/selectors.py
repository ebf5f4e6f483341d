"""A peer support worker's own caseload, and the fidelity figures for unblinded roles."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import (
    Case,
    Count,
    F,
    FilteredRelation,
    Func,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    TextField,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce
from django.db.models.lookups import Contains

from aftercrisis.accounts.models import User
from aftercrisis.accounts.policy import Actor, Capability
from aftercrisis.intervention.fidelity import Tally
from aftercrisis.intervention.models import (
    ContactAttempt,
    Dispatch,
    RiskEscalation,
    Session,
    SessionOutcome,
    SupervisionRecord,
)
from aftercrisis.participants.models import Identity, Participant
from aftercrisis.participants.withdrawals import off_caseload
from aftercrisis.protocol import Protocol
from aftercrisis.randomisation.selectors import allocated_to, sees_every_arm


@dataclass(frozen=True)
class CaseloadEntry:
    participant: Participant
    identity: Identity
    randomised_on: dt.date
    days_since_randomisation: int
    days_left_in_window: int
    sessions_held: int
    contact_attempts: int
    next_session_on: dt.date | None


def _count(model: type[Session] | type[ContactAttempt], **conditions: object) -> Coalesce:
    rows = (
        model.objects.filter(participant=OuterRef("pk"), **conditions)
        .order_by()
        .values("participant")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), 0)


def _support_window_opened(protocol: Protocol, today: dt.date) -> dt.date:
    """The earliest randomisation date whose support window is still open on `today`."""
    return today - dt.timedelta(days=protocol.intervention.window_days)


def on_caseload(actor: Actor, protocol: Protocol, today: dt.date) -> QuerySet[Any]:
    """The actor's own caseload in the database's order, for `caseload_entries`: those whose window is still
    open first, the nearest to closing at the top, then the closed, the most recently closed at the top."""
    if not actor.can(Capability.VIEW_CASELOAD):
        return Participant.objects.none()
    opened = _support_window_opened(protocol, today)
    closed = Q(allocation__randomised_on__lt=opened)
    rows: QuerySet[Any] = (
        Participant.objects.filter(caseload_assignment__worker_id=actor.user_id)
        .exclude(off_caseload())
        .select_related("identity", "site")
        .annotate(
            randomised_on=F("allocation__randomised_on"),
            next_session_on=F("caseload_assignment__next_session_on"),
            sessions_held=_count(Session, outcome=SessionOutcome.HELD),
            contact_attempt_count=_count(ContactAttempt),
            window_closed=Case(When(closed, then=Value(1)), default=Value(0)),
        )
        .order_by(
            "window_closed",
            Case(When(~closed, then=F("randomised_on"))).asc(),
            Case(When(closed, then=F("randomised_on"))).desc(),
            "trial_id",
        )
    )
    return rows


def caseload_counts(actor: Actor, protocol: Protocol, today: dt.date) -> tuple[int, int]:
    """How many on the actor's caseload have their support window open, and how many closed: one query."""
    opened = _support_window_opened(protocol, today)
    counted = (
        on_caseload(actor, protocol, today)
        .order_by()
        .aggregate(
            open=Count("pk", filter=Q(allocation__randomised_on__gte=opened)),
            closed=Count("pk", filter=Q(allocation__randomised_on__lt=opened)),
        )
    )
    return counted["open"], counted["closed"]


def caseload_entries(protocol: Protocol, rows: Iterable[Any], today: dt.date) -> list[CaseloadEntry]:
    """The entries of rows of `on_caseload` (a page of them, say), in their order."""
    entries = []
    for p in rows:
        days = (today - p.randomised_on).days
        entries.append(
            CaseloadEntry(
                p,
                p.identity,
                p.randomised_on,
                days,
                protocol.intervention.window_days - days,
                p.sessions_held,
                p.contact_attempt_count,
                p.next_session_on,
            )
        )
    return entries


def caseload(actor: Actor, protocol: Protocol, today: dt.date) -> list[CaseloadEntry]:
    """The actor's whole caseload, in the order of `on_caseload`."""
    return caseload_entries(protocol, on_caseload(actor, protocol, today), today)


def sessions_of(participant: Participant) -> QuerySet[Session]:
    return Session.objects.filter(participant=participant).select_related("escalation").order_by("on", "pk")


def contact_attempts_of(participant: Participant) -> QuerySet[ContactAttempt]:
    return ContactAttempt.objects.filter(participant=participant).order_by("-on", "-pk")


def dispatches_of(participant: Participant) -> QuerySet[Dispatch]:
    return Dispatch.objects.filter(participant=participant).order_by("queued_on", "pk")


def supervision_records(actor: Actor) -> QuerySet[SupervisionRecord]:
    if not actor.can(Capability.RECORD_SUPERVISION):
        return SupervisionRecord.objects.none()
    return SupervisionRecord.objects.select_related("worker", "supervisor").order_by("-on", "-pk")


class _DaysAfter(Func):
    """How many whole days the first date is after the second (None if either is None): a date minus a
    date is a number of days on PostgreSQL; SQLite keeps dates as ISO text, which julianday reads."""

    arity = 2
    template = "(%(expressions)s)"
    arg_joiner = " - "
    output_field = IntegerField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(
            compiler,
            connection,
            template="CAST(julianday(%(expressions)s) AS INTEGER)",
            arg_joiner=") - julianday(",
            **extra,
        )


def supported_participants(
    actor: Actor, protocol: Protocol, section_codes: Iterable[str]
) -> tuple[list[Tally], dict[str, int]]:
    """The peer support arm's randomised participants, counted in the database: tallies of them by site,
    worker, sessions held and days to the first, and how many covered each of `section_codes` in a held
    session. One query (and one for the workers' names) whatever the trial's size. Unblinded roles only."""
    if not actor.can(Capability.VIEW_FIDELITY):
        return [], {}
    allocations = allocated_to(actor, protocol.intervention.arm)
    codes = list(section_codes)

    # The sections are stored as a JSON list of codes (lower-case letters, digits and _, each validated
    # against the workbook): a code in quotes is found in the list's text only if it is one of its items.
    # PostgreSQL stores the list as jsonb and finds a string item in it directly (its ? operator, which
    # Django's has_key uses), without writing the list out as text.
    def covers(code: str) -> Q | Contains:
        if connection.vendor == "postgresql":
            return Q(held_session__sections_covered__has_key=code)
        return Contains(Cast("held_session__sections_covered", TextField()), f'"{code}"')

    # Each participant's held sessions joined and counted once (a subquery per participant, as before, is
    # run by PostgreSQL once for each), with whether any of them covered each section; then the participants
    # tallied from that in the same query, and the sections' participants added up over the tallies.
    per_person = (
        allocations.annotate(
            held_session=FilteredRelation(
                "participant__peer_sessions",
                condition=Q(participant__peer_sessions__outcome=SessionOutcome.HELD),
            )
        )
        .order_by()
        .values(
            "pk",
            "randomised_on",
            tallied_site=F("participant__site__code"),
            tallied_worker=F("participant__caseload_assignment__worker_id"),
        )
        .annotate(
            tallied_held=Count("held_session__id"),
            tallied_wait=_DaysAfter(Min("held_session__on"), "randomised_on"),
            **{
                f"covers_{i}": Max(Case(When(covers(code), then=Value(1)), default=Value(0)))
                for i, code in enumerate(codes)
            },
        )
        .values(
            "tallied_site",
            "tallied_worker",
            "tallied_held",
            "tallied_wait",
            *(f"covers_{i}" for i in range(len(codes))),
        )
    )
    try:
        sql, params = per_person.query.sql_with_params()
    except EmptyResultSet:  # no allocation can match (no sites in scope): nobody to count
        sql, params = "", ()
    rows: list[tuple[Any, ...]] = []
    if sql:
        quote = connection.ops.quote_name
        keys = ", ".join(quote(f"tallied_{c}") for c in ("site", "worker", "held", "wait"))
        sums = "".join(f", SUM({quote(f'covers_{i}')})" for i in range(len(codes)))
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {keys}, COUNT(*){sums} FROM ({sql}) per_person GROUP BY {keys}", params)
            rows = cursor.fetchall()
    workers = {
        user.pk: user.display_name for user in User.objects.filter(pk__in={row[1] for row in rows if row[1]})
    }
    return (
        [
            Tally(site, workers[worker_id] if worker_id else "", n_held, wait, n)
            for site, worker_id, n_held, wait, n, *_ in rows
        ],
        {code: sum(int(row[5 + i]) for row in rows) for i, code in enumerate(codes)},
    )


def open_risk_concerns(actor: Actor) -> QuerySet[RiskEscalation]:
    """Risk concerns nobody has acknowledged yet, oldest first. A concern from a peer support worker
    reveals the arm, so only a role that sees every arm is shown any."""
    if not (actor.can(Capability.ACKNOWLEDGE_RISK) and sees_every_arm(actor)):
        return RiskEscalation.objects.none()
    rows = RiskEscalation.objects.filter(acknowledged_at__isnull=True)
    if actor.site_ids is not None:
        rows = rows.filter(participant__site_id__in=actor.site_ids)
    return rows.select_related("participant", "participant__site", "raised_by", "session").order_by(
        "sent_at", "pk"
    )
