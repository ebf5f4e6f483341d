"""Closed-form sample sizes against published values and independent implementations."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lifelines.statistics import sample_size_necessary_under_cph
from statsmodels.stats.power import NormalIndPower

from aftercrisis.design import samplesize as ss


def test_two_proportions_fleiss_table() -> None:
    # Fleiss, Statistical Methods for Rates and Proportions (2nd ed., 1981), Table A.3:
    # P1 = 0.05, P2 = 0.10, alpha 0.05 two-sided, power 0.80 -> 474 per group (continuity-corrected).
    assert ss.round_up(ss.two_proportions(0.05, 0.10, continuity=True)) == 474
    # The uncorrected size n' of the same book's formula, from which the table is derived: 434.4.
    assert ss.two_proportions(0.05, 0.10) == pytest.approx(434.43, abs=0.01)


def test_core_what_if_closed_form() -> None:
    # 38% vs 29%: about a coin flip at 441, 862 for 80% and 1152 for 90% (normal approximation).
    assert ss.power_two_proportions(441 / 2, 0.38, 0.29) == pytest.approx(0.517, abs=0.001)
    assert 2 * ss.round_up(ss.two_proportions(0.38, 0.29)) == 862
    assert 2 * ss.round_up(ss.two_proportions(0.38, 0.29, power=0.9)) == 1152


def test_two_proportions_match_the_pooled_z_test_by_monte_carlo() -> None:
    # Independent check of the approximation: simulate the pooled two-sample z-test itself
    # at the computed size (400,000 trials, Monte Carlo SE 0.0006).
    n = ss.round_up(ss.two_proportions(0.38, 0.29))
    rng = np.random.default_rng(1)
    a = rng.binomial(n, 0.38, 400_000) / n
    b = rng.binomial(n, 0.29, 400_000) / n
    pooled = (a + b) / 2
    z = (a - b) / np.sqrt(pooled * (1 - pooled) * 2 / n)
    assert np.mean(np.abs(z) > 1.959963984540054) == pytest.approx(0.80, abs=0.005)


@settings(max_examples=60, deadline=None)
@given(
    p1=st.floats(0.02, 0.9),
    gap=st.floats(0.03, 0.3),
    power=st.floats(0.5, 0.95),
    continuity=st.booleans(),
)
def test_power_inverts_sample_size(p1: float, gap: float, power: float, continuity: bool) -> None:
    p2 = min(p1 + gap, 0.98)
    n = ss.two_proportions(p1, p2, power=power, continuity=continuity)
    assert ss.power_two_proportions(n, p1, p2, continuity=continuity) == pytest.approx(power, abs=1e-9)
    assert ss.two_proportions(p1, p2, power=power, continuity=True) > ss.two_proportions(p1, p2, power=power)


def test_events_schoenfeld_and_freedman() -> None:
    # HR 0.75, alpha 0.05 two-sided, power 0.8: the commonly tabulated 380 events (Schoenfeld 1983,
    # d = 4 (z_a + z_b)^2 / log(HR)^2 = 379.35) and 385 (Freedman 1982, (z_a + z_b)^2 (1+HR)^2/(1-HR)^2).
    assert ss.events_schoenfeld(0.75) == pytest.approx(379.35, abs=0.01)
    assert ss.round_up(ss.events_freedman(0.75)) == 385
    # Power of Schoenfeld's events is the target.
    assert ss.power_schoenfeld(ss.events_schoenfeld(0.6, power=0.9), 0.6) == pytest.approx(0.9, abs=1e-12)


def test_freedman_participants_against_lifelines() -> None:
    # lifelines.statistics.sample_size_necessary_under_cph (Freedman events over the event
    # probabilities), run once: power 0.8, 1:1, p_exp 0.3, p_con 0.4, HR 0.75 -> (550, 550).
    events = ss.events_freedman(0.75)
    assert ss.round_up(events / 0.35 / 2) == 550
    assert sample_size_necessary_under_cph(0.8, 1, 0.3, 0.4, 0.75) == (550, 550)


def test_event_probability_exponential_closed_form() -> None:
    # Exponential survival, uniform accrual a, minimum follow-up f:
    # P(event) = 1 - (exp(-l f) - exp(-l (a + f))) / (l a), averaged over the two arms.
    risk, hr, a, f = 0.38, 0.7, 500.0, 365.0
    rate0 = -math.log(1 - risk) / 365
    expected = np.mean(
        [1 - (math.exp(-r * f) - math.exp(-r * (a + f))) / (r * a) for r in (rate0, rate0 * hr)]
    )
    assert ss.event_probability(risk, hr, accrual_days=a, followup_days=f) == pytest.approx(
        expected, rel=1e-9
    )
    # Fixed one-year follow-up: the mean of the arms' one-year risks.
    one_year = ss.event_probability(risk, hr, accrual_days=0, followup_days=365, weibull_shape=0.8)
    assert one_year == pytest.approx((risk + 1 - (1 - risk) ** hr) / 2, rel=1e-12)


@pytest.mark.parametrize("rho", [0.0, 0.5, 0.8])
def test_continuous_ancova_against_statsmodels(rho: float) -> None:
    # ANCOVA needs (1 - rho^2) of the t-test size (Borm et al. 2007); statsmodels' normal-theory
    # two-sample power with the effect size enlarged by 1 / sqrt(1 - rho^2) gives the same n, up to
    # the rejections in the wrong tail that statsmodels also counts (a few parts per million here).
    difference, sd = 3.0, 10.0
    effect = difference / sd / math.sqrt(1 - rho**2)
    reference = NormalIndPower().solve_power(effect_size=effect, alpha=0.05, power=0.8, ratio=1.0)
    assert ss.continuous(difference, sd, correlation=rho) == pytest.approx(reference, rel=1e-5)


def test_attrition_and_bad_input() -> None:
    assert ss.inflate_for_attrition(431, 0.2) == pytest.approx(538.75)
    with pytest.raises(ValueError, match="attrition"):
        ss.inflate_for_attrition(100, 1.0)
    with pytest.raises(ValueError, match="treatment_risk"):
        ss.two_proportions(0.3, 0.3)
    with pytest.raises(ValueError, match="hazard_ratio"):
        ss.events_schoenfeld(1.0)
    with pytest.raises(ValueError, match="power"):
        ss.continuous(1.0, 2.0, power=1.2)
