"""Reads of the registry, scoped by the actor's role and sites. Masking lives here."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from aftercrisis.accounts.policy import Actor, Capability
from aftercrisis.participants.models import Identity, Participant


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


def participant_for(actor: Actor, trial_id: str) -> Participant:
    """One participant in the actor's scope; outside it the participant does not exist."""
    try:
        return participants_for(actor).get(trial_id=trial_id)
    except Participant.DoesNotExist as exc:
        raise Http404("no such participant") from exc


def identity_for(actor: Actor, participant: Participant) -> Identity | None:
    if not actor.can(Capability.VIEW_IDENTITY):
        return None
    return Identity.objects.filter(participant__in=participants_for(actor), participant=participant).first()
