"""Trial design: the synthetic-trial generator, closed-form sample sizes, simulated power."""

from aftercrisis.design.config import (
    Site,
    TrialConfig,
    treatment_risk_from_hazard_ratio,
    treatment_risk_from_odds_ratio,
)
from aftercrisis.design.simulate import SimulatedTrial, analysis_columns, simulate_trial

__all__ = [
    "SimulatedTrial",
    "Site",
    "TrialConfig",
    "analysis_columns",
    "simulate_trial",
    "treatment_risk_from_hazard_ratio",
    "treatment_risk_from_odds_ratio",
]
