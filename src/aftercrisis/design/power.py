"""Simulation-based power: many simulated trials, each analysed as the analysis plan says.

Trials are simulated and analysed in chunks of `CHUNK` trials; chunk i draws from the i-th
child of `SeedSequence(seed)`, so the result depends on the seed and the number of trials
only, not on how many processes share the work.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import sys
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats
from threadpoolctl import threadpool_limits
from tqdm import tqdm

from aftercrisis.design.batch import simulate_batch
from aftercrisis.design.config import TrialConfig
from aftercrisis.design.fits import fit_cox, fit_logistic, logrank, risk_sets

CHUNK = 250  # trials per chunk: small enough for the arrays to stay in cache
ANALYSES = ("logistic", "cox", "logrank")


@dataclass(frozen=True)
class AnalysisPower:
    power: float
    mcse: float  # Monte Carlo standard error of `power`
    mean_estimate: float | None  # mean log OR / log HR over converged trials
    not_converged: int


@dataclass(frozen=True)
class PowerResult:
    n: int
    control_risk: float
    treatment_risk: float
    trials: int
    seed: int
    alpha: float
    analyses: dict[str, AnalysisPower]

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def _significant_counts(
    config: TrialConfig, seed: np.random.SeedSequence, trials: int, alpha: float, adjust_prior: bool
) -> np.ndarray:
    """Per analysis: [significant, not converged, sum of estimates, converged] for one chunk."""
    rng = np.random.default_rng(seed)
    batch = simulate_batch(config, trials, rng)
    critical = stats.norm.ppf(1 - alpha / 2)
    logistic = fit_logistic(batch, len(config.sites), config.prior_admissions_max, adjust_prior=adjust_prior)
    sets = risk_sets(batch)
    cox = fit_cox(sets)
    chi2 = logrank(sets)
    out = np.zeros((3, 4))
    for row, fit in enumerate((logistic, cox)):
        ok = fit.converged
        out[row] = (
            np.sum(ok & (np.abs(fit.z) > critical)),
            np.sum(~ok),
            fit.coef[ok].sum(),
            ok.sum(),
        )
    out[2] = (np.sum(chi2 > critical**2), 0, np.nan, trials)
    return out


def _chunks(trials: int, seed: int) -> list[tuple[np.random.SeedSequence, int]]:
    count = math.ceil(trials / CHUNK)
    seeds = np.random.SeedSequence(seed).spawn(count)
    sizes = [CHUNK] * (count - 1) + [trials - CHUNK * (count - 1)]
    return list(zip(seeds, sizes, strict=True))


def _run(task: tuple[TrialConfig, np.random.SeedSequence, int, float, bool]) -> np.ndarray:
    return _significant_counts(*task)


def _one_blas_thread() -> None:
    # The matrices are tiny: BLAS threads only add overhead, and the processes share the cores.
    threadpool_limits(limits=1, user_api="blas")


def simulated_power(
    config: TrialConfig,
    *,
    trials: int,
    seed: int,
    alpha: float = 0.05,
    adjust_prior: bool = True,
    workers: int | None = None,
    progress: bool = False,
    on_chunk: Callable[[int], None] | None = None,
) -> PowerResult:
    """Power of each analysis for the trial `config` describes, from `trials` simulated trials."""
    if trials < 1:
        raise ValueError(f"trials: must be at least 1, got {trials}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha: must be between 0 and 1, got {alpha}")
    tasks = [(config, s, size, alpha, adjust_prior) for s, size in _chunks(trials, seed)]
    workers = min(workers or os.cpu_count() or 1, len(tasks))
    bar = tqdm(total=trials, unit="trial", file=sys.stderr, disable=not progress, leave=False)
    totals = np.zeros((3, 4))

    def collect(result: np.ndarray, size: int) -> None:
        nonlocal totals
        totals = totals + result
        bar.update(size)
        if on_chunk is not None:
            on_chunk(size)

    if workers <= 1:
        with threadpool_limits(limits=1, user_api="blas"):
            for task in tasks:
                collect(_run(task), task[2])
    else:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(
            max_workers=workers, mp_context=context, initializer=_one_blas_thread
        ) as pool:
            # Several chunks per task keeps the inter-process traffic small.
            for task, result in zip(tasks, pool.map(_run, tasks, chunksize=4), strict=True):
                collect(result, task[2])
    bar.close()
    analyses = {}
    for row, name in enumerate(ANALYSES):
        significant, failed, estimate_sum, converged = totals[row]
        power = significant / trials
        analyses[name] = AnalysisPower(
            power=float(power),
            mcse=float(math.sqrt(power * (1 - power) / trials)),
            mean_estimate=None if name == "logrank" or converged == 0 else float(estimate_sum / converged),
            not_converged=int(failed),
        )
    return PowerResult(
        n=config.n,
        control_risk=config.control_risk,
        treatment_risk=config.treatment_risk,
        trials=trials,
        seed=seed,
        alpha=alpha,
        analyses=analyses,
    )
