"""Writes to the participant registry. Every write is audited; edits need a reason."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from aftercrisis.accounts.models import Site, User
from aftercrisis.audit import audited_changes, audited_update, record_creations
from aftercrisis.participants.models import (
    Identity,
    Participant,
    SiteSequence,
    Status,
    normalise_nhs_number,
)
from aftercrisis.participants.trial_id import format_trial_id

IDENTITY_FIELDS = (
    "nhs_number",
    "given_name",
    "family_name",
    "date_of_birth",
    "address",
    "postcode",
    "phone",
    "email",
)
RESEARCH_FIELDS = ("sex", "ethnicity", "prior_admissions", "age_at_entry")

# Lifecycle moves that a service may make; randomisation has its own service.
TRANSITIONS: dict[str, set[str]] = {
    Status.REFERRED: {Status.SCREENED, Status.NOT_ENROLLED, Status.WITHDRAWN},
    Status.SCREENED: {Status.CONSENTED, Status.NOT_ENROLLED, Status.WITHDRAWN},
    Status.NOT_ENROLLED: set(),
    Status.CONSENTED: {Status.WITHDRAWN},
    Status.RANDOMISED: {Status.WITHDRAWN, Status.COMPLETED},
    Status.WITHDRAWN: set(),
    Status.COMPLETED: set(),
}


def age_on(date_of_birth: dt.date, day: dt.date) -> int:
    return day.year - date_of_birth.year - ((day.month, day.day) < (date_of_birth.month, date_of_birth.day))


@dataclass(frozen=True)
class Referral:
    """A new participant as referred: where, when, by whom, who they are and their research record."""

    site: Site
    referred_on: dt.date
    by: User | None
    identity: Mapping[str, Any]
    research: Mapping[str, Any] | None = None


def register_participant(
    *,
    site: Site,
    referred_on: dt.date,
    by: User | None,
    identity: Mapping[str, Any],
    research: Mapping[str, Any] | None = None,
) -> Participant:
    """A new participant at referral: a trial ID, research record and identity record."""
    return register_participants([Referral(site, referred_on, by, identity, research)])[0]


@transaction.atomic
def register_participants(referrals: Sequence[Referral]) -> list[Participant]:
    """register_participant for each referral, in order, all or none, with one query of each kind for
    the lot (and one lock of each site's trial ID sequence)."""
    identities = []
    for r in referrals:
        unknown = set(r.identity) - set(IDENTITY_FIELDS) | set(r.research or {}) - set(RESEARCH_FIELDS)
        if unknown:
            raise ValueError(f"unknown fields: {sorted(unknown)}")
        identities.append(
            {**r.identity, "nhs_number": normalise_nhs_number(r.identity.get("nhs_number", ""))}
        )
    numbers = [i["nhs_number"] for i in identities]
    if len(set(numbers)) < len(numbers) or Identity.objects.filter(nhs_number__in=numbers).exists():
        raise ValidationError({"nhs_number": "Someone with this NHS number is already in the trial"})
    trial_ids = _next_trial_ids([r.site for r in referrals])
    participants = []
    for r, identity, trial_id in zip(referrals, identities, trial_ids, strict=True):
        research = dict(r.research or {})
        if "age_at_entry" not in research and identity.get("date_of_birth"):
            research["age_at_entry"] = age_on(identity["date_of_birth"], r.referred_on)
        participants.append(
            Participant(
                trial_id=trial_id, site=r.site, referred_on=r.referred_on, referred_by=r.by, **research
            )
        )
    users = [r.by for r in referrals]
    record_creations(participants, by=users, reason="referred")
    record_creations(
        [Identity(participant=p, **i) for p, i in zip(participants, identities, strict=True)],
        by=users,
        reason="referred",
    )
    return participants


def _next_trial_ids(sites: Sequence[Site]) -> list[str]:
    """The next trial ID at each site, in order, taking each site's sequence under its lock once."""
    wanted = Counter(site.pk for site in sites)
    last = {}
    for site_id in sorted(wanted):  # always in the same order, so that concurrent registrations queue
        sequence, _ = SiteSequence.objects.select_for_update().get_or_create(site_id=site_id)
        last[site_id] = sequence.last_number
        sequence.last_number += wanted[site_id]
        sequence.save(update_fields=["last_number"])
    trial_ids = []
    for site in sites:
        last[site.pk] += 1
        trial_ids.append(format_trial_id(site.code, last[site.pk]))
    return trial_ids


def update_research_data(
    participant: Participant, changes: Mapping[str, Any], *, by: User, reason: str
) -> Participant:
    bad = set(changes) - set(RESEARCH_FIELDS)
    if bad:
        raise ValueError(f"not research fields: {sorted(bad)}")
    return audited_update(participant, changes, by=by, reason=reason)


def update_identity(
    participant: Participant, changes: Mapping[str, Any], *, by: User, reason: str
) -> Identity:
    bad = set(changes) - set(IDENTITY_FIELDS)
    if bad:
        raise ValueError(f"not identity fields: {sorted(bad)}")
    if "nhs_number" in changes:
        changes = {**changes, "nhs_number": normalise_nhs_number(changes["nhs_number"])}
    clash = Identity.objects.filter(nhs_number=changes.get("nhs_number")).exclude(participant=participant)
    if "nhs_number" in changes and clash.exists():
        raise ValidationError({"nhs_number": "Someone else in the trial has this NHS number"})
    return audited_update(participant.identity, changes, by=by, reason=reason)


def move_to(participant: Participant, status: str, *, by: User, reason: str) -> Participant:
    return move_all([(participant, status)], by=by, reason=reason)[0]


def move_all(
    moves: Sequence[tuple[Participant, str]], *, by: User | Sequence[User], reason: str
) -> list[Participant]:
    """move_to for each participant, all or none, written together."""
    for participant, status in moves:
        if status not in TRANSITIONS[participant.status]:
            raise ValidationError(
                {
                    "status": f"{participant.trial_id} cannot go from {participant.get_status_display().lower()} to {status}"
                }
            )
    return audited_changes([(p, [{"status": status}]) for p, status in moves], by=by, reason=reason)
