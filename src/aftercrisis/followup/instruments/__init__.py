"""Questionnaire instruments as data files (pure): items, response ranges, scoring rules.

Each `<code>.yaml` beside this module describes one instrument. Licensed item wording is never
shipped: labels are the project's own short descriptions, and `with_wording` lays a trial team's
local wording file over them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml

HERE = Path(__file__).resolve().parent

Method = Literal["sum", "value_set"]


class InstrumentFileError(ValueError):
    """An instrument or wording file that cannot be used, naming the file and the key."""


@dataclass(frozen=True)
class Item:
    code: str
    label: str
    minimum: int
    maximum: int
    reverse: bool = False
    scored: bool = True
    descending: bool = False  # the paper form lists the options from the highest value down
    options: tuple[str, ...] = ()
    # What the ends of the scale mean, in the project's words, where the options' wording is licensed.
    anchors: tuple[tuple[int, str], ...] = ()

    def choices(self) -> list[tuple[int, str]]:
        """The answer values with their option text (or the anchor of an end), in the paper form's order."""
        values = range(self.minimum, self.maximum + 1)
        named = dict(self.anchors)
        if len(self.options) == len(values):
            pairs = [(v, f"{v} {t}") for v, t in zip(values, self.options, strict=True)]
        else:
            pairs = [(v, f"{v} ({named[v]})" if v in named else str(v)) for v in values]
        return pairs[::-1] if self.descending else pairs


@dataclass(frozen=True)
class ValueSet:
    name: str
    constant: float
    n3: float
    decrements: Mapping[str, tuple[float, ...]]


@dataclass(frozen=True)
class Instrument:
    code: str
    name: str
    version: str
    items: tuple[Item, ...]
    method: Method
    max_missing: int
    missing_rule: str
    licensed_wording: bool = False
    value_set: ValueSet | None = None
    wording_supplied: bool = field(default=False, compare=False)

    @property
    def scored_items(self) -> tuple[Item, ...]:
        return tuple(i for i in self.items if i.scored)

    def item(self, code: str) -> Item:
        return next(i for i in self.items if i.code == code)


def _require(data: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in data:
        raise InstrumentFileError(f"{where}: missing key '{key}'")
    return data[key]


def parse_instrument(data: Mapping[str, Any], where: str) -> Instrument:
    """An Instrument from the mapping of one file; `where` names the file in messages."""
    responses = _require(data, "responses", where)
    scoring = _require(data, "scoring", where)
    low, high = int(responses["minimum"]), int(responses["maximum"])
    options = tuple(str(o) for o in responses.get("options", ()))
    anchors = tuple((int(v), str(t)) for v, t in (responses.get("anchors") or {}).items())
    items: list[Item] = []
    for n, raw in enumerate(_require(data, "items", where), start=1):
        code = _require(raw, "code", f"{where}: items[{n}]")
        items.append(
            Item(
                code=str(code),
                label=str(_require(raw, "label", f"{where}: items[{n}]")),
                minimum=int(raw.get("minimum", low)),
                maximum=int(raw.get("maximum", high)),
                reverse=bool(raw.get("reverse", False)),
                scored=bool(raw.get("scored", True)),
                descending=bool(raw.get("descending", False)),
                options=options if "minimum" not in raw else (),
                anchors=anchors if "minimum" not in raw else (),
            )
        )
    codes = [i.code for i in items]
    if len(set(codes)) != len(codes):
        raise InstrumentFileError(f"{where}: items: item codes repeat")
    method = _require(scoring, "method", f"{where}: scoring")
    if method not in ("sum", "value_set"):
        raise InstrumentFileError(f"{where}: scoring.method: expected sum or value_set, got {method!r}")
    value_set = None
    if method == "value_set":
        raw_set = _require(scoring, "value_set", f"{where}: scoring")
        decrements = {str(k): tuple(float(x) for x in v) for k, v in raw_set["decrements"].items()}
        scored = {i.code for i in items if i.scored}
        if set(decrements) != scored:
            raise InstrumentFileError(
                f"{where}: scoring.value_set.decrements: must name exactly the scored items"
            )
        value_set = ValueSet(
            str(raw_set["name"]), float(raw_set["constant"]), float(raw_set["n3"]), decrements
        )
    return Instrument(
        code=str(_require(data, "code", where)),
        name=str(_require(data, "name", where)),
        version=str(_require(data, "version", where)),
        items=tuple(items),
        method=method,
        max_missing=int(_require(scoring, "max_missing", f"{where}: scoring")),
        missing_rule=str(_require(scoring, "missing_rule", f"{where}: scoring")),
        licensed_wording=bool(data.get("licensed_wording", False)),
        value_set=value_set,
    )


def load_instrument(path: Path) -> Instrument:
    with path.open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    if not isinstance(data, dict):
        raise InstrumentFileError(f"{path.name}: expected a mapping at the top level")
    return parse_instrument(data, path.name)


@cache
def shipped_instruments() -> dict[str, Instrument]:
    """Every instrument shipped with the project, by code."""
    found = (load_instrument(p) for p in sorted(HERE.glob("*.yaml")))
    return {i.code: i for i in found}


def instrument(code: str) -> Instrument:
    try:
        return shipped_instruments()[code]
    except KeyError:
        raise KeyError(f"no instrument with code {code!r}") from None


def load_wording(path: Path) -> dict[str, dict[str, str]]:
    """A trial team's wording file: {instrument code: {item code: wording}}."""
    with path.open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle) or {}
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise InstrumentFileError(f"{path.name}: expected instrument code -> item code -> wording")
    return {str(k): {str(i): str(t) for i, t in v.items()} for k, v in data.items()}


def with_wording(instrument: Instrument, wording: Mapping[str, Mapping[str, str]]) -> Instrument:
    """The instrument with the supplied wording in place of its labels; unknown item codes are refused."""
    mine = wording.get(instrument.code)
    if not mine:
        return instrument
    unknown = sorted(set(mine) - {i.code for i in instrument.items})
    if unknown:
        raise InstrumentFileError(f"wording for {instrument.code}: no such item(s): {', '.join(unknown)}")
    items = tuple(replace(i, label=mine.get(i.code, i.label)) for i in instrument.items)
    return replace(instrument, items=items, wording_supplied=True)
