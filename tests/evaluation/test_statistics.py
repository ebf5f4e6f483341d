"""The evaluation's statistics against independent references: statsmodels for the weighted models,
scipy's binomial distribution by brute force for the funnel limits, and hand-made series for the run rules."""

from __future__ import annotations

import numpy as np
import pytest
import statsmodels.api as sm
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from aftercrisis.evaluation.statistics import (
    binomial_limit,
    logistic,
    run_rule_signals,
    standardised_differences,
    weighted_mean_difference,
)


@pytest.fixture
def sample():
    rng = np.random.default_rng(7)
    n = 600
    x = np.column_stack([np.ones(n), rng.normal(size=n), rng.integers(0, 2, n)])
    y = (rng.random(n) < 1 / (1 + np.exp(-(x @ [0.2, 0.5, -0.7])))).astype(float)
    return x, y, rng.uniform(0.4, 4.0, n)


def test_weighted_logistic_and_its_sandwich_match_statsmodels(sample):
    x, y, w = sample
    beta, covariance = logistic(x, y, w)
    fit = sm.GLM(y, x, family=sm.families.Binomial(), var_weights=w).fit(cov_type="HC0")
    np.testing.assert_allclose(beta, fit.params, atol=1e-9)
    np.testing.assert_allclose(np.sqrt(np.diag(covariance)), fit.bse, atol=1e-9)


def test_weighted_risk_difference_matches_weighted_least_squares(sample):
    x, y, w = sample
    difference, se = weighted_mean_difference(y, x[:, 2], w)
    fit = sm.WLS(y, sm.add_constant(x[:, 2]), weights=w).fit(cov_type="HC0")
    assert difference == pytest.approx(fit.params[1], abs=1e-12)
    assert se == pytest.approx(fit.bse[1], abs=1e-12)
    e = x[:, 2].astype(bool)
    assert difference == pytest.approx(
        np.average(y[e], weights=w[e]) - np.average(y[~e], weights=w[~e]), abs=1e-12
    )


def test_standardised_differences_by_hand(sample):
    import pandas as pd

    x, _, w = sample
    exposed = x[:, 2].astype(bool)
    frame = pd.DataFrame({"a": x[:, 1]})
    a = x[:, 1]
    pooled = np.sqrt((a[exposed].var() + a[~exposed].var()) / 2)
    expected = (
        np.average(a[exposed], weights=w[exposed]) - np.average(a[~exposed], weights=w[~exposed])
    ) / pooled
    assert standardised_differences(frame, exposed, w)[0] == pytest.approx(expected, abs=1e-12)


@given(st.floats(0.05, 0.95), st.integers(5, 3000), st.sampled_from([0.001, 0.025, 0.975, 0.999]))
def test_funnel_limit_is_the_interpolated_binomial_quantile(p0, n, probability):
    limit = float(binomial_limit(p0, np.array([n]), probability)[0])
    # brute force: the smallest count r with P(X <= r) >= probability, less the interpolation
    counts = np.arange(n + 1)
    cdf = stats.binom.cdf(counts, n, p0)
    r = int(counts[np.argmax(cdf >= probability - 1e-12)])
    below = stats.binom.cdf(r - 1, n, p0) if r > 0 else 0.0
    alpha = (cdf[r] - probability) / (cdf[r] - below) if cdf[r] > below else 0.0
    assert limit == pytest.approx(min(max((r - alpha) / n, 0.0), 1.0), abs=1e-9)


def test_limits_narrow_as_teams_grow():
    n = np.array([50, 200, 1000, 5000])
    upper = binomial_limit(0.35, n, 0.999)
    lower = binomial_limit(0.35, n, 0.001)
    assert np.all(np.diff(upper) < 0) and np.all(np.diff(lower) > 0)
    assert np.all(lower < 0.35) and np.all(upper > 0.35)


def _signals(p: list[float]) -> list[list[str]]:
    return run_rule_signals(np.array(p), 0.5, np.full(len(p), 0.05))


def test_run_rules_on_made_series():
    assert _signals([0.5, 0.66, 0.5]) == [[], ["outside"], []]
    shift = [0.52] * 8
    assert _signals(shift)[7] == ["shift"] and all(s == [] for s in _signals(shift)[:7])
    trend = [0.40, 0.42, 0.44, 0.46, 0.48, 0.49]
    assert "trend" in _signals(trend)[5] and "trend" not in _signals(trend[:5])[4]
    assert "two_of_three" in _signals([0.5, 0.61, 0.5, 0.62])[3]
    assert "two_of_three" not in _signals([0.5, 0.61, 0.39, 0.62])[2]


@given(st.lists(st.floats(0.3, 0.7), min_size=1, max_size=40))
def test_a_shift_is_signalled_exactly_after_eight_on_one_side(p):
    signals = _signals(p)
    side = np.sign(np.array(p) - 0.5)
    for i in range(len(p)):
        expected = i >= 7 and side[i] != 0 and bool(np.all(side[i - 7 : i + 1] == side[i]))
        assert ("shift" in signals[i]) == expected
