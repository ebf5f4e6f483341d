"""Reads of episodes, overlaps and serious adverse events, scoped by the actor. Masking lives here."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from aftercrisis.accounts.policy import Actor, Capability
from aftercrisis.outcomes.derivation import Episode, History
from aftercrisis.outcomes.models import AcuteCareEpisode, EpisodeReconciliation, SeriousAdverseEvent
from aftercrisis.participants.models import Participant, Withdrawal, WithdrawalLevel
from aftercrisis.randomisation.selectors import arms_for, sees_every_arm


def episodes_of(participant: Participant) -> QuerySet[AcuteCareEpisode]:
    return AcuteCareEpisode.objects.filter(participant=participant).select_related("recorded_by")


def _in_scope(actor: Actor) -> Q:
    return Q() if actor.site_ids is None else Q(participant__site_id__in=actor.site_ids)


@dataclass(frozen=True)
class Overlap:
    first: AcuteCareEpisode
    second: AcuteCareEpisode


def overlaps_for(actor: Actor) -> list[Overlap]:
    """Current episodes of one participant from different sources that overlap or touch, not yet decided."""
    episodes = list(
        AcuteCareEpisode.objects.filter(_in_scope(actor), superseded_by__isnull=True)
        .select_related("participant")
        .order_by("participant_id", "start", "pk")
    )
    decided = set(EpisodeReconciliation.objects.values_list("first_id", "second_id"))
    found = []
    for i, a in enumerate(episodes):
        for b in episodes[i + 1 :]:
            if b.participant_id != a.participant_id or (a.end is not None and b.start > a.end):
                break
            if a.source != b.source:
                pair = (min(a.pk, b.pk), max(a.pk, b.pk))
                if pair not in decided:
                    found.append(Overlap(a, b))
    return found


def sae_scope(actor: Actor) -> QuerySet[SeriousAdverseEvent]:
    if not actor.can(Capability.VIEW_SAFETY):
        return SeriousAdverseEvent.objects.none()
    return SeriousAdverseEvent.objects.filter(_in_scope(actor)).select_related(
        "participant", "participant__site"
    )


@dataclass(frozen=True)
class SafetyListing:
    events: list[SeriousAdverseEvent]
    by_category: dict[str, int]
    arms: dict[int, str] | None  # SAE id -> arm, only for roles that may know arms
    by_arm: dict[str, int] | None


def safety_listing(actor: Actor) -> SafetyListing:
    """Pooled for masked roles; with each event's arm and counts by arm only for unblinded roles."""
    events = list(sae_scope(actor).order_by("onset", "pk"))
    by_category = dict(Counter(e.category for e in events))
    if not sees_every_arm(actor):
        return SafetyListing(events, by_category, None, None)
    arm_of = arms_for(actor, {e.participant_id for e in events})
    arms = {e.pk: arm_of.get(e.participant_id, "") for e in events}
    return SafetyListing(events, by_category, arms, dict(Counter(arms.values())))


def histories(participants: QuerySet[Participant]) -> list[History]:
    """Each randomised participant's recorded history, for the derivation (a fixed number of queries)."""
    people = list(participants.filter(allocation__isnull=False).select_related("allocation", "death"))
    episodes: dict[int, list[Episode]] = {}
    for e in AcuteCareEpisode.objects.filter(participant__in=people, superseded_by__isnull=True).order_by(
        "start"
    ):
        episodes.setdefault(e.participant_id, []).append(Episode(e.setting, e.start, e.end))
    withdrawn: dict[int, dt.date] = {}
    for w in Withdrawal.objects.filter(participant__in=people, level=WithdrawalLevel.ALL_DATA).order_by("on"):
        withdrawn.setdefault(w.participant_id, w.on)
    found = []
    for p in people:
        death = getattr(p, "death", None)
        found.append(
            History(
                p.trial_id,
                p.allocation.randomised_on,
                episodes.get(p.pk, []),
                died_on=death.died_on if death else None,
                withdrawn_on=withdrawn.get(p.pk),
            )
        )
    return found
