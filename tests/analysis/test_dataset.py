"""Validation of the analysis dataset: every problem named by column and row."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aftercrisis.analysis.dataset import DatasetError, _as_text, load_dataset, validate
from aftercrisis.analysis.schema import REQUIRED_COLUMNS

from .synthetic import synthetic_dataset

SITES = ["CAM", "ISL", "HAR", "ENF", "BRI", "SLO"]


def _raw(n: int = 40) -> pd.DataFrame:
    return synthetic_dataset(n, seed=11).apply(_as_text)


def test_a_well_formed_dataset_has_no_problems() -> None:
    assert validate(_raw(), sites=SITES) == []


def test_each_problem_is_named_by_column_and_row() -> None:
    raw = _raw().drop(columns=["qpr_0"])
    raw.loc[2, "arm"] = "treatment"
    raw.loc[4, "age"] = "-3"
    raw.loc[5, "readmitted_1y"] = "2"
    raw.loc[6, "randomised_on"] = "12/03/2014"
    raw.loc[7, "site"] = "XYZ"
    raw.loc[8, "participant_id"] = raw.loc[9, "participant_id"]
    raw.loc[10, "prior_admissions"] = "1.5"
    raw.loc[11, "days_to_readmission"] = ""
    messages = [str(p) for p in validate(raw, sites=SITES)]
    assert messages == [
        "column qpr_0: required column is missing",
        "row 8, column site: 'XYZ' is not a site of the protocol (BRI, CAM, ENF, HAR, ISL, SLO)",
        "row 3, column arm: 'treatment' is not one of intervention, control",
        "row 7, column randomised_on: '12/03/2014' is not an ISO date (YYYY-MM-DD)",
        "row 5, column age: -3 is below the minimum 16",
        "row 11, column prior_admissions: '1.5' is not a whole number",
        "row 6, column readmitted_1y: '2' must be 1 or 0",
        "row 12, column days_to_readmission: value is empty but required",
        "row 10, column participant_id: duplicate participant_id 'P0010'",
    ]


def test_sessions_in_the_control_arm_are_impossible() -> None:
    raw = _raw()
    row = int(raw.index[raw["arm"] == "control"][0])
    raw.loc[row, "sessions_attended"] = "3"
    assert [str(p) for p in validate(raw)] == [
        f"row {row + 1}, column sessions_attended: 3 sessions in the control arm (must be 0)"
    ]


@settings(max_examples=30, deadline=None)
@given(row=st.integers(0, 39), column=st.sampled_from(["age", "qpr_4m", "n_readmissions_1y", "died_1y"]))
def test_a_non_number_anywhere_is_reported_at_its_row(row: int, column: str) -> None:
    raw = _raw()
    raw.loc[row, column] = "n/a"
    problems = validate(raw)
    assert [(p.column, p.row) for p in problems] == [(column, row + 1)]


def test_load_reads_csv_and_parquet_alike(tmp_path: Path) -> None:
    frame = synthetic_dataset(30, seed=2)
    frame.to_csv(tmp_path / "d.csv", index=False)
    frame.to_parquet(tmp_path / "d.parquet", index=False)
    from_csv = load_dataset(tmp_path / "d.csv")
    from_parquet = load_dataset(tmp_path / "d.parquet")
    pd.testing.assert_frame_equal(from_csv, from_parquet)
    assert from_csv["readmitted_1y"].isna().sum() == frame["readmitted_1y"].isna().sum()
    assert list(from_csv.columns[: len(REQUIRED_COLUMNS)]) == list(REQUIRED_COLUMNS)


def test_load_raises_with_every_problem(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("participant_id,site,arm\nP1,CAM,treatment\n")
    with pytest.raises(DatasetError) as caught:
        load_dataset(path)
    text = str(caught.value)
    assert "column readmitted_1y: required column is missing" in text
    assert "row 1, column arm: 'treatment' is not one of intervention, control" in text


def test_unsupported_file_type(tmp_path: Path) -> None:
    path = tmp_path / "d.xlsx"
    path.write_text("")
    with pytest.raises(DatasetError, match=r"unsupported file type '\.xlsx'"):
        load_dataset(path)
