"""Fidelity and uptake of peer support, from plain facts about each intervention-arm participant.

Pure: no database. The selector gathers `Supported` rows; this module does the arithmetic, so a test can
check it against an independent computation from the database.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter
from collections.abc import Callable, Sequence
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


def uptake(label: str, people: Sequence[Supported], threshold: int) -> Uptake:
    waits = [d for d in (days_to_first(p) for p in people) if d is not None]
    return Uptake(
        label=label,
        participants=len(people),
        started=sum(1 for p in people if p.held_on),
        reached_threshold=sum(1 for p in people if len(p.held_on) >= threshold),
        sessions=sum(len(p.held_on) for p in people),
        median_days_to_first=float(statistics.median(waits)) if waits else None,
    )


def _grouped(people: Sequence[Supported], key: Callable[[Supported], str], threshold: int) -> list[Uptake]:
    groups: dict[str, list[Supported]] = {}
    for p in people:
        groups.setdefault(key(p), []).append(p)
    return [uptake(label, groups[label], threshold) for label in sorted(groups)]


def fidelity(
    people: Sequence[Supported], *, threshold: int, max_sessions: int, section_codes: Sequence[str]
) -> Fidelity:
    counts = Counter(min(len(p.held_on), max_sessions) for p in people)
    covered = Counter(code for p in people for code in p.sections)
    return Fidelity(
        overall=uptake("All", people, threshold),
        by_worker=_grouped(people, lambda p: p.worker or "Not assigned", threshold),
        by_site=_grouped(people, lambda p: p.site, threshold),
        sessions_histogram=[(k, counts.get(k, 0)) for k in range(max_sessions + 1)],
        sections_covered=[(code, covered.get(code, 0)) for code in section_codes],
        threshold=threshold,
    )
