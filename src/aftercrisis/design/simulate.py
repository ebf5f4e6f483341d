"""A seeded generator of participant-level, CORE-like trial data.

One call gives the participants (recruitment order), their acute-care episodes within the
one-year record review, and the peer-support sessions of the intervention arm. The data are
the simulated *truth*: `analysis_columns` derives the outcome columns from it directly.

How the data arise
- Recruitment dates are uniform over the recruitment window; each participant's site is drawn
  by the sites' recruitment shares; allocation is 1:1 in permuted blocks of randomly varying
  size, stratified by site, in recruitment order.
- Each participant's one-year readmission risk is logistic in arm, a random site effect and
  prior admissions; the intercepts are calibrated so that the arms' *marginal* risks equal
  `control_risk` and `treatment_risk` in expectation (see `config.intercepts`).
- Time to first readmission is Weibull (shape `weibull_shape`) with P(T <= 365) equal to the
  participant's risk. Later readmissions follow the same law from the end of each episode.
- Death (rate `death_rate_1y`) and loss to follow-up (`loss_to_followup`, withdrawal from all
  data) fall on a uniform day of the year and end the record review. Death before a
  readmission prevents it. Episodes start no later than `record_review_end`, so none lies
  beyond the one-year horizon; an episode may *end* after it.
- An episode recorded in the clinical records is a row with source "clinical_records"; about
  one in seven is also reported by the participant, which adds a second row with the same
  dates and source "self_report". The clinical-records rows alone are the complete record.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from aftercrisis.design.allocation import stratified_block_allocation
from aftercrisis.design.config import (
    HORIZON_DAYS,
    Site,
    TrialConfig,
    readmission_day,
    readmission_risk,
    sample_prior_admissions,
    treatment_risk_from_hazard_ratio,
    treatment_risk_from_odds_ratio,
)

__all__ = [
    "SETTINGS",
    "SimulatedTrial",
    "Site",
    "TrialConfig",
    "analysis_columns",
    "simulate_trial",
    "treatment_risk_from_hazard_ratio",
    "treatment_risk_from_odds_ratio",
]

SETTINGS = ("inpatient_ward", "crisis_house", "acute_day_unit", "crt_reacceptance")
_SETTING_SHARES = np.array([0.5, 0.12, 0.08, 0.30])
# Median length of stay (days) and log-scale spread, per setting.
_STAY_MEDIAN = np.array([24.0, 12.0, 20.0, 28.0])
_STAY_SIGMA = np.array([0.8, 0.5, 0.6, 0.5])
_RESIDENTIAL = {"inpatient_ward", "crisis_house"}  # settings that occupy a bed
_DETAINED_SHARE = 0.35
_SELF_REPORT_SHARE = 0.15
_ETHNICITIES = ("white", "black", "asian", "mixed", "other")
_ETHNICITY_SHARES = np.array([0.60, 0.17, 0.10, 0.07, 0.06])
_MODES = ("face_to_face", "phone", "video")
_MODE_SHARES = np.array([0.80, 0.15, 0.05])
_FOLLOWUP_4M_DAY = 122
_FOLLOWUP_18M_DAY = 548
_MISSING_4M = 0.27
_MISSING_18M = 0.40
_ADHERENCE_CONCENTRATION = 2.5  # beta spread of the share of sessions attended


@dataclass(frozen=True)
class SimulatedTrial:
    participants: pd.DataFrame
    episodes: pd.DataFrame
    sessions: pd.DataFrame


def _days(base: np.ndarray, offset: np.ndarray) -> np.ndarray:
    return np.asarray(base + offset.astype("timedelta64[D]"), dtype="datetime64[ns]")


def _score(values: np.ndarray, low: int, high: int) -> np.ndarray:
    return np.clip(np.round(values), low, high).astype(float)


def simulate_trial(config: TrialConfig = TrialConfig(), *, seed: int) -> SimulatedTrial:  # noqa: B008
    """Simulate one trial. The same `config` and `seed` always give the same data."""
    rng = np.random.default_rng(seed)
    n = config.n
    n_sites = len(config.sites)

    window = (config.recruitment_end - config.recruitment_start).days
    start = np.datetime64(config.recruitment_start, "D")
    randomised = start + np.sort(rng.integers(0, window + 1, size=n)).astype("timedelta64[D]")
    site = rng.choice(n_sites, size=n, p=config.site_shares)
    intervention = stratified_block_allocation(site, n_sites, config.block_sizes, rng)

    age = np.clip(np.round(rng.normal(40.0, 12.5, size=n)), 18, 80).astype(np.int64)
    female = rng.random(n) < 0.58
    ethnicity = rng.choice(len(_ETHNICITIES), size=n, p=_ETHNICITY_SHARES)
    prior = sample_prior_admissions(rng.random(n), config.prior_admissions_mean, config.prior_admissions_max)

    site_effect = rng.normal(0.0, config.site_sd, size=n_sites)
    risk = readmission_risk(config, intervention, site_effect[site], prior)
    first_day = readmission_day(rng.random(n), risk, config.weibull_shape)

    death_day = np.where(
        rng.random(n) < config.death_rate_1y, rng.integers(1, HORIZON_DAYS + 1, size=n), HORIZON_DAYS + 1
    )
    lost_day = np.where(
        rng.random(n) < config.loss_to_followup, rng.integers(1, HORIZON_DAYS, size=n), HORIZON_DAYS + 1
    )
    review_end_day = np.minimum(np.minimum(death_day, lost_day), HORIZON_DAYS)

    episodes = _episodes(config, rng, randomised, risk, first_day, review_end_day)
    sessions, attended = _sessions(config, rng, randomised, intervention, review_end_day)

    # Questionnaires: missing by chance, or because the participant had died or withdrawn.
    qpr_0 = _score(rng.normal(36.0, 10.0, size=n), 0, 60)
    qpr_4m = _score(0.6 * qpr_0 + 15.2 + 1.2 * intervention + rng.normal(0.0, 8.0, size=n), 0, 60)
    qpr_18m = _score(0.5 * qpr_0 + 19.0 + 0.8 * intervention + rng.normal(0.0, 9.0, size=n), 0, 60)
    csq8 = _score(rng.normal(23.0, 5.0, size=n) + 2.5 * intervention, 8, 32)
    gone_by_4m = review_end_day < _FOLLOWUP_4M_DAY
    gone_by_18m = review_end_day < HORIZON_DAYS
    missing_4m = gone_by_4m | (rng.random(n) < _MISSING_4M)
    missing_18m = gone_by_18m | (rng.random(n) < _MISSING_18M)
    qpr_4m[missing_4m] = np.nan
    csq8[missing_4m] = np.nan
    qpr_18m[missing_18m] = np.nan

    died = death_day <= HORIZON_DAYS
    died_on = np.where(died, _days(randomised, death_day), np.datetime64("NaT", "ns"))
    participants = pd.DataFrame(
        {
            "participant": np.arange(n, dtype=np.int64),
            "site": np.array(config.site_codes, dtype=object)[site],
            "randomised_on": randomised.astype("datetime64[ns]"),
            "arm": np.where(intervention, "intervention", "control").astype(object),
            "age": age,
            "sex": np.where(female, "female", "male").astype(object),
            "ethnicity": np.array(_ETHNICITIES, dtype=object)[ethnicity],
            "prior_admissions": prior,
            "qpr_0": qpr_0,
            "qpr_4m": qpr_4m,
            "qpr_18m": qpr_18m,
            "csq8_4m": csq8,
            "sessions_attended": attended,
            "died_on": pd.Series(died_on, dtype="datetime64[ns]"),
            "record_review_end": _days(randomised, review_end_day),
        }
    )
    return SimulatedTrial(participants=participants, episodes=episodes, sessions=sessions)


def _episodes(
    config: TrialConfig,
    rng: np.random.Generator,
    randomised: np.ndarray,
    risk: np.ndarray,
    first_day: np.ndarray,
    review_end_day: np.ndarray,
) -> pd.DataFrame:
    rows: list[tuple[int, int, int, int]] = []  # participant, setting, start day, end day
    for p in np.flatnonzero(first_day <= review_end_day):
        day = int(first_day[p])
        while day <= review_end_day[p]:
            kind = int(rng.choice(len(SETTINGS), p=_SETTING_SHARES))
            stay = int(np.round(_STAY_MEDIAN[kind] * np.exp(_STAY_SIGMA[kind] * rng.standard_normal())))
            rows.append((int(p), kind, day, day + stay))
            # The next readmission follows the participant's own time-to-readmission law.
            gap = readmission_day(rng.random(1), risk[p : p + 1], config.weibull_shape)[0]
            if gap > HORIZON_DAYS:  # none within a year: beyond any record review
                break
            day = day + stay + int(gap)
    table = np.array(rows, dtype=np.int64).reshape(-1, 4)
    who, setting, start_day, end_day = table.T
    inpatient = setting == 0
    detained = inpatient & (rng.random(who.size) < _DETAINED_SHARE)
    base = randomised[who]
    clinical = pd.DataFrame(
        {
            "participant": who,
            "setting": np.array(SETTINGS, dtype=object)[setting],
            "start": _days(base, start_day),
            "end": _days(base, end_day),
            "admission_type": np.where(detained, "detained", "informal").astype(object),
            "source": np.full(who.size, "clinical_records", dtype=object),
        }
    )
    also_reported = clinical[rng.random(who.size) < _SELF_REPORT_SHARE].assign(source="self_report")
    episodes = pd.concat([clinical, also_reported], ignore_index=True)
    return episodes.sort_values(["participant", "start", "source"], kind="stable").reset_index(drop=True)


def _sessions(
    config: TrialConfig,
    rng: np.random.Generator,
    randomised: np.ndarray,
    intervention: np.ndarray,
    review_end_day: np.ndarray,
) -> tuple[pd.DataFrame, np.ndarray]:
    window = config.intervention_weeks * 7
    attended = np.zeros(randomised.size, dtype=np.int64)
    who: list[int] = []
    numbers: list[int] = []
    days: list[int] = []
    a = config.session_adherence * _ADHERENCE_CONCENTRATION
    b = (1 - config.session_adherence) * _ADHERENCE_CONCENTRATION
    for p in np.flatnonzero(intervention):
        if rng.random() >= config.session_uptake:
            continue
        k = 1 + int(rng.binomial(config.max_sessions - 1, rng.beta(a, b)))
        first = int(rng.integers(1, 15))
        later = np.sort(
            rng.choice(np.arange(first + 1, window + 1), size=min(k - 1, window - first), replace=False)
        )
        planned = np.concatenate([[first], later])
        # Sessions stop when the participant dies or withdraws.
        held = planned[planned <= review_end_day[p]]
        attended[p] = held.size
        who.extend([int(p)] * held.size)
        numbers.extend(range(1, held.size + 1))
        days.extend(int(d) for d in held)
    who_arr = np.array(who, dtype=np.int64)
    count = who_arr.size
    sessions = pd.DataFrame(
        {
            "participant": who_arr,
            "number": np.array(numbers, dtype=np.int64),
            "date": _days(randomised[who_arr], np.array(days, dtype=np.int64)),
            "duration_minutes": np.clip(np.round(rng.normal(60.0, 15.0, size=count)), 20, 120).astype(
                np.int64
            ),
            "mode": np.array(_MODES, dtype=object)[rng.choice(len(_MODES), size=count, p=_MODE_SHARES)],
        }
    )
    return sessions, attended


def analysis_columns(trial: SimulatedTrial, horizon_days: int = HORIZON_DAYS) -> pd.DataFrame:
    """Outcome columns derived from the simulated truth, one row per participant.

    - `readmitted_1y`: 1 if an acute-care episode starts within `horizon_days` of
      randomisation, 0 if none does and the record review reached the horizon or ended
      with death; NaN if the review ended early (withdrawal) with no episode.
    - `days_to_readmission`, `readmission_event`: days to the first episode (event 1), or to
      the end of follow-up (event 0) — the horizon, withdrawal or death (death censors).
    - `died_1y`: death within the horizon.
    - `n_readmissions_1y`, `acute_bed_days_1y`: episodes starting within the horizon, and days
      in a residential setting (inpatient ward, crisis house) within it; NaN after withdrawal.
    Only clinical-records rows are used.
    """
    if not 1 <= horizon_days <= HORIZON_DAYS:
        raise ValueError(
            f"horizon_days: the record review covers 1 to {HORIZON_DAYS} days, got {horizon_days}"
        )
    people = trial.participants
    n = len(people)
    randomised = people["randomised_on"].to_numpy()
    review_end = ((people["record_review_end"].to_numpy() - randomised) // np.timedelta64(1, "D")).astype(int)
    never = pd.Series(randomised + np.timedelta64(HORIZON_DAYS + 1, "D"))
    died_on = people["died_on"].fillna(never).to_numpy()
    died_day = ((died_on - randomised) // np.timedelta64(1, "D")).astype(int)

    episodes = trial.episodes[trial.episodes["source"] == "clinical_records"]
    who = episodes["participant"].to_numpy()
    base = randomised[who]
    start_day = ((episodes["start"].to_numpy() - base) // np.timedelta64(1, "D")).astype(int)
    end_day = ((episodes["end"].to_numpy() - base) // np.timedelta64(1, "D")).astype(int)
    inside = start_day <= horizon_days

    first = np.full(n, np.iinfo(np.int64).max)
    np.minimum.at(first, who[inside], start_day[inside])
    event = first <= horizon_days
    died_1y = died_day <= horizon_days
    withdrawn = (review_end < horizon_days) & ~died_1y

    readmitted = np.where(event, 1.0, np.where(withdrawn, np.nan, 0.0))
    censor_day = np.minimum(review_end, horizon_days)
    days = np.where(event, first, censor_day)

    n_readmissions = np.bincount(who[inside], minlength=n).astype(float)
    residential = episodes["setting"].isin(list(_RESIDENTIAL)).to_numpy() & inside
    stay = np.clip(np.minimum(end_day, horizon_days) - start_day, 0, None)
    bed_days = np.bincount(who[residential], weights=stay[residential], minlength=n).astype(float)
    n_readmissions[withdrawn] = np.nan
    bed_days[withdrawn] = np.nan
    return pd.DataFrame(
        {
            "participant": people["participant"].to_numpy(),
            "readmitted_1y": readmitted,
            "days_to_readmission": days.astype(np.int64),
            "readmission_event": event.astype(np.int64),
            "died_1y": died_1y.astype(np.int64),
            "n_readmissions_1y": n_readmissions,
            "acute_bed_days_1y": bed_days,
        }
    )
