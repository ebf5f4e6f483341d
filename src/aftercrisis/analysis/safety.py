"""Serious adverse events (SAEs) by arm, from a table of one row per event."""

from __future__ import annotations

import pandas as pd

from aftercrisis.analysis.blinding import ArmLabels
from aftercrisis.analysis.dataset import DatasetError, Problem


def read_saes(path: str, participants: pd.Series) -> pd.DataFrame:
    """Read SAEs (CSV with `participant_id` and optionally `category`); unknown participants are errors."""
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    if "participant_id" not in table.columns:
        raise DatasetError([Problem("participant_id", None, "required column is missing from the SAE table")])
    known = set(participants.astype(str))
    problems = [
        Problem("participant_id", i + 1, f"SAE for {pid!r}, who is not in the analysis dataset")
        for i, pid in enumerate(table["participant_id"].str.strip())
        if pid not in known
    ]
    if problems:
        raise DatasetError(problems)
    return table


def sae_table(saes: pd.DataFrame, frame: pd.DataFrame, labels: ArmLabels) -> pd.DataFrame:
    """Events and participants with at least one event per arm, overall and by category."""
    arm_of = dict(zip(frame["participant_id"].astype(str), frame["arm"], strict=True))
    events = saes.assign(arm=saes["participant_id"].str.strip().map(arm_of))
    codes = (labels.compared_code, labels.reference_code)
    sizes = {c: int((frame["arm"] == c).sum()) for c in codes}
    rows: list[dict[str, object]] = []

    def add(name: str, subset: pd.DataFrame) -> None:
        row: dict[str, object] = {"Serious adverse events": name}
        for c in codes:
            mine = subset.loc[subset["arm"] == c]
            people = mine["participant_id"].nunique()
            row[f"{labels.label(c)}: events"] = len(mine)
            row[f"{labels.label(c)}: participants (%)"] = f"{people} ({100 * people / sizes[c]:.1f}%)"
        rows.append(row)

    add("All", events)
    if "category" in events.columns:
        for category in sorted(events["category"].unique()):
            add(f"    {category}", events.loc[events["category"] == category])
    return pd.DataFrame(rows)
