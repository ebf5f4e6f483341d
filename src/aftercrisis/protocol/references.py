"""Cross-references between protocol sections, checked on the raw file.

Working on the raw mapping, not the validated model, lets one run report a misspelt
instrument code alongside, say, a non-numeric session limit.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

Path_ = tuple[str | int, ...]


def _items(data: Any, *keys: str) -> Iterator[tuple[int, dict[str, Any]]]:
    node = data
    for key in keys:
        node = node.get(key) if isinstance(node, dict) else None
    if isinstance(node, list):
        for i, item in enumerate(node):
            if isinstance(item, dict):
                yield i, item


def _codes(data: Any, *keys: str) -> list[tuple[Path_, Any]]:
    return [((*keys, i, "code"), item.get("code")) for i, item in _items(data, *keys)]


def reference_problems(data: dict[str, Any]) -> list[tuple[Path_, str]]:
    problems: list[tuple[Path_, str]] = []
    declared = {
        "arm": _codes(data, "arms"),
        "site": _codes(data, "sites"),
        "visit": _codes(data, "visits"),
        "instrument": _codes(data, "instruments"),
        "criterion": _codes(data, "eligibility", "inclusion") + _codes(data, "eligibility", "exclusion"),
        "acute-care setting": _codes(data, "outcomes", "acute_care_settings"),
        "unit cost": _codes(data, "health_economics", "unit_costs"),
    }
    for kind, entries in declared.items():
        seen: set[Any] = set()
        for path, code in entries:
            if code in seen:
                problems.append((path, f"{kind} code {code!r} is declared more than once"))
            seen.add(code)

    arm_codes = {code for _, code in declared["arm"]}
    intervention = data.get("intervention")
    if isinstance(intervention, dict):
        if "arm" in intervention and intervention["arm"] not in arm_codes:
            problems.append((("intervention", "arm"), f"{intervention['arm']!r} is not one of the arms"))
        for i, code in enumerate(intervention.get("digital_workbook_arms") or []):
            if code not in arm_codes:
                problems.append(
                    (("intervention", "digital_workbook_arms", i), f"{code!r} is not one of the arms")
                )

    instrument_codes = {code for _, code in declared["instrument"]}
    for v, visit in _items(data, "visits"):
        for i, code in enumerate(visit.get("instruments") or []):
            if code not in instrument_codes:
                problems.append((("visits", v, "instruments", i), f"instrument {code!r} is not declared"))

    setting_codes = {code for _, code in declared["acute-care setting"]}
    measured_by_sessions = 0
    for u, cost in _items(data, "health_economics", "unit_costs"):
        where = ("health_economics", "unit_costs", u)
        if "setting" in cost and cost["setting"] is not None and cost["setting"] not in setting_codes:
            problems.append(((*where, "setting"), f"{cost['setting']!r} is not an acute-care setting"))
        for i, code in enumerate(cost.get("arms") or []):
            if code not in arm_codes:
                problems.append(((*where, "arms", i), f"{code!r} is not one of the arms"))
        if cost.get("measure") == "sessions":
            measured_by_sessions += 1
            if measured_by_sessions > 1:
                problems.append(((*where, "measure"), "only one unit cost is measured by sessions"))

    randomisation = data.get("randomisation")
    if isinstance(randomisation, dict) and randomisation.get("method") == "stratified_blocks":
        ratios = [arm.get("ratio") for _, arm in _items(data, "arms")]
        total = sum(r for r in ratios if isinstance(r, int) and r > 0)
        sizes = randomisation.get("block_sizes") or []
        if not sizes:
            problems.append(
                (("randomisation", "block_sizes"), "block sizes are required for stratified blocks")
            )
        for i, size in enumerate(sizes):
            if isinstance(size, int) and total and size % total:
                problems.append(
                    (
                        ("randomisation", "block_sizes", i),
                        f"{size} is not a multiple of the allocation ratio total {total}",
                    )
                )
    return problems
