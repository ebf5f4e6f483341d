"""Writes to the participant registry. Every write is audited; edits need a reason."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from aftercrisis.accounts.models import Site, User
from aftercrisis.audit import audited_update, record_creation
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


def _next_trial_id(site: Site) -> str:
    sequence, _ = SiteSequence.objects.select_for_update().get_or_create(site=site)
    sequence.last_number += 1
    sequence.save(update_fields=["last_number"])
    return format_trial_id(site.code, sequence.last_number)


@transaction.atomic
def register_participant(
    *,
    site: Site,
    referred_on: dt.date,
    by: User | None,
    identity: Mapping[str, Any],
    research: Mapping[str, Any] | None = None,
) -> Participant:
    """A new participant at referral: a trial ID, research record and identity record."""
    unknown = set(identity) - set(IDENTITY_FIELDS) | set(research or {}) - set(RESEARCH_FIELDS)
    if unknown:
        raise ValueError(f"unknown fields: {sorted(unknown)}")
    identity = {**identity, "nhs_number": normalise_nhs_number(identity.get("nhs_number", ""))}
    if Identity.objects.filter(nhs_number=identity["nhs_number"]).exists():
        raise ValidationError({"nhs_number": "Someone with this NHS number is already in the trial"})
    research = dict(research or {})
    if "age_at_entry" not in research and identity.get("date_of_birth"):
        research["age_at_entry"] = age_on(identity["date_of_birth"], referred_on)
    participant = Participant(
        trial_id=_next_trial_id(site), site=site, referred_on=referred_on, referred_by=by, **research
    )
    record_creation(participant, by=by, reason="referred")
    record_creation(Identity(participant=participant, **identity), by=by, reason="referred")
    return participant


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
    if status not in TRANSITIONS[participant.status]:
        raise ValidationError(
            {
                "status": f"{participant.trial_id} cannot go from {participant.get_status_display().lower()} to {status}"
            }
        )
    return audited_update(participant, {"status": status}, by=by, reason=reason)
