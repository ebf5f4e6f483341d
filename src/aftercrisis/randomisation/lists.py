"""Allocation lists as CSV, with a SHA-256 checksum so that an imported list is the one generated (pure).

The checksum is taken over the exact bytes of the file and travels separately (by another route),
so that a list altered on the way is refused, not loaded.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Mapping, Sequence

from aftercrisis.randomisation.engine import Slot

COLUMNS = ["stratum", "position", "block", "block_size", "arm"]


class ListError(ValueError):
    """A list that cannot be loaded; the text names the row and column."""


def to_csv(lists: Mapping[str, Sequence[Slot]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for stratum in sorted(lists):
        for s in lists[stratum]:
            writer.writerow([stratum, s.position, s.block or "", s.block_size or "", s.arm])
    return out.getvalue()


def checksum(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def parse_csv(
    text: str, arms: Sequence[str], strata: Sequence[str], expected_checksum: str
) -> dict[str, list[Slot]]:
    """Every slot of a list file, by stratum; refuses the whole file on the first problem found."""
    given = expected_checksum.strip().lower()
    if checksum(text) != given:
        raise ListError(
            f"checksum: the file's SHA-256 is {checksum(text)}, not {given}; the list was altered"
        )
    rows = list(csv.DictReader(io.StringIO(text)))
    if not rows or list(rows[0]) != COLUMNS:
        raise ListError(f"header: the columns must be {', '.join(COLUMNS)}")
    lists: dict[str, list[Slot]] = {}
    for line, row in enumerate(rows, start=2):
        stratum, arm = row["stratum"], row["arm"]
        if stratum not in strata:
            raise ListError(f"row {line}, stratum: {stratum!r} is not a stratum of this trial")
        if arm not in arms:
            raise ListError(f"row {line}, arm: {arm!r} is not an arm of this trial")
        try:
            position = int(row["position"])
            block = int(row["block"]) if row["block"] else None
            size = int(row["block_size"]) if row["block_size"] else None
        except ValueError as exc:
            raise ListError(f"row {line}: position, block and block_size must be whole numbers") from exc
        slots = lists.setdefault(stratum, [])
        if position != len(slots) + 1:
            raise ListError(f"row {line}, position: expected {len(slots) + 1} in {stratum}, found {position}")
        slots.append(Slot(position, block, size, arm))
    for stratum, slots in lists.items():
        _check_blocks(stratum, slots)
    return lists


def _check_blocks(stratum: str, slots: Sequence[Slot]) -> None:
    blocks: dict[int, list[Slot]] = {}
    for s in slots:
        if s.block is not None:
            blocks.setdefault(s.block, []).append(s)
    for number, members in blocks.items():
        sizes = {m.block_size for m in members}
        if len(sizes) != 1 or len(members) != next(iter(sizes)):
            raise ListError(
                f"{stratum} block {number}: block_size does not match the number of rows in the block"
            )
