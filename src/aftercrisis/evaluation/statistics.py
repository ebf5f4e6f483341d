"""What a service lead asks of the cohort: which teams stand out, whether anything changed over time,
and how people who had peer support fared against comparable people who did not (observational).

Binary one-year comparisons use index discharges with a full year of data, so that an early
readmission does not count while a late one is still unknown (`full_year`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

CASE_MIX = ("age", "deprivation_decile", "prior_admissions")  # continuous; sex and team as indicators
Z95 = float(stats.norm.ppf(0.975))


def full_year(cohort: pd.DataFrame) -> pd.DataFrame:
    return cohort.loc[cohort["full_year"].astype(bool) & cohort["readmitted"].notna()]


def design_matrix(frame: pd.DataFrame, *, team: bool) -> pd.DataFrame:
    """Case-mix columns: age, deprivation and prior admissions, and indicators of sex (and team)."""
    columns = frame[list(CASE_MIX)].astype(float)
    categorical = ["sex", "team"] if team else ["sex"]
    dummies = pd.get_dummies(frame[categorical].astype(str), drop_first=True, dtype=float)
    return pd.concat([columns, dummies], axis=1)


def logistic(
    x: np.ndarray, y: np.ndarray, weights: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Weighted logistic regression by Newton-Raphson: coefficients and the robust (sandwich, HC0) covariance."""
    w = np.ones(len(y)) if weights is None else weights
    beta = np.zeros(x.shape[1])
    for _ in range(100):
        mu = 1 / (1 + np.exp(-(x @ beta)))
        hessian = x.T @ (x * (w * mu * (1 - mu))[:, None])
        step = np.linalg.solve(hessian, x.T @ (w * (y - mu)))
        beta += step
        if np.max(np.abs(step)) < 1e-12:
            break
    mu = 1 / (1 + np.exp(-(x @ beta)))
    bread = np.linalg.inv(x.T @ (x * (w * mu * (1 - mu))[:, None]))
    meat = x.T @ (x * ((w * (y - mu)) ** 2)[:, None])
    return beta, bread @ meat @ bread


def weighted_mean_difference(y: np.ndarray, exposed: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    """Weighted least squares of y on exposure: the difference and its robust (HC0) standard error."""
    x = np.column_stack([np.ones(len(y)), exposed.astype(float)])
    bread = np.linalg.inv(x.T @ (x * w[:, None]))
    beta = bread @ (x.T @ (w * y))
    residual = y - x @ beta
    meat = x.T @ (x * ((w * residual) ** 2)[:, None])
    covariance = bread @ meat @ bread
    return float(beta[1]), float(np.sqrt(covariance[1, 1]))


# --- teams: funnel plot -------------------------------------------------------------------------


def binomial_limit(p0: float, n: np.ndarray, probability: float) -> np.ndarray:
    """Exact binomial control limit for a proportion, interpolated (Spiegelhalter 2005)."""
    n = np.asarray(n, dtype=float)
    r = stats.binom.ppf(probability, n, p0)
    cdf, below = stats.binom.cdf(r, n, p0), stats.binom.cdf(r - 1, n, p0)
    alpha = np.divide(cdf - probability, cdf - below, out=np.zeros_like(n), where=cdf > below)
    # for a small team the interpolation can pass 0 or 1, which a proportion cannot
    return np.asarray(np.clip((r - alpha) / np.where(n > 0, n, 1), 0.0, 1.0), dtype=float)


FUNNEL_LIMITS = {"95%": (0.025, 0.975), "99.8%": (0.001, 0.999)}


def funnel(cohort: pd.DataFrame) -> pd.DataFrame:
    """Readmission by team, crude and adjusted for case-mix by indirect standardisation, with the
    overall rate's 95% and 99.8% limits at each team's size."""
    known = full_year(cohort)
    y = known["readmitted"].to_numpy(float)
    x = np.column_stack([np.ones(len(known)), design_matrix(known, team=False).to_numpy()])
    beta, _ = logistic(x, y)
    expected = 1 / (1 + np.exp(-(x @ beta)))
    p0 = float(y.mean())
    teams = (
        known.assign(expected=expected)
        .groupby("team")
        .agg(n=("readmitted", "size"), observed=("readmitted", "sum"), expected=("expected", "sum"))
        .reset_index()
    )
    teams["observed"] = teams["observed"].astype(int)
    teams["crude"] = teams["observed"] / teams["n"]
    teams["adjusted"] = teams["observed"] / teams["expected"] * p0
    for label, (low, high) in FUNNEL_LIMITS.items():
        teams[f"lower_{label}"] = binomial_limit(p0, teams["n"].to_numpy(), low)
        teams[f"upper_{label}"] = binomial_limit(p0, teams["n"].to_numpy(), high)
    teams["signal"] = np.select(
        [
            teams["adjusted"] > teams["upper_99.8%"],
            teams["adjusted"] < teams["lower_99.8%"],
            teams["adjusted"] > teams["upper_95%"],
            teams["adjusted"] < teams["lower_95%"],
        ],
        ["above 99.8% limit", "below 99.8% limit", "above 95% limit", "below 95% limit"],
        default="",
    )
    teams.attrs["overall"] = p0
    return teams


# --- months: statistical process control ----------------------------------------------------------


RUN_RULES = {
    "outside": "a point outside the 3-sigma limits",
    "shift": "8 or more points in a row on one side of the centre line",
    "trend": "6 or more points in a row rising or falling",
    "two_of_three": "2 of 3 points in a row beyond the 2-sigma limits on the same side",
}


def p_chart(cohort: pd.DataFrame) -> pd.DataFrame:
    """One-year readmission by month of discharge, with 2- and 3-sigma limits and run-rule signals."""
    known = full_year(cohort)
    month = pd.to_datetime(known["discharged"]).dt.to_period("M")
    months = (
        known.assign(month=month)
        .groupby("month")
        .agg(n=("readmitted", "size"), readmitted=("readmitted", "sum"))
        .reset_index()
    )
    centre = months["readmitted"].sum() / months["n"].sum()
    sigma = np.sqrt(centre * (1 - centre) / months["n"])
    months["p"] = months["readmitted"] / months["n"]
    months["centre"] = centre
    months["lower"] = np.clip(centre - 3 * sigma, 0, 1)
    months["upper"] = np.clip(centre + 3 * sigma, 0, 1)
    months["lower_2sigma"] = np.clip(centre - 2 * sigma, 0, 1)
    months["upper_2sigma"] = np.clip(centre + 2 * sigma, 0, 1)
    months["signals"] = [
        ", ".join(s) for s in run_rule_signals(months["p"].to_numpy(), centre, sigma.to_numpy())
    ]
    months["month"] = months["month"].astype(str)
    return months


def run_rule_signals(p: np.ndarray, centre: float, sigma: np.ndarray) -> list[list[str]]:
    """The run rules each point completes (Western Electric and the NHS's 'making data count')."""
    signals: list[list[str]] = [[] for _ in p]
    z = (p - centre) / sigma
    side = np.sign(p - centre)
    for i in range(len(p)):
        if abs(z[i]) > 3:
            signals[i].append("outside")
        if i >= 7 and side[i] != 0 and np.all(side[i - 7 : i + 1] == side[i]):
            signals[i].append("shift")
        if i >= 5:
            steps = np.diff(p[i - 5 : i + 1])
            if np.all(steps > 0) or np.all(steps < 0):
                signals[i].append("trend")
        if i >= 2:
            window = z[i - 2 : i + 1]
            if ((window > 2).sum() >= 2 and z[i] > 2) or ((window < -2).sum() >= 2 and z[i] < -2):
                signals[i].append("two_of_three")
    return signals


# --- exposure: inverse probability weighting ------------------------------------------------------


@dataclass
class Comparison:
    """Exposed against not exposed, crude and weighted (observational)."""

    n_exposed: int
    n_unexposed: int
    risk_exposed: float
    risk_unexposed: float
    crude_risk_difference: float
    crude_odds_ratio: float
    risk_difference: float
    risk_difference_ci: tuple[float, float]
    odds_ratio: float
    odds_ratio_ci: tuple[float, float]
    weighted_risk_exposed: float
    weighted_risk_unexposed: float
    effective_sample_size: float
    weights_range: tuple[float, float]
    balance: pd.DataFrame = field(repr=False)

    def as_dict(self) -> dict[str, object]:
        out = {k: v for k, v in self.__dict__.items() if k != "balance"}
        out["balance"] = self.balance.to_dict(orient="records")
        return out


def standardised_differences(x: pd.DataFrame, exposed: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted standardised mean differences, with the unweighted pooled standard deviation."""
    values = x.to_numpy(float)
    e = exposed.astype(bool)

    def moments(rows: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        mean = np.average(values[rows], axis=0, weights=weights[rows])
        var = np.average((values[rows] - mean) ** 2, axis=0, weights=weights[rows])
        return mean, var

    m1, _ = moments(e, w)
    m0, _ = moments(~e, w)
    _, v1 = moments(e, np.ones(len(w)))
    _, v0 = moments(~e, np.ones(len(w)))
    pooled = np.sqrt((v1 + v0) / 2)
    return np.asarray(np.divide(m1 - m0, pooled, out=np.zeros_like(m1), where=pooled > 0), dtype=float)


def weighted_comparison(cohort: pd.DataFrame) -> Comparison:
    """Stabilised inverse probability of exposure weights from a logistic propensity model (age, sex,
    deprivation, prior admissions, team); weighted risk difference and odds ratio with robust CIs."""
    known = full_year(cohort)
    exposed = known["exposed"].to_numpy(bool)
    if exposed.all() or not exposed.any():
        raise ValueError("the comparison needs people both with and without peer support")
    y = known["readmitted"].to_numpy(float)
    covariates = design_matrix(known, team=True)
    x = np.column_stack([np.ones(len(known)), covariates.to_numpy()])
    beta, _ = logistic(x, exposed.astype(float))
    propensity = 1 / (1 + np.exp(-(x @ beta)))
    share = exposed.mean()
    w = np.where(exposed, share / propensity, (1 - share) / (1 - propensity))

    rd, rd_se = weighted_mean_difference(y, exposed, w)
    xo = np.column_stack([np.ones(len(y)), exposed.astype(float)])
    coef, cov = logistic(xo, y, w)
    log_or, log_or_se = float(coef[1]), float(np.sqrt(cov[1, 1]))
    r1, r0 = float(y[exposed].mean()), float(y[~exposed].mean())
    balance = pd.DataFrame(
        {
            "covariate": covariates.columns,
            "smd_before": standardised_differences(covariates, exposed, np.ones(len(y))),
            "smd_after": standardised_differences(covariates, exposed, w),
        }
    )
    return Comparison(
        n_exposed=int(exposed.sum()),
        n_unexposed=int((~exposed).sum()),
        risk_exposed=r1,
        risk_unexposed=r0,
        crude_risk_difference=r1 - r0,
        crude_odds_ratio=(r1 / (1 - r1)) / (r0 / (1 - r0)),
        risk_difference=rd,
        risk_difference_ci=(rd - Z95 * rd_se, rd + Z95 * rd_se),
        odds_ratio=float(np.exp(log_or)),
        odds_ratio_ci=(float(np.exp(log_or - Z95 * log_or_se)), float(np.exp(log_or + Z95 * log_or_se))),
        weighted_risk_exposed=float(np.average(y[exposed], weights=w[exposed])),
        weighted_risk_unexposed=float(np.average(y[~exposed], weights=w[~exposed])),
        effective_sample_size=float(w.sum() ** 2 / (w**2).sum()),
        weights_range=(float(w.min()), float(w.max())),
        balance=balance,
    )


def summary_counts(cohort: pd.DataFrame) -> dict[str, int]:
    known = full_year(cohort)
    return {
        "index_events": len(cohort),
        "persons": int(cohort["person_id"].nunique()),
        "exposed": int(cohort["exposed"].sum()),
        "full_year": len(known),
        "readmitted": int(known["readmitted"].sum()),
        "died": int(cohort["died"].sum()),
    }
