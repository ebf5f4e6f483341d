"""The batched fits agree with statsmodels and lifelines, trial by trial, to 1e-6 relative."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from lifelines import CoxPHFitter
from lifelines.statistics import logrank_test
from statsmodels.duration.hazard_regression import PHReg

from aftercrisis.design import TrialConfig, analysis_columns, simulate_trial
from aftercrisis.design.batch import TrialBatch, batch_from_trial, simulate_batch
from aftercrisis.design.fits import fit_cox, fit_logistic, logrank, risk_sets

RELATIVE = 1e-6
CONFIGS = [
    TrialConfig(n=440),
    TrialConfig(n=120, control_risk=0.5, treatment_risk=0.3, weibull_shape=1.4, loss_to_followup=0.1),
    TrialConfig(n=300, site_sd=0.8, death_rate_1y=0.05, prior_admission_log_odds=0.5),
]


def _reference_logistic(frame: pd.DataFrame, adjust_prior: bool) -> tuple[float, float]:
    data = frame.dropna(subset=["readmitted_1y"])
    columns = [pd.get_dummies(data["site"]).astype(float), data[["intervention"]].astype(float)]
    if adjust_prior:
        columns.append(data[["prior_admissions"]].astype(float))
    fit = sm.Logit(data["readmitted_1y"], pd.concat(columns, axis=1)).fit(
        method="newton", disp=False, tol=1e-12, maxiter=100
    )
    return float(fit.params["intervention"]), float(fit.bse["intervention"])


def _reference_cox(frame: pd.DataFrame) -> tuple[float, float]:
    # lifelines damps its Newton steps by default; full steps and a tight precision converge fully.
    fitter = CoxPHFitter().fit(
        frame[["days_to_readmission", "readmission_event", "intervention"]],
        "days_to_readmission",
        "readmission_event",
        fit_options={"precision": 1e-14, "max_steps": 500, "step_size": 1.0},
    )
    return float(fitter.params_["intervention"]), float(fitter.standard_errors_["intervention"])


def _check_batch(batch: TrialBatch, config: TrialConfig, trials: list[int]) -> None:
    logistic = fit_logistic(batch, len(config.sites), config.prior_admissions_max)
    unadjusted = fit_logistic(batch, len(config.sites), config.prior_admissions_max, adjust_prior=False)
    sets = risk_sets(batch)
    cox = fit_cox(sets)
    chi2 = logrank(sets)
    assert logistic.converged.all() and cox.converged.all()
    for i in trials:
        frame = batch.frame(i, config.site_codes)
        # A site whose participants all share one outcome (separation) has its intercept at
        # infinity in the limit; the batched fit gives that limit, the fit without the site.
        outcomes = frame.dropna(subset=["readmitted_1y"]).groupby("site")["readmitted_1y"]
        separated = outcomes.nunique()[lambda x: x < 2].index
        frame = frame[~frame["site"].isin(separated)]
        for fit, adjust in ((logistic, True), (unadjusted, False)):
            coef, se = _reference_logistic(frame, adjust)
            assert fit.coef[i] == pytest.approx(coef, rel=RELATIVE)
            assert fit.se[i] == pytest.approx(se, rel=RELATIVE)
        frame = batch.frame(i, config.site_codes)
        coef, se = _reference_cox(frame)
        assert cox.coef[i] == pytest.approx(coef, rel=RELATIVE)
        assert cox.se[i] == pytest.approx(se, rel=RELATIVE)
        ph = PHReg(
            frame["days_to_readmission"].astype(float),
            frame[["intervention"]].astype(float),
            status=frame["readmission_event"].astype(float),
            ties="efron",
        ).fit()
        assert cox.coef[i] == pytest.approx(ph.params[0], rel=RELATIVE)
        treated = frame["intervention"] == 1
        test = logrank_test(
            frame.loc[treated, "days_to_readmission"],
            frame.loc[~treated, "days_to_readmission"],
            frame.loc[treated, "readmission_event"],
            frame.loc[~treated, "readmission_event"],
        )
        assert chi2[i] == pytest.approx(test.test_statistic, rel=RELATIVE)


@pytest.mark.parametrize("config", CONFIGS, ids=["core", "small-high-loss", "heterogeneous"])
def test_batched_fits_equal_statsmodels_and_lifelines(config: TrialConfig) -> None:
    batch = simulate_batch(config, 40, np.random.default_rng(2024))
    _check_batch(batch, config, trials=[0, 7, 19, 31, 39])  # trial 31 of the small trials is separated


def test_batched_fits_on_the_full_generator() -> None:
    # The same models on a trial from the participant-level generator (with its own layout).
    config = TrialConfig(n=441)
    trial = simulate_trial(config, seed=3)
    batch = batch_from_trial(trial.participants, analysis_columns(trial), config.site_codes)
    _check_batch(batch, config, trials=[0])


def test_fast_and_full_generators_agree_in_distribution() -> None:
    config = TrialConfig(n=441, loss_to_followup=0.05, death_rate_1y=0.03)
    batch = simulate_batch(config, 200, np.random.default_rng(8))
    fast = pd.DataFrame(
        {
            "intervention": batch.intervention.ravel(),
            "readmitted": np.where(batch.known, batch.event, np.nan).ravel(),
            "day": np.where(batch.event, batch.day, np.nan).ravel(),
        }
    )
    rows = []
    for seed in range(40):
        trial = simulate_trial(config, seed=seed)
        out = trial.participants[["participant", "arm"]].merge(analysis_columns(trial))
        rows.append(
            pd.DataFrame(
                {
                    "intervention": out["arm"] == "intervention",
                    "readmitted": out["readmitted_1y"],
                    "day": out["days_to_readmission"].where(out["readmission_event"] == 1),
                }
            )
        )
    full = pd.concat(rows)
    # 88,200 vs 17,640 participants: risk SE about 0.004 on the smaller.
    for arm in (True, False):
        a, b = fast[fast["intervention"] == arm], full[full["intervention"] == arm]
        assert a["readmitted"].mean() == pytest.approx(b["readmitted"].mean(), abs=0.02)
        assert a["readmitted"].isna().mean() == pytest.approx(b["readmitted"].isna().mean(), abs=0.01)
        assert a["day"].median() == pytest.approx(b["day"].median(), rel=0.15)
    assert fast["intervention"].mean() == pytest.approx(0.5, abs=0.01)
