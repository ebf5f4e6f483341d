"""Writes of the screening log and consent. Every write is audited and changes nothing on bad input."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from aftercrisis.accounts.models import Site, User
from aftercrisis.accounts.policy import Actor, Capability
from aftercrisis.audit import audited_changes, audited_update, record_creations
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
    return record_screenings(protocol, [Screened(actor, participant, answers, on, by, outcome, reason)])[0]


@dataclass(frozen=True)
class Screened:
    """One screening as record_screening takes it, with who screened."""

    actor: Actor
    participant: Participant
    answers: Mapping[str, bool]
    on: dt.date
    by: User
    outcome: str | None = None
    reason: str = ""


@transaction.atomic
def record_screenings(protocol: Protocol, screenings: Sequence[Screened]) -> list[Screening]:
    """record_screening for each, all or none, with one query of each kind for the lot."""
    if not all(s.actor.can(Capability.EDIT_PARTICIPANTS) for s in screenings):
        raise PermissionDenied
    locked = Participant.objects.select_for_update().in_bulk([s.participant.pk for s in screenings])
    done = set(Screening.objects.filter(participant__in=locked).values_list("participant_id", flat=True))
    rows = []
    for s in screenings:
        participant = locked[s.participant.pk]
        if participant.status != Status.REFERRED or participant.pk in done:
            raise ValidationError({"status": f"{participant.trial_id} has already been screened"})
        done.add(participant.pk)
        try:
            assessment = assess(protocol.eligibility, s.answers)
        except EligibilityError as exc:
            raise ValidationError({"answers": str(exc)}) from exc
        if s.on < participant.referred_on:
            raise ValidationError({"screened_on": "Date screened cannot be before the date of referral"})
        outcome, reason = s.outcome, s.reason
        if not assessment.eligible:
            # What happened after an eligible screening does not apply: the reason is a failed criterion.
            outcome = ScreeningOutcome.NOT_ELIGIBLE
            reason = reason if reason in assessment.reasons else assessment.reasons[0]
        outcome = outcome or ScreeningOutcome.ELIGIBLE
        reason = _check_reason(protocol, outcome, reason, assessment.reasons)
        rows.append(
            Screening(
                participant=participant,
                screened_on=s.on,
                screened_by=s.by,
                answers=assessment.answers,
                outcome=outcome,
                reason=reason,
            )
        )
    recorded = record_creations(rows, by=[s.by for s in screenings], reason="screened")
    eligible = [r.outcome == ScreeningOutcome.ELIGIBLE for r in recorded]
    audited_changes(
        [
            (locked[s.participant.pk], [{"status": Status.SCREENED if e else Status.NOT_ENROLLED}])
            for s, e in zip(screenings, eligible, strict=True)
        ],
        by=[s.by for s in screenings],
        reason=[f"screened: {r.outcome.replace('_', ' ')}" for r in recorded],
    )
    for s in screenings:
        s.participant.status = locked[s.participant.pk].status
    return recorded


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
    return record_consents(protocol, [Consented(actor, participant, items, capacity_confirmed, on, by)])[0]


@dataclass(frozen=True)
class Consented:
    """One consent as record_consent takes it, with who took it."""

    actor: Actor
    participant: Participant
    items: Mapping[str, bool]
    capacity_confirmed: bool
    on: dt.date
    by: User


@transaction.atomic
def record_consents(protocol: Protocol, consents: Sequence[Consented]) -> list[ConsentRecord]:
    """record_consent for each, all or none, with one query of each kind for the lot."""
    if not all(c.actor.can(Capability.EDIT_PARTICIPANTS) for c in consents):
        raise PermissionDenied
    locked = Participant.objects.select_for_update().in_bulk([c.participant.pk for c in consents])
    form = protocol.consent
    done = set(
        ConsentRecord.objects.filter(participant__in=locked, version=form.version).values_list(
            "participant_id", flat=True
        )
    )
    screened = dict(
        Screening.objects.filter(participant__in=locked).values_list("participant_id", "screened_on")
    )
    codes = [i.code for i in form.items]
    rows = []
    for c in consents:
        participant = locked[c.participant.pk]
        first = participant.status == Status.SCREENED
        if not first and participant.status not in (Status.CONSENTED, Status.RANDOMISED):
            raise ValidationError(
                {
                    "status": f"{participant.trial_id} cannot consent: status is "
                    f"{participant.get_status_display().lower()}"
                }
            )
        if participant.pk in done:
            raise ValidationError(
                {"version": f"{participant.trial_id} has already consented on version {form.version}"}
            )
        done.add(participant.pk)
        unknown = sorted(set(c.items) - set(codes))
        if unknown:
            raise ValidationError({unknown[0]: f"{unknown[0]} is not an item of consent form {form.version}"})
        if not c.capacity_confirmed:
            raise ValidationError({"capacity_confirmed": "Confirm that the person has capacity to consent"})
        refused = [i.code for i in form.items if i.required and not c.items.get(i.code, False)]
        if refused:
            raise ValidationError(
                {
                    refused[
                        0
                    ]: "This item is required to take part; if the person does not agree, record that they declined"
                }
            )
        screened_on = screened.get(participant.pk)
        if screened_on is not None and c.on < screened_on:
            raise ValidationError({"taken_on": "Date of consent cannot be before the date screened"})
        rows.append(
            ConsentRecord(
                participant=participant,
                version=form.version,
                items={code: bool(c.items.get(code, False)) for code in codes},
                capacity_confirmed=True,
                taken_on=c.on,
                taken_by=c.by,
            )
        )
    firsts = [locked[c.participant.pk].status == Status.SCREENED for c in consents]
    recorded = record_creations(
        rows,
        by=[c.by for c in consents],
        reason=["consent taken" if first else f"re-consent on version {form.version}" for first in firsts],
    )
    first = [c for c, f in zip(consents, firsts, strict=True) if f]
    audited_changes(
        [(locked[c.participant.pk], [{"status": Status.CONSENTED}]) for c in first],
        by=[c.by for c in first],
        reason="consent taken",
    )
    for c in first:
        c.participant.status = locked[c.participant.pk].status
    return recorded
