"""The demo's peer support: sessions from the simulator, workbook dispatches, entries and supervision."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from django.core import mail
from django.db import transaction
from django.db.models import prefetch_related_objects

from aftercrisis.audit import audited_update
from aftercrisis.demo.loader import Demo
from aftercrisis.intervention.dispatch import Dispatched, mark_posted, mark_returned, record_dispatches
from aftercrisis.intervention.models import CaseloadAssignment, ContactAttempt, DispatchMethod, SessionOutcome
from aftercrisis.intervention.services import (
    SessionDetails,
    WorkerSessions,
    record_caseload_sessions,
    record_contact_attempt,
    record_contact_attempts,
    record_session,
    record_supervision,
)
from aftercrisis.participants.models import Participant
from aftercrisis.workbook.content import EntryKey, load_workbook
from aftercrisis.workbook.services import save_workbooks

PLACES = ["Community centre", "Café near home", "Participant's home", "Library meeting room", "Team base"]
TOPICS = [
    "Caseload review and planning",
    "Boundaries and self-disclosure",
    "Working with hopelessness",
    "Using the workbook with people who find writing hard",
    "Endings: preparing for the last session",
    "Self-care and managing own wellbeing",
]
ANSWERS = {
    ("moving_on", "got_me_through"): ["My sister stayed with me.", "The crisis team visiting every day."],
    ("recovery", "meaning"): ["Getting back to a routine I can trust.", "Feeling like myself again."],
    ("recovery", "hope"): ["My children.", "Getting back to the allotment in spring."],
    ("staying_well", "every_day"): ["A walk before breakfast.", "Bed by eleven, phone off."],
}
GOALS = [
    ("Walk to the park three times a week", "Start with once, on Monday mornings"),
    ("Get back in touch with old friends", "Text one friend this week"),
    ("Look into a volunteering role", "Visit the volunteer centre"),
]
SIGNS = ["Not sleeping", "Skipping meals", "Staying in my room", "Racing thoughts"]


def extend(demo: Demo) -> None:
    # The demo's risk escalations are not real e-mails.
    with _quiet_mail():
        _sessions(demo)
        _open_windows(demo)
    _dispatches(demo)
    _workbooks(demo)
    _supervision(demo)


class _quiet_mail:
    """Send the demo's e-mails to memory, not the console."""

    def __enter__(self) -> None:
        from django.conf import settings

        self._backend = settings.EMAIL_BACKEND
        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

    def __exit__(self, *exc: object) -> None:
        from django.conf import settings

        settings.EMAIL_BACKEND = self._backend
        mail.outbox = []


def _date(value: object) -> dt.date:
    return pd.Timestamp(value).date()  # type: ignore[arg-type]


def _sessions(demo: Demo) -> None:
    rng = demo.rng
    codes = load_workbook().section_codes
    assignments = {
        a.participant_id: a for a in CaseloadAssignment.objects.select_related("worker", "participant__site")
    }
    attempted: list[ContactAttempt] = []
    recorded: list[WorkerSessions] = []
    for index, rows in demo.trial.sessions.groupby("participant", sort=True):
        participant = demo.participants.get(int(str(index)))
        if participant is None or participant.pk not in assignments:
            continue
        worker = assignments[participant.pk].worker
        held = list(rows.itertuples(index=False))
        first = _date(held[0].date)
        attempts = [(first - dt.timedelta(days=rng.randrange(1, 5)), "phone", True)]
        sessions = []
        for k, s in enumerate(held):
            on = _date(s.date)
            if on > demo.today:
                break
            if rng.random() < 0.12:  # a missed appointment before this session
                missed = on - dt.timedelta(days=rng.randrange(2, 7))
                if missed >= first:
                    sessions.append(SessionDetails(SessionOutcome.DID_NOT_ATTEND, missed))
                    attempts.append((missed, "text", rng.random() < 0.5))
            # Earlier sessions work through the workbook in order; later ones revisit it.
            start = min(k, len(codes) - 1)
            covered = tuple(codes[start : start + rng.choice([1, 1, 2])])
            following = held[k + 1] if k + 1 < len(held) else None
            sessions.append(
                SessionDetails(
                    outcome=SessionOutcome.HELD,
                    on=on,
                    duration_minutes=int(str(s.duration_minutes)),
                    mode=str(s.mode),
                    place=rng.choice(PLACES) if s.mode == "face_to_face" else "",
                    sections_covered=covered,
                    goals_reviewed=k >= 2 and rng.random() < 0.6,
                    notes="",
                    risk_concern="Said they had been thinking about ending their life; agreed to call the crisis line."
                    if rng.random() < 0.01
                    else "",
                    next_session_on=_date(following.date) if following is not None else None,
                )
            )
        attempted += [
            ContactAttempt(participant=participant, worker=worker, on=on, method=method, reached=reached)
            for on, method, reached in attempts
        ]
        recorded.append(WorkerSessions(participant, worker, sessions))
    with transaction.atomic():
        record_contact_attempts(attempted)
        record_caseload_sessions(demo.protocol, recorded)


def _open_windows(demo: Demo) -> None:
    """People randomised recently have had a few weekly sessions and have the next one booked."""
    rng = demo.rng
    simulated = {p.pk for p in demo.participants.values()}
    for assignment in CaseloadAssignment.objects.exclude(participant_id__in=simulated).select_related(
        "worker", "participant"
    ):
        on = assignment.assigned_on + dt.timedelta(days=rng.randrange(5, 12))
        number = 0
        with transaction.atomic():
            while on < demo.today and number < rng.randrange(0, 6):
                number += 1
                record_session(
                    assignment.participant,
                    demo.protocol,
                    SessionDetails(
                        outcome=SessionOutcome.HELD,
                        on=on,
                        duration_minutes=rng.randrange(40, 80),
                        mode="face_to_face",
                        place=rng.choice(PLACES),
                        sections_covered=(load_workbook().section_codes[number - 1],),
                    ),
                    by=assignment.worker,
                )
                on += dt.timedelta(days=7)
            record_contact_attempt(
                assignment.participant, by=assignment.worker, on=demo.today, method="phone", reached=True
            )
            assignment.refresh_from_db()
            audited_update(
                assignment,
                {"next_session_on": demo.today + dt.timedelta(days=rng.randrange(1, 8))},
                by=assignment.worker,
                reason="next session planned",
            )


def _dispatches(demo: Demo) -> None:
    """Control participants are posted the workbook; most intervention participants get it from their worker."""
    rng = demo.rng
    manager = demo.users["manager"]
    first_session = demo.trial.sessions.groupby("participant")["date"].min()
    prefetch_related_objects(list(demo.participants.values()), "allocation", "identity")
    handed: list[Dispatched] = []  # handed over or e-mailed
    posted: list[tuple[Dispatched, dt.date, dt.date | None]] = []  # with when posted and came back
    for index, participant in demo.participants.items():
        if index in first_session.index and rng.random() < 0.7:
            on = _date(first_session[index])
            if on <= demo.today:
                handed.append(Dispatched(participant, DispatchMethod.IN_PERSON, on, address_confirmed=True))
                continue
        method = DispatchMethod.EMAIL if rng.random() < 0.08 else DispatchMethod.POST
        queued = participant.allocation.randomised_on + dt.timedelta(days=rng.randrange(0, 3))
        dispatch = Dispatched(participant, method, queued, address_confirmed=rng.random() < 0.6)
        if method != DispatchMethod.POST:
            handed.append(dispatch)
            continue
        posted_on = queued + dt.timedelta(days=rng.randrange(1, 4))
        returned_on = posted_on + dt.timedelta(days=rng.randrange(5, 20)) if rng.random() < 0.04 else None
        posted.append((dispatch, posted_on, returned_on))
    with transaction.atomic():
        record_dispatches(handed, by=manager)
        # Each postal copy in its own print batch, posted a few days after it was queued.
        for dispatch, posted_on, returned_on in posted:
            (sent,) = record_dispatches([dispatch], by=manager)
            mark_posted([sent.pk], on=posted_on, by=manager)
            if returned_on is not None:
                sent.refresh_from_db()
                mark_returned(sent, on=returned_on, by=manager)
        # The recently randomised are in the postal queue, waiting for the next print batch.
        simulated = {p.pk for p in demo.participants.values()}
        waiting = (
            Participant.objects.filter(allocation__isnull=False)
            .exclude(pk__in=simulated)
            .select_related("allocation", "identity")
        )
        record_dispatches(
            [Dispatched(p, DispatchMethod.POST, demo.today, False) for p in waiting], by=manager
        )


def _workbooks(demo: Demo) -> None:
    """Many people who met their worker filled in some of the workbook."""
    rng = demo.rng
    started = demo.trial.sessions.groupby("participant").size()
    written: list[tuple[Participant, dict[EntryKey, str]]] = []
    for index, n in started.items():  # index: the simulator's participant number
        participant: Participant | None = demo.participants.get(int(str(index)))
        if participant is None or rng.random() > 0.7:
            continue
        answers: dict[EntryKey, str] = {}
        for (section, field), options in ANSWERS.items():
            if rng.random() < 0.8:
                answers[EntryKey(section, "", 0, field)] = rng.choice(options)
        randomised_on = participant.allocation.randomised_on
        for i, (goal, step) in enumerate(rng.sample(GOALS, k=min(int(n) // 3 + 1, len(GOALS)))):
            answers[EntryKey("goals", "goal", i, "goal")] = goal
            answers[EntryKey("goals", "goal", i, "steps")] = step
            review = randomised_on + dt.timedelta(days=rng.randrange(30, 120))
            answers[EntryKey("goals", "goal", i, "review_on")] = review.isoformat()
        for i, sign in enumerate(rng.sample(SIGNS, k=2)):
            answers[EntryKey("warning_signs", "sign", i, "sign")] = sign
        answers[EntryKey("support_network", "person", 0, "name")] = "GP surgery"
        answers[EntryKey("support_network", "person", 0, "contact")] = "01632 960000"
        written.append((participant, answers))
    save_workbooks(written, by=None, reason="written by the participant")


def _supervision(demo: Demo) -> None:
    """Monthly group supervision for each worker, from the first randomisation to today."""
    rng = demo.rng
    manager = demo.users["manager"]
    start = min(p.allocation.randomised_on for p in demo.participants.values())
    workers = [u for name, u in sorted(demo.users.items()) if name.startswith("psw.")]
    on = start + dt.timedelta(days=28)
    end = min(demo.today, start + dt.timedelta(days=600))
    while on <= end:
        for worker in workers:
            if rng.random() < 0.85:
                record_supervision(
                    worker,
                    supervisor=manager,
                    on=on,
                    topics=rng.choice(TOPICS),
                    concerns="Discussed a participant's risk; escalation procedure followed"
                    if rng.random() < 0.05
                    else "",
                    by=manager,
                )
        on += dt.timedelta(days=28)
