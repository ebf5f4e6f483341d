"""Writes of follow-up data: questionnaire returns, the visit record they complete, contact attempts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from aftercrisis.accounts.models import User
from aftercrisis.accounts.policy import Actor, Capability
from aftercrisis.audit import audited_update, record_creation, record_creations
from aftercrisis.followup.instruments import Instrument, instrument, load_wording, with_wording
from aftercrisis.followup.models import ContactAttempt, QuestionnaireResponse, VisitOutcome, VisitRecord
from aftercrisis.followup.schedule import impossible_date, outside_window, window_of
from aftercrisis.followup.scoring import AnswerError, score
from aftercrisis.participants.models import Participant
from aftercrisis.protocol import Protocol
from aftercrisis.randomisation.models import Allocation
from aftercrisis.randomisation.selectors import refuse_unblinded_assessor, refuse_unblinded_assessors


@cache
def _wording(path: str) -> dict[str, dict[str, str]]:
    return load_wording(Path(path))


def instrument_for_entry(code: str) -> Instrument:
    """The shipped instrument, with the trial team's licensed wording when settings name a file."""
    path = getattr(settings, "INSTRUMENT_WORDING_FILE", "")
    shipped = instrument(code)
    return with_wording(shipped, _wording(str(path))) if path else shipped


def visit_instruments(protocol: Protocol, visit: str) -> list[str]:
    try:
        return list(protocol.visit(visit).instruments)
    except StopIteration:
        raise ValidationError({"visit": f"The protocol has no visit '{visit}'"}) from None


@dataclass(frozen=True)
class QuestionnaireReturn:
    """One instrument's answers at one visit, as enter_questionnaire takes them."""

    participant: Participant
    visit: str
    code: str
    answers: Mapping[str, int | None]
    method: str
    completed_on: dt.date
    by: User | None
    reason: str = ""
    outside_window_reason: str = ""


def enter_questionnaire(
    protocol: Protocol,
    participant: Participant,
    visit: str,
    code: str,
    answers: Mapping[str, int | None],
    *,
    method: str,
    completed_on: dt.date,
    by: User | None,
    reason: str = "",
    outside_window_reason: str = "",
) -> QuestionnaireResponse:
    """Score and store one instrument's answers; a change to a stored return needs a reason.

    A date outside the visit window is kept only with the reason it is right, given by someone
    who confirmed it; an impossible date is refused. When every instrument of the visit has a
    return, the visit is recorded as completed.
    """
    entry = QuestionnaireReturn(
        participant, visit, code, answers, method, completed_on, by, reason, outside_window_reason
    )
    return enter_questionnaires(protocol, [entry])[0]


@transaction.atomic
def enter_questionnaires(
    protocol: Protocol, returns: Sequence[QuestionnaireReturn]
) -> list[QuestionnaireResponse]:
    """enter_questionnaire for each return, all or none, with one query of each kind for the lot."""
    for r in returns:
        if r.code not in visit_instruments(protocol, r.visit):
            raise ValidationError({"instrument": f"The {r.visit} visit does not include {r.code}"})
    refuse_unblinded_assessors((r.participant, r.by.pk if r.by else None) for r in returns)
    participants = {r.participant.pk for r in returns}
    existing = {
        (q.participant_id, q.visit, q.instrument): q
        for q in QuestionnaireResponse.objects.filter(participant__in=participants)
    }
    randomised = dict(
        Allocation.objects.filter(participant__in=participants).values_list("participant_id", "randomised_on")
    )
    new: list[QuestionnaireResponse] = []
    responses: list[QuestionnaireResponse | None] = []
    for r in returns:
        stored = existing.get((r.participant.pk, r.visit, r.code))
        outside_window_reason = r.outside_window_reason.strip()
        if stored is not None and stored.completed_on == r.completed_on and not outside_window_reason:
            outside_window_reason = stored.outside_window_reason  # a correction of the answers only
        outside_window_reason = _check_completion_date(
            protocol,
            r.participant,
            randomised.get(r.participant.pk),
            r.visit,
            r.completed_on,
            outside_window_reason,
        )
        inst = instrument(r.code)
        try:
            result = score(inst, r.answers)
        except AnswerError as exc:
            raise ValidationError(exc.problems) from exc
        values = {
            "answers": {i.code: r.answers.get(i.code) for i in inst.items},
            "total": result.total,
            "prorated": result.prorated,
            "instrument_version": result.version,
            "method": r.method,
            "completed_on": r.completed_on,
            "outside_window_reason": outside_window_reason,
        }
        if stored is None:
            new.append(
                QuestionnaireResponse(
                    participant=r.participant, visit=r.visit, instrument=r.code, entered_by=r.by, **values
                )
            )
            responses.append(None)
        else:
            responses.append(audited_update(stored, values, by=r.by, reason=r.reason))
    created = iter(
        record_creations(
            new,
            by=[q.entered_by for q in new],
            reason=[f"{q.instrument} at {q.visit} ({q.method})" for q in new],
        )
    )
    _complete_visits_if_done(protocol, returns)
    return [response or next(created) for response in responses]


def _check_completion_date(
    protocol: Protocol,
    participant: Participant,
    randomised_on: dt.date | None,
    visit: str,
    completed_on: dt.date,
    outside_window_reason: str,
) -> str:
    """Refuse a date the questionnaire cannot have been completed on; return the reason to keep with a
    date outside the visit window (none for a date inside it), refusing such a date without one."""
    window = None if randomised_on is None else window_of(protocol, visit, randomised_on)
    problem = impossible_date(
        completed_on,
        "The date completed",
        today=timezone.localdate(),
        not_before=[
            (randomised_on if window else None, "randomisation"),
            (participant.referred_on, "the referral"),
        ],
    )
    if problem:
        raise ValidationError({"completed_on": problem})
    outside = None if window is None else outside_window(window, completed_on)
    if outside is None:
        return ""
    if not outside_window_reason:
        raise ValidationError(
            {
                "completed_on": f"{outside}: correct the date, or confirm it is outside the window "
                "and give the reason"
            }
        )
    return outside_window_reason


def _complete_visits_if_done(protocol: Protocol, returns: Sequence[QuestionnaireReturn]) -> None:
    """Record each visit completed that now has a return of every instrument, as the last return
    entered for it says (method, date, who): the one that completed it."""
    last = {(r.participant.pk, r.visit): r for r in returns}
    participants = {pk for pk, _ in last}
    done: dict[tuple[int, str], set[str]] = {}
    for pk, visit, code in QuestionnaireResponse.objects.filter(participant__in=participants).values_list(
        "participant_id", "visit", "instrument"
    ):
        done.setdefault((pk, visit), set()).add(code)
    recorded = set(
        VisitRecord.objects.filter(participant__in=participants).values_list("participant_id", "visit")
    )
    visits = [
        VisitRecord(
            participant=r.participant,
            visit=r.visit,
            outcome=VisitOutcome.COMPLETED,
            method=r.method,
            on=r.completed_on,
            recorded_by=r.by,
        )
        for key, r in last.items()
        if key not in recorded and set(visit_instruments(protocol, r.visit)) <= done.get(key, set())
    ]
    record_creations(
        visits, by=[v.recorded_by for v in visits], reason="every questionnaire of the visit returned"
    )


def log_contact(
    actor: Actor | None,
    participant: Participant,
    visit: str,
    *,
    channel: str,
    outcome: str,
    on: dt.date,
    note: str = "",
    by: User | None,
    automatic: bool = False,
) -> ContactAttempt:
    if actor is not None and not actor.can(Capability.ENTER_QUESTIONNAIRES):
        raise PermissionDenied
    refuse_unblinded_assessor(participant, by.pk if by else None)
    return record_creation(
        ContactAttempt(
            participant=participant,
            visit=visit,
            channel=channel,
            outcome=outcome,
            on=on,
            note=note,
            by=by,
            automatic=automatic,
        ),
        by=by,
        reason="contact attempt",
    )
