"""Multiple imputation: Rubin's rules by hand, and the chained equations' behaviour."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from aftercrisis.analysis import effects
from aftercrisis.analysis.imputation import mice, rubin


def test_rubins_rules_worked_by_hand() -> None:
    # m = 5 estimates 1.0, 1.2, 0.8, 1.1, 0.9 with variances 0.04, 0.05, 0.045, 0.04, 0.05:
    # Q = 1.0; U = 0.045; B = (0 + .04 + .04 + .01 + .01) / 4 = 0.025;
    # T = U + (1 + 1/5) B = 0.075; lambda = 0.03 / 0.075 = 0.4; df = (m - 1) / lambda^2 = 25.
    pooled = rubin([1.0, 1.2, 0.8, 1.1, 0.9], [0.04, 0.05, 0.045, 0.04, 0.05])
    assert pooled.estimate == pytest.approx(1.0)
    assert pooled.within == pytest.approx(0.045)
    assert pooled.between == pytest.approx(0.025)
    assert pooled.se == pytest.approx(math.sqrt(0.075))
    assert pooled.df == pytest.approx(25.0)
    # Barnard-Rubin with 100 complete-data df: df_obs = 101/103 * 100 * 0.6 = 58.834951...;
    # df = 1 / (1/25 + 1/58.834951) = 17.544876 (van Buuren, Flexible Imputation, section 2.3.6).
    assert rubin(
        [1.0, 1.2, 0.8, 1.1, 0.9], [0.04, 0.05, 0.045, 0.04, 0.05], complete_df=100
    ).df == pytest.approx(17.544875506658943, rel=1e-9)


@given(estimate=st.floats(-5, 5), variances=st.lists(st.floats(0.001, 4), min_size=2, max_size=30))
def test_identical_estimates_pool_to_the_average_variance(estimate: float, variances: list[float]) -> None:
    pooled = rubin([estimate] * len(variances), variances)
    assert pooled.between == pytest.approx(0, abs=1e-12)
    assert pooled.se == pytest.approx(math.sqrt(float(np.mean(variances))))


def test_rubin_needs_two_imputations() -> None:
    with pytest.raises(ValueError, match="at least two"):
        rubin([1.0], [0.1])


def _incomplete(n: int = 600, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    group = rng.choice(["a", "b", "c"], n)
    y = (rng.random(n) < 1 / (1 + np.exp(-(-0.3 + 1.0 * x)))).astype(float)
    z = 2 + 0.5 * x + rng.normal(size=n)
    frame = pd.DataFrame({"y": y, "x": x, "group": group, "z": z, "arm": rng.integers(0, 2, n)})
    # missing at random: y and group are more often missing when x is high
    frame.loc[rng.random(n) < 1 / (1 + np.exp(-(x - 0.5))) * 0.5, "y"] = np.nan
    frame.loc[rng.random(n) < 0.15, "group"] = np.nan
    frame.loc[rng.random(n) < 0.2, "z"] = np.nan
    return frame


KINDS = {"y": "binary", "x": "continuous", "group": "categorical", "z": "continuous", "arm": "binary"}


def test_imputed_values_stay_in_their_columns_domains() -> None:
    frame = _incomplete()
    completed = mice(frame, KINDS, m=3, seed=1, iterations=3)  # type: ignore[arg-type]
    for copy in completed:
        assert not copy[list(KINDS)].isna().any().any()
        assert set(copy["y"].unique()) <= {0.0, 1.0}
        assert set(copy["group"].unique()) <= {"a", "b", "c"}
        # predictive mean matching only ever borrows observed values
        assert set(copy["z"]) <= set(frame["z"].dropna())
        observed = frame["y"].notna()
        assert copy.loc[observed, "y"].equals(frame.loc[observed, "y"])


def test_imputation_is_reproducible_with_its_seed() -> None:
    frame = _incomplete()
    first = mice(frame, KINDS, m=2, seed=9, iterations=2)  # type: ignore[arg-type]
    second = mice(frame, KINDS, m=2, seed=9, iterations=2)  # type: ignore[arg-type]
    for a, b in zip(first, second, strict=True):
        pd.testing.assert_frame_equal(a, b)


def test_complete_data_are_left_as_they_are() -> None:
    frame = _incomplete().dropna()
    for copy in mice(frame, KINDS, m=2, seed=1):  # type: ignore[arg-type]
        pd.testing.assert_frame_equal(copy, frame)


def test_pooled_estimate_recovers_the_association_under_missing_at_random() -> None:
    frame = _incomplete(n=1500, seed=5)
    completed = mice(frame, KINDS, m=10, seed=2, iterations=5)  # type: ignore[arg-type]
    fits = [effects.logistic(c, "y", "x") for c in completed]
    pooled = rubin([f.coef for f in fits], [f.se**2 for f in fits])
    low, high = pooled.ci()
    assert low < 1.0 < high  # the true log odds ratio per unit of x is 1.0
    assert pooled.between > 0


def test_a_column_with_nothing_observed_is_refused() -> None:
    frame = pd.DataFrame({"y": [np.nan, np.nan], "x": [1.0, 2.0]})
    with pytest.raises(ValueError, match="'y' has no observed values"):
        mice(frame, {"y": "binary", "x": "continuous"}, m=2, seed=1)
