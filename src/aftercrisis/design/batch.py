"""Many simulated trials at once, as (trials by participants) arrays, for simulated power.

The model is the one `simulate.simulate_trial` draws from (same readmission risks, Weibull
timing, death and loss to follow-up, stratified permuted blocks), without the per-episode,
per-session and questionnaire data that power does not need. The analyses are invariant to
the order of participants, so each trial is laid out grouped by site, and within a site the
first participants are the ones allocated to the intervention: only the number allocated in
each site matters, and `allocation.intervention_counts` draws it exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from aftercrisis.design.allocation import intervention_counts
from aftercrisis.design.config import (
    HORIZON_DAYS,
    TrialConfig,
    readmission_day,
    readmission_risk,
    sample_prior_admissions,
)


@dataclass(frozen=True)
class TrialBatch:
    """Participant-level truth of many trials; every array is (trials, n)."""

    site: np.ndarray  # site index
    intervention: np.ndarray  # bool
    prior: np.ndarray  # prior admissions
    day: np.ndarray  # day of first readmission, or of the end of follow-up (1..365)
    event: np.ndarray  # readmission observed within the year
    known: np.ndarray  # one-year readmission status known (not withdrawn without an event)

    @property
    def trials(self) -> int:
        return int(self.site.shape[0])

    def frame(self, trial: int, site_codes: tuple[str, ...]) -> pd.DataFrame:
        """One trial as a participant-level data frame, in the analysis dataset's terms."""
        readmitted = np.where(self.known[trial], self.event[trial].astype(float), np.nan)
        return pd.DataFrame(
            {
                "site": np.asarray(site_codes, dtype=object)[self.site[trial]],
                "intervention": self.intervention[trial].astype(np.int64),
                "prior_admissions": self.prior[trial],
                "readmitted_1y": readmitted,
                "days_to_readmission": self.day[trial],
                "readmission_event": self.event[trial].astype(np.int64),
            }
        )


def simulate_batch(config: TrialConfig, trials: int, rng: np.random.Generator) -> TrialBatch:
    n = config.n
    n_sites = len(config.sites)
    counts = rng.multinomial(n, config.site_shares, size=trials)
    treated = intervention_counts(counts, config.block_sizes, rng)
    # Sorted by site; in each site the allocated-to-intervention come first.
    site = np.repeat(np.tile(np.arange(n_sites), trials), counts.ravel()).reshape(trials, n)
    runs = np.stack([treated, counts - treated], axis=2).ravel()
    intervention = np.repeat(np.tile([True, False], trials * n_sites), runs).reshape(trials, n)

    levels = config.prior_admissions_max + 1
    prior = sample_prior_admissions(
        rng.random((trials, n)), config.prior_admissions_mean, config.prior_admissions_max
    )
    site_effect = rng.normal(0.0, config.site_sd, size=(trials, n_sites))
    # Risk depends only on (site, arm, prior admissions): compute it per cell, then look it up.
    cell_risk = readmission_risk(
        config,
        np.array([False, True])[None, None, :, None],
        site_effect[:, :, None, None],
        np.arange(levels)[None, None, None, :],
    ).reshape(trials, -1)
    cell = (site * 2 + intervention) * levels + prior
    risk = np.take_along_axis(cell_risk, cell, axis=1)
    readmission = readmission_day(rng.random((trials, n)), risk, config.weibull_shape)

    # Death and withdrawal fall on a uniform day of the year. Both are rare, so the participants
    # they strike are found as a Bernoulli process (geometric gaps) rather than one draw each.
    # As in `analysis_columns`, death ends follow-up with the outcome known; withdrawal leaves
    # it unknown unless a readmission came first.
    end_flat = np.full(trials * n, HORIZON_DAYS, dtype=np.int64)
    died_flat = np.zeros(trials * n, dtype=bool)
    dead = _struck(config.death_rate_1y, trials * n, rng)
    died_flat[dead] = True
    end_flat[dead] = rng.integers(1, HORIZON_DAYS + 1, size=dead.size)
    lost = _struck(config.loss_to_followup, trials * n, rng)
    end_flat[lost] = np.minimum(end_flat[lost], rng.integers(1, HORIZON_DAYS, size=lost.size))
    end = end_flat.reshape(trials, n)
    died = died_flat.reshape(trials, n)
    event = readmission <= end
    day = np.where(event, readmission, end).astype(np.int64)
    known = event | died | (end == HORIZON_DAYS)
    return TrialBatch(site=site, intervention=intervention, prior=prior, day=day, event=event, known=known)


def _struck(rate: float, size: int, rng: np.random.Generator) -> np.ndarray:
    """Positions of the successes among `size` independent trials with probability `rate`."""
    if rate <= 0:
        return np.zeros(0, dtype=np.int64)
    expected = rate * size
    positions = np.cumsum(rng.geometric(rate, size=int(expected + 6 * np.sqrt(expected) + 20))) - 1
    while positions[-1] < size:  # rarely, more are needed
        more = np.cumsum(rng.geometric(rate, size=positions.size)) + positions[-1]
        positions = np.concatenate([positions, more])
    return positions[positions < size]


def batch_from_trial(
    participants: pd.DataFrame, outcomes: pd.DataFrame, site_codes: tuple[str, ...]
) -> TrialBatch:
    """One simulated (or real) trial as a batch of one, from participants and outcome columns."""
    data = participants.merge(outcomes, on="participant", validate="one_to_one")
    unknown = sorted(set(data["site"]) - set(site_codes))
    if unknown:
        raise ValueError(f"site: codes {unknown} are not among the trial's sites {list(site_codes)}")
    site = data["site"].map({code: i for i, code in enumerate(site_codes)}).to_numpy(dtype=np.int64)
    return TrialBatch(
        site=site[None, :],
        intervention=(data["arm"] == "intervention").to_numpy()[None, :],
        prior=data["prior_admissions"].to_numpy(dtype=np.int64)[None, :],
        day=data["days_to_readmission"].to_numpy(dtype=np.int64)[None, :],
        event=(data["readmission_event"] == 1).to_numpy()[None, :],
        known=data["readmitted_1y"].notna().to_numpy()[None, :],
    )
