"""Baseline characteristics by arm (descriptive only: no significance tests, as CONSORT advises)."""

from __future__ import annotations

import pandas as pd

from aftercrisis.analysis.blinding import ArmLabels

CONTINUOUS = (("age", "Age, years"), ("qpr_0", "Recovery (QPR-15) at baseline"))
SKEWED = (("prior_admissions", "Acute admissions in the previous 2 years"),)
CATEGORICAL = (("sex", "Sex"), ("site", "Site"), ("ethnicity", "Ethnicity"))


def _mean_sd(values: pd.Series) -> str:
    known = values.dropna()
    return "\u2013" if known.empty else f"{known.mean():.1f} ({known.std(ddof=1):.1f})"


def _median_iqr(values: pd.Series) -> str:
    known = values.dropna()
    if known.empty:
        return "\u2013"
    q1, q2, q3 = known.quantile([0.25, 0.5, 0.75])
    return f"{q2:g} ({q1:g}\u2013{q3:g})"


def _missing(values: pd.Series) -> str:
    n = int(values.isna().sum())
    return f"; missing {n}" if n else ""


def baseline_table(frame: pd.DataFrame, labels: ArmLabels) -> pd.DataFrame:
    """Rows of characteristics; one column per arm headed `label (n = N)`, the compared arm first."""
    groups = {code: frame.loc[frame["arm"] == code] for code in (labels.compared_code, labels.reference_code)}
    headers = {code: f"{labels.label(code)} (n = {len(g)})" for code, g in groups.items()}
    rows: list[dict[str, str]] = []

    def add(name: str, cells: dict[str, str]) -> None:
        rows.append({"Characteristic": name, **{headers[c]: v for c, v in cells.items()}})

    for column, name in CONTINUOUS:
        if column in frame.columns:
            add(
                f"{name}, mean (SD)",
                {c: _mean_sd(g[column]) + _missing(g[column]) for c, g in groups.items()},
            )
    for column, name in SKEWED:
        if column in frame.columns:
            add(f"{name}, median (IQR)", {c: _median_iqr(g[column]) for c, g in groups.items()})
    for column, name in CATEGORICAL:
        if column not in frame.columns:
            continue
        add(f"{name}, n (%)", dict.fromkeys(groups, ""))
        levels = sorted(frame[column].dropna().astype(str).unique())
        for level in levels:
            cells = {}
            for c, g in groups.items():
                count = int((g[column].astype(str) == level).sum())
                cells[c] = f"{count} ({100 * count / len(g):.1f}%)" if len(g) else "0"
            add(f"    {level}", cells)
        if frame[column].isna().any():
            add("    not known", {c: str(int(g[column].isna().sum())) for c, g in groups.items()})
    return pd.DataFrame(rows)
