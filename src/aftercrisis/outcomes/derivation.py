"""The acute-care outcomes of each participant, derived from their recorded history (pure).

Definitions (day 0 is the randomisation date; "within the year" is the protocol horizon H):

- Episodes that overlap, or where one starts on the day another ends (a same-day transfer, say
  from a crisis house to a ward), form one *spell* of acute care. A spell that starts on or before
  day 0 continues the index crisis episode and is not a readmission; every spell that starts on day
  1 or later is a readmission.
- Follow-up ends on day E, the earliest of H, death, full withdrawal and the end of record review.
- `readmission_event` is 1 when a readmission starts by day E; `days_to_readmission` is the day it
  starts, or E (censored at E) when none does.
- `readmitted_1y` is 1 when a readmission starts by day E; 0 when none does and follow-up reached H
  or ended with death; unknown (None) when follow-up ended early for any other reason.
- `died_1y` is 1 when death falls on or before day H.
- `n_readmissions_1y` counts readmissions starting by day E, and `acute_bed_days_1y` counts the
  nights 0 to E-1 spent in a residential setting (overlapping stays count once); both are unknown
  unless follow-up reached H or ended with death.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from aftercrisis.protocol import Protocol

COLUMNS = (
    "readmitted_1y",
    "days_to_readmission",
    "readmission_event",
    "died_1y",
    "n_readmissions_1y",
    "acute_bed_days_1y",
)


@dataclass(frozen=True)
class Episode:
    setting: str
    start: dt.date
    end: dt.date | None  # None: still in acute care when the record was read


@dataclass(frozen=True)
class History:
    participant: str
    randomised_on: dt.date
    episodes: Sequence[Episode] = ()
    died_on: dt.date | None = None
    withdrawn_on: dt.date | None = None  # withdrawal from all further data collection only
    review_end: dt.date | None = None  # None: the records were reviewed to the horizon


@dataclass(frozen=True)
class Rules:
    horizon_days: int
    settings: frozenset[str]  # the protocol's acute-care settings; other episodes are not acute care
    residential: frozenset[str]  # settings that occupy a bed


@dataclass(frozen=True)
class Outcomes:
    participant: str
    readmitted_1y: int | None
    days_to_readmission: int
    readmission_event: int
    died_1y: int
    n_readmissions_1y: int | None
    acute_bed_days_1y: int | None

    def as_row(self) -> dict[str, Any]:
        return asdict(self)


def rules_for(protocol: Protocol) -> Rules:
    return Rules(
        horizon_days=protocol.outcomes.primary.horizon_days,
        settings=frozenset(protocol.setting_codes),
        residential=frozenset(s.code for s in protocol.outcomes.acute_care_settings if s.residential),
    )


def reviewed_to(today: dt.date, protocol: Protocol, recorded: list[History]) -> list[History]:
    """Records are reviewed up to today for anyone whose year is not yet over."""
    horizon = dt.timedelta(days=protocol.outcomes.primary.horizon_days)
    return [
        h if h.randomised_on + horizon <= today else dataclasses.replace(h, review_end=today)
        for h in recorded
    ]


class HistoryError(ValueError):
    """A history that cannot be derived from, naming the participant and the episode."""


def _day(history: History, on: dt.date) -> int:
    return (on - history.randomised_on).days


def follow_up_end(history: History, horizon_days: int) -> tuple[int, bool]:
    """Day E on which follow-up ends, and whether follow-up is complete (reached H or ended in death)."""
    ends = [horizon_days]
    died = history.died_on is not None and _day(history, history.died_on) <= horizon_days
    for on in (history.died_on, history.withdrawn_on, history.review_end):
        if on is not None:
            ends.append(max(_day(history, on), 0))
    end = min(ends)
    died_at_end = died and history.died_on is not None and _day(history, history.died_on) == end
    return end, end == horizon_days or died_at_end


def _intervals(history: History, rules: Rules, end_day: int) -> list[tuple[int, int, str]]:
    """Acute-care episodes as (start day, end day, setting), sorted; open episodes run past E."""
    found = []
    for n, episode in enumerate(history.episodes, start=1):
        if episode.setting not in rules.settings:
            continue
        start = _day(history, episode.start)
        stop = max(start, end_day + 1) if episode.end is None else _day(history, episode.end)
        if stop < start:
            raise HistoryError(
                f"{history.participant}: episode {n} ({episode.setting}) ends before it starts"
            )
        found.append((start, stop, episode.setting))
    return sorted(found)


def derive(history: History, rules: Rules) -> Outcomes:
    end_day, complete = follow_up_end(history, rules.horizon_days)
    intervals = _intervals(history, rules, end_day)

    # Spells: merge episodes that overlap or touch (a same-day transfer); keep each spell's first day.
    spell_starts: list[int] = []
    spell_end: int | None = None
    for start, stop, _ in intervals:
        if spell_end is None or start > spell_end:
            spell_starts.append(start)
            spell_end = stop
        else:
            spell_end = max(spell_end, stop)
    readmissions = [s for s in spell_starts if 1 <= s <= end_day]

    # Bed nights 0..E-1 in residential settings, each night once however many stays cover it.
    nights = 0
    covered_to = 0
    for start, stop, setting in intervals:
        if setting not in rules.residential:
            continue
        low, high = max(start, covered_to), min(stop, end_day)
        if high > low:
            nights += high - low
            covered_to = high

    event = bool(readmissions)
    died = history.died_on is not None and _day(history, history.died_on) <= rules.horizon_days
    return Outcomes(
        participant=history.participant,
        readmitted_1y=1 if event else (0 if complete else None),
        days_to_readmission=readmissions[0] if event else end_day,
        readmission_event=int(event),
        died_1y=int(died),
        n_readmissions_1y=len(readmissions) if complete else None,
        acute_bed_days_1y=nights if complete else None,
    )


def setting_days(history: History, rules: Rules) -> dict[str, int] | None:
    """Days in each acute-care setting over follow-up, for costing: nights 0 to E-1 in a setting
    that occupies a bed (as acute_bed_days_1y counts them), days attended, first and last included,
    in one that does not; each day once however many episodes in the setting cover it. Unknown
    (None) unless follow-up is complete, as the bed days are."""
    end_day, complete = follow_up_end(history, rules.horizon_days)
    if not complete:
        return None
    days = dict.fromkeys(sorted(rules.settings), 0)
    covered: dict[str, int] = {}
    for start, stop, setting in _intervals(history, rules, end_day):
        last = stop if setting in rules.residential else stop + 1
        low, high = max(start, 0, covered.get(setting, 0)), min(last, end_day)
        if high > low:
            days[setting] += high - low
            covered[setting] = high
    return days


def episode_days(episode: Episode, rules: Rules) -> int | None:
    """One episode's length as `setting_days` counts it, whatever the follow-up: nights in a setting that
    occupies a bed, days attended, first and last included, in one that does not; None while ongoing."""
    if episode.end is None:
        return None
    return (episode.end - episode.start).days + (0 if episode.setting in rules.residential else 1)


def derive_all(histories: Iterable[History], rules: Rules) -> list[Outcomes]:
    return [derive(h, rules) for h in histories]
