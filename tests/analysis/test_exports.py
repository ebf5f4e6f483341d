"""Exports read back by independent readers (pandas' Stata reader, pyarrow) with their labels."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from aftercrisis.analysis.dataset import _as_text, typed
from aftercrisis.analysis.exports import REDCAP_HEADER, data_dictionary, export_all

from .synthetic import synthetic_dataset


def test_exports_round_trip_with_value_labels(tmp_path: Path) -> None:
    frame = typed(synthetic_dataset(50, seed=4).apply(_as_text))
    csv, parquet, dta, dictionary = export_all(frame, tmp_path)
    pd.testing.assert_frame_equal(pd.read_parquet(parquet), frame)
    assert pd.read_csv(csv, dtype=str, keep_default_na=False)["randomised_on"].iloc[0] == frame[
        "randomised_on"
    ].iloc[0].strftime("%Y-%m-%d")
    with pd.io.stata.StataReader(dta) as reader:
        labels = reader.value_labels()
        variables = reader.variable_labels()
    assert labels["arm"] == {1: "intervention", 0: "control"}
    assert labels["sex"] == {1: "female", 0: "male"}
    assert set(labels["site"].values()) == set(frame["site"])
    assert variables["prior_admissions"] == "Acute admissions in the two years before randomisation"
    stata = pd.read_stata(dta)  # categories come back as their labels
    assert stata["arm"].astype(str).tolist() == frame["arm"].tolist()
    assert stata["randomised_on"].tolist() == frame["randomised_on"].tolist()
    assert stata["readmitted_1y"].isna().sum() == frame["readmitted_1y"].isna().sum()
    table = pd.read_csv(dictionary, dtype=str, keep_default_na=False)
    assert tuple(table.columns) == REDCAP_HEADER


def test_data_dictionary_describes_each_column() -> None:
    frame = typed(synthetic_dataset(20, seed=1).apply(_as_text))
    table = data_dictionary(frame).set_index("Variable / Field Name")
    assert table.loc["arm", "Choices, Calculations, OR Slider Labels"] == "1, intervention | 0, control"
    assert table.loc["randomised_on", "Text Validation Type OR Show Slider Number"] == "date_ymd"
    assert table.loc["age", "Text Validation Min"] == "16"
    assert table.loc["readmitted_1y", "Required Field?"] == ""
    assert table.loc["participant_id", "Required Field?"] == "y"
