"""Reads of episodes, overlaps and serious adverse events, scoped by the actor. Masking lives here."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.paginator import Page
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.db.models.expressions import OrderBy

from aftercrisis import pagination
from aftercrisis.accounts.policy import Actor, Capability
from aftercrisis.outcomes.derivation import Episode, History
from aftercrisis.outcomes.models import SUSAR, AcuteCareEpisode, EpisodeReconciliation, SeriousAdverseEvent
from aftercrisis.participants.models import Participant, Withdrawal, WithdrawalLevel
from aftercrisis.randomisation.selectors import arms_for, counts_by_arm, sees_every_arm


def episodes_of(participant: Participant) -> QuerySet[AcuteCareEpisode]:
    return AcuteCareEpisode.objects.filter(participant=participant).select_related("recorded_by")


def _in_scope(actor: Actor) -> Q:
    return Q() if actor.site_ids is None else Q(participant__site_id__in=actor.site_ids)


def current_episodes(actor: Actor) -> QuerySet[AcuteCareEpisode]:
    """The episodes at the actor's sites that no reconciliation has superseded, with their participant's
    trial ID and site: the same for both arms, so nothing here tells an arm."""
    return AcuteCareEpisode.objects.filter(_in_scope(actor), superseded_by__isnull=True).select_related(
        "participant", "participant__site"
    )


@dataclass(frozen=True)
class Overlap:
    first: AcuteCareEpisode
    second: AcuteCareEpisode


def overlaps_for(actor: Actor) -> list[Overlap]:
    """Current episodes of one participant from different sources that overlap or touch, not yet decided.

    Only the episodes that overlap or touch another source's episode of the same participant are read,
    so the cost follows the pairs waiting for a decision, not every episode of the trial."""
    current = AcuteCareEpisode.objects.filter(_in_scope(actor), superseded_by__isnull=True)
    other_source = current.filter(participant=OuterRef("participant")).exclude(source=OuterRef("source"))
    still_open_or_ends_after = Q(end__isnull=True) | Q(end__gte=OuterRef("start"))
    episodes = list(
        current.filter(
            # it has no end: any episode of the other source still open or ending on or after its start
            Q(Exists(other_source.filter(still_open_or_ends_after)), end__isnull=True)
            # it ends: one that also starts on or before its end
            | Q(Exists(other_source.filter(still_open_or_ends_after, start__lte=OuterRef("end"))))
        )
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
class SafetyFilters:
    """What the safety page is narrowed to; only listed values reach here (the view checks them)."""

    category: str = ""
    seriousness: str = ""
    site: str = ""  # a site code within the actor's scope
    review: str = ""  # "awaiting", "signed_off" or either
    susar: bool = False


@dataclass(frozen=True)
class SafetyListing:
    page: Page[SeriousAdverseEvent]  # the page of events asked for
    events: list[SeriousAdverseEvent]  # that page's events
    total: int  # the events that match the filters, on every page
    by_category: dict[str, int]
    arms: dict[int, str] | None  # SAE id -> arm for the page's events, only for roles that may know arms
    by_arm: dict[str, int] | None
    due: dict[int, dt.date]  # SAE id -> the day its sign-off is due, for the page's events awaiting review
    overdue: frozenset[int]
    awaiting: int  # events in scope awaiting review, whatever the filters


def safety_listing(
    actor: Actor,
    filters: SafetyFilters,
    *,
    review_days: int,
    today: dt.date,
    arm_codes: Sequence[str],
    order: Sequence[OrderBy] = (),
    page: str | int | None = None,
) -> SafetyListing:
    """Pooled for masked roles; with each event's arm and counts by `arm_codes` only for unblinded roles.

    In the `order` given (`order_by` terms, never an arm); without one, awaiting review, the events due
    soonest come first, otherwise they are in order of onset. Counted by kind (and arm) in the database,
    and only the `page` asked for (`?page=`, the first by default) is read.
    """
    scope = sae_scope(actor)
    rows = scope
    if filters.category:
        rows = rows.filter(category=filters.category)
    if filters.seriousness:
        rows = rows.filter(seriousness=filters.seriousness)
    if filters.site:
        rows = rows.filter(participant__site__code=filters.site)
    if filters.review == "awaiting":
        rows = rows.filter(signed_off_on__isnull=True).order_by("reported_on", "pk")
    elif filters.review == "signed_off":
        rows = rows.filter(signed_off_on__isnull=False).order_by("onset", "pk")
    else:
        rows = rows.order_by("onset", "pk")
    if filters.susar:
        rows = rows.filter(SUSAR)
    if order:
        rows = rows.order_by(*order)
    unblinded = sees_every_arm(actor)
    by_arm_counts = counts_by_arm(actor, arm_codes, allocation="participant__allocation")
    by_category: dict[str, int] = {}
    by_arm: Counter[str] = Counter()
    counted: Any = rows.order_by().values("category").annotate(n=Count("pk"), **by_arm_counts)
    for row in counted:
        by_category[row["category"]] = row["n"]
        by_arm.update({name.removeprefix("arm_"): row[name] for name in by_arm_counts})
    total = sum(by_category.values())
    shown = pagination.numbered_page(rows, page, total)
    events = list(shown.object_list)
    allowed = dt.timedelta(days=review_days)
    due = {e.pk: e.reported_on + allowed for e in events if e.signed_off_on is None}
    overdue = frozenset(pk for pk, day in due.items() if day < today)
    awaiting = scope.filter(signed_off_on__isnull=True).count()
    if not unblinded:
        return SafetyListing(shown, events, total, by_category, None, None, due, overdue, awaiting)
    by_arm[""] = total - sum(by_arm.values())  # events of anyone not randomised, as the listing shows them
    arm_of = arms_for(actor, {e.participant_id for e in events})
    arms = {e.pk: arm_of.get(e.participant_id, "") for e in events}
    return SafetyListing(
        shown,
        events,
        total,
        by_category,
        arms,
        {arm: n for arm, n in by_arm.items() if n},
        due,
        overdue,
        awaiting,
    )


def histories(participants: QuerySet[Participant]) -> list[History]:
    """Each randomised participant's recorded history, for the derivation (a fixed number of queries)."""
    first_withdrawal = Withdrawal.objects.filter(
        participant=OuterRef("pk"), level=WithdrawalLevel.ALL_DATA
    ).order_by("on")
    randomised = participants.filter(allocation__isnull=False)
    people = randomised.annotate(withdrawn_on=Subquery(first_withdrawal.values("on")[:1])).values_list(
        "pk", "trial_id", "allocation__randomised_on", "death__died_on", "withdrawn_on"
    )
    episodes: dict[int, list[Episode]] = {}
    # A subquery: a list of the participants would be sent as one parameter each.
    for participant_id, setting, start, end in (
        AcuteCareEpisode.objects.filter(participant__in=randomised.values("pk"), superseded_by__isnull=True)
        .order_by("start")
        .values_list("participant_id", "setting", "start", "end")
    ):
        episodes.setdefault(participant_id, []).append(Episode(setting, start, end))
    return [
        History(trial_id, randomised_on, episodes.get(pk, []), died_on=died_on, withdrawn_on=withdrawn_on)
        for pk, trial_id, randomised_on, died_on, withdrawn_on in people
    ]
