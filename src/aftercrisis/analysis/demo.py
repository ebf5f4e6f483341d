"""A demonstration analysis dataset from the trial simulator (CORE-like, marginal OR about 0.66)."""

from __future__ import annotations

import pandas as pd

from aftercrisis.analysis.schema import COLUMNS
from aftercrisis.design.config import TrialConfig
from aftercrisis.design.simulate import analysis_columns, simulate_trial


def demo_dataset(*, seed: int = 2018, config: TrialConfig | None = None) -> pd.DataFrame:
    """One row per randomised participant with exactly the analysis dataset's columns."""
    trial = simulate_trial(config or TrialConfig(), seed=seed)
    outcomes = analysis_columns(trial)
    frame = trial.participants.merge(outcomes, on="participant", validate="one_to_one")
    frame["participant_id"] = [f"P{number + 1:04d}" for number in frame["participant"]]
    frame["randomised_on"] = frame["randomised_on"].dt.strftime("%Y-%m-%d")
    return frame[[c.name for c in COLUMNS if c.name in frame.columns]].reset_index(drop=True)
