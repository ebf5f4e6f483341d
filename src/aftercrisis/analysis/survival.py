"""Time to first readmission: Kaplan-Meier, log-rank, Cox (Efron ties), PH check, cumulative incidence.

The dataset records `days_to_readmission` with `readmission_event`; a participant who died
without readmission is censored at death, so `competing_event` (died) with no readmission
marks death as the competing event for the cumulative incidence.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from lifelines import CoxPHFitter
from lifelines.statistics import proportional_hazard_test
from statsmodels.duration.hazard_regression import PHReg
from statsmodels.duration.survfunc import CumIncidenceRight, SurvfuncRight, survdiff

from aftercrisis.analysis.effects import Estimate, design_matrix


@dataclass(frozen=True)
class Curve:
    """A step function: value after each time (starts at time 0)."""

    times: np.ndarray
    values: np.ndarray
    low: np.ndarray
    high: np.ndarray


@dataclass(frozen=True)
class LogRank:
    chi2: float
    p: float


@dataclass(frozen=True)
class PHCheck:
    """Test of proportional hazards for the exposure from scaled Schoenfeld residuals."""

    chi2: float
    p: float
    transform: str


def kaplan_meier(time: np.ndarray, event: np.ndarray) -> Curve:
    fit = SurvfuncRight(time, event)
    se = np.nan_to_num(fit.surv_prob_se)
    # log-log interval keeps the band inside [0, 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        log_s = np.log(fit.surv_prob)
        half = 1.959963984540054 * se / (fit.surv_prob * np.abs(log_s))
        low = np.where(np.isfinite(half), fit.surv_prob ** np.exp(half), fit.surv_prob)
        high = np.where(np.isfinite(half), fit.surv_prob ** np.exp(-half), fit.surv_prob)
    return Curve(np.r_[0.0, fit.surv_times], np.r_[1.0, fit.surv_prob], np.r_[1.0, low], np.r_[1.0, high])


def numbers_at_risk(time: np.ndarray, at: Sequence[float]) -> list[int]:
    """Participants still under observation (time >= t) at each time t."""
    return [int((time >= t).sum()) for t in at]


def logrank(time: np.ndarray, event: np.ndarray, group: np.ndarray) -> LogRank:
    chi2, p = survdiff(time, event, group)
    return LogRank(float(chi2), float(p))


def cox(
    frame: pd.DataFrame,
    time: str,
    event: str,
    exposure: str,
    covariates: Sequence[str] = (),
    categorical: Sequence[str] = (),
) -> Estimate:
    """Log hazard ratio of the exposure, Cox model with Efron's handling of ties."""
    data = frame.dropna(subset=[time, event, exposure, *covariates, *categorical])
    x = design_matrix(data, exposure, covariates, categorical).drop(columns="const")
    fit = PHReg(data[time].astype(float), x, status=data[event].astype(float), ties="efron").fit()
    column = list(x.columns).index(exposure)
    coef, se = float(fit.params[column]), float(fit.bse[column])
    return Estimate(coef, se, float(fit.pvalues[column]), len(data), (*covariates, *categorical))


def ph_check(
    frame: pd.DataFrame,
    time: str,
    event: str,
    exposure: str,
    covariates: Sequence[str] = (),
    categorical: Sequence[str] = (),
    *,
    transform: str = "km",
) -> PHCheck:
    """Grambsch-Therneau test for the exposure: scaled Schoenfeld residuals against transformed time."""
    data = frame.dropna(subset=[time, event, exposure, *covariates, *categorical])
    x = design_matrix(data, exposure, covariates, categorical).drop(columns="const")
    x.columns = [f"x{i}" for i in range(x.shape[1])]
    model_frame = x.assign(
        _time=data[time].astype(float).to_numpy(), _event=data[event].astype(float).to_numpy()
    )
    fitted = CoxPHFitter().fit(model_frame, "_time", "_event")
    result = proportional_hazard_test(fitted, model_frame, time_transform=transform)
    row = result.summary.loc["x0"]
    return PHCheck(float(row["test_statistic"]), float(row["p"]), transform)


def competing_status(event: np.ndarray, competing: np.ndarray) -> np.ndarray:
    """1 = readmitted, 2 = the competing event (death) first, 0 = censored."""
    return np.where(event == 1, 1, np.where(competing == 1, 2, 0)).astype(int)


def cumulative_incidence(time: np.ndarray, status: np.ndarray, cause: int = 1) -> Curve:
    """Aalen-Johansen cumulative incidence of `cause` with the others competing."""
    fit = CumIncidenceRight(time, status)
    values = np.asarray(fit.cinc[cause - 1])
    se = np.asarray(fit.cinc_se[cause - 1])
    low = np.clip(values - 1.959963984540054 * se, 0, 1)
    high = np.clip(values + 1.959963984540054 * se, 0, 1)
    return Curve(np.r_[0.0, fit.times], np.r_[0.0, values], np.r_[0.0, low], np.r_[0.0, high])
