"""Effect estimates against independent reference values."""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st

from aftercrisis.analysis import effects


def core_table() -> pd.DataFrame:
    """The CORE trial's published 2x2 table: readmitted 64/218 intervention vs 83/216 control."""
    cells = [(1, 1, 64), (1, 0, 218 - 64), (0, 1, 83), (0, 0, 216 - 83)]
    rows = [(arm, y) for arm, y, n in cells for _ in range(n)]
    return pd.DataFrame(rows, columns=["compared", "readmitted_1y"])


def test_core_crude_odds_ratio_matches_published_and_woolf_by_hand() -> None:
    # By hand: OR = (64 * 133) / (154 * 83); Woolf SE = sqrt(1/64 + 1/154 + 1/83 + 1/133).
    log_or = math.log(64 * 133 / (154 * 83))
    se = math.sqrt(1 / 64 + 1 / 154 + 1 / 83 + 1 / 133)
    table = effects.two_by_two(core_table(), "readmitted_1y", "compared")
    crude = table.odds_ratio()
    assert crude.ratio == pytest.approx(math.exp(log_or), rel=1e-12)
    assert crude.ci[0] == pytest.approx(math.exp(log_or - 1.959963984540054 * se), rel=1e-12)
    # Published (Johnson et al., Lancet 2018, from the 2x2 table): 0.666 (0.446 to 0.994).
    assert round(crude.ratio, 3) == 0.666
    assert (round(crude.ci[0], 3), round(crude.ci[1], 3)) == (0.446, 0.994)


def test_unadjusted_logistic_equals_crude_woolf_on_core_table() -> None:
    # A saturated logistic model reproduces the crude log OR and Woolf's SE exactly.
    fit = effects.logistic(core_table(), "readmitted_1y", "compared")
    assert fit.coef == pytest.approx(math.log(64 * 133 / (154 * 83)), rel=1e-9)
    assert fit.se == pytest.approx(math.sqrt(1 / 64 + 1 / 154 + 1 / 83 + 1 / 133), rel=1e-9)
    assert fit.n == 434


def test_risk_difference_and_ratio_by_hand() -> None:
    table = effects.two_by_two(core_table(), "readmitted_1y", "compared")
    p1, p0 = 64 / 218, 83 / 216
    rd, (low, high), _ = table.risk_difference()
    se = math.sqrt(p1 * (1 - p1) / 218 + p0 * (1 - p0) / 216)
    assert rd == pytest.approx(p1 - p0, rel=1e-12)
    assert (low, high) == pytest.approx((p1 - p0 - 1.959963984540054 * se, p1 - p0 + 1.959963984540054 * se))
    rr = table.risk_ratio()
    se_log = math.sqrt(1 / 64 - 1 / 218 + 1 / 83 - 1 / 216)
    assert rr.ratio == pytest.approx(p1 / p0, rel=1e-12)
    assert rr.ci[1] == pytest.approx(p1 / p0 * math.exp(1.959963984540054 * se_log), rel=1e-12)


def test_logistic_matches_stata_on_spector() -> None:
    # Stata 11: logit grade gpa tuce psi (Spector and Mazzeo 1980; as recorded in the
    # statsmodels test suite, results_discrete.Spector.logit). psi is a binary "treatment".
    data = sm.datasets.spector.load_pandas().data
    fit = effects.logistic(data, "GRADE", "PSI", ["GPA", "TUCE"])
    assert fit.coef == pytest.approx(2.37868772835, rel=1e-6)
    assert fit.se == pytest.approx(1.06456430165, rel=1e-6)
    assert fit.n == 32


def test_linear_matches_nist_longley_certified_values() -> None:
    # NIST StRD Longley, certified: b(GNP deflator) = 15.0618722713733, SE 84.9149257747669.
    data = sm.datasets.longley.load_pandas().data
    fit = effects.linear(data, "TOTEMP", "GNPDEFL", ["GNP", "UNEMP", "ARMED", "POP", "YEAR"])
    assert fit.coef == pytest.approx(15.0618722713733, rel=1e-6)
    assert fit.se == pytest.approx(84.9149257747669, rel=1e-6)
    assert fit.df_resid == 9


def test_negative_binomial_matches_r_glm_nb_on_randhie() -> None:
    # R 2.15.1, MASS 7.3-22: glm.nb(mdvis ~ lncoins + idp + lpi + fmde + physlm + disea + hlthg
    # + hlthf + hlthp, data = randhie), as recorded in statsmodels' results_discrete.RandHIE.
    data = sm.datasets.randhie.load_pandas().data
    covariates = ["lncoins", "lpi", "fmde", "physlm", "disea", "hlthg", "hlthf", "hlthp"]
    fit, alpha = effects.negative_binomial(data, "mdvis", "idp", covariates)
    assert fit.coef == pytest.approx(-0.267787718814838, rel=1e-6)
    assert fit.se == pytest.approx(0.0226125368090765, rel=1e-6)
    assert alpha == pytest.approx(math.exp(0.256929012449), rel=1e-5)  # Stata's lnalpha, 12 digits


def test_categorical_adjustment_uses_indicators_of_each_level() -> None:
    frame = pd.DataFrame({"y": [0, 1, 0, 1, 1, 0], "x": [0, 1, 0, 1, 0, 1], "site": list("AABBCC")})
    design = effects.design_matrix(frame, "x", [], ["site"])
    assert list(design.columns) == ["const", "x", "site[B]", "site[C]"]


@settings(max_examples=25, deadline=None)
@given(a=st.integers(5, 80), b=st.integers(5, 80), c=st.integers(5, 80), d=st.integers(5, 80))
def test_closed_form_and_maximum_likelihood_odds_ratios_agree(a: int, b: int, c: int, d: int) -> None:
    rows = [(1, 1)] * a + [(1, 0)] * b + [(0, 1)] * c + [(0, 0)] * d
    frame = pd.DataFrame(rows, columns=["x", "y"])
    closed = effects.two_by_two(frame, "y", "x").odds_ratio()
    fitted = effects.logistic(frame, "y", "x")
    assert math.exp(fitted.coef) == pytest.approx(closed.ratio, rel=1e-8)
    assert fitted.ci(exponentiate=True) == pytest.approx(closed.ci, rel=1e-8)
    assert np.isclose(fitted.p, closed.p, rtol=1e-6)


def test_negative_binomial_near_poisson_counts_tends_to_the_poisson_model() -> None:
    # Counts with no extra-Poisson variation put alpha at its boundary (0), where NB2 is Poisson.
    rng = np.random.default_rng(12)
    x = rng.integers(0, 2, 500)
    frame = pd.DataFrame({"x": x, "y": rng.poisson(np.exp(-0.5 - 0.4 * x))})
    fit, alpha = effects.negative_binomial(frame, "y", "x")
    poisson = sm.GLM(
        frame["y"], sm.add_constant(frame[["x"]].astype(float)), family=sm.families.Poisson()
    ).fit()
    assert alpha < 1e-3
    assert fit.coef == pytest.approx(float(poisson.params["x"]), rel=1e-3)
    assert fit.se == pytest.approx(float(poisson.bse["x"]), rel=1e-3)


def _interim(answered: np.ndarray, outcome: str = "y") -> pd.DataFrame:
    rng = np.random.default_rng(5)
    n = len(answered)
    frame = pd.DataFrame(
        {
            "compared": np.arange(n) % 2,
            "site": np.where(np.arange(n) % 3 == 0, "CAM", "ISL"),
            outcome: rng.poisson(3, n).astype(float),
        }
    )
    frame.loc[~answered, outcome] = np.nan
    return frame


@pytest.mark.parametrize(
    ("answered", "reason"),
    [
        (np.zeros(40, bool), "no y values yet"),
        (np.arange(40) % 2 == 1, "y is known in one arm only (n = 20)"),
        (np.arange(40) == 7, "y is known in one arm only (n = 1)"),
        (np.isin(np.arange(40), [6, 7]), "y is known for 2 participants, too few for a model with 3 terms"),
        (
            np.isin(np.arange(40), [0, 6, 12, 1, 5, 7]),  # site and arm coincide among these
            "among the participants with y known, the model's terms are collinear",
        ),
    ],
    ids=["no answers", "one arm", "a single answer", "fewer answers than terms", "collinear"],
)
@pytest.mark.parametrize("model", [effects.linear, effects.negative_binomial, effects.logistic])
def test_an_outcome_the_data_cannot_estimate_says_why(answered, reason, model) -> None:
    frame = _interim(answered)
    if model is effects.logistic:
        frame["y"] = (frame["y"] > 2).astype(float).where(frame["y"].notna())
    with pytest.raises(effects.NotEstimable, match=re.escape(reason)):
        model(frame, "y", "compared", [], ["site"])


def test_two_answers_in_each_arm_are_enough_for_a_mean_difference() -> None:
    fit = effects.linear(_interim(np.isin(np.arange(40), [0, 1, 2, 3, 4, 5])), "y", "compared", [], ["site"])
    assert fit.n == 6 and math.isfinite(fit.coef)
