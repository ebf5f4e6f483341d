"""The analysis plan's models, fitted to thousands of simulated trials at once.

- Primary: logistic regression of one-year readmission on arm, site (indicators) and prior
  admissions, complete cases, Wald test. All covariates are categorical or small counts, so
  each trial reduces to counts per (site, arm, prior admissions) cell and every Newton step is
  two small matrix products over all trials together.
- Time to event: Cox regression on arm with Efron's handling of tied days, Wald test; and the
  log-rank test. Each trial reduces to the numbers at risk and readmitted per day and arm.
Newton iterations run on all trials together; a trial counts as converged when its last step
is below `tol`. Trials that do not converge (an arm without events in a very small trial) are
reported.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit

from aftercrisis.design.batch import TrialBatch
from aftercrisis.design.config import HORIZON_DAYS

MAX_ITERATIONS = 50
TOLERANCE = 1e-8  # on the Newton step: the error after it is of order step squared


@dataclass(frozen=True)
class Fit:
    """One coefficient per trial with its standard error; arrays of length trials."""

    coef: np.ndarray
    se: np.ndarray
    converged: np.ndarray

    @property
    def z(self) -> np.ndarray:
        return np.asarray(self.coef / self.se, dtype=float)


def logistic_design(n_sites: int, max_prior: int, adjust_prior: bool) -> np.ndarray:
    """Design rows of every (site, arm, prior) cell: site indicators, arm[, prior]."""
    site, arm, prior = np.meshgrid(np.arange(n_sites), [0, 1], np.arange(max_prior + 1), indexing="ij")
    columns = [(site.ravel() == s).astype(float) for s in range(n_sites)] + [arm.ravel().astype(float)]
    if adjust_prior:
        columns.append(prior.ravel().astype(float))
    return np.column_stack(columns)


def fit_logistic(
    batch: TrialBatch, n_sites: int, max_prior: int, *, adjust_prior: bool = True, tol: float = TOLERANCE
) -> Fit:
    """Log odds ratio of the intervention, adjusted for site (and prior admissions)."""
    trials = batch.trials
    n_cells = n_sites * 2 * (max_prior + 1)
    cell = (batch.site * 2 + batch.intervention) * (max_prior + 1) + batch.prior
    index = (np.arange(trials)[:, None] * n_cells + cell).ravel()
    size = np.bincount(index, weights=batch.known.ravel(), minlength=trials * n_cells).reshape(
        trials, n_cells
    )
    # An observed readmission always has a known outcome.
    cases = np.bincount(index, weights=batch.event.ravel(), minlength=trials * n_cells).reshape(
        trials, n_cells
    )

    x = logistic_design(n_sites, max_prior, adjust_prior)
    k = x.shape[1]
    outer = (x[:, :, None] * x[:, None, :]).reshape(n_cells, k * k)
    # A site whose outcomes are all alike (or that has none) has its intercept at +-infinity in
    # the limit and then says nothing about the other coefficients: fit without it, as the
    # maximum-likelihood limit is, and pin its intercept so the rest can be solved.
    site_size = size.reshape(trials, n_sites, -1).sum(axis=2)
    site_cases = cases.reshape(trials, n_sites, -1).sum(axis=2)
    dropped = (site_cases == 0) | (site_cases == site_size)
    keep = np.repeat(~dropped, n_cells // n_sites, axis=1)
    size, cases = size * keep, cases * keep
    pinned = np.zeros((trials, k))
    pinned[:, :n_sites] = dropped
    pin = pinned[:, :, None] * np.eye(k)

    beta = np.zeros((trials, k))
    converged = np.zeros(trials, dtype=bool)
    for _ in range(MAX_ITERATIONS):
        p = expit(beta @ x.T)
        score = (cases - size * p) @ x
        information = ((size * p * (1 - p)) @ outer).reshape(trials, k, k) + pin
        step = np.linalg.solve(information, score[:, :, None])[:, :, 0]
        step[~np.isfinite(step)] = 0.0
        beta += step
        converged = np.abs(step).max(axis=1) < tol
        if converged.all():
            break
    p = expit(beta @ x.T)
    information = ((size * p * (1 - p)) @ outer).reshape(trials, k, k) + pin
    with np.errstate(invalid="ignore"):
        variance = np.linalg.inv(information)[:, n_sites, n_sites]
    return Fit(coef=beta[:, n_sites], se=np.sqrt(variance), converged=converged & np.isfinite(variance))


@dataclass(frozen=True)
class RiskSets:
    """Per trial and day with at least one readmission: numbers at risk and readmitted by arm."""

    trial: np.ndarray
    at_risk_1: np.ndarray
    at_risk_0: np.ndarray
    events_1: np.ndarray
    events_0: np.ndarray
    trials: int


def risk_sets(batch: TrialBatch) -> RiskSets:
    trials = batch.trials
    days = HORIZON_DAYS + 1
    # Counts by (arm, readmitted, trial, day), arm-major so that each arm's days are contiguous.
    key = (batch.intervention * 2 + batch.event) * (trials * days) + (
        np.arange(trials)[:, None] * days + batch.day
    )
    grid = np.bincount(key.ravel(), minlength=4 * trials * days).reshape(2, 2, trials, days)
    leaving = grid[:, 0] + grid[:, 1]
    # At risk on day t: follow-up lasting at least t days.
    at_risk = np.cumsum(leaving[:, :, ::-1], axis=2)[:, :, ::-1]
    events = grid[:, 1]
    trial, day = np.nonzero(events[0] + events[1])
    return RiskSets(
        trial=trial,
        at_risk_1=at_risk[1, trial, day].astype(float),
        at_risk_0=at_risk[0, trial, day].astype(float),
        events_1=events[1, trial, day].astype(float),
        events_0=events[0, trial, day].astype(float),
        trials=trials,
    )


def fit_cox(sets: RiskSets, tol: float = TOLERANCE) -> Fit:
    """Log hazard ratio of the intervention, Cox partial likelihood with Efron ties."""
    tied = (sets.events_1 + sets.events_0).astype(np.int64)
    # Efron: the l-th of d tied readmissions sees the risk set less l/d of the tied ones.
    group = np.repeat(np.arange(tied.size), tied)
    first = np.cumsum(tied) - tied
    fraction = (np.arange(group.size) - first[group]) / tied[group]
    trial = sets.trial[group]
    r1 = sets.at_risk_1[group] - fraction * sets.events_1[group]
    r0 = sets.at_risk_0[group] - fraction * sets.events_0[group]
    observed = np.bincount(sets.trial, weights=sets.events_1, minlength=sets.trials)

    beta = np.zeros(sets.trials)
    converged = np.zeros(sets.trials, dtype=bool)
    for _ in range(MAX_ITERATIONS):
        w = _share(r1, r0, beta[trial])
        score = observed - np.bincount(trial, weights=w, minlength=sets.trials)
        information = _per_trial(trial, w * (1 - w), sets.trials)
        with np.errstate(divide="ignore", invalid="ignore"):
            step = np.where(information > 0, score / information, 0.0)
        beta += step
        converged = np.abs(step) < tol
        if converged.all():
            break
    w = _share(r1, r0, beta[trial])
    information = _per_trial(trial, w * (1 - w), sets.trials)
    with np.errstate(divide="ignore"):
        se = np.sqrt(1.0 / information)
    return Fit(coef=beta, se=se, converged=converged & (information > 0))


def _per_trial(trial: np.ndarray, values: np.ndarray, trials: int) -> np.ndarray:
    return np.asarray(np.bincount(trial, weights=values, minlength=trials), dtype=float)


def _share(r1: np.ndarray, r0: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """Weighted share of the intervention arm in each (reduced) risk set."""
    weighted = r1 * np.exp(beta)
    return np.asarray(weighted / (weighted + r0), dtype=float)


def logrank(sets: RiskSets) -> np.ndarray:
    """Log-rank chi-squared statistic (1 df) of each trial."""
    at_risk = sets.at_risk_1 + sets.at_risk_0
    events = sets.events_1 + sets.events_0
    share = sets.at_risk_1 / at_risk
    expected = events * share
    variance = events * share * (1 - share) * (at_risk - events) / np.maximum(at_risk - 1, 1)
    difference = np.bincount(sets.trial, weights=sets.events_1 - expected, minlength=sets.trials)
    total = np.bincount(sets.trial, weights=variance, minlength=sets.trials)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(np.where(total > 0, difference**2 / total, 0.0), dtype=float)
