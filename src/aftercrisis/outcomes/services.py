"""Writes of acute-care episodes, reconciliation decisions, deaths and serious adverse events."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from aftercrisis.accounts.models import User
from aftercrisis.accounts.policy import Actor, Capability
from aftercrisis.accounts.roles import Role
from aftercrisis.audit import audited_update, record_creation, record_creations
from aftercrisis.followup.schedule import impossible_date, shown
from aftercrisis.notifications import email, send_on_commit
from aftercrisis.outcomes.models import (
    AcuteCareEpisode,
    Decision,
    EpisodeReconciliation,
    SaeCategory,
    SeriousAdverseEvent,
    Seriousness,
    suspected_reaction,
)
from aftercrisis.participants.models import Death, Identity, Participant
from aftercrisis.protocol import Protocol
from aftercrisis.randomisation.models import Allocation


@dataclass(frozen=True)
class EpisodeDraft:
    """An episode as entered or imported, before it is written; `where` names its row or resource."""

    participant: Participant
    setting: str
    start: dt.date
    end: dt.date | None
    admission_type: str
    source: str
    source_reference: str
    where: str
    # Given, with a confirmation, on the participant's page only: an import cannot confirm anything.
    before_randomisation_reason: str = ""


def quoted(value: object, limit: int = 40) -> str:
    """A value as a problem quotes it: a hostile file's 100,000-character cell is not echoed whole."""
    text = str(value)
    return f"'{text}'" if len(text) <= limit else f"'{text[:limit]}…'"


def setting_problem(protocol: Protocol, setting: str, where: str) -> str | None:
    if setting in protocol.setting_codes:
        return None
    return f"{where}: setting: {quoted(setting)} is not one of {', '.join(protocol.setting_codes)}"


def episode_problems(
    protocol: Protocol,
    draft: EpisodeDraft,
    today: dt.date,
    randomised: Mapping[int, dt.date],
    born: Mapping[int, dt.date],
) -> list[str]:
    """Every problem of one draft, each naming its row or resource and the field.

    `randomised` and `born` give each participant's date of randomisation and of birth.
    """
    problems = []
    if problem := setting_problem(protocol, draft.setting, draft.where):
        problems.append(problem)
    if draft.end is not None and draft.end < draft.start:
        problems.append(f"{draft.where}: end: the end date is before the start date")
    person = draft.participant.pk
    for name, day in (("start", draft.start), ("end", draft.end)):
        if day is None:
            continue
        impossible = impossible_date(
            day, f"the {name} date", today=today, not_before=[(born.get(person), "the date of birth")]
        )
        if impossible:
            problems.append(f"{draft.where}: {name}: {impossible}")
    if (
        person in randomised
        and draft.start < randomised[person]
        and not draft.before_randomisation_reason.strip()
    ):
        problems.append(
            f"{draft.where}: start: {shown(draft.start)} is before randomisation ({shown(randomised[person])}); "
            "such an episode is recorded only on the participant's page, confirmed, with the reason"
        )
    if draft.participant.pk not in randomised:
        problems.append(f"{draft.where}: participant: {draft.participant.trial_id} has not been randomised")
    return problems


def record_episodes(
    actor: Actor,
    protocol: Protocol,
    drafts: Sequence[EpisodeDraft],
    *,
    by: User,
    today: dt.date,
    known_problems: Sequence[str] = (),
) -> list[AcuteCareEpisode]:
    """Write every draft or none: any problem in any draft (or already found while parsing) refuses them all."""
    if not actor.can(Capability.RECORD_EPISODES):
        raise PermissionDenied
    people = {d.participant.pk for d in drafts}
    randomised = dict(
        Allocation.objects.filter(participant__in=people).values_list("participant_id", "randomised_on")
    )
    born = dict(
        Identity.objects.filter(participant__in=people).values_list("participant_id", "date_of_birth")
    )
    problems = [
        *known_problems,
        *(p for draft in drafts for p in episode_problems(protocol, draft, today, randomised, born)),
    ]
    references = [d.source_reference for d in drafts if d.source_reference]
    already = set(
        AcuteCareEpisode.objects.filter(source_reference__in=references).values_list(
            "source_reference", flat=True
        )
    )
    seen: set[str] = set()
    for draft in drafts:
        if draft.source_reference in already or draft.source_reference in seen:
            problems.append(f"{draft.where}: {draft.source_reference} has already been imported")
        if draft.source_reference:
            seen.add(draft.source_reference)
    if problems:
        raise ValidationError(problems)
    return record_creations(
        [
            AcuteCareEpisode(
                participant=d.participant,
                setting=d.setting,
                start=d.start,
                end=d.end,
                admission_type=d.admission_type,
                source=d.source,
                source_reference=d.source_reference,
                before_randomisation_reason=d.before_randomisation_reason.strip()
                if d.start < randomised[d.participant.pk]
                else "",
                recorded_by=by,
            )
            for d in drafts
        ],
        by=by,
        reason=["episode imported" if d.source_reference else "episode entered" for d in drafts],
    )


@transaction.atomic
def reconcile(
    first: AcuteCareEpisode,
    second: AcuteCareEpisode,
    decision: str,
    *,
    kept: AcuteCareEpisode | None,
    by: User,
    reason: str,
) -> EpisodeReconciliation:
    """Record a decision on two overlapping episodes; 'same' supersedes the record not kept."""
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "Give a reason for the decision"})
    if first.participant_id != second.participant_id:
        raise ValidationError("The two episodes belong to different participants")
    if first.pk > second.pk:
        first, second = second, first
    if decision == Decision.SAME:
        if kept is None or kept.pk not in (first.pk, second.pk):
            raise ValidationError({"kept": "Select which record to keep"})
        dropped = second if kept.pk == first.pk else first
        audited_update(dropped, {"superseded_by": kept}, by=by, reason=reason)
    elif decision == Decision.DISTINCT:
        kept = None
    else:
        raise ValidationError({"decision": "Select a decision"})
    return record_creation(
        EpisodeReconciliation(
            first=first, second=second, decision=decision, kept=kept, reason=reason, decided_by=by
        ),
        by=by,
        reason=reason,
    )


def record_death(
    actor: Actor, participant: Participant, *, died_on: dt.date, cause: str, by: User, today: dt.date
) -> Death:
    """Record a death and open its serious adverse event report for review."""
    if not actor.can(Capability.REPORT_SAFETY):
        raise PermissionDenied
    # Alive when referred, so a date of death cannot precede the referral (nor, then, the birth).
    impossible = impossible_date(
        died_on, "The date of death", today=today, not_before=[(participant.referred_on, "the referral")]
    )
    if impossible:
        raise ValidationError({"died_on": impossible})
    if Death.objects.filter(participant=participant).exists():
        raise ValidationError({"died_on": f"A death is already recorded for {participant.trial_id}"})
    with transaction.atomic():
        death = record_creation(
            Death(participant=participant, died_on=died_on, cause=cause, recorded_by=by),
            by=by,
            reason="death reported",
        )
        record_creation(
            SeriousAdverseEvent(
                participant=participant,
                category=SaeCategory.DEATH,
                onset=died_on,
                description=f"Death ({death.get_cause_display().lower()}), recorded on {today.isoformat()}.",
                seriousness=Seriousness.DEATH,
                relatedness="not_related",
                expectedness="expected",
                reported_by=by,
                reported_on=today,
            ),
            by=by,
            reason="opened by the death report; relatedness and expectedness to be reviewed",
        )
    return death


def report_sae(
    actor: Actor, protocol: Protocol, sae: SeriousAdverseEvent, *, by: User
) -> SeriousAdverseEvent:
    """Record a reported event; a SUSAR is marked as notified in the same version and told of after commit."""
    if not actor.can(Capability.REPORT_SAFETY):
        raise PermissionDenied
    if sae.onset > sae.reported_on:
        raise ValidationError({"onset": "The date of onset is after the date reported"})
    sae.reported_by = by
    recipients = _susar_recipients(protocol, sae.is_susar and sae.susar_notified_at is None)
    if recipients:
        sae.susar_notified_at = timezone.now()
    with transaction.atomic():
        record_creation(sae, by=by, reason="serious adverse event reported")
        _tell_of_susar(protocol, sae, recipients)
    return sae


def sign_off_sae(
    actor: Actor,
    protocol: Protocol,
    sae: SeriousAdverseEvent,
    changes: dict[str, object],
    *,
    by: User,
    on: dt.date,
    reason: str,
) -> SeriousAdverseEvent:
    """The chief investigator's review: any corrected assessment, notes, and the sign-off.

    A review that finds the event related and unexpected makes it a SUSAR, told of as one at sign-off.
    """
    if not actor.can(Capability.REVIEW_SAE):
        raise PermissionDenied
    if sae.signed_off_on is not None:
        raise ValidationError("This event has already been signed off")
    now_susar = suspected_reaction(
        str(changes.get("relatedness", sae.relatedness)), str(changes.get("expectedness", sae.expectedness))
    )
    recipients = _susar_recipients(protocol, now_susar and sae.susar_notified_at is None)
    marked = {"susar_notified_at": timezone.now()} if recipients else {}
    with transaction.atomic():
        audited_update(
            sae, {**changes, **marked, "signed_off_by": by, "signed_off_on": on}, by=by, reason=reason
        )
        _tell_of_susar(protocol, sae, recipients)
    return sae


def _susar_recipients(protocol: Protocol, untold_susar: bool) -> list[str]:
    """Who is to be told of an event as a SUSAR now: nobody unless it is one not yet told of; then the
    chief investigators with an e-mail address and the protocol's sponsor address. With none, the event
    is recorded all the same, flagged on the safety page."""
    if not untold_susar:
        return []
    chiefs = (
        User.objects.filter(role_assignments__role=Role.CHIEF_INVESTIGATOR, is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
        .distinct()
    )
    sponsor = protocol.safety.sponsor_email
    return sorted({*chiefs, *([sponsor] if sponsor else [])})


def _tell_of_susar(protocol: Protocol, sae: SeriousAdverseEvent, recipients: list[str]) -> None:
    """The e-mail, once the event is saved, with no arm: a chief investigator is masked, and it names
    only what the pooled safety listing shows. The version that marks it notified is saved with it, so
    a second save or review never sends it again."""
    if not recipients:
        return
    send_on_commit(
        [
            email(
                recipients,
                f"{protocol.trial.short_name}: suspected unexpected serious adverse reaction (event {sae.pk})",
                f"A serious adverse event in the {protocol.trial.short_name} study was assessed as related "
                f"to the study and unexpected: a suspected unexpected serious adverse reaction.\n\n"
                f"Event: {sae.pk}\nParticipant: {sae.participant.trial_id}\n"
                f"Category: {sae.get_category_display()}\nSeriousness: {sae.get_seriousness_display()}\n"
                f"Relatedness: {sae.get_relatedness_display()}\nDate of onset: {sae.onset:%-d %B %Y}\n"
                f"Reported on {sae.reported_on:%-d %B %Y} by {sae.reported_by.display_name}.\n\n"
                f"Review it within {protocol.safety.review_days} days on the study's safety page.",
                reference=sae.participant.trial_id,
            )
        ]
    )
