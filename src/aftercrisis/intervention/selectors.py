"""A peer support worker's own caseload, and the fidelity figures for unblinded roles."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Case, Count, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce

from aftercrisis.accounts.models import User
from aftercrisis.accounts.policy import Actor, Capability
from aftercrisis.intervention.fidelity import Supported
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


def supported_participants(actor: Actor, protocol: Protocol) -> list[Supported]:
    """Every randomised participant of the peer support arm, with their held sessions. Unblinded roles only."""
    if not actor.can(Capability.VIEW_FIDELITY):
        return []
    allocations = allocated_to(actor, protocol.intervention.arm)
    # Plain rows rather than models: the arm's every participant and held session are read.
    held: dict[int, list[tuple[dt.date, list[str]]]] = {}
    for participant_id, on, sections in Session.objects.filter(
        outcome=SessionOutcome.HELD, participant__allocation__in=allocations
    ).values_list("participant_id", "on", "sections_covered"):
        held.setdefault(participant_id, []).append((on, sections))
    people = allocations.order_by("participant__trial_id").values_list(
        "participant_id",
        "participant__trial_id",
        "participant__site__code",
        "participant__caseload_assignment__worker_id",
        "randomised_on",
    )
    workers = {
        user.pk: user.display_name
        for user in User.objects.filter(
            pk__in=allocations.values("participant__caseload_assignment__worker_id")
        )
    }
    found = []
    for pk, trial_id, site, worker_id, randomised_on in people:
        sessions = held.get(pk, [])
        found.append(
            Supported(
                trial_id=trial_id,
                site=site,
                worker=workers[worker_id] if worker_id else "",
                randomised_on=randomised_on,
                held_on=tuple(sorted(on for on, _ in sessions)),
                sections=frozenset(code for _, covered in sessions for code in covered),
            )
        )
    return found


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
