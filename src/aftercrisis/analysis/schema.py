"""The analysis dataset's columns: one row per randomised participant (intention to treat).

This table is the contract between the trial database's export and the analysis. The
codebook (docs/analysis-dataset.md), the REDCap-style data dictionary, the Stata value
labels and the validation all read it, so they cannot drift apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["text", "category", "date", "integer", "number", "binary"]

ARMS: tuple[str, str] = ("intervention", "control")

# The range of the EQ-5D-3L index under the UK TTO value set (followup/instruments/eq5d3l.yaml):
# 1 for 11111, and 1 minus the constant, every level-3 decrement and N3 for 33333.
EQ5D_WORST, EQ5D_BEST = -0.594, 1.0


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    label: str
    required: bool = True  # must be present as a column
    nullable: bool = False  # empty cells allowed
    minimum: float | None = None
    maximum: float | None = None
    values: tuple[str, ...] = ()  # allowed values of a category
    value_labels: dict[int, str] = field(default_factory=dict)  # codes of a binary/category in exports


COLUMNS: tuple[Column, ...] = (
    Column("participant_id", "text", "Pseudonymous trial identifier"),
    Column("site", "category", "Recruiting site (crisis resolution team code)"),
    Column(
        "arm",
        "category",
        "Allocated arm",
        values=ARMS,
        value_labels={1: "intervention", 0: "control"},
    ),
    Column("randomised_on", "date", "Date of randomisation (ISO 8601)"),
    Column("age", "integer", "Age in years at randomisation", minimum=16, maximum=110),
    Column("sex", "category", "Sex", values=("female", "male"), value_labels={1: "female", 0: "male"}),
    Column(
        "prior_admissions",
        "integer",
        "Acute admissions in the two years before randomisation",
        minimum=0,
        maximum=200,
    ),
    Column(
        "readmitted_1y",
        "binary",
        "Readmitted to acute care within one year of randomisation (empty when unknown)",
        nullable=True,
        value_labels={1: "readmitted", 0: "not readmitted"},
    ),
    Column(
        "days_to_readmission",
        "integer",
        "Days from randomisation to the first readmission, or to censoring",
        minimum=0,
        maximum=3650,
    ),
    Column(
        "readmission_event",
        "binary",
        "1 when days_to_readmission ends in a readmission, 0 when censored",
        value_labels={1: "readmitted", 0: "censored"},
    ),
    Column(
        "died_1y", "binary", "Died within one year of randomisation", value_labels={1: "died", 0: "alive"}
    ),
    Column(
        "n_readmissions_1y",
        "integer",
        "Number of acute-care readmissions within one year",
        nullable=True,
        minimum=0,
        maximum=365,
    ),
    Column(
        "acute_bed_days_1y",
        "integer",
        "Days in acute care within one year",
        nullable=True,
        minimum=0,
        maximum=366,
    ),
    Column(
        "csq8_4m",
        "number",
        "Satisfaction with care (CSQ-8) at 4 months",
        nullable=True,
        minimum=8,
        maximum=32,
    ),
    Column(
        "qpr_0", "number", "Self-rated recovery (QPR-15) at baseline", nullable=True, minimum=0, maximum=60
    ),
    Column(
        "qpr_4m", "number", "Self-rated recovery (QPR-15) at 4 months", nullable=True, minimum=0, maximum=60
    ),
    Column(
        "qpr_18m", "number", "Self-rated recovery (QPR-15) at 18 months", nullable=True, minimum=0, maximum=60
    ),
    Column(
        "sessions_attended",
        "integer",
        "Peer support sessions attended (0 in the control arm)",
        minimum=0,
        maximum=100,
    ),
    Column("ethnicity", "category", "Ethnicity (optional)", required=False, nullable=True),
    *(
        Column(
            f"eq5d_{visit}",
            "number",
            f"EQ-5D-3L index (UK TTO value set) at {when}",
            required=False,
            nullable=True,
            minimum=EQ5D_WORST,
            maximum=EQ5D_BEST,
        )
        for visit, when in (("0", "baseline"), ("4m", "4 months"), ("18m", "18 months"))
    ),
    Column(
        "peer_support_hours",
        "number",
        "Hours of peer support sessions held (0 in the control arm)",
        required=False,
        nullable=True,
        minimum=0,
        maximum=1000,
    ),
)

COLUMN_BY_NAME: dict[str, Column] = {c.name: c for c in COLUMNS}
REQUIRED_COLUMNS: tuple[str, ...] = tuple(c.name for c in COLUMNS if c.required)

# Resource use, one column per resource of the protocol's health economics counted from records or
# episodes, and per period: the year before randomisation (_0) and the year after it (_1y).
RESOURCE_PREFIX = "use_"
RESOURCE_COLUMN = re.compile(r"^use_([a-z][a-z0-9_]*)_(0|1y)$")
PERIODS = {"0": "in the year before randomisation", "1y": "in the year after randomisation"}


def resource_use_column(resource: str, period: str) -> str:
    return f"{RESOURCE_PREFIX}{resource}_{period}"


def column(name: str) -> Column | None:
    """The contract's column of that name: a fixed one, or a resource-use column."""
    if name in COLUMN_BY_NAME:
        return COLUMN_BY_NAME[name]
    match = RESOURCE_COLUMN.match(name)
    if match is None:
        return None
    resource, period = match.groups()
    return Column(
        name,
        "number",
        f"Units of {resource.replace('_', ' ')} {PERIODS[period]}",
        required=False,
        nullable=True,
        minimum=0,
        maximum=10_000,
    )
