"""Complier-average causal effect (CACE) with randomisation as the instrument.

A complier attends at least the protocol's uptake threshold of sessions. Sessions are only
offered in the compared arm (one-sided non-compliance), so with the exclusion restriction the
Wald (instrumental variable) estimator on the risk difference scale is

    CACE = (risk in compared arm - risk in reference arm) / (proportion of compliers in compared arm - same in reference arm),

which equals two-stage least squares with allocation instrumenting uptake. Its CI is a
percentile bootstrap, resampling participants within each arm (allocation stays 1:1 as
randomised); the delta-method standard error is reported beside it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from aftercrisis.analysis.effects import Z95


@dataclass(frozen=True)
class Cace:
    estimate: float
    ci: tuple[float, float]  # percentile bootstrap
    se_delta: float
    ci_delta: tuple[float, float]
    itt_risk_difference: float
    complier_proportion: float  # difference in the proportion of compliers between arms
    threshold: int
    n: int
    replicates: int


def _wald(y: np.ndarray, d: np.ndarray, z: np.ndarray, threshold: int) -> tuple[float, float, float]:
    itt = y[z == 1].mean() - y[z == 0].mean()
    uptake = d[z == 1].mean() - d[z == 0].mean()
    if uptake <= 0:
        raise ValueError(f"no participant reached the uptake threshold of {threshold} sessions")
    return float(itt / uptake), float(itt), float(uptake)


def cace(
    outcome: np.ndarray,
    sessions: np.ndarray,
    allocated: np.ndarray,
    *,
    threshold: int,
    seed: int,
    replicates: int = 2000,
) -> Cace:
    """CACE on the risk-difference scale; rows with an unknown outcome are left out."""
    known = ~np.isnan(outcome.astype(float))
    y = outcome[known].astype(float)
    z = allocated[known].astype(int)
    d = (sessions[known] >= threshold).astype(float)
    estimate, itt, uptake = _wald(y, d, z, threshold)
    variance = 0.0
    for arm in (0, 1):
        ya, da = y[z == arm], d[z == arm]
        n = len(ya)
        cov = np.cov(ya, da, ddof=1) if n > 1 else np.zeros((2, 2))
        variance += (cov[0, 0] - 2 * estimate * cov[0, 1] + estimate**2 * cov[1, 1]) / n
    se = math.sqrt(variance) / uptake
    rng = np.random.default_rng(seed)
    index_1, index_0 = np.flatnonzero(z == 1), np.flatnonzero(z == 0)
    draws = np.empty(replicates)
    for b in range(replicates):
        s1 = rng.choice(index_1, len(index_1))
        s0 = rng.choice(index_0, len(index_0))
        y1, y0, d1, d0 = y[s1], y[s0], d[s1], d[s0]
        u = d1.mean() - d0.mean()
        draws[b] = (y1.mean() - y0.mean()) / u if u > 0 else np.nan
    low, high = np.nanpercentile(draws, [2.5, 97.5])
    return Cace(
        estimate=estimate,
        ci=(float(low), float(high)),
        se_delta=se,
        ci_delta=(estimate - Z95 * se, estimate + Z95 * se),
        itt_risk_difference=itt,
        complier_proportion=uptake,
        threshold=threshold,
        n=len(y),
        replicates=replicates,
    )
