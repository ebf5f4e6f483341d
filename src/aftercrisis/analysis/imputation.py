"""Multiple imputation by chained equations (MICE), with categorical columns, and Rubin's rules.

statsmodels' MICE imputes continuous columns only, so the chained equations are written here
from statsmodels' regression models, one model per column type:

- binary columns: logistic regression;
- categorical columns with more than two levels: multinomial logistic regression;
- continuous and count columns: predictive mean matching (five donors), which keeps imputed
  values inside the observed ones.

Each imputation is "proper": the regression coefficients are drawn from their approximate
posterior (normal around the estimate with the model's covariance; for linear models the
residual variance from its scaled inverse chi-squared) before values are drawn, so the
between-imputation variance reflects the uncertainty of the imputation models. Each of the
m datasets is its own chain of `iterations` sweeps started from random draws of observed values.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

ColumnKind = Literal["binary", "categorical", "continuous"]
DONORS = 5


@dataclass(frozen=True)
class Pooled:
    """An estimate combined across imputations by Rubin's rules."""

    estimate: float
    se: float  # square root of the total variance
    df: float
    within: float
    between: float
    m: int

    @property
    def fraction_missing_information(self) -> float:
        r = (1 + 1 / self.m) * self.between / self.within if self.within > 0 else math.inf
        return (r + 2 / (self.df + 3)) / (r + 1)

    def ci(self, *, exponentiate: bool = False) -> tuple[float, float]:
        q = float(stats.t.ppf(0.975, self.df)) if math.isfinite(self.df) else float(stats.norm.ppf(0.975))
        low, high = self.estimate - q * self.se, self.estimate + q * self.se
        return (math.exp(low), math.exp(high)) if exponentiate else (low, high)

    @property
    def p(self) -> float:
        t = abs(self.estimate / self.se)
        return float(2 * (stats.t.sf(t, self.df) if math.isfinite(self.df) else stats.norm.sf(t)))


def rubin(
    estimates: Sequence[float], variances: Sequence[float], *, complete_df: float | None = None
) -> Pooled:
    """Rubin's rules; with `complete_df`, the Barnard-Rubin small-sample degrees of freedom."""
    q = np.asarray(estimates, dtype=float)
    u = np.asarray(variances, dtype=float)
    m = len(q)
    if m < 2 or len(u) != m:
        raise ValueError("Rubin's rules need at least two imputations with one variance each")
    q_bar, u_bar = float(q.mean()), float(u.mean())
    b = float(q.var(ddof=1))
    total = u_bar + (1 + 1 / m) * b
    lam = (1 + 1 / m) * b / total
    if lam**2 == 0:  # no between-imputation variance (underflow included)
        df = math.inf if complete_df is None else float(complete_df)
    else:
        df = (m - 1) / lam**2
        if complete_df is not None:
            observed = (complete_df + 1) / (complete_df + 3) * complete_df * (1 - lam)
            df = 1 / (1 / df + 1 / observed)
    return Pooled(q_bar, math.sqrt(total), df, u_bar, b, m)


def _predictors(frame: pd.DataFrame, target: str, kinds: Mapping[str, ColumnKind]) -> np.ndarray:
    parts: list[np.ndarray] = [np.ones((len(frame), 1))]
    for name, kind in kinds.items():
        if name == target:
            continue
        if kind == "categorical":
            levels = sorted(frame[name].astype(str).unique())
            parts += [(frame[name].astype(str) == level).to_numpy(float)[:, None] for level in levels[1:]]
        else:
            parts.append(frame[name].to_numpy(float)[:, None])
    x = np.hstack(parts)
    # drop constant columns (a level absent among the observed) so the fit stays full rank
    keep = np.r_[True, x[:, 1:].std(axis=0) > 0]
    return x[:, keep]


# Newton's method converges in a handful of steps when the likelihood has a maximum; a fit still
# moving after this many is separated, and the draw falls back to the observed frequencies.
MAX_NEWTON_STEPS = 35


def _draw_normal(mean: np.ndarray, cov: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    cov = (cov + cov.T) / 2
    return rng.multivariate_normal(mean, cov, method="eigh")


def _impute_binary(x: np.ndarray, y: np.ndarray, miss: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    obs = ~miss
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = sm.Logit(y[obs], x[obs]).fit(disp=False, maxiter=MAX_NEWTON_STEPS)
        if not fit.mle_retvals["converged"]:
            raise ValueError("no convergence: (quasi-)separation")
        beta = _draw_normal(np.asarray(fit.params), np.asarray(fit.cov_params()), rng)
        prob = 1 / (1 + np.exp(-(x[miss] @ beta)))
    except (np.linalg.LinAlgError, ValueError, sm.tools.sm_exceptions.PerfectSeparationError):
        prob = np.full(int(miss.sum()), y[obs].mean())  # separation: fall back to the observed rate
    return np.asarray((rng.random(len(prob)) < prob).astype(float))


def _impute_categorical(
    x: np.ndarray, labels: np.ndarray, miss: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    obs = ~miss
    levels, codes = np.unique(labels[obs].astype(str), return_inverse=True)
    if len(levels) == 1:
        return np.repeat(levels, int(miss.sum()))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = sm.MNLogit(codes, x[obs]).fit(disp=False, maxiter=MAX_NEWTON_STEPS)
        if not fit.mle_retvals["converged"]:
            raise ValueError("no convergence: (quasi-)separation")
        params = np.asarray(fit.params)  # predictors x (levels - 1)
        flat = _draw_normal(params.ravel(order="F"), np.asarray(fit.cov_params()), rng)
        beta = flat.reshape(params.shape, order="F")
        eta = np.hstack([np.zeros((int(miss.sum()), 1)), x[miss] @ beta])
        prob = np.exp(eta - eta.max(axis=1, keepdims=True))
        prob /= prob.sum(axis=1, keepdims=True)
    except (np.linalg.LinAlgError, ValueError):
        freq = np.bincount(codes, minlength=len(levels)) / len(codes)
        prob = np.tile(freq, (int(miss.sum()), 1))
    cumulative = prob.cumsum(axis=1)
    picks = (rng.random((len(prob), 1)) > cumulative).sum(axis=1)
    return np.asarray(levels[np.minimum(picks, len(levels) - 1)])


def _impute_pmm(x: np.ndarray, y: np.ndarray, miss: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    obs = ~miss
    fit = sm.OLS(y[obs], x[obs]).fit()
    df = max(int(fit.df_resid), 1)
    sigma2 = float(fit.ssr) / float(rng.chisquare(df))
    cov = np.asarray(fit.normalized_cov_params) * sigma2
    beta = _draw_normal(np.asarray(fit.params), cov, rng)
    donors_pred = x[obs] @ np.asarray(fit.params)
    target_pred = x[miss] @ beta
    donor_values = y[obs]
    order = np.argsort(np.abs(target_pred[:, None] - donors_pred[None, :]), axis=1)[:, :DONORS]
    choice = order[np.arange(len(order)), rng.integers(0, order.shape[1], len(order))]
    return np.asarray(donor_values[choice])


def mice(
    frame: pd.DataFrame,
    kinds: Mapping[str, ColumnKind],
    *,
    m: int,
    seed: int,
    iterations: int = 10,
    progress: Callable[[int], None] | None = None,
) -> list[pd.DataFrame]:
    """`m` completed copies of `frame[kinds]`; the columns not in `kinds` are left as they are."""
    columns = list(kinds)
    unknown = [c for c in columns if c not in frame.columns]
    if unknown:
        raise ValueError(f"imputation columns not in the dataset: {', '.join(unknown)}")
    rng = np.random.default_rng(seed)
    missing = {c: frame[c].isna().to_numpy() for c in columns}
    for name in columns:
        if missing[name].all():
            raise ValueError(f"column {name!r} has no observed values to impute from")
    order = sorted((c for c in columns if missing[c].any()), key=lambda c: int(missing[c].sum()))
    completed: list[pd.DataFrame] = []
    for index in range(m):
        work = frame.copy()
        for name in order:
            observed = work.loc[~missing[name], name].to_numpy()
            work.loc[missing[name], name] = rng.choice(observed, int(missing[name].sum()))
        for _ in range(iterations if order else 0):
            for name in order:
                x = _predictors(work, name, kinds)
                miss = missing[name]
                kind = kinds[name]
                if kind == "binary":
                    values: np.ndarray = _impute_binary(x, work[name].to_numpy(float), miss, rng)
                elif kind == "categorical":
                    values = _impute_categorical(x, work[name].to_numpy(object), miss, rng)
                else:
                    values = _impute_pmm(x, work[name].to_numpy(float), miss, rng)
                work.loc[miss, name] = values
        completed.append(work)
        if progress is not None:
            progress(index + 1)
    return completed
