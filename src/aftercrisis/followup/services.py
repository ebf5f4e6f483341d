"""Writes of follow-up data: questionnaire returns, the visit record they complete, contact attempts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from functools import cache
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from aftercrisis.accounts.models import User
from aftercrisis.accounts.policy import Actor, Capability
from aftercrisis.audit import audited_update, record_creation
from aftercrisis.followup.instruments import Instrument, instrument, load_wording, with_wording
from aftercrisis.followup.models import ContactAttempt, QuestionnaireResponse, VisitOutcome, VisitRecord
from aftercrisis.followup.schedule import impossible_date, outside_window, window_of
from aftercrisis.followup.scoring import AnswerError, score
from aftercrisis.participants.models import Participant
from aftercrisis.protocol import Protocol
from aftercrisis.randomisation.models import Allocation
from aftercrisis.randomisation.selectors import refuse_unblinded_assessor


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


@transaction.atomic
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
    if code not in visit_instruments(protocol, visit):
        raise ValidationError({"instrument": f"The {visit} visit does not include {code}"})
    refuse_unblinded_assessor(participant, by.pk if by else None)
    existing = QuestionnaireResponse.objects.filter(
        participant=participant, visit=visit, instrument=code
    ).first()
    if existing is not None and existing.completed_on == completed_on and not outside_window_reason.strip():
        outside_window_reason = existing.outside_window_reason  # a correction of the answers only
    outside_window_reason = _check_completion_date(
        protocol, participant, visit, completed_on, outside_window_reason.strip()
    )
    inst = instrument(code)
    try:
        result = score(inst, answers)
    except AnswerError as exc:
        raise ValidationError(exc.problems) from exc
    values = {
        "answers": {i.code: answers.get(i.code) for i in inst.items},
        "total": result.total,
        "prorated": result.prorated,
        "instrument_version": result.version,
        "method": method,
        "completed_on": completed_on,
        "outside_window_reason": outside_window_reason,
    }
    if existing is None:
        response = record_creation(
            QuestionnaireResponse(
                participant=participant, visit=visit, instrument=code, entered_by=by, **values
            ),
            by=by,
            reason=f"{code} at {visit} ({method})",
        )
    else:
        response = audited_update(existing, values, by=by, reason=reason)
    _complete_visit_if_done(protocol, participant, visit, method=method, on=completed_on, by=by)
    return response


def _check_completion_date(
    protocol: Protocol,
    participant: Participant,
    visit: str,
    completed_on: dt.date,
    outside_window_reason: str,
) -> str:
    """Refuse a date the questionnaire cannot have been completed on; return the reason to keep with a
    date outside the visit window (none for a date inside it), refusing such a date without one."""
    randomised_on = (
        Allocation.objects.filter(participant=participant).values_list("randomised_on", flat=True).first()
    )
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


def _complete_visit_if_done(
    protocol: Protocol, participant: Participant, visit: str, *, method: str, on: dt.date, by: User | None
) -> None:
    done = set(
        QuestionnaireResponse.objects.filter(participant=participant, visit=visit).values_list(
            "instrument", flat=True
        )
    )
    if not set(visit_instruments(protocol, visit)) <= done:
        return
    if VisitRecord.objects.filter(participant=participant, visit=visit).exists():
        return
    record_creation(
        VisitRecord(
            participant=participant,
            visit=visit,
            outcome=VisitOutcome.COMPLETED,
            method=method,
            on=on,
            recorded_by=by,
        ),
        by=by,
        reason="every questionnaire of the visit returned",
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
