"""Recruitment counts. Counts by arm are built only for actors who may see every arm."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, Q

from aftercrisis.accounts.policy import Actor, Capability
from aftercrisis.accounts.selectors import sites_for
from aftercrisis.participants.models import Status


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
    with_arms = actor.can(Capability.VIEW_ALL_ALLOCATIONS)
    counts = {
        "referred": Count("participants"),
        "awaiting": Count(
            "participants", filter=Q(participants__status__in=[Status.SCREENED, Status.CONSENTED])
        ),
        "randomised": Count("participants__allocation"),
        "withdrawn": Count("participants", filter=Q(participants__status=Status.WITHDRAWN)),
    }
    if with_arms:
        for code in arm_codes:
            counts[f"arm_{code}"] = Count(
                "participants__allocation", filter=Q(participants__allocation__arm=code)
            )
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
                by_arm={c: site[f"arm_{c}"] for c in arm_codes} if with_arms else {},
            )
        )
    return rows
