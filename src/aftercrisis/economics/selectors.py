"""Reads of resource use: what a researcher types, and what the episodes already say."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from aftercrisis.economics.models import Period, ResourceUse
from aftercrisis.outcomes.derivation import reviewed_to, rules_for, setting_days
from aftercrisis.outcomes.selectors import histories
from aftercrisis.participants.models import Participant
from aftercrisis.protocol import Protocol


@dataclass(frozen=True)
class Typed:
    """A resource a researcher counts from the records in one period."""

    period: str
    code: str
    name: str
    unit: str


def typed_resources(protocol: Protocol) -> list[Typed]:
    """Resources counted from records, in both periods; those measured from acute-care episodes in
    the year before randomisation too, as episodes before it are not recorded as outcomes. Peer
    support and the workbook are never typed: they differ by arm and come from the trial's own records."""
    economics = protocol.health_economics
    if economics is None:
        return []
    found = []
    for period in Period:
        for unit in economics.unit_costs:
            if unit.measure == "records" or (unit.measure == "episodes" and period == Period.BEFORE):
                found.append(Typed(period.value, unit.code, unit.name, unit.unit))
    return found


def entered_for(participant: Participant) -> dict[tuple[str, str], int | None]:
    """Units entered so far, by (period, resource); None is 'not known'."""
    return {(r.period, r.resource): r.units for r in ResourceUse.objects.filter(participant=participant)}


def days_from_episodes(
    protocol: Protocol, participants: list[Participant], today: dt.date
) -> dict[int, dict[str, int | None]]:
    """Units of each resource measured from episodes in the year after randomisation, by participant:
    the days in its setting, unknown until the year's records are complete."""
    economics = protocol.health_economics
    if economics is None:
        return {}
    measured = {u.code: u.setting for u in economics.unit_costs if u.measure == "episodes"}
    by_trial_id = {p.trial_id: p.pk for p in participants}
    recorded = histories(Participant.objects.filter(pk__in=list(by_trial_id.values())))
    found: dict[int, dict[str, int | None]] = {}
    for history in reviewed_to(today, protocol, recorded):
        days = setting_days(history, rules_for(protocol))
        found[by_trial_id[history.participant]] = {
            code: None if days is None or setting is None else days[setting]
            for code, setting in measured.items()
        }
    return found
