"""Typed models of a trial protocol file.

Every model forbids unknown keys, so a misspelt key is an error with its own path rather
than a silently ignored setting. Cross-references between sections (an arm code, an
instrument code) are checked by the loader on the raw file, so that they are reported
together with any structural problem.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

Code = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)]
SiteCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2,4}$")]
Text = Annotated[str, StringConstraints(min_length=1, strip_whitespace=True)]
Email = Annotated[str, StringConstraints(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Trial(Strict):
    short_name: Text
    title: Text
    registration: Text
    protocol_version: Text
    recruitment_start: dt.date
    recruitment_end: dt.date
    recruitment_target: int = Field(ge=1)  # participants to randomise across all sites

    @model_validator(mode="after")
    def _recruitment_in_order(self) -> Trial:
        if self.recruitment_end < self.recruitment_start:
            raise ValueError("recruitment_end is before recruitment_start")
        return self


class Arm(Strict):
    code: Code
    name: Text
    ratio: int = Field(ge=1, le=10)
    description: Text


class DutyContact(Strict):
    name: Text
    email: Email


class Site(Strict):
    code: SiteCode
    name: Text
    trust: Text
    # Who receives a risk concern raised in a peer support session. The concern reveals the arm, so this
    # is someone who may know it, never the masked crisis team as a whole.
    duty_contact: DutyContact | None = None
    # Participants this site is to randomise; an even share of the trial's target when not given.
    target: int | None = Field(default=None, ge=1)


class Criterion(Strict):
    code: Code
    text: Text


class Eligibility(Strict):
    inclusion: list[Criterion] = Field(min_length=1)
    exclusion: list[Criterion] = Field(default_factory=list)


class ConsentItem(Strict):
    code: Code
    text: Text
    required: bool


class Consent(Strict):
    version: Text
    effective_from: dt.date
    items: list[ConsentItem] = Field(min_length=1)


class MinimisationFactor(Strict):
    code: Literal["site", "sex", "age_at_entry", "prior_admissions", "ethnicity"]
    weight: float = Field(default=1.0, gt=0)
    cutpoints: list[float] = Field(default_factory=list)  # numeric factors: level boundaries


class Randomisation(Strict):
    method: Literal["simple", "stratified_blocks", "minimisation"]
    stratify_by: list[Literal["site"]] = Field(default_factory=list)
    block_sizes: list[int] = Field(default_factory=list)
    unit: Literal["individual"] = "individual"
    # Baseline questionnaires complete before randomisation, unless the protocol relaxes it.
    require_baseline: bool = True
    # Minimisation (Pocock-Simon) only.
    factors: list[MinimisationFactor] = Field(default_factory=list)
    imbalance: Literal["range", "variance"] = "range"
    preferred_probability: float = Field(default=0.8, ge=0.5, le=1.0)

    @model_validator(mode="after")
    def _site_handled_once(self) -> Randomisation:
        if "site" in self.stratify_by and any(f.code == "site" for f in self.factors):
            raise ValueError("site is both a stratum and a minimisation factor: use one")
        return self


class Intervention(Strict):
    arm: Code
    max_sessions: int = Field(ge=1, le=100)
    window_days: int = Field(ge=1)
    digital_workbook_arms: list[Code] = Field(default_factory=list)


class Visit(Strict):
    code: Code
    name: Text
    day: int = Field(ge=0, description="days after randomisation")
    window_before_days: int = Field(ge=0)
    window_after_days: int = Field(ge=0)
    instruments: list[Code] = Field(default_factory=list)


class Instrument(Strict):
    code: Code
    name: Text


class PrimaryOutcome(Strict):
    name: Text
    horizon_days: int = Field(ge=1)
    anchor: Literal["randomisation"]
    source: Literal["clinical_records", "self_report", "routine_data"]
    ascertainment_day: int = Field(ge=1)


class Setting(Strict):
    code: Code
    name: Text
    residential: bool = False  # occupies a bed: counts towards acute bed days


class Outcomes(Strict):
    primary: PrimaryOutcome
    acute_care_settings: list[Setting] = Field(min_length=1)


class Safety(Strict):
    """How serious adverse events are reviewed and who is told of a suspected unexpected serious reaction."""

    review_days: int = Field(ge=1, le=365)  # the chief investigator signs an event off within this many days
    sponsor_email: Email | None = None  # told of every SUSAR with the chief investigators


class PrimaryAnalysis(Strict):
    outcome: Code
    stratifier: Literal["site"]
    covariates: list[Code] = Field(default_factory=list)


class TimeToEvent(Strict):
    time: Code
    event: Code
    competing_event: Code | None = None


class ContinuousOutcome(Strict):
    outcome: Code
    baseline: Code | None = None


class SecondaryAnalysis(Strict):
    continuous: list[ContinuousOutcome] = Field(default_factory=list)
    counts: list[Code] = Field(default_factory=list)


class Subgroup(Strict):
    name: Code
    column: Code
    cutpoints: list[float] = Field(default_factory=list)


class Imputation(Strict):
    datasets: int = Field(ge=2, le=200)
    seed: int


class Analysis(Strict):
    primary: PrimaryAnalysis
    time_to_event: TimeToEvent
    secondary: SecondaryAnalysis
    uptake_threshold: int = Field(ge=1)
    subgroups: list[Subgroup] = Field(default_factory=list)
    imputation: Imputation


class UnitCost(Strict):
    """The price of one unit of a resource, and where the number of units comes from."""

    # The dataset's use_CODE_1y column must fit a Stata variable name (32 characters).
    code: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=25)]
    name: Text
    unit: Literal["day", "contact", "attendance", "hour", "participant"]
    cost: float = Field(ge=0)
    source: Text
    # records: counted from clinical records by a masked researcher; episodes: days in one acute-care
    # setting from the recorded episodes; sessions: hours of peer support held; per_participant: one
    # unit for each participant allocated to `arms`.
    measure: Literal["records", "episodes", "sessions", "per_participant"]
    setting: Code | None = None
    arms: list[Code] = Field(default_factory=list)

    @model_validator(mode="after")
    def _measure_has_what_it_needs(self) -> UnitCost:
        if (self.measure == "episodes") != (self.setting is not None):
            raise ValueError("a setting is given exactly when the measure is episodes")
        if (self.measure == "per_participant") != bool(self.arms):
            raise ValueError("arms are given exactly when the measure is per_participant")
        return self


class EconomicBootstrap(Strict):
    replicates: int = Field(ge=100, le=100_000)
    seed: int


class HealthEconomics(Strict):
    perspective: Text
    time_horizon_months: int = Field(ge=1, le=120)
    price_year: int = Field(ge=1990, le=2100)
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
    thresholds: list[float] = Field(min_length=1)  # willingness to pay per QALY for net monetary benefit
    ceac_max: float = Field(gt=0)  # the acceptability curve runs from 0 to this willingness to pay
    bootstrap: EconomicBootstrap
    unit_costs: list[UnitCost] = Field(min_length=1)

    def unit_cost(self, code: str) -> UnitCost:
        return next(u for u in self.unit_costs if u.code == code)


class Protocol(Strict):
    trial: Trial
    arms: list[Arm] = Field(min_length=2)
    sites: list[Site] = Field(min_length=1)
    eligibility: Eligibility
    consent: Consent
    randomisation: Randomisation
    intervention: Intervention
    visits: list[Visit] = Field(min_length=1)
    instruments: list[Instrument] = Field(default_factory=list)
    outcomes: Outcomes
    safety: Safety
    analysis: Analysis
    health_economics: HealthEconomics | None = None

    # Look-ups used across the application.
    def arm(self, code: str) -> Arm:
        return next(a for a in self.arms if a.code == code)

    def site(self, code: str) -> Site:
        return next(s for s in self.sites if s.code == code)

    def site_target(self, code: str) -> int:
        declared = self.site(code).target
        return declared if declared is not None else -(-self.trial.recruitment_target // len(self.sites))

    def visit(self, code: str) -> Visit:
        return next(v for v in self.visits if v.code == code)

    @property
    def arm_codes(self) -> list[str]:
        return [a.code for a in self.arms]

    @property
    def setting_codes(self) -> list[str]:
        return [s.code for s in self.outcomes.acute_care_settings]
