"""The automatic data checks, defined as data (pure).

Each check names the form and field it concerns, says what is wrong in the words of that form, and
finds its discrepancies in one participant's plain values. No check looks at anything that exists in
one arm only (peer support sessions, caseloads, the workbook dispatch), so a query it raises cannot
hint at an allocation.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

from aftercrisis.followup.schedule import VisitWindow, outside_window, shown


@dataclass(frozen=True)
class Field:
    """A field a query may concern, named as the user knows it."""

    form: str
    field: str
    label: str

    @property
    def code(self) -> str:
        return f"{self.form}.{self.field}"


# Every field a query may concern: the choices of a manual query and the fields of the checks below.
FIELDS = (
    Field("baseline", "age_at_entry", "Baseline: age at entry"),
    Field("baseline", "sex", "Baseline: sex"),
    Field("baseline", "ethnicity", "Baseline: ethnicity"),
    Field("baseline", "prior_admissions", "Baseline: acute admissions in the previous two years"),
    Field("baseline", "questionnaires", "Baseline: questionnaires"),
    Field("visit", "outcome", "Follow-up visit: what happened"),
    Field("visit", "on", "Follow-up visit: date"),
    Field("questionnaire", "completed_on", "Questionnaire: date completed"),
    Field("questionnaire", "answers", "Questionnaire: answers and score"),
    Field("episode", "setting", "Acute-care episode: setting"),
    Field("episode", "start", "Acute-care episode: start date"),
    Field("episode", "end", "Acute-care episode: end date"),
    Field("death", "died_on", "Death: date of death"),
    Field("death", "cause", "Death: cause"),
    Field("sae", "onset", "Serious adverse event: date of onset"),
    Field("sae", "description", "Serious adverse event: what happened"),
    Field("withdrawal", "on", "Withdrawal: date of withdrawal"),
)
FIELD_LABELS = {f.code: f.label for f in FIELDS}


@dataclass(frozen=True)
class Questionnaire:
    visit: str
    instrument: str
    completed_on: dt.date
    total: float | None
    answers: Mapping[str, int | None]
    outside_window_reason: str


@dataclass(frozen=True)
class Visit:
    visit: str
    on: dt.date


@dataclass(frozen=True)
class Episode:
    id: int
    start: dt.date
    end: dt.date | None


@dataclass(frozen=True)
class Scale:
    """An instrument's possible answers and total."""

    name: str
    items: Mapping[str, tuple[int, int]]
    total: tuple[float, float] | None  # None: not a plain sum (a value set)


@dataclass(frozen=True)
class Facts:
    """What the checks know of one randomised participant, as plain values."""

    today: dt.date
    randomised_on: dt.date
    horizon_days: int
    windows: tuple[VisitWindow, ...]
    baseline_instruments: tuple[str, ...]
    scales: Mapping[str, Scale]
    questionnaires: tuple[Questionnaire, ...] = ()
    visits: tuple[Visit, ...] = ()  # visits recorded, whatever happened at them
    episodes: tuple[Episode, ...] = ()  # current episodes (not superseded)
    reconciled: frozenset[tuple[int, int]] = field(default_factory=frozenset)  # (lower id, higher id)
    died_on: dt.date | None = None
    follow_up_withdrawn_on: dt.date | None = None

    def visit_name(self, code: str) -> str:
        name = next((w.name for w in self.windows if w.code == code), code)
        return "baseline" if code == "baseline" else name[:1].lower() + name[1:]

    def scale_name(self, code: str) -> str:
        return self.scales[code].name if code in self.scales else code


@dataclass(frozen=True)
class Finding:
    key: str  # which record of the participant: one query per check, participant and key
    values: Mapping[str, object]


@dataclass(frozen=True)
class Check:
    code: str
    form: str
    field: str
    message: str  # str.format template over a finding's values
    find: Callable[[Facts], Iterator[Finding]]

    def text(self, finding: Finding) -> str:
        return self.message.format(**finding.values)


def _window(facts: Facts, visit: str) -> VisitWindow | None:
    return next((w for w in facts.windows if w.code == visit), None)


def _outside_window(facts: Facts) -> Iterator[Finding]:
    for q in facts.questionnaires:
        window = _window(facts, q.visit)
        if window and not q.outside_window_reason and outside_window(window, q.completed_on):
            yield Finding(
                f"{q.visit}/{q.instrument}",
                {
                    "instrument": facts.scale_name(q.instrument),
                    "visit": facts.visit_name(q.visit),
                    "completed_on": shown(q.completed_on),
                    "opens": shown(window.opens),
                    "closes": shown(window.closes),
                },
            )


def _baseline_missing(facts: Facts) -> Iterator[Finding]:
    returned = {q.instrument for q in facts.questionnaires if q.visit == "baseline"}
    missing = [facts.scale_name(c) for c in facts.baseline_instruments if c not in returned]
    if missing:
        yield Finding("baseline", {"missing": "; ".join(missing)})


def _visit_overdue(facts: Facts) -> Iterator[Finding]:
    recorded = {v.visit for v in facts.visits}
    withdrawn = facts.follow_up_withdrawn_on
    for w in facts.windows:
        if w.closes < facts.today and w.code not in recorded and (withdrawn is None or withdrawn > w.closes):
            yield Finding(w.code, {"visit": facts.visit_name(w.code), "closes": shown(w.closes)})


def _episodes_overlap(facts: Facts) -> Iterator[Finding]:
    episodes = sorted(facts.episodes, key=lambda e: (e.start, e.id))
    for i, a in enumerate(episodes):
        for b in episodes[i + 1 :]:
            if a.end is not None and b.start > a.end:
                break
            pair = (min(a.id, b.id), max(a.id, b.id))
            if pair not in facts.reconciled:
                yield Finding(
                    f"{pair[0]}-{pair[1]}", {"start": shown(a.start), "other_start": shown(b.start)}
                )


def _score_out_of_range(facts: Facts) -> Iterator[Finding]:
    for q in facts.questionnaires:
        scale = facts.scales.get(q.instrument)
        if scale is None:
            continue
        problems = [
            f"item {item} is {value}, outside {low} to {high}"
            for item, value in q.answers.items()
            if value is not None and item in scale.items
            for low, high in [scale.items[item]]
            if not low <= value <= high
        ]
        if scale.total and q.total is not None and not scale.total[0] <= q.total <= scale.total[1]:
            problems.append(f"the score is {q.total:g}, outside {scale.total[0]:g} to {scale.total[1]:g}")
        if problems:
            yield Finding(
                f"{q.visit}/{q.instrument}",
                {
                    "instrument": scale.name,
                    "visit": facts.visit_name(q.visit),
                    "problems": "; ".join(problems),
                },
            )


def _episode_too_long(facts: Facts) -> Iterator[Finding]:
    for e in facts.episodes:
        if e.end is not None and (e.end - e.start).days > facts.horizon_days:
            yield Finding(
                str(e.id),
                {
                    "start": shown(e.start),
                    "end": shown(e.end),
                    "days": (e.end - e.start).days,
                    "horizon": facts.horizon_days,
                },
            )


def _visit_after_death(facts: Facts) -> Iterator[Finding]:
    died = facts.died_on
    if died is None:
        return
    dated = [(v.visit, "visit", v.on) for v in facts.visits] + [
        (q.visit, facts.scale_name(q.instrument), q.completed_on) for q in facts.questionnaires
    ]
    late = sorted({(visit, what, on) for visit, what, on in dated if on > died and visit != "baseline"})
    for visit, what, on in late:
        yield Finding(
            f"{visit}/{what}",
            {"what": what, "visit": facts.visit_name(visit), "on": shown(on), "died_on": shown(died)},
        )


def _episode_after_death(facts: Facts) -> Iterator[Finding]:
    died = facts.died_on
    for e in facts.episodes:
        if died is not None and e.start > died:
            yield Finding(str(e.id), {"start": shown(e.start), "died_on": shown(died)})


CHECKS = (
    Check(
        "questionnaire_outside_window",
        "questionnaire",
        "completed_on",
        "The {instrument} questionnaire of the {visit} is dated {completed_on}, outside the window "
        "({opens} to {closes}), and no reason is recorded: check the date completed",
        _outside_window,
    ),
    Check(
        "baseline_missing",
        "baseline",
        "questionnaires",
        "Baseline questionnaires not entered: {missing}. Enter them, or say why they cannot be",
        _baseline_missing,
    ),
    Check(
        "visit_overdue",
        "visit",
        "outcome",
        "The {visit} window closed on {closes} and nothing is recorded: record the visit, or that it was missed",
        _visit_overdue,
    ),
    Check(
        "episodes_overlap",
        "episode",
        "start",
        "The acute-care episode starting {start} overlaps the one starting {other_start}: "
        "reconcile them or correct the dates",
        _episodes_overlap,
    ),
    Check(
        "answers_out_of_range",
        "questionnaire",
        "answers",
        "The {instrument} questionnaire of the {visit} has impossible values ({problems}): check the answers",
        _score_out_of_range,
    ),
    Check(
        "episode_longer_than_follow_up",
        "episode",
        "end",
        "The acute-care episode from {start} to {end} lasts {days} days, longer than the {horizon} days "
        "of follow-up: check the end date",
        _episode_too_long,
    ),
    Check(
        "recorded_after_death",
        "death",
        "died_on",
        "The {what} of the {visit} is dated {on}, after the date of death ({died_on}): check both dates",
        _visit_after_death,
    ),
    Check(
        "episode_after_death",
        "episode",
        "start",
        "The acute-care episode starting {start} starts after the date of death ({died_on}): check both dates",
        _episode_after_death,
    ),
)
CHECKS_BY_CODE = {c.code: c for c in CHECKS}


def discrepancies(facts: Facts) -> Iterator[tuple[Check, Finding]]:
    """Every discrepancy every check finds in one participant's values."""
    for check in CHECKS:
        for finding in check.find(facts):
            yield check, finding
