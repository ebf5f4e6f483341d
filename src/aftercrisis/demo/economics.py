"""The demo trial's resource use: counted from the records by the site's researchers, through the
service, so that the demo report has a complete economic section. Days in acute care after
randomisation come from the demo's episodes; peer support hours from its sessions."""

from __future__ import annotations

import datetime as dt
import math
import random

from django.db import transaction

from aftercrisis.accounts.models import User
from aftercrisis.accounts.policy import Actor
from aftercrisis.demo.followup import _researcher
from aftercrisis.demo.loader import Demo
from aftercrisis.economics.models import Period
from aftercrisis.economics.selectors import typed_resources
from aftercrisis.economics.services import record_resource_uses
from aftercrisis.participants.models import Participant

# Mean units a year for someone just discharged from a crisis team, by resource (CORE's order of magnitude).
MEAN_UNITS = {
    "inpatient_ward_day": 10.0,
    "crisis_house_day": 2.0,
    "acute_day_unit_day": 1.0,
    "crisis_team_contact": 12.0,
    "cmht_contact": 10.0,
    "ae_attendance": 0.7,
}
NOT_KNOWN = 0.04  # records that do not say


def _poisson(mean: float, rng: random.Random) -> int:
    """A Poisson draw from the demo's random.Random (Knuth; the means are small)."""
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def extend(demo: Demo) -> None:
    resources = typed_resources(demo.protocol)
    if not resources:
        return
    year = dt.timedelta(days=demo.protocol.outcomes.primary.horizon_days)
    counted: dict[User, tuple[Actor, list[tuple[Participant, dict[tuple[str, str], int | None]]]]] = {}
    with transaction.atomic():
        for participant in sorted(demo.participants.values(), key=lambda p: p.trial_id):
            allocation = getattr(participant, "allocation", None)
            if allocation is None:
                continue
            over = allocation.randomised_on + year <= demo.today
            units: dict[tuple[str, str], int | None] = {}
            for typed in resources:
                if typed.period == Period.AFTER and not over:
                    continue  # the year's records are read once the year is over
                heavy = 1.6 if typed.period == Period.BEFORE else 1.0  # the crisis that led to the referral
                mean = MEAN_UNITS.get(typed.code, 1.0) * heavy * demo.rng.uniform(0.3, 1.7)
                units[(typed.period, typed.code)] = (
                    None if demo.rng.random() < NOT_KNOWN else _poisson(mean, demo.rng)
                )
            user, actor = _researcher(demo, participant)
            counted.setdefault(user, (actor, []))[1].append((participant, units))
        for user, (actor, counts) in counted.items():
            record_resource_uses(actor, demo.protocol, counts, by=user)
