from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.text import Truncator

from aftercrisis.accounts.models import RoleAssignment, User
from aftercrisis.accounts.policy import Actor, Capability
from aftercrisis.accounts.roles import Role
from aftercrisis.audit import audited_changes, audited_update, record_creation, record_creations
from aftercrisis.intervention.models import (
    ESCALATED_TO_WIDTH,
    CaseloadAssignment,
    ContactAttempt,
    RiskEscalation,
    Session,
    SessionMode,
    SessionOutcome,
    SupervisionRecord,
)
from aftercrisis.notifications import email, send_on_commit
from aftercrisis.participants.models import Participant
from aftercrisis.protocol import Protocol
from aftercrisis.randomisation.models import Allocation
from aftercrisis.randomisation.selectors import receives_peer_support
from aftercrisis.workbook.content import load_workbook


def assign_to_caseload(
    participant: Participant, protocol: Protocol, worker: User, *, by: User, on: dt.date
) -> CaseloadAssignment:
    if not receives_peer_support(participant, protocol):
        raise ValidationError(f"{participant.trial_id} is not in the peer support arm")
    works_there = RoleAssignment.objects.filter(user=worker, role=Role.PEER_SUPPORT_WORKER).filter(
        Q(site_id=participant.site_id) | Q(site=None)
    )
    if not works_there.exists():
        raise ValidationError(
            f"{worker.display_name} is not a peer support worker at {participant.site.code}"
        )
    return record_creation(
        CaseloadAssignment(participant=participant, worker=worker, assigned_on=on, assigned_by=by),
        by=by,
        reason="assigned to caseload",
    )


def assign_least_loaded_workers(
    allocations: Sequence[Allocation], to_peer_support: Sequence[bool], *, by: User
) -> list[CaseloadAssignment | None]:
    """Give each new allocation to peer support (`to_peer_support`, said by the randomisation service, which
    alone reads arms), in order, to its site's peer support worker with the fewest participants at that
    moment, from the day of randomisation; None for the others and where the site has no peer support
    worker yet. One query for the workers and their caseloads, one write."""
    supported = [a for a, peer in zip(allocations, to_peer_support, strict=True) if peer]
    roles = (
        RoleAssignment.objects.filter(role=Role.PEER_SUPPORT_WORKER, user__is_active=True)
        .filter(Q(site_id__in={a.participant.site_id for a in supported}) | Q(site=None))
        .annotate(load=Count("user__caseload"))
        .select_related("user")
    )
    workers: dict[int, User] = {}
    loads: dict[int, int] = {}
    at: dict[int | None, set[int]] = {}
    for role in roles if supported else roles.none():
        workers[role.user_id], loads[role.user_id] = role.user, role.load
        at.setdefault(role.site_id, set()).add(role.user_id)
    given: list[CaseloadAssignment | None] = []
    for allocation, peer in zip(allocations, to_peer_support, strict=True):
        candidates = at.get(allocation.participant.site_id, set()) | at.get(None, set())
        if not peer or not candidates:
            given.append(None)
            continue
        chosen = min(candidates, key=lambda pk: (loads[pk], pk))
        loads[chosen] += 1
        given.append(
            CaseloadAssignment(
                participant=allocation.participant,
                worker=workers[chosen],
                assigned_on=allocation.randomised_on,
                assigned_by=by,
            )
        )
    # The allocations are new, made under their participants' locks: a participant with no allocation until
    # then has no caseload either (assign_to_caseload asks for one), so nobody's assignment is taken.
    record_creations(
        [a for a in given if a is not None], by=by, reason="assigned to caseload", unique_held=True
    )
    return given


@dataclass(frozen=True)
class SessionDetails:
    """What a peer support worker records about one planned session."""

    outcome: str
    on: dt.date
    duration_minutes: int | None = None
    mode: str = ""
    place: str = ""
    sections_covered: tuple[str, ...] = ()
    goals_reviewed: bool = False
    notes: str = ""
    risk_concern: str = ""  # what the concern is; blank when none was raised
    next_session_on: dt.date | None = None


def session_limit_message(participant: Participant, max_sessions: int) -> str:
    return (
        f"{participant.trial_id} has already had {max_sessions} sessions, the most the protocol allows. "
        f"Session {max_sessions + 1} cannot be recorded."
    )


def record_session(
    participant: Participant, protocol: Protocol, details: SessionDetails, *, by: User
) -> Session:
    """Record a session for a participant on the worker's own caseload."""
    return record_sessions(participant, protocol, [details], by=by)[0]


def record_sessions(
    participant: Participant, protocol: Protocol, sessions: Sequence[SessionDetails], *, by: User
) -> list[Session]:
    """Record sessions for a participant on the worker's own caseload, in the order they took place,
    each checked, numbered and followed by its next planned session as if recorded one after another.

    The caseload row is locked first, so concurrent submissions are numbered one at a time and the
    protocol's limit holds; the unique (participant, number) constraint backs it up.
    """
    return record_caseload_sessions(protocol, [WorkerSessions(participant, by, sessions)])[0]


@dataclass(frozen=True)
class WorkerSessions:
    """Sessions a peer support worker records for one participant, as record_sessions takes them."""

    participant: Participant
    by: User
    sessions: Sequence[SessionDetails]


def record_caseload_sessions(protocol: Protocol, batches: Sequence[WorkerSessions]) -> list[list[Session]]:
    """record_sessions for each participant, all or none, with one query of each kind for the lot."""
    limit = protocol.intervention.max_sessions
    with transaction.atomic():
        pks = [b.participant.pk for b in batches]
        assignments = {
            a.participant_id: a
            for a in CaseloadAssignment.objects.select_for_update().filter(participant__in=pks)
        }
        held = Counter(
            Session.objects.filter(participant__in=pks, outcome=SessionOutcome.HELD).values_list(
                "participant_id", flat=True
            )
        )
        rows = []
        for b in batches:
            participant = b.participant
            assignment = assignments.get(participant.pk)
            if assignment is None or assignment.worker_id != b.by.pk:
                raise ValidationError(f"{participant.trial_id} is not on your caseload")
            for details in b.sessions:
                _check_session(participant, details, assignment, limit)
                number = None
                if details.outcome == SessionOutcome.HELD:
                    if held[participant.pk] >= limit:
                        raise ValidationError(session_limit_message(participant, limit), code="session_limit")
                    held[participant.pk] += 1
                    number = held[participant.pk]
                rows.append(
                    Session(
                        participant=participant,
                        worker=b.by,
                        number=number,
                        outcome=details.outcome,
                        on=details.on,
                        duration_minutes=details.duration_minutes,
                        mode=details.mode,
                        place=details.place,
                        sections_covered=list(details.sections_covered),
                        goals_reviewed=details.goals_reviewed,
                        notes=details.notes,
                        risk_concern=bool(details.risk_concern.strip()),
                        recorded_by=b.by,
                    )
                )
        try:
            with transaction.atomic():
                recorded = record_creations(rows, by=[r.worker for r in rows], reason="session recorded")
        except IntegrityError:
            numbers: dict[str, list[str]] = {}
            for r in rows:
                if r.number is not None:
                    numbers.setdefault(r.participant.trial_id, []).append(str(r.number))
            clashes = "; ".join(
                f"Session {' and '.join(n)} for {trial_id}" for trial_id, n in numbers.items()
            )
            raise ValidationError(
                f"{clashes} was recorded by someone else at the same moment. "
                "Check the sessions already recorded."
            ) from None
        audited_changes(
            [
                (assignments[b.participant.pk], [{"next_session_on": d.next_session_on} for d in b.sessions])
                for b in batches
            ],
            by=[b.by for b in batches],
            reason="next session planned",
        )
        in_order = iter(recorded)
        done = []
        for b in batches:
            made = [next(in_order) for _ in b.sessions]
            for session, details in zip(made, b.sessions, strict=True):
                if session.risk_concern:
                    escalate_risk(session, protocol, details.risk_concern.strip(), by=b.by)
            done.append(made)
    return done


def _check_session(
    participant: Participant, details: SessionDetails, assignment: CaseloadAssignment, max_sessions: int
) -> None:
    errors: dict[str, str] = {}
    if details.outcome not in SessionOutcome.values:
        errors["outcome"] = "Select whether the session was held, missed or cancelled"
    if details.on < assignment.assigned_on:
        errors["on"] = (
            f"Date of the session must be on or after {assignment.assigned_on:%-d %b %Y}, when support began"
        )
    if details.outcome == SessionOutcome.HELD:
        if details.duration_minutes is None or not 1 <= details.duration_minutes <= 480:
            errors["duration_minutes"] = "Enter the duration of a held session, in minutes (1 to 480)"
        if details.mode not in SessionMode.values:
            errors["mode"] = "Select how a held session took place"
    known = set(load_workbook().section_codes)
    unknown = [s for s in details.sections_covered if s not in known]
    if unknown:
        errors["sections_covered"] = f"Unknown workbook sections: {', '.join(unknown)}"
    if details.next_session_on is not None and details.next_session_on < details.on:
        errors["next_session_on"] = "Next planned session must be after this session"
    if errors:
        raise ValidationError(errors)


def escalate_risk(session: Session, protocol: Protocol, concern: str, *, by: User) -> RiskEscalation:
    """Send the concern to the site's duty contact (the trial managers if it has none) and record it.

    A concern from a peer support worker reveals the arm, so it never goes to the masked crisis team:
    the duty contact is someone who may know the arm. The e-mail goes once the session is saved.
    """
    participant = session.participant
    site = participant.site
    if site.duty_contact_email:
        recipients = [site.duty_contact_email]
        escalated_to = f"{site.duty_contact_name} <{site.duty_contact_email}>"
    else:
        recipients = _trial_managers_emails()
        escalated_to = ", ".join(recipients)
    if not recipients:
        raise ValidationError(
            f"No duty contact is set for site {site.code} and no trial manager has an e-mail address: the "
            "risk concern cannot be escalated. Telephone the site's duty clinician now."
        )
    send_on_commit(
        [
            email(
                recipients,
                f"Risk concern about study participant {participant.trial_id}",
                f"A member of the {protocol.trial.short_name} study team raised a concern about the safety "
                f"of participant {participant.trial_id} ({site.name}) on {session.on:%-d %B %Y}.\n\n"
                f"Concern:\n{concern}\n\n"
                f"Raised by {by.display_name}"
                + (f" ({by.email})" if by.email else "")
                + ".\nPlease follow the study's procedure for risk concerns.",
                reference=participant.trial_id,
            )
        ]
    )
    return record_creation(
        RiskEscalation(
            session=session,
            participant=participant,
            concern=concern,
            escalated_to=Truncator(escalated_to).chars(ESCALATED_TO_WIDTH),
            sent_at=timezone.now(),
            raised_by=by,
        ),
        by=by,
        reason="risk concern escalated",
    )


def acknowledge_risk(
    actor: Actor, escalation: RiskEscalation, *, by: User, at: dt.datetime
) -> RiskEscalation:
    """Close a risk concern: someone who may know the arm has seen it and it is being dealt with."""
    if not actor.can(Capability.ACKNOWLEDGE_RISK):
        raise PermissionDenied
    if escalation.acknowledged_at is not None:
        raise ValidationError(
            f"This risk concern was already acknowledged by {escalation.acknowledged_by.display_name}"  # type: ignore[union-attr]
        )
    return audited_update(
        escalation, {"acknowledged_by": by, "acknowledged_at": at}, by=by, reason="risk concern acknowledged"
    )


def _trial_managers_emails() -> list[str]:
    return list(
        User.objects.filter(role_assignments__role=Role.TRIAL_MANAGER, is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
        .distinct()
    )


def record_contact_attempt(
    participant: Participant, *, by: User, on: dt.date, method: str, reached: bool, notes: str = ""
) -> ContactAttempt:
    return record_contact_attempts(
        [
            ContactAttempt(
                participant=participant, worker=by, on=on, method=method, reached=reached, notes=notes
            )
        ]
    )[0]


def record_contact_attempts(attempts: Sequence[ContactAttempt]) -> list[ContactAttempt]:
    """Attempts by peer support workers to reach participants on their own caseloads, all or none."""
    caseloads = set(
        CaseloadAssignment.objects.filter(participant__in={a.participant_id for a in attempts}).values_list(
            "participant_id", "worker_id"
        )
    )
    for attempt in attempts:
        if (attempt.participant_id, attempt.worker_id) not in caseloads:
            raise ValidationError(f"{attempt.participant.trial_id} is not on your caseload")
    return record_creations(attempts, by=[a.worker for a in attempts], reason="contact attempt recorded")


def record_supervision(
    worker: User, *, supervisor: User, on: dt.date, topics: str, concerns: str, by: User
) -> SupervisionRecord:
    if not RoleAssignment.objects.filter(user=worker, role=Role.PEER_SUPPORT_WORKER).exists():
        raise ValidationError({"worker": f"{worker.display_name} is not a peer support worker"})
    return record_creation(
        SupervisionRecord(
            worker=worker, supervisor=supervisor, on=on, topics=topics, concerns=concerns, recorded_by=by
        ),
        by=by,
        reason="supervision recorded",
    )
