"""Simulated power for 10,000 CORE-sized trials, batched, against a per-trial library loop.

Runs `simulated_power` for 10,000 trials (n = 440, six sites; simulation, site-adjusted
logistic regression, Cox with Efron ties and the log-rank test) on all cores, then fits the
same models with statsmodels `Logit`, lifelines `CoxPHFitter` and lifelines' log-rank test to
a sample of the very same trials, one by one, and scales that time to 10,000.

    python benchmarks/power.py [--trials 10000] [--sample 500]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
import statsmodels.api as sm
from lifelines import CoxPHFitter
from lifelines.statistics import logrank_test

from aftercrisis.design import TrialConfig
from aftercrisis.design.batch import simulate_batch
from aftercrisis.design.power import _chunks, simulated_power


def library_loop(config: TrialConfig, sample: int, seed: int) -> float:
    """Seconds to simulate and fit `sample` trials one by one with statsmodels and lifelines."""
    started = time.perf_counter()
    done = 0
    for chunk_seed, size in _chunks(10_000, seed):
        batch = simulate_batch(config, size, np.random.default_rng(chunk_seed))
        for i in range(min(size, sample - done)):
            frame = batch.frame(i, config.site_codes)
            known = frame.dropna(subset=["readmitted_1y"])
            x = pd.concat(
                [pd.get_dummies(known["site"]).astype(float), known[["intervention", "prior_admissions"]]],
                axis=1,
            ).astype(float)
            sm.Logit(known["readmitted_1y"], x).fit(method="newton", disp=False)
            CoxPHFitter().fit(
                frame[["days_to_readmission", "readmission_event", "intervention"]],
                "days_to_readmission",
                "readmission_event",
            )
            treated = frame["intervention"] == 1
            logrank_test(
                frame.loc[treated, "days_to_readmission"],
                frame.loc[~treated, "days_to_readmission"],
                frame.loc[treated, "readmission_event"],
                frame.loc[~treated, "readmission_event"],
            )
            done += 1
        if done >= sample:
            break
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=10_000)
    parser.add_argument("--sample", type=int, default=500, help="trials fitted one by one with the libraries")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    config = TrialConfig(n=440)

    simulated_power(config, trials=500, seed=args.seed + 1)  # warm up: imports, calibration, pool start-up
    started = time.perf_counter()
    result = simulated_power(config, trials=args.trials, seed=args.seed)
    batched = time.perf_counter() - started
    powers = ", ".join(f"{name} {a.power:.3f}" for name, a in result.analyses.items())
    print(f"batched: {args.trials} trials in {batched:.2f} s ({powers})")

    loop = library_loop(config, args.sample, args.seed)
    scaled = loop * args.trials / args.sample
    print(
        f"statsmodels + lifelines loop: {args.sample} trials in {loop:.2f} s, so {scaled:.1f} s for {args.trials}"
    )
    print(f"speedup: {scaled / batched:.0f}×")  # noqa: RUF001


if __name__ == "__main__":
    main()
