"""Reading and validating the analysis dataset.

Validation collects every problem (column, row, reason) before anything is computed, so a
bad export is reported in one pass and nothing is written.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from aftercrisis.analysis.schema import (
    ARMS,
    COLUMNS,
    REQUIRED_COLUMNS,
    RESOURCE_COLUMN,
    RESOURCE_PREFIX,
    Column,
    column,
)

MAX_LISTED = 50


@dataclass(frozen=True)
class Problem:
    column: str
    row: int | None  # 1-based data row (the header is not counted); None for the whole column
    message: str

    def __str__(self) -> str:
        where = f"column {self.column}" if self.row is None else f"row {self.row}, column {self.column}"
        return f"{where}: {self.message}"


class DatasetError(ValueError):
    """The analysis dataset is malformed; `problems` names each one."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        shown = "\n".join(f"  - {p}" for p in problems[:MAX_LISTED])
        more = f"\n  ... and {len(problems) - MAX_LISTED} more" if len(problems) > MAX_LISTED else ""
        super().__init__(f"the analysis dataset has {len(problems)} problem(s):\n{shown}{more}")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_raw(path: Path) -> pd.DataFrame:
    """Read a CSV or Parquet dataset as text cells (empty string = missing)."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    if suffix in {".parquet", ".pq"}:
        frame = pd.read_parquet(path)
        return frame.apply(_as_text)
    raise DatasetError([Problem("(file)", None, f"unsupported file type {suffix!r}; use .csv or .parquet")])


def _as_text(column: pd.Series) -> pd.Series:
    def one(value: object) -> str:
        if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
            return ""
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        if isinstance(value, pd.Timestamp):
            return value.date().isoformat()
        return str(value)

    return column.map(one)


def validate(
    raw: pd.DataFrame, *, sites: Iterable[str] | None = None, resources: Iterable[str] | None = None
) -> list[Problem]:
    """Every problem of a text-celled dataset; empty when it is fit to analyse.

    `resources` are the protocol's resources counted from records or episodes: a resource-use
    column of any other resource is refused."""
    problems: list[Problem] = []
    missing = [name for name in REQUIRED_COLUMNS if name not in raw.columns]
    problems += [Problem(name, None, "required column is missing") for name in missing]
    known_sites = set(sites) if sites is not None else None
    for spec in COLUMNS:
        if spec.name in raw.columns:
            problems += _check_column(raw[spec.name].astype(str).str.strip(), spec, known_sites)
    problems += _check_resource_use(raw, None if resources is None else set(resources))
    if "participant_id" in raw.columns:
        ids = raw["participant_id"].astype(str).str.strip()
        duplicated = ids.duplicated(keep="first") & (ids != "")
        problems += [
            Problem("participant_id", int(i) + 1, f"duplicate participant_id {ids.iloc[i]!r}")
            for i in np.flatnonzero(duplicated.to_numpy())
        ]
    if not missing and not problems:
        problems += _check_across_columns(raw)
    if len(raw) == 0:
        problems.append(Problem("(file)", None, "the dataset has no rows"))
    return problems


def _check_resource_use(raw: pd.DataFrame, resources: set[str] | None) -> list[Problem]:
    problems: list[Problem] = []
    for name in raw.columns:
        if not str(name).startswith(RESOURCE_PREFIX):
            continue
        match = RESOURCE_COLUMN.match(str(name))
        if match is None:
            problems.append(
                Problem(str(name), None, "a resource-use column is named use_RESOURCE_0 or use_RESOURCE_1y")
            )
            continue
        if resources is not None and match.group(1) not in resources:
            known = ", ".join(sorted(resources)) or "none"
            problems.append(
                Problem(
                    str(name),
                    None,
                    f"{match.group(1)!r} is not a resource of the protocol counted from records (known: {known})",
                )
            )
            continue
        spec = column(str(name))
        assert spec is not None
        problems += _check_column(raw[name].astype(str).str.strip(), spec, None)
    return problems


def _check_column(cells: pd.Series, column: Column, known_sites: set[str] | None) -> list[Problem]:
    problems: list[Problem] = []
    for index, cell in enumerate(cells.tolist()):
        row = index + 1
        if cell == "":
            if not column.nullable:
                problems.append(Problem(column.name, row, "value is empty but required"))
            continue
        message = _check_cell(cell, column, known_sites)
        if message:
            problems.append(Problem(column.name, row, message))
    return problems


def _check_cell(cell: str, column: Column, known_sites: set[str] | None) -> str | None:
    if column.kind == "category":
        if column.values and cell not in column.values:
            return f"{cell!r} is not one of {', '.join(column.values)}"
        if column.name == "site" and known_sites is not None and cell not in known_sites:
            return f"{cell!r} is not a site of the protocol ({', '.join(sorted(known_sites))})"
        return None
    if column.kind == "date":
        try:
            pd.Timestamp.fromisoformat(cell)
        except ValueError:
            return f"{cell!r} is not an ISO date (YYYY-MM-DD)"
        return None
    if column.kind == "text":
        return None
    try:
        value = float(cell)
    except ValueError:
        return f"{cell!r} is not a number"
    if not np.isfinite(value):
        return f"{cell!r} is not a finite number"
    if column.kind == "binary":
        return None if value in (0.0, 1.0) else f"{cell!r} must be 1 or 0"
    if column.kind == "integer" and not value.is_integer():
        return f"{cell!r} is not a whole number"
    if column.minimum is not None and value < column.minimum:
        return f"{cell} is below the minimum {column.minimum:g}"
    if column.maximum is not None and value > column.maximum:
        return f"{cell} is above the maximum {column.maximum:g}"
    return None


def _check_across_columns(raw: pd.DataFrame) -> list[Problem]:
    problems: list[Problem] = []
    arm = raw["arm"].str.strip()
    sessions = raw["sessions_attended"].astype(float)
    for i in np.flatnonzero(((arm == "control") & (sessions > 0)).to_numpy()):
        problems.append(
            Problem(
                "sessions_attended",
                int(i) + 1,
                f"{sessions.iloc[i]:g} sessions in the control arm (must be 0)",
            )
        )
    if "peer_support_hours" in raw.columns:
        hours = pd.to_numeric(raw["peer_support_hours"].str.strip().mask(lambda c: c == ""))
        for i in np.flatnonzero(((arm == "control") & (hours > 0)).to_numpy()):
            problems.append(
                Problem(
                    "peer_support_hours",
                    int(i) + 1,
                    f"{hours.iloc[i]:g} hours in the control arm (must be 0)",
                )
            )
    for name in ARMS:
        if not (arm == name).any():
            problems.append(Problem("arm", None, f"no participant is allocated to {name!r}"))
    return problems


def typed(raw: pd.DataFrame) -> pd.DataFrame:
    """Convert a validated text-celled dataset into typed columns (missing = NaN)."""
    frame = pd.DataFrame(index=raw.index)
    for name in raw.columns:
        cells = raw[name].astype(str).str.strip()
        spec = column(str(name))
        if spec is None or spec.kind in ("text", "category"):
            nullable = spec is not None and spec.nullable
            frame[name] = cells.astype(object).where(cells != "", None) if nullable else cells
        elif spec.kind == "date":
            frame[name] = pd.to_datetime(cells, format="ISO8601")
        else:
            numbers = pd.to_numeric(cells.mask(cells == ""))
            integral = spec.kind in ("integer", "binary") and not numbers.isna().any()
            frame[name] = numbers.astype("int64") if integral else numbers.astype("float64")
    return frame.reset_index(drop=True)


def load_dataset(
    path: Path, *, sites: Iterable[str] | None = None, resources: Iterable[str] | None = None
) -> pd.DataFrame:
    """Read, validate and type a dataset; raises DatasetError naming every problem."""
    raw = read_raw(path)
    problems = validate(raw, sites=sites, resources=resources)
    if problems:
        raise DatasetError(problems)
    return typed(raw)


def from_frame(
    frame: pd.DataFrame, *, sites: Iterable[str] | None = None, resources: Iterable[str] | None = None
) -> tuple[pd.DataFrame, str]:
    """Validate and type a dataset built in memory (from the trial database, say).

    Returns the typed dataset and the SHA-256 of its CSV form, which is what an export of it
    would hold, so a report from live data is stamped like one from a file.
    """
    raw = frame.apply(_as_text)
    problems = validate(raw, sites=sites, resources=resources)
    if problems:
        raise DatasetError(problems)
    digest = hashlib.sha256(raw.to_csv(index=False).encode("utf-8")).hexdigest()
    return typed(raw), digest
