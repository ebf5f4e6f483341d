"""Recruitment counts. Counts by arm come from the randomisation selectors, for actors who may see every arm."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum, Value

from aftercrisis.accounts.policy import Actor
from aftercrisis.accounts.selectors import sites_for
from aftercrisis.participants.models import Status
from aftercrisis.protocol import Protocol


@dataclass
class SiteRecruitment:
    code: str
    name: str
    referred: int
    awaiting_randomisation: int
    randomised: int
    withdrawn: int
    by_arm: dict[str, int] = field(default_factory=dict)


def recruitment_by_site(actor: Actor, arm_codes: list[str]) -> list[SiteRecruitment]:
    """One row per site in the actor's scope, in one query."""
    from aftercrisis.randomisation.selectors import counts_by_arm

    by_arm = counts_by_arm(actor, arm_codes, allocation="participants__allocation")
    counts = {
        "referred": Count("participants"),
        "awaiting": Count(
            "participants", filter=Q(participants__status__in=[Status.SCREENED, Status.CONSENTED])
        ),
        "randomised": Count("participants__allocation"),
        "withdrawn": Count("participants", filter=Q(participants__status=Status.WITHDRAWN)),
        **by_arm,
    }
    rows = []
    for site in sites_for(actor).annotate(**counts).order_by("code").values("code", "name", *counts):
        rows.append(
            SiteRecruitment(
                code=site["code"],
                name=site["name"],
                referred=site["referred"],
                awaiting_randomisation=site["awaiting"],
                randomised=site["randomised"],
                withdrawn=site["withdrawn"],
                by_arm={c: site[f"arm_{c}"] for c in arm_codes} if by_arm else {},
            )
        )
    return rows


@dataclass(frozen=True)
class ConsortCounts:
    """The top of the CONSORT flow, live. `randomised_by_arm` is None for masked roles (pooled only)."""

    screened: int
    referred_and_screened: int  # the screenings of named, referred people: the rows of the screening log
    not_eligible: int
    not_approached: int
    declined: int
    eligible: int
    consented: int
    randomised: int
    randomised_by_arm: dict[str, int] | None
    reasons: dict[str, dict[str, int]]  # outcome -> coded reason -> people


def consort_counts(actor: Actor) -> ConsortCounts:
    """Screened, eligible, consented and randomised in the actor's sites, in three queries."""
    from aftercrisis.randomisation.models import Allocation
    from aftercrisis.randomisation.selectors import randomised_by_arm
    from aftercrisis.recruitment.models import (
        AnonymousScreenFailure,
        ConsentRecord,
        Screening,
        ScreeningOutcome,
    )

    def scoped(rows: Any, path: str) -> Any:
        return rows if actor.site_ids is None else rows.filter(**{f"{path}__in": actor.site_ids})

    reasons: dict[str, dict[str, int]] = {o: {} for o in ScreeningOutcome.values if o != "eligible"}
    by_outcome = dict.fromkeys(ScreeningOutcome.values, 0)
    named = (
        scoped(Screening.objects, "participant__site_id")
        .values("outcome", "reason")
        .annotate(n=Count("pk"), referred=Value(True))
    )
    anonymous = (
        scoped(AnonymousScreenFailure.objects, "site_id")
        .values("outcome", "reason")
        .annotate(n=Sum("count"), referred=Value(False))
    )
    referred = 0
    for row in named.union(anonymous, all=True):  # one query for both
        referred += row["n"] if row["referred"] else 0
        by_outcome[row["outcome"]] += row["n"]
        if row["outcome"] in reasons:
            bucket = reasons[row["outcome"]]
            bucket[row["reason"]] = bucket.get(row["reason"], 0) + row["n"]
    consented = scoped(ConsentRecord.objects, "participant__site_id").values("participant").distinct().count()
    by_arm = randomised_by_arm(actor)
    if by_arm is not None:
        randomised = sum(by_arm.values())
    else:
        randomised = scoped(Allocation.objects, "participant__site_id").count()
    screened = sum(by_outcome.values())
    return ConsortCounts(
        screened=screened,
        referred_and_screened=referred,
        not_eligible=by_outcome["not_eligible"],
        not_approached=by_outcome["not_approached"],
        declined=by_outcome["declined"],
        eligible=screened - by_outcome["not_eligible"],
        consented=consented,
        randomised=randomised,
        randomised_by_arm=by_arm,
        reasons=reasons,
    )


def screening_log_rows(actor: Actor) -> QuerySet[Any]:
    """The screenings in the actor's sites, newest first (research data only, no identity): only the columns
    the log shows, so that ordering them all to find a page sorts narrow rows."""
    from aftercrisis.recruitment.models import Screening

    rows = Screening.objects.select_related("participant", "participant__site").only(
        "screened_on", "outcome", "reason", "participant__trial_id", "participant__site__code"
    )
    if actor.site_ids is not None:
        rows = rows.filter(participant__site_id__in=actor.site_ids)
    return rows.order_by("-screened_on", "-pk")


@dataclass(frozen=True)
class RandomisedOn:
    """How many of a site's participants were randomised on one day, and how many of them completed each
    follow-up visit."""

    site: str
    on: dt.date
    randomised: int
    completed: dict[str, int]  # visit code -> participants


def randomised_by_day(actor: Actor, protocol: Protocol) -> list[RandomisedOn]:
    """The randomisations in the actor's sites counted by site and day, with the follow-up visits completed
    (pooled), in one query: a row per day on which a site randomised, however many it randomised."""
    from aftercrisis.followup.models import VisitOutcome
    from aftercrisis.followup.selectors import with_visit_records
    from aftercrisis.participants.models import Participant

    rows = Participant.objects.filter(allocation__isnull=False)
    if actor.site_ids is not None:
        rows = rows.filter(site_id__in=actor.site_ids)
    visits = [v.code for v in protocol.visits if v.day > 0]
    done = {
        f"done_{i}": Count("pk", filter=Q(**{f"visit_{i}__outcome": VisitOutcome.COMPLETED}))
        for i in range(len(visits))
    }
    counted: Any = (  # rows of the annotations above, named as they are made
        with_visit_records(rows, visits)
        .order_by()
        .values("site__code", "allocation__randomised_on")
        .annotate(n=Count("pk"), **done)
        .order_by("site__code", "allocation__randomised_on")
    )
    return [
        RandomisedOn(
            row["site__code"],
            row["allocation__randomised_on"],
            row["n"],
            {code: row[f"done_{i}"] for i, code in enumerate(visits)},
        )
        for row in counted
    ]


def randomisation_dates_by_site(
    randomised: list[RandomisedOn], site_codes: list[str]
) -> dict[str, list[tuple[dt.date, int]]]:
    """Each site's randomisation days in order, with how many were randomised on each, for the accrual charts."""
    days: dict[str, list[tuple[dt.date, int]]] = {code: [] for code in site_codes}
    for r in randomised:
        days.setdefault(r.site, []).append((r.on, r.randomised))
    return {code: sorted(found) for code, found in days.items()}


def follow_up_completeness(
    randomised: list[RandomisedOn], protocol: Protocol, today: dt.date
) -> list[tuple[str, int, int]]:
    """For each follow-up visit: (name, completed, expected), where a visit is expected once its window
    has closed, or earlier if it was completed early."""
    from aftercrisis.followup.schedule import follow_up_windows_on

    found = []
    for window in follow_up_windows_on(protocol, today):
        done = sum(r.completed[window.code] for r in randomised)
        expected = sum(
            r.randomised if r.on + window.closes_after < today else r.completed[window.code]
            for r in randomised
        )
        found.append((protocol.visit(window.code).name, done, expected))
    return found
