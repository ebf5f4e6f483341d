"""Writes of the screening log and consent. Every write is audited and changes nothing on bad input."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from aftercrisis.accounts.models import Site, User
from aftercrisis.accounts.policy import Actor, Capability
from aftercrisis.audit import audited_update, record_creation, record_creations
from aftercrisis.participants.models import Participant, Status
from aftercrisis.protocol import Protocol
from aftercrisis.recruitment.eligibility import EligibilityError, assess
from aftercrisis.recruitment.models import (
    AnonymousScreenFailure,
    ConsentRecord,
    DeclineReason,
    NotApproachedReason,
    Screening,
    ScreeningOutcome,
)

REASONS: dict[str, list[str]] = {
    ScreeningOutcome.NOT_APPROACHED: list(NotApproachedReason.values),
    ScreeningOutcome.DECLINED: list(DeclineReason.values),
}


def _check_reason(protocol: Protocol, outcome: str, reason: str, eligible_reasons: tuple[str, ...]) -> str:
    if outcome == ScreeningOutcome.ELIGIBLE:
        return ""
    if outcome == ScreeningOutcome.NOT_ELIGIBLE:
        codes = [c.code for c in protocol.eligibility.inclusion + protocol.eligibility.exclusion]
        allowed = list(eligible_reasons) or codes
    else:
        allowed = REASONS.get(outcome, [])
    if not allowed:
        raise ValidationError({"outcome": f"{outcome!r} is not a screening outcome"})
    if reason not in allowed:
        raise ValidationError({"reason": f"Choose a reason for '{outcome}' from: {', '.join(allowed)}"})
    return reason


@transaction.atomic
def record_screening(
    actor: Actor,
    participant: Participant,
    protocol: Protocol,
    *,
    answers: Mapping[str, bool],
    on: dt.date,
    by: User,
    outcome: str | None = None,
    reason: str = "",
) -> Screening:
    """Screen a referred participant on every criterion.

    An eligible person is screened (and awaits consent) unless `outcome` says they were not
    approached or declined, with a coded reason. An ineligible person is not eligible whatever
    `outcome` says; the reason is the first criterion they fail, unless another failing one is named.
    """
    if not actor.can(Capability.EDIT_PARTICIPANTS):
        raise PermissionDenied
    locked = Participant.objects.select_for_update().get(pk=participant.pk)
    if locked.status != Status.REFERRED or Screening.objects.filter(participant=locked).exists():
        raise ValidationError({"status": f"{locked.trial_id} has already been screened"})
    try:
        assessment = assess(protocol.eligibility, answers)
    except EligibilityError as exc:
        raise ValidationError({"answers": str(exc)}) from exc
    if on < locked.referred_on:
        raise ValidationError({"screened_on": "Date screened cannot be before the date of referral"})
    if not assessment.eligible:
        # What happened after an eligible screening does not apply: the reason is a failed criterion.
        outcome = ScreeningOutcome.NOT_ELIGIBLE
        reason = reason if reason in assessment.reasons else assessment.reasons[0]
    outcome = outcome or ScreeningOutcome.ELIGIBLE
    reason = _check_reason(protocol, outcome, reason, assessment.reasons)
    screening = record_creation(
        Screening(
            participant=locked,
            screened_on=on,
            screened_by=by,
            answers=assessment.answers,
            outcome=outcome,
            reason=reason,
        ),
        by=by,
        reason="screened",
    )
    status = Status.SCREENED if outcome == ScreeningOutcome.ELIGIBLE else Status.NOT_ENROLLED
    audited_update(locked, {"status": status}, by=by, reason=f"screened: {outcome.replace('_', ' ')}")
    participant.refresh_from_db(fields=["status"])
    return screening


@transaction.atomic
def record_decline(actor: Actor, participant: Participant, *, reason: str, by: User) -> Screening:
    """An eligible person, screened earlier, who declines when asked to consent."""
    if not actor.can(Capability.EDIT_PARTICIPANTS):
        raise PermissionDenied
    locked = Participant.objects.select_for_update().get(pk=participant.pk)
    screening: Screening | None = Screening.objects.filter(participant=locked).first()
    if screening is None or locked.status != Status.SCREENED:
        raise ValidationError({"status": f"{locked.trial_id} is not awaiting consent"})
    if reason not in DeclineReason.values:
        raise ValidationError({"reason": f"Choose a reason from: {', '.join(DeclineReason.values)}"})
    audited_update(
        screening, {"outcome": ScreeningOutcome.DECLINED, "reason": reason}, by=by, reason="declined"
    )
    audited_update(locked, {"status": Status.NOT_ENROLLED}, by=by, reason="declined to take part")
    participant.refresh_from_db(fields=["status"])
    return screening


def record_anonymous_screen_failures(
    actor: Actor,
    protocol: Protocol,
    *,
    site: Site,
    on: dt.date,
    outcome: str,
    reason: str,
    count: int,
    by: User,
) -> AnonymousScreenFailure:
    """People screened from the caseload but not referred: a count with a reason, no identity."""
    return record_screen_failure_counts(
        actor, protocol, [ScreenFailureCount(site, on, outcome, reason, count)], by=by
    )[0]


@dataclass(frozen=True)
class ScreenFailureCount:
    """People screened at a site on a day, not referred, with the same outcome and reason."""

    site: Site
    on: dt.date
    outcome: str
    reason: str
    count: int


def record_screen_failure_counts(
    actor: Actor, protocol: Protocol, counts: Sequence[ScreenFailureCount], *, by: User
) -> list[AnonymousScreenFailure]:
    """record_anonymous_screen_failures for each count, all or none, written together."""
    rows = []
    for c in counts:
        if not actor.can(Capability.EDIT_PARTICIPANTS) or not actor.covers_site(c.site.pk):
            raise PermissionDenied
        if c.outcome == ScreeningOutcome.ELIGIBLE:
            raise ValidationError(
                {"outcome": "Eligible people who agree are referred, not counted anonymously"}
            )
        reason = _check_reason(protocol, c.outcome, c.reason, ())
        rows.append(
            AnonymousScreenFailure(
                site=c.site, screened_on=c.on, outcome=c.outcome, reason=reason, count=c.count, recorded_by=by
            )
        )
    return record_creations(rows, by=by, reason="screened without referral")


@transaction.atomic
def record_consent(
    actor: Actor,
    participant: Participant,
    protocol: Protocol,
    *,
    items: Mapping[str, bool],
    capacity_confirmed: bool,
    on: dt.date,
    by: User,
) -> ConsentRecord:
    """Consent on the protocol's current form; again (re-consent) when the version has changed."""
    if not actor.can(Capability.EDIT_PARTICIPANTS):
        raise PermissionDenied
    locked = Participant.objects.select_for_update().get(pk=participant.pk)
    form = protocol.consent
    first = locked.status == Status.SCREENED
    if not first and locked.status not in (Status.CONSENTED, Status.RANDOMISED):
        raise ValidationError(
            {"status": f"{locked.trial_id} cannot consent: status is {locked.get_status_display().lower()}"}
        )
    if ConsentRecord.objects.filter(participant=locked, version=form.version).exists():
        raise ValidationError(
            {"version": f"{locked.trial_id} has already consented on version {form.version}"}
        )
    codes = [i.code for i in form.items]
    unknown = sorted(set(items) - set(codes))
    if unknown:
        raise ValidationError({unknown[0]: f"{unknown[0]} is not an item of consent form {form.version}"})
    if not capacity_confirmed:
        raise ValidationError({"capacity_confirmed": "Confirm that the person has capacity to consent"})
    refused = [i.code for i in form.items if i.required and not items.get(i.code, False)]
    if refused:
        raise ValidationError(
            {
                refused[
                    0
                ]: "This item is required to take part; if the person does not agree, record that they declined"
            }
        )
    screened = getattr(locked, "screening", None)
    if screened is not None and on < screened.screened_on:
        raise ValidationError({"taken_on": "Date of consent cannot be before the date screened"})
    consent = record_creation(
        ConsentRecord(
            participant=locked,
            version=form.version,
            items={code: bool(items.get(code, False)) for code in codes},
            capacity_confirmed=True,
            taken_on=on,
            taken_by=by,
        ),
        by=by,
        reason="consent taken" if first else f"re-consent on version {form.version}",
    )
    if first:
        audited_update(locked, {"status": Status.CONSENTED}, by=by, reason="consent taken")
        participant.refresh_from_db(fields=["status"])
    return consent
