"""Effect estimates of allocation: odds, risk and rate ratios, risk and mean differences.

Each function takes a frame, the outcome column, an `exposure` column coded 1 for the arm
compared and 0 for the reference arm, and the adjustment columns. Categorical adjustment
columns (the stratifier, site) enter as indicator variables. Confidence intervals are Wald
intervals from the model's standard errors, as in the statistical analysis plan.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import optimize, stats

Z95 = float(stats.norm.ppf(0.975))


class NotEstimable(ValueError):
    """The data cannot give this estimate (at an interim analysis, say); the message says why."""


@dataclass(frozen=True)
class Estimate:
    """A coefficient on the model scale (log odds, log hazard, mean difference) and its SE."""

    coef: float
    se: float
    p: float
    n: int
    covariates: tuple[str, ...] = ()
    df_resid: float | None = None  # residual degrees of freedom when the reference is a t distribution

    def ci(self, *, exponentiate: bool) -> tuple[float, float]:
        q = Z95 if self.df_resid is None else float(stats.t.ppf(0.975, self.df_resid))
        low, high = self.coef - q * self.se, self.coef + q * self.se
        return (math.exp(low), math.exp(high)) if exponentiate else (low, high)


@dataclass(frozen=True)
class RatioResult:
    ratio: float
    ci: tuple[float, float]
    p: float


@dataclass(frozen=True)
class TwoByTwo:
    """Events and totals in the compared (exposure 1) and reference (exposure 0) arms."""

    events_1: int
    total_1: int
    events_0: int
    total_0: int
    extra: dict[str, float] = field(default_factory=dict)

    @property
    def risk_1(self) -> float:
        return self.events_1 / self.total_1

    @property
    def risk_0(self) -> float:
        return self.events_0 / self.total_0

    def odds_ratio(self) -> RatioResult:
        """Crude odds ratio with Woolf's (log) interval."""
        a, b = self.events_1, self.total_1 - self.events_1
        c, d = self.events_0, self.total_0 - self.events_0
        log_or = math.log(a * d / (b * c))
        se = math.sqrt(1 / a + 1 / b + 1 / c + 1 / d)
        return _ratio(log_or, se)

    def risk_ratio(self) -> RatioResult:
        """Risk ratio with the log (Katz) interval."""
        log_rr = math.log(self.risk_1 / self.risk_0)
        se = math.sqrt(1 / self.events_1 - 1 / self.total_1 + 1 / self.events_0 - 1 / self.total_0)
        return _ratio(log_rr, se)

    def risk_difference(self) -> tuple[float, tuple[float, float], float]:
        """Risk difference with the Wald interval: (difference, (low, high), p)."""
        p1, p0 = self.risk_1, self.risk_0
        se = math.sqrt(p1 * (1 - p1) / self.total_1 + p0 * (1 - p0) / self.total_0)
        rd = p1 - p0
        return rd, (rd - Z95 * se, rd + Z95 * se), float(2 * stats.norm.sf(abs(rd / se)))


def _ratio(log_ratio: float, se: float) -> RatioResult:
    p = float(2 * stats.norm.sf(abs(log_ratio / se)))
    return RatioResult(
        math.exp(log_ratio), (math.exp(log_ratio - Z95 * se), math.exp(log_ratio + Z95 * se)), p
    )


def two_by_two(frame: pd.DataFrame, outcome: str, exposure: str) -> TwoByTwo:
    known = frame[[outcome, exposure]].dropna()
    y, x = known[outcome].to_numpy(dtype=float), known[exposure].to_numpy(dtype=float)
    return TwoByTwo(
        events_1=int(y[x == 1].sum()),
        total_1=int((x == 1).sum()),
        events_0=int(y[x == 0].sum()),
        total_0=int((x == 0).sum()),
    )


def design_matrix(
    frame: pd.DataFrame, exposure: str, covariates: Sequence[str], categorical: Sequence[str]
) -> pd.DataFrame:
    """Constant, exposure, covariates, then indicators of each categorical (first level dropped)."""
    parts = [pd.Series(1.0, index=frame.index, name="const"), frame[exposure].astype(float)]
    parts += [frame[c].astype(float) for c in covariates]
    for name in categorical:
        levels = sorted(frame[name].astype(str).unique())
        parts += [
            (frame[name].astype(str) == level).astype(float).rename(f"{name}[{level}]")
            for level in levels[1:]
        ]
    return pd.concat(parts, axis=1)


def _complete(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    return frame.loc[frame[list(columns)].notna().all(axis=1)]


def _model_data(
    frame: pd.DataFrame, outcome: str, exposure: str, covariates: Sequence[str], categorical: Sequence[str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Complete cases and their design matrix, refused with the reason when no model can be fitted."""
    data = _complete(frame, [outcome, exposure, *covariates, *categorical])
    if data.empty:
        raise NotEstimable(f"no {outcome} values yet")
    arms = data[exposure].nunique()
    if arms < 2:
        raise NotEstimable(f"{outcome} is known in one arm only (n = {len(data)})")
    x = design_matrix(data, exposure, covariates, categorical)
    if len(data) <= x.shape[1]:
        raise NotEstimable(
            f"{outcome} is known for {len(data)} participants, too few for a model with {x.shape[1]} terms"
        )
    if np.linalg.matrix_rank(x.to_numpy()) < x.shape[1]:
        raise NotEstimable(f"among the participants with {outcome} known, the model's terms are collinear")
    return data, x


def logistic(
    frame: pd.DataFrame,
    outcome: str,
    exposure: str,
    covariates: Sequence[str] = (),
    categorical: Sequence[str] = (),
) -> Estimate:
    """Log odds ratio of the exposure by maximum likelihood logistic regression (complete cases)."""
    data, x = _model_data(frame, outcome, exposure, covariates, categorical)
    fit = sm.Logit(data[outcome].astype(float), x).fit(method="newton", disp=False, maxiter=100, tol=1e-12)
    return _estimate(fit, exposure, len(data), [*covariates, *categorical])


def linear(
    frame: pd.DataFrame,
    outcome: str,
    exposure: str,
    covariates: Sequence[str] = (),
    categorical: Sequence[str] = (),
) -> Estimate:
    """Mean difference of the exposure by ordinary least squares (complete cases; t reference)."""
    data, x = _model_data(frame, outcome, exposure, covariates, categorical)
    fit = sm.OLS(data[outcome].astype(float), x).fit()
    return _estimate(fit, exposure, len(data), [*covariates, *categorical], df_resid=float(fit.df_resid))


def negative_binomial(
    frame: pd.DataFrame,
    outcome: str,
    exposure: str,
    covariates: Sequence[str] = (),
    categorical: Sequence[str] = (),
) -> tuple[Estimate, float]:
    """Log rate ratio by negative binomial (NB2) regression; returns it and the dispersion alpha.

    As R's MASS::glm.nb does, alpha is estimated by maximum likelihood and the coefficients'
    standard errors come from the GLM at that alpha.
    """
    data, x = _model_data(frame, outcome, exposure, covariates, categorical)
    y = data[outcome].astype(float)
    alpha = _dispersion(y, x)
    glm = sm.GLM(y, x, family=sm.families.NegativeBinomial(alpha=alpha)).fit(tol=1e-12, maxiter=200)
    return _estimate(glm, exposure, len(data), [*covariates, *categorical]), alpha


def _dispersion(y: pd.Series, x: pd.DataFrame) -> float:
    """Maximum likelihood NB2 dispersion: Newton on the full likelihood, or, when that fails (alpha
    near its boundary at 0, where the counts are close to Poisson), Brent's method on the profile
    likelihood of log alpha."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            full = sm.NegativeBinomial(y, x, loglike_method="nb2").fit(
                method="newton", disp=False, maxiter=200
            )
            alpha = float(full.params["alpha"])
            if full.mle_retvals.get("converged") and np.isfinite(alpha) and alpha > 1e-8:
                return alpha
        except (np.linalg.LinAlgError, ValueError):
            pass

        def negative_profile(log_alpha: float) -> float:
            family = sm.families.NegativeBinomial(alpha=math.exp(log_alpha))
            return -float(sm.GLM(y, x, family=family).fit(tol=1e-10, maxiter=200).llf)

        best = optimize.minimize_scalar(
            negative_profile, bounds=(-12.0, 6.0), method="bounded", options={"xatol": 1e-9}
        )
    return math.exp(float(best.x))


def _estimate(
    fit: object, exposure: str, n: int, covariates: Sequence[str], *, df_resid: float | None = None
) -> Estimate:
    params = fit.params  # type: ignore[attr-defined]
    bse = fit.bse  # type: ignore[attr-defined]
    pvalues = fit.pvalues  # type: ignore[attr-defined]
    coef, se = float(params[exposure]), float(bse[exposure])
    if not (np.isfinite(coef) and np.isfinite(se)):
        raise NotEstimable(f"the model for {exposure!r} did not converge to a finite estimate")
    return Estimate(coef, se, float(pvalues[exposure]), n, tuple(covariates), df_resid)
