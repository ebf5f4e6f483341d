"""Complier-average causal effect: the Wald estimator against two-stage least squares and by hand."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.sandbox.regression.gmm import IV2SLS

from aftercrisis.analysis.cace import cace


def _trial(seed: int, n: int = 400) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    allocated = (rng.random(n) < 0.5).astype(int)
    sessions = np.where(allocated == 1, rng.integers(0, 11, n), 0)
    outcome = (rng.random(n) < 0.4 - 0.15 * (sessions >= 5)).astype(float)
    return outcome, sessions, allocated


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_wald_estimate_equals_two_stage_least_squares(seed: int) -> None:
    outcome, sessions, allocated = _trial(seed)
    result = cace(outcome, sessions, allocated, threshold=5, seed=0, replicates=50)
    complier = (sessions >= 5).astype(float)
    n = len(outcome)
    iv = IV2SLS(outcome, np.c_[np.ones(n), complier], np.c_[np.ones(n), allocated]).fit()
    assert result.estimate == pytest.approx(float(iv.params[1]), rel=1e-10)


def test_by_hand() -> None:
    # Compared arm: 10 participants, 6 compliers; 2 of the 10 readmitted. Reference: 10, 5 readmitted.
    # ITT risk difference = 0.2 - 0.5 = -0.3; complier proportion 0.6; CACE = -0.3 / 0.6 = -0.5.
    outcome = np.r_[1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0].astype(float)
    sessions = np.r_[6, 0, 5, 9, 7, 8, 0, 1, 2, 10, np.zeros(10)]
    allocated = np.r_[np.ones(10), np.zeros(10)].astype(int)
    result = cace(outcome, sessions, allocated, threshold=5, seed=1, replicates=200)
    assert result.itt_risk_difference == pytest.approx(-0.3)
    assert result.complier_proportion == pytest.approx(0.6)
    assert result.estimate == pytest.approx(-0.5)


def test_unknown_outcomes_are_left_out_and_ci_is_reproducible() -> None:
    outcome, sessions, allocated = _trial(4)
    outcome[:20] = np.nan
    first = cace(outcome, sessions, allocated, threshold=5, seed=7, replicates=300)
    again = cace(outcome, sessions, allocated, threshold=5, seed=7, replicates=300)
    assert first.n == 380
    assert first.ci == again.ci
    assert first.ci[0] < first.estimate < first.ci[1]
    # the bootstrap and delta-method intervals describe the same sampling variation
    assert (first.ci[1] - first.ci[0]) == pytest.approx(first.ci_delta[1] - first.ci_delta[0], rel=0.25)


def test_no_complier_is_an_error() -> None:
    outcome, _, allocated = _trial(5)
    with pytest.raises(ValueError, match="uptake threshold of 5"):
        cace(outcome, np.zeros(len(outcome)), allocated, threshold=5, seed=1)
