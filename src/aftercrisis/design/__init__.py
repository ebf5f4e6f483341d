"""Trial design: the synthetic-trial generator, closed-form sample sizes, simulated power.

The names below load on first use, so that importing the package (as the command line does
for its parsers) does not load the statistics stack.
"""

from __future__ import annotations

import importlib
from typing import Any

_HOMES = {
    "Site": "config",
    "TrialConfig": "config",
    "treatment_risk_from_hazard_ratio": "config",
    "treatment_risk_from_odds_ratio": "config",
    "SimulatedTrial": "simulate",
    "analysis_columns": "simulate",
    "simulate_trial": "simulate",
}
__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(importlib.import_module(f"aftercrisis.design.{_HOMES[name]}"), name)
    raise AttributeError(f"module 'aftercrisis.design' has no attribute {name!r}")
