"""Scoring of questionnaire answers (pure): reverse-scored items, missing-item rules, value sets.

An answer is the value the respondent gave (None when unanswered). Values outside an item's
range, and answers to items the instrument does not have, are refused with a message naming the
item, before anything is scored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from aftercrisis.followup.instruments import Instrument, Item

Answers = Mapping[str, int | None]


class AnswerError(ValueError):
    """Answers that cannot be scored; `problems` holds one message per item."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Score:
    instrument: str
    version: str
    total: float | None  # None: too many items unanswered for the instrument's rule
    answered: int
    missing: tuple[str, ...]
    prorated: bool


def check_answers(instrument: Instrument, answers: Answers) -> None:
    """Refuse unknown items and out-of-range or non-whole values, naming every one."""
    problems: list[str] = []
    known = {i.code: i for i in instrument.items}
    for code in answers:
        if code not in known:
            problems.append(f"{instrument.code}.{code}: {instrument.name} has no item '{code}'")
    for item in instrument.items:
        value = answers.get(item.code)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int):
            problems.append(f"{instrument.code}.{item.code} ({item.label}): {value!r} is not a whole number")
        elif not item.minimum <= value <= item.maximum:
            problems.append(
                f"{instrument.code}.{item.code} ({item.label}): {value} is outside "
                f"{item.minimum} to {item.maximum}"
            )
    if problems:
        raise AnswerError(problems)


def item_score(item: Item, value: int) -> int:
    return item.minimum + item.maximum - value if item.reverse else value


def score(instrument: Instrument, answers: Answers) -> Score:
    """The instrument's total under its own rules; raises AnswerError on bad answers."""
    check_answers(instrument, answers)
    scored = instrument.scored_items
    given = {i.code: item_score(i, v) for i in scored if (v := answers.get(i.code)) is not None}
    missing = tuple(i.code for i in scored if i.code not in given)
    total: float | None
    if len(missing) > instrument.max_missing or not given:
        total = None
    elif instrument.method == "value_set":
        total = _value_set_index(instrument, given)
    else:
        # Prorating: the answered items' mean stands in for the missing ones.
        total = sum(given.values()) * len(scored) / len(given)
    return Score(
        instrument=instrument.code,
        version=instrument.version,
        total=total,
        answered=len(given),
        missing=missing,
        prorated=bool(missing) and total is not None,
    )


def _value_set_index(instrument: Instrument, levels: Mapping[str, int]) -> float:
    value_set = instrument.value_set
    assert value_set is not None  # parse_instrument guarantees one for this method
    if all(level == 1 for level in levels.values()):
        return 1.0
    index = 1.0 - value_set.constant
    index -= sum(value_set.decrements[code][level - 1] for code, level in levels.items())
    if any(level == 3 for level in levels.values()):
        index -= value_set.n3
    return round(index, 3)
