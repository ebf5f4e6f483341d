"""Fidelity and uptake of peer support, from plain facts about the intervention arm's participants.

Pure: no database. The selector counts the arm's participants in the database, as `Tally` rows (how many
people of a site and worker attended so many sessions and waited so long for the first) and the people
who covered each workbook section; this module does the arithmetic, so a test can check it against an
independent computation from the database. `tallied` makes the same rows from `Supported` people.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Supported:
    """One intervention-arm participant and the sessions they attended."""

    trial_id: str
    site: str
    worker: str  # "" when nobody is assigned
    randomised_on: dt.date
    held_on: tuple[dt.date, ...]  # dates of held sessions
    sections: frozenset[str]  # workbook sections covered in any held session


@dataclass(frozen=True)
class Tally:
    """How many participants of one site and worker attended `held` sessions and waited `days_to_first`
    days from randomisation to the first (None: no session held)."""

    site: str
    worker: str  # "" when nobody is assigned
    held: int
    days_to_first: int | None
    participants: int


@dataclass(frozen=True)
class Uptake:
    label: str
    participants: int
    started: int  # at least one session
    reached_threshold: int  # at least the protocol's uptake threshold
    sessions: int
    median_days_to_first: float | None

    @property
    def started_share(self) -> float | None:
        return self.started / self.participants if self.participants else None

    @property
    def threshold_share(self) -> float | None:
        return self.reached_threshold / self.participants if self.participants else None

    @property
    def mean_sessions(self) -> float | None:
        return self.sessions / self.participants if self.participants else None


@dataclass(frozen=True)
class Fidelity:
    overall: Uptake
    by_worker: list[Uptake]
    by_site: list[Uptake]
    sessions_histogram: list[tuple[int, int]]  # (sessions attended, participants), 0..max
    sections_covered: list[tuple[str, int]]  # (section code, participants who covered it), workbook order
    threshold: int


def days_to_first(person: Supported) -> int | None:
    return (min(person.held_on) - person.randomised_on).days if person.held_on else None


def tallied(people: Iterable[Supported]) -> tuple[list[Tally], dict[str, int]]:
    """The tallies and the participants who covered each section, from one row per participant."""
    counts = Counter((p.site, p.worker, len(p.held_on), days_to_first(p)) for p in people)
    covered = Counter(code for p in people for code in p.sections)
    return [Tally(*key, participants=n) for key, n in counts.items()], dict(covered)


def uptake(label: str, tallies: Sequence[Tally], threshold: int) -> Uptake:
    waits = [t.days_to_first for t in tallies if t.days_to_first is not None for _ in range(t.participants)]
    return Uptake(
        label=label,
        participants=sum(t.participants for t in tallies),
        started=sum(t.participants for t in tallies if t.held),
        reached_threshold=sum(t.participants for t in tallies if t.held >= threshold),
        sessions=sum(t.held * t.participants for t in tallies),
        median_days_to_first=float(statistics.median(waits)) if waits else None,
    )


def _grouped(tallies: Sequence[Tally], key: Callable[[Tally], str], threshold: int) -> list[Uptake]:
    groups: dict[str, list[Tally]] = {}
    for t in tallies:
        groups.setdefault(key(t), []).append(t)
    return [uptake(label, groups[label], threshold) for label in sorted(groups)]


def fidelity(
    tallies: Sequence[Tally],
    covered: Mapping[str, int],
    *,
    threshold: int,
    max_sessions: int,
    section_codes: Sequence[str],
) -> Fidelity:
    """`covered`: section code -> participants who covered it in a held session."""
    counts: Counter[int] = Counter()
    for t in tallies:
        counts[min(t.held, max_sessions)] += t.participants
    return Fidelity(
        overall=uptake("All", tallies, threshold),
        by_worker=_grouped(tallies, lambda t: t.worker or "Not assigned", threshold),
        by_site=_grouped(tallies, lambda t: t.site, threshold),
        sessions_histogram=[(k, counts.get(k, 0)) for k in range(max_sessions + 1)],
        sections_covered=[(code, covered.get(code, 0)) for code in section_codes],
        threshold=threshold,
    )
