"""Reads of the registry, scoped by the actor's role and sites. Masking lives here."""

from __future__ import annotations

import datetime as dt
from typing import TypedDict

from django.db.models import Count, F, Q, QuerySet
from django.http import Http404
from django_stubs_ext import WithAnnotations

from aftercrisis.accounts.policy import Actor, Capability
from aftercrisis.participants.models import Identity, Participant, normalise_nhs_number


def participants_for(actor: Actor) -> QuerySet[Participant]:
    """Every participant the actor may open, and no other."""
    participants = Participant.objects.select_related("site")
    if actor.can(Capability.VIEW_PARTICIPANTS):
        return participants if actor.site_ids is None else participants.filter(site_id__in=actor.site_ids)
    if actor.can(Capability.VIEW_CASELOAD):
        return participants.filter(caseload_assignment__worker_id=actor.user_id)
    if actor.can(Capability.REFER):
        return participants.filter(referred_by_id=actor.user_id)
    return participants.none()


SEARCH_MAX_LENGTH = 100


def matching(actor: Actor, rows: QuerySet[Participant], text: str) -> QuerySet[Participant]:
    """The participants among `rows` that `text` finds: each word in the trial ID, or, for roles that may
    see identity, in the name; or the whole an NHS number, typed with spaces or without."""
    text = text.replace("\x00", "")[:SEARCH_MAX_LENGTH].strip()
    if not text:
        return rows
    identity = actor.can(Capability.VIEW_IDENTITY)
    words = Q()
    for word in text.split():
        found = Q(trial_id__icontains=word)
        if identity:
            found |= Q(identity__given_name__icontains=word) | Q(identity__family_name__icontains=word)
        words &= found
    nhs_number = normalise_nhs_number(text)
    if identity and nhs_number.isascii() and nhs_number.isdigit():
        words |= Q(identity__nhs_number=nhs_number)
    return rows.filter(words)


def participant_for(actor: Actor, trial_id: str) -> Participant:
    """One participant in the actor's scope; outside it the participant does not exist."""
    try:
        return participants_for(actor).get(trial_id=trial_id)
    except Participant.DoesNotExist as exc:
        raise Http404("no such participant") from exc


class RecordAnnotations(TypedDict):
    randomised_on: dt.date | None
    episode_count: int
    sae_count: int


def participant_record(actor: Actor, trial_id: str) -> WithAnnotations[Participant, RecordAnnotations]:
    """One participant for their own page, in one query: with their identity (for roles that may see it),
    death, date of randomisation, and how many acute-care episodes and serious adverse events are recorded."""
    rows = (
        participants_for(actor)
        .select_related("death", *(["identity"] if actor.can(Capability.VIEW_IDENTITY) else []))
        .annotate(
            randomised_on=F("allocation__randomised_on"),
            episode_count=Count(
                "acute_episodes", filter=Q(acute_episodes__superseded_by__isnull=True), distinct=True
            ),
            sae_count=Count("serious_adverse_events", distinct=True),
        )
    )
    try:
        return rows.get(trial_id=trial_id)
    except Participant.DoesNotExist as exc:
        raise Http404("no such participant") from exc


def identity_for(actor: Actor, participant: Participant) -> Identity | None:
    if not actor.can(Capability.VIEW_IDENTITY):
        return None
    if Participant.identity.is_cached(participant):
        return participant.identity  # read with the participant, in the actor's scope
    return Identity.objects.filter(participant__in=participants_for(actor), participant=participant).first()
