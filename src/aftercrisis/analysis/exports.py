"""Exports of the analysis dataset: CSV, Parquet, Stata .dta with value labels, and a
REDCap-style data dictionary, all from the same column table (schema.COLUMNS)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from aftercrisis.analysis.schema import Column, column

REDCAP_HEADER = (
    "Variable / Field Name",
    "Form Name",
    "Section Header",
    "Field Type",
    "Field Label",
    "Choices, Calculations, OR Slider Labels",
    "Field Note",
    "Text Validation Type OR Show Slider Number",
    "Text Validation Min",
    "Text Validation Max",
    "Identifier?",
    "Branching Logic (Show field only if...)",
    "Required Field?",
    "Custom Alignment",
    "Question Number (surveys only)",
    "Matrix Group Name",
    "Matrix Ranking?",
    "Field Annotation",
)
FORM = "analysis_dataset"


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """Dates as ISO 8601, missing values as empty cells."""
    out = frame.copy()
    for name in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[name]):
            out[name] = out[name].dt.strftime("%Y-%m-%d")
    out.to_csv(path, index=False)


def write_parquet(frame: pd.DataFrame, path: Path) -> None:
    frame.to_parquet(path, index=False)


def category_codes(frame: pd.DataFrame, column: Column) -> dict[int, str]:
    """Integer codes of a text category: the schema's own, or 1..k in sorted order of the values."""
    if column.value_labels:
        return dict(column.value_labels)
    values = sorted(frame[column.name].dropna().astype(str).unique())
    return {index + 1: value for index, value in enumerate(values)}


def write_stata(frame: pd.DataFrame, path: Path) -> None:
    """Stata 118 .dta: categories as labelled integers, variable labels from the codebook."""
    out = frame.copy()
    value_labels: dict[str, dict[float, str]] = {}
    for name in out.columns:
        spec = column(name)
        if spec is None:
            continue
        if spec.kind == "category":
            codes = category_codes(out, spec)
            lookup = {label: code for code, label in codes.items()}
            out[name] = out[name].map(lookup).astype("float64" if out[name].isna().any() else "int32")
            value_labels[name] = {float(code): label for code, label in codes.items()}
        elif spec.kind == "binary" and spec.value_labels:
            value_labels[name] = {float(code): label for code, label in spec.value_labels.items()}
        elif spec.kind == "date":
            out[name] = pd.to_datetime(out[name])
    labels = {name: spec.label[:80] for name in out.columns if (spec := column(name)) is not None}
    out.to_stata(
        path,
        write_index=False,
        version=118,
        convert_dates={name: "td" for name in out.columns if pd.api.types.is_datetime64_any_dtype(out[name])},
        variable_labels=labels,
        value_labels=value_labels,
    )


def data_dictionary(frame: pd.DataFrame, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """A REDCap data dictionary (instrument designer CSV) describing the dataset's columns."""
    rows = []
    for name in columns or list(frame.columns):
        spec = column(name)
        if spec is None:
            continue
        row = dict.fromkeys(REDCAP_HEADER, "")
        row.update({"Variable / Field Name": name, "Form Name": FORM, "Field Label": spec.label})
        if spec.kind in ("category", "binary"):
            codes = category_codes(frame, spec) if spec.kind == "category" else spec.value_labels
            row["Field Type"] = "radio"
            row["Choices, Calculations, OR Slider Labels"] = " | ".join(f"{k}, {v}" for k, v in codes.items())
        else:
            row["Field Type"] = "text"
            row["Text Validation Type OR Show Slider Number"] = {
                "integer": "integer",
                "number": "number",
                "date": "date_ymd",
            }.get(spec.kind, "")
            if spec.minimum is not None:
                row["Text Validation Min"] = f"{spec.minimum:g}"
            if spec.maximum is not None:
                row["Text Validation Max"] = f"{spec.maximum:g}"
        row["Required Field?"] = "" if spec.nullable else "y"
        row["Identifier?"] = ""  # pseudonymous trial IDs only: nothing here identifies a person
        rows.append(row)
    return pd.DataFrame(rows, columns=list(REDCAP_HEADER))


def export_all(frame: pd.DataFrame, directory: Path, stem: str = "analysis_dataset") -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = [directory / f"{stem}.{ext}" for ext in ("csv", "parquet", "dta")]
    write_csv(frame, paths[0])
    write_parquet(frame, paths[1])
    write_stata(frame, paths[2])
    dictionary = directory / f"{stem}_dictionary.csv"
    data_dictionary(frame).to_csv(dictionary, index=False)
    return [*paths, dictionary]
