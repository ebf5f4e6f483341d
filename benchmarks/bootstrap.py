"""The two-stage bootstrap of the economic evaluation, batched, against a loop of statsmodels fits.

Draws 5,000 two-stage bootstrap replicates (sites, then participants within sites) of the
adjusted incremental cost and QALYs on the CORE-sized example dataset (441 randomised, the
complete cases analysed) and refits both regressions on every replicate by batched normal
equations (`aftercrisis.analysis.economics.two_stage_bootstrap`). In the same run it fits the
same two models with statsmodels `OLS` to the participants drawn in a sample of the very same
replicates (same seed), one by one, and scales that time to 5,000.

    python benchmarks/bootstrap.py [--replicates 5000] [--sample 200]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
import statsmodels.api as sm

from aftercrisis.analysis import economics
from aftercrisis.analysis.dataset import load_dataset
from aftercrisis.protocol import load_protocol

ROOT = Path(__file__).resolve().parents[1]
SEED = 2023
Models = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def models() -> Models:
    """Covariates and outcomes of the cost and QALY regressions, and each participant's site."""
    protocol = load_protocol(ROOT / "protocols" / "core.yaml")
    assert protocol.health_economics is not None
    frame = load_dataset(ROOT / "examples" / "core_economics" / "analysis_dataset.csv")
    frame = economics.with_outcomes(frame, protocol.health_economics)
    data = frame.dropna(subset=["cost_0", "cost_1y", "qaly", "eq5d_0"])
    cost_x, qaly_x, sites = economics.models(data.assign(compared=data["arm"] == "intervention"), "compared")
    return cost_x, data["cost_1y"].to_numpy(float), qaly_x, data["qaly"].to_numpy(float), sites


def library_loop(models: Models, replicates: int, sample: int) -> tuple[float, np.ndarray]:
    """Seconds to fit both models with statsmodels to the first `sample` of the same replicates."""
    cost_x, cost, qaly_x, qaly, sites = models
    weights = economics.bootstrap_weights(sites, replicates, np.random.default_rng(SEED))
    started = time.perf_counter()
    found = []
    for r in range(sample):
        rows = np.repeat(np.arange(len(sites)), weights[r].astype(int))
        indicators = pd.get_dummies(sites[rows]).to_numpy(float)  # the sites drawn in this replicate
        found.append(
            (
                sm.OLS(cost[rows], np.column_stack([cost_x[rows], indicators])).fit().params[0],
                sm.OLS(qaly[rows], np.column_stack([qaly_x[rows], indicators])).fit().params[0],
            )
        )
    return time.perf_counter() - started, np.array(found)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=5000)
    parser.add_argument("--sample", type=int, default=200)
    args = parser.parse_args()
    cost_x, cost, qaly_x, qaly, sites = models()
    print(f"{len(sites)} complete cases in {int(sites.max()) + 1} sites")
    started = time.perf_counter()
    batched = economics.two_stage_bootstrap(
        cost_x, cost, qaly_x, qaly, sites, replicates=args.replicates, seed=SEED
    )
    vectorised = time.perf_counter() - started
    print(f"batched: {args.replicates:,} replicates in {vectorised:.3f} s")
    looped, loop_found = library_loop((cost_x, cost, qaly_x, qaly, sites), args.replicates, args.sample)
    scaled = looped * args.replicates / args.sample
    same = np.allclose(loop_found[:, 0], batched.costs[: args.sample], rtol=1e-9, atol=1e-6) and np.allclose(
        loop_found[:, 1], batched.qalys[: args.sample], rtol=1e-9, atol=1e-12
    )
    print(
        f"statsmodels loop: {args.sample} replicates in {looped:.2f} s (scaled to {args.replicates:,}: {scaled:.1f} s)"
    )
    print(f"same increments on the sampled replicates: {'yes' if same else 'NO'}")
    print(f"speedup: {scaled / vectorised:.0f}×")  # noqa: RUF001


if __name__ == "__main__":
    main()
