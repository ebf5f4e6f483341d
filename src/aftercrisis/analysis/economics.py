"""The economic evaluation: is peer support worth what it costs?

As in CORE's cost-effectiveness analysis (Le Novère et al., Frontiers in Psychiatry 2023), from the
perspective and at the prices of the protocol's `health_economics` section:

- **Costs** per participant: the units of each resource times its unit cost, in the year before
  randomisation (the baseline cost) and in the year after it, the intervention's own resources
  (peer support hours, the workbook) included in the latter.
- **QALYs**: the area under the EQ-5D-3L utility curve from randomisation to the horizon, linear
  between the measurements at baseline, 4 and 18 months, so that the utility at 12 months is
  interpolated between those at 4 and 18 months.
- **Incremental cost and QALYs**: ordinary least squares of cost on arm, baseline cost and site,
  and of QALYs on arm, baseline utility and site, in the participants with both known (complete
  cases, the primary analysis).
- **Uncertainty**: a two-stage non-parametric bootstrap for clustering by site (sites drawn with
  replacement, then participants with replacement within each site drawn; Davison and Hinkley
  1997), the two regressions refitted on each replicate by batched normal equations with the
  sites partialled out, so that thousands of replicates take a fraction of a second. The replicates give the percentile
  intervals, the cost-effectiveness plane and the acceptability curve.
- **Sensitivity**: missing costs and utilities imputed by chained equations and the estimates
  combined by Rubin's rules; costs modelled by a gamma GLM with a log link.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats
from threadpoolctl import threadpool_limits

from aftercrisis.analysis.effects import NotEstimable, design_matrix
from aftercrisis.analysis.imputation import ColumnKind, Pooled, mice, rubin
from aftercrisis.analysis.schema import resource_use_column
from aftercrisis.protocol.models import HealthEconomics

# The utility columns and the month of each measurement.
UTILITIES: tuple[tuple[str, float], ...] = (("eq5d_0", 0.0), ("eq5d_4m", 4.0), ("eq5d_18m", 18.0))
COST_0, COST_1Y, QALY = "cost_0", "cost_1y", "qaly"
BASELINE_UTILITY = UTILITIES[0][0]
SITE = "site"
PEER_SUPPORT_HOURS = "peer_support_hours"


def counted(economics: HealthEconomics) -> list[str]:
    """The resources whose units are counted per participant from records or episodes."""
    return [u.code for u in economics.unit_costs if u.measure in ("records", "episodes")]


def required_columns(economics: HealthEconomics) -> list[str]:
    """The dataset columns the evaluation reads."""
    columns = [name for name, _ in UTILITIES]
    columns += [resource_use_column(code, period) for code in counted(economics) for period in ("0", "1y")]
    if any(u.measure == "sessions" for u in economics.unit_costs):
        columns.append(PEER_SUPPORT_HOURS)
    return columns


def participant_costs(frame: pd.DataFrame, economics: HealthEconomics) -> pd.DataFrame:
    """Cost of each resource in the year after randomisation (cost_CODE), cost_0 and cost_1y.

    A total is missing when the units of any of its resources are."""
    costs = pd.DataFrame(index=frame.index)
    baseline = pd.Series(0.0, index=frame.index)
    for unit in economics.unit_costs:
        if unit.measure in ("records", "episodes"):
            baseline = baseline + frame[resource_use_column(unit.code, "0")].astype(float) * unit.cost
            units = frame[resource_use_column(unit.code, "1y")].astype(float)
        elif unit.measure == "sessions":
            units = frame[PEER_SUPPORT_HOURS].astype(float)
        else:
            units = frame["arm"].isin(unit.arms).astype(float)
        costs[f"cost_{unit.code}"] = units * unit.cost
    costs[COST_0] = baseline
    costs[COST_1Y] = costs[[f"cost_{u.code}" for u in economics.unit_costs]].sum(axis=1, skipna=False)
    return costs


def qalys(utilities: np.ndarray, months: Sequence[float], horizon_months: float) -> np.ndarray:
    """QALYs from 0 to the horizon: the area under utilities (participants x measurements) joined by
    straight lines, in years. Missing (NaN) when a utility that the area needs is missing."""
    if not months[0] <= 0 < horizon_months <= months[-1]:
        raise ValueError(f"a horizon of {horizon_months:g} months is outside the measurements")
    area = np.zeros(utilities.shape[0])
    for i in range(len(months) - 1):
        start, end = months[i], months[i + 1]
        low, high = max(start, 0.0), min(end, horizon_months)
        if high <= low:
            continue
        slope = (utilities[:, i + 1] - utilities[:, i]) / (end - start)
        at_low = utilities[:, i] + slope * (low - start)
        at_high = utilities[:, i] + slope * (high - start)
        area += (at_low + at_high) / 2 * (high - low) / 12
    return area


@dataclass(frozen=True)
class Increment:
    """An adjusted difference between the arms (compared minus reference) from OLS."""

    estimate: float
    se: float
    df: float

    def ci(self) -> tuple[float, float]:
        q = float(stats.t.ppf(0.975, self.df))
        return self.estimate - q * self.se, self.estimate + q * self.se

    @property
    def p(self) -> float:
        return float(2 * stats.t.sf(abs(self.estimate / self.se), self.df))


def design(covariates: np.ndarray, sites: np.ndarray, n_sites: int) -> np.ndarray:
    """The covariates (arm first) and an indicator of every site, in place of a constant."""
    return np.column_stack([covariates, np.eye(n_sites)[sites]])


def ols_increment(x: np.ndarray, y: np.ndarray) -> Increment:
    """The first coefficient of the OLS of y on x, its standard error and residual degrees of freedom."""
    beta, *_ = np.linalg.lstsq(x, y, rcond=None)
    residual = y - x @ beta
    df = len(y) - x.shape[1]
    sigma2 = float(residual @ residual) / df
    cov = sigma2 * np.linalg.inv(x.T @ x)
    return Increment(float(beta[0]), math.sqrt(float(cov[0, 0])), float(df))


SiteDraws = list[
    tuple[np.ndarray, np.ndarray]
]  # per site: its participants, and replicates x participants counts


def site_draws(sites: np.ndarray, replicates: int, rng: np.random.Generator) -> SiteDraws:
    """How many times each participant of each site is drawn in each replicate.

    Stage one draws as many sites as there are, with replacement; stage two draws, for each copy of
    a site, as many of its participants as it has, with replacement. Each site's draws for all the
    replicates are made at once and counted by replicate and participant in one pass."""
    n_sites = int(sites.max()) + 1
    drawn = rng.integers(0, n_sites, size=(replicates, n_sites))
    copies = (drawn[:, :, None] == np.arange(n_sites)).sum(axis=1)
    found: SiteDraws = []
    for site in range(n_sites):
        members = np.flatnonzero(sites == site)
        size = len(members)
        if size == 0:
            continue
        per_replicate = copies[:, site] * size
        keys = np.repeat(np.arange(replicates) * size, per_replicate)
        keys += rng.integers(0, size, size=len(keys))
        counts = np.bincount(keys, minlength=replicates * size).reshape(replicates, size)
        found.append((members, counts.astype(float)))
    return found


def bootstrap_weights(sites: np.ndarray, replicates: int, rng: np.random.Generator) -> np.ndarray:
    """The draws as one replicates x participants matrix of counts."""
    weights = np.zeros((replicates, len(sites)))
    for members, counts in site_draws(sites, replicates, rng):
        weights[:, members] = counts
    return weights


def replicate_coefficients(
    equations: Sequence[tuple[np.ndarray, np.ndarray]], sites: np.ndarray, draws: SiteDraws
) -> list[np.ndarray]:
    """For each (covariates, y), the first coefficient of the least squares of y on the covariates
    and site fixed effects in each replicate.

    The sites are partialled out (Frisch-Waugh-Lovell): for each site one matrix product gives, for
    every replicate and every equation at once, the weighted sums of 1, x, y, xx' and xy over its
    participants, from which the within-site cross-products follow; one batched solve of the small
    normal equations per equation then gives every replicate's coefficients. A site none of whose
    participants was drawn adds nothing, as it would to a fresh fit without it."""
    n = len(sites)
    blocks, shapes = [np.ones((n, 1))], []
    for covariates, y in equations:
        p = covariates.shape[1]
        # centred first, so that the within-site sums lose no precision to large means
        x, yc = covariates - covariates.mean(axis=0), y - y.mean()
        blocks += [x, yc[:, None], (x[:, :, None] * x[:, None, :]).reshape(n, p * p), x * yc[:, None]]
        shapes.append(p)
    features = np.hstack(blocks)
    replicates = draws[0][1].shape[0]
    xtx = [np.zeros((replicates, p, p)) for p in shapes]
    xty = [np.zeros((replicates, p)) for p in shapes]
    for members, counts in draws:
        sums = counts @ features[members]
        inverse = np.divide(1.0, sums[:, 0], out=np.zeros(replicates), where=sums[:, 0] > 0)
        at = 1
        for e, p in enumerate(shapes):
            sx, sy = sums[:, at : at + p], sums[:, at + p]
            sxx = sums[:, at + p + 1 : at + p + 1 + p * p].reshape(replicates, p, p)
            sxy = sums[:, at + p + 1 + p * p : at + 2 * p + 1 + p * p]
            xtx[e] += sxx - sx[:, :, None] * sx[:, None, :] * inverse[:, None, None]
            xty[e] += sxy - sx * (sy * inverse)[:, None]
            at += 2 * p + 1 + p * p
    return [_solve_first(a, b) for a, b in zip(xtx, xty, strict=True)]


def _solve_first(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The first unknown of each system a x = b; NaN where a replicate cannot estimate it (all its
    participants drawn in one arm, say: a small trial's bootstrap meets such replicates)."""
    first = np.full(a.shape[0], np.nan)
    scale = np.prod(np.einsum("rii->ri", a), axis=1)
    solvable = np.abs(np.linalg.det(a)) > 1e-10 * np.abs(scale)
    first[solvable] = np.linalg.solve(a[solvable], b[solvable][:, :, None])[:, 0, 0]
    return first


@dataclass(frozen=True)
class Bootstrap:
    costs: np.ndarray  # incremental cost of each replicate
    qalys: np.ndarray  # incremental QALYs of each replicate
    seed: int
    degenerate: int = 0  # replicates drawn that could not estimate the increments, left out

    @property
    def replicates(self) -> int:
        return len(self.costs)

    def percentile_ci(self, values: np.ndarray) -> tuple[float, float]:
        low, high = np.percentile(values, [2.5, 97.5])
        return float(low), float(high)

    def acceptability(self, willingness: np.ndarray) -> np.ndarray:
        """The share of replicates in which the compared arm has the higher net monetary benefit."""
        benefit = willingness[:, None] * self.qalys[None, :] - self.costs[None, :]
        return np.asarray((benefit > 0).mean(axis=1))


def two_stage_bootstrap(
    cost_x: np.ndarray,
    cost: np.ndarray,
    qaly_x: np.ndarray,
    qaly: np.ndarray,
    sites: np.ndarray,
    *,
    replicates: int,
    seed: int,
) -> Bootstrap:
    """Incremental cost and QALYs on each of `replicates` two-stage bootstrap samples; the `_x` are
    each model's covariates, arm first, the sites apart."""
    # the matrices are small: BLAS threads would only contend with each other
    with threadpool_limits(limits=1, user_api="blas"):
        draws = site_draws(sites, replicates, np.random.default_rng(seed))
        costs, effects = replicate_coefficients([(cost_x, cost), (qaly_x, qaly)], sites, draws)
    kept = np.isfinite(costs) & np.isfinite(effects)
    if not kept.any():
        raise NotEstimable("no bootstrap replicate could estimate the increments")
    return Bootstrap(costs[kept], effects[kept], seed, int((~kept).sum()))


def quadrant(delta_cost: float, delta_qaly: float) -> str:
    """Where the point estimate falls on the cost-effectiveness plane, in words."""
    if delta_qaly >= 0 and delta_cost <= 0:
        return "dominant"  # at least as effective and no more costly
    if delta_qaly <= 0 and delta_cost >= 0:
        return "dominated"
    if delta_qaly > 0:
        return "trade-off: more effective and more costly"
    return "trade-off: less effective and less costly"


@dataclass(frozen=True)
class CostGlm:
    """Gamma GLM with log link of the year's cost on arm, baseline cost and site."""

    cost_ratio: float
    ci: tuple[float, float]
    p: float
    difference: float  # recycled predictions: mean cost as if all were compared minus as if none were
    n: int


@dataclass(frozen=True)
class Evaluation:
    n: int
    n_compared: int
    n_reference: int
    mean_costs: dict[str, tuple[float, float]]  # by arm indicator "1"/"0": mean cost_1y, mean cost_0
    mean_qalys: tuple[float, float]  # compared, reference
    resource_costs: pd.DataFrame  # mean cost of each resource by arm (complete cases)
    cost: Increment
    qaly: Increment
    bootstrap: Bootstrap
    willingness: np.ndarray
    acceptability: np.ndarray
    thresholds: tuple[float, ...]
    imputed_cost: Pooled | None
    imputed_qaly: Pooled | None
    glm: CostGlm | None
    glm_reason: str | None

    @property
    def icer(self) -> float:
        return self.cost.estimate / self.qaly.estimate if self.qaly.estimate != 0 else math.nan

    @property
    def quadrant(self) -> str:
        return quadrant(self.cost.estimate, self.qaly.estimate)

    def net_benefit(self, threshold: float) -> tuple[float, tuple[float, float], float]:
        """Incremental net monetary benefit at a threshold, its percentile interval, P(> 0)."""
        point = threshold * self.qaly.estimate - self.cost.estimate
        replicates = threshold * self.bootstrap.qalys - self.bootstrap.costs
        return point, self.bootstrap.percentile_ci(replicates), float((replicates > 0).mean())


def with_outcomes(frame: pd.DataFrame, economics: HealthEconomics) -> pd.DataFrame:
    """The frame with the costs and QALYs of each participant added."""
    costs = participant_costs(frame, economics)
    utilities = frame[[name for name, _ in UTILITIES]].to_numpy(float)
    months = [m for _, m in UTILITIES]
    return frame.assign(
        **{c: costs[c] for c in costs.columns},
        **{QALY: qalys(utilities, months, economics.time_horizon_months)},
    )


def models(data: pd.DataFrame, exposure: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The covariates of the cost and the QALY regressions (arm, then the baseline), and each
    participant's site as 0, 1, ..."""
    levels = sorted(data[SITE].astype(str).unique())
    sites = data[SITE].astype(str).map({s: i for i, s in enumerate(levels)}).to_numpy(int)
    arm = data[exposure].to_numpy(float)
    cost_x = np.column_stack([arm, data[COST_0].to_numpy(float)])
    qaly_x = np.column_stack([arm, data[BASELINE_UTILITY].to_numpy(float)])
    return cost_x, qaly_x, sites


def increment(covariates: np.ndarray, y: np.ndarray, sites: np.ndarray) -> Increment:
    return ols_increment(design(covariates, sites, int(sites.max()) + 1), y)


def evaluate(
    frame: pd.DataFrame,
    economics: HealthEconomics,
    exposure: str,
    *,
    imputations: int,
    imputation_seed: int,
    progress: Callable[[int], None] | None = None,
) -> Evaluation:
    """The whole evaluation on a typed dataset with `exposure` coded 1 (compared) and 0 (reference)."""
    missing = [c for c in required_columns(economics) if c not in frame.columns]
    if missing:
        raise NotEstimable(f"the dataset has no {', '.join(missing)}")
    if economics.time_horizon_months > UTILITIES[-1][1]:
        raise NotEstimable(
            f"a horizon of {economics.time_horizon_months} months is beyond the last utility measured "
            f"({UTILITIES[-1][0]}, at {UTILITIES[-1][1]:g} months)"
        )
    full = with_outcomes(frame, economics)
    data = full.loc[full[[COST_0, COST_1Y, QALY, BASELINE_UTILITY]].notna().all(axis=1)]
    if data[exposure].nunique() < 2:
        raise NotEstimable(f"costs and QALYs are known in one arm only (n = {len(data)})")
    cost_x, qaly_x, sites = models(data, exposure)
    full_design = design(cost_x, sites, int(sites.max()) + 1)
    if len(data) <= full_design.shape[1] or np.linalg.matrix_rank(full_design) < full_design.shape[1]:
        raise NotEstimable(f"costs and QALYs are known for too few participants (n = {len(data)})")
    cost, qaly = data[COST_1Y].to_numpy(float), data[QALY].to_numpy(float)
    replicates = two_stage_bootstrap(
        cost_x,
        cost,
        qaly_x,
        qaly,
        sites,
        replicates=economics.bootstrap.replicates,
        seed=economics.bootstrap.seed,
    )
    willingness = np.linspace(0.0, economics.ceac_max, 101)
    by_arm = data.groupby(exposure)
    resources = [f"cost_{u.code}" for u in economics.unit_costs]
    imputed_cost, imputed_qaly = _imputed(full, economics, exposure, imputations, imputation_seed, progress)
    glm, glm_reason = _gamma_glm(data, exposure)
    return Evaluation(
        n=len(data),
        n_compared=int((data[exposure] == 1).sum()),
        n_reference=int((data[exposure] == 0).sum()),
        mean_costs={str(k): (float(g[COST_1Y].mean()), float(g[COST_0].mean())) for k, g in by_arm},
        mean_qalys=(float(by_arm[QALY].mean()[1]), float(by_arm[QALY].mean()[0])),
        resource_costs=by_arm[resources].mean().T,
        cost=increment(cost_x, cost, sites),
        qaly=increment(qaly_x, qaly, sites),
        bootstrap=replicates,
        willingness=willingness,
        acceptability=replicates.acceptability(willingness),
        thresholds=tuple(economics.thresholds),
        imputed_cost=imputed_cost,
        imputed_qaly=imputed_qaly,
        glm=glm,
        glm_reason=glm_reason,
    )


def _imputed(
    full: pd.DataFrame,
    economics: HealthEconomics,
    exposure: str,
    m: int,
    seed: int,
    progress: Callable[[int], None] | None,
) -> tuple[Pooled | None, Pooled | None]:
    """Missing costs and utilities imputed by chained equations; the increments by Rubin's rules."""
    kinds: dict[str, ColumnKind] = {
        COST_0: "continuous",
        COST_1Y: "continuous",
        exposure: "binary",
        SITE: "categorical",
    }
    kinds.update({name: "continuous" for name, _ in UTILITIES})
    if not full[list(kinds)].isna().any().any():
        return None, None  # nothing is missing: the complete-case analysis is the whole analysis
    completed = mice(full, kinds, m=m, seed=seed, progress=progress)
    months = [mo for _, mo in UTILITIES]
    costs, effects = [], []
    for data in completed:
        data = data.assign(
            **{
                QALY: qalys(
                    data[[n for n, _ in UTILITIES]].to_numpy(float), months, economics.time_horizon_months
                )
            }
        )
        cost_x, qaly_x, sites = models(data, exposure)
        costs.append(increment(cost_x, data[COST_1Y].to_numpy(float), sites))
        effects.append(increment(qaly_x, data[QALY].to_numpy(float), sites))
    return (
        rubin([c.estimate for c in costs], [c.se**2 for c in costs], complete_df=costs[0].df),
        rubin([e.estimate for e in effects], [e.se**2 for e in effects], complete_df=effects[0].df),
    )


def _gamma_glm(data: pd.DataFrame, exposure: str) -> tuple[CostGlm | None, str | None]:
    if (data[COST_1Y] <= 0).any():
        return None, "a gamma model needs every cost above zero"
    x = design_matrix(data, exposure, [COST_0], [SITE])
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            family = sm.families.Gamma(sm.families.links.Log())
            fit = sm.GLM(data[COST_1Y].astype(float), x, family=family).fit()
    except (ValueError, np.linalg.LinAlgError) as error:
        return None, f"the gamma model could not be fitted ({error})"
    coef, se = float(fit.params[exposure]), float(fit.bse[exposure])
    if not (np.isfinite(coef) and np.isfinite(se)):
        return None, "the gamma model did not converge to a finite estimate"
    z = float(stats.norm.ppf(0.975))
    as_compared, as_reference = x.assign(**{exposure: 1.0}), x.assign(**{exposure: 0.0})
    difference = float(np.mean(fit.predict(as_compared)) - np.mean(fit.predict(as_reference)))
    return (
        CostGlm(
            math.exp(coef),
            (math.exp(coef - z * se), math.exp(coef + z * se)),
            float(fit.pvalues[exposure]),
            difference,
            len(data),
        ),
        None,
    )
