"""A small synthetic trial in the analysis dataset's format, for end-to-end tests.

Independent of the trial simulator so these tests fail only when the analysis does.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SITES = ("CAM", "ISL", "HAR", "ENF", "BRI", "SLO")


def synthetic_dataset(n: int = 441, *, seed: int = 7, log_or: float = np.log(0.66)) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    arm = np.where(rng.permutation(n) % 2 == 0, "intervention", "control")
    treated = (arm == "intervention").astype(float)
    site = rng.choice(SITES, n)
    site_effect = dict(zip(SITES, rng.normal(0, 0.25, len(SITES)), strict=True))
    age = np.clip(np.round(rng.normal(40, 12, n)), 18, 80).astype(int)
    sex = np.where(rng.random(n) < 0.58, "female", "male")
    prior = rng.poisson(1.5, n)
    eta = -0.9 + log_or * treated + 0.2 * prior + np.vectorize(site_effect.get)(site)
    risk = 1 / (1 + np.exp(-eta))
    readmitted = (rng.random(n) < risk).astype(float)
    # time of the first readmission within the year, given one occurs; censoring otherwise
    days = np.where(readmitted == 1, rng.integers(1, 366, n), 365)
    died = ((readmitted == 0) & (rng.random(n) < 0.02)).astype(int)
    days = np.where(died == 1, rng.integers(1, 365, n), days)
    unknown = rng.random(n) < 0.02
    lost_day = rng.integers(30, 365, n)
    days = np.where(unknown & (readmitted == 0), lost_day, days)
    readmitted_1y = np.where(unknown & (readmitted == 0), np.nan, readmitted)
    event = readmitted.astype(int)
    count = np.where(readmitted == 1, 1 + rng.poisson(0.6, n), 0).astype(float)
    bed_days = np.where(readmitted == 1, rng.negative_binomial(2, 0.1, n), 0).astype(float)
    count[np.isnan(readmitted_1y)] = np.nan
    bed_days[np.isnan(readmitted_1y)] = np.nan
    qpr_0 = np.clip(np.round(rng.normal(36, 10, n)), 0, 60)
    qpr_4m = np.clip(np.round(0.6 * qpr_0 + 15 + 1.5 * treated + rng.normal(0, 8, n)), 0, 60)
    qpr_18m = np.clip(np.round(0.5 * qpr_0 + 19 + 1.0 * treated + rng.normal(0, 9, n)), 0, 60)
    csq8 = np.clip(np.round(rng.normal(23, 5, n) + 2.5 * treated), 8, 32)
    qpr_4m[rng.random(n) < 0.25] = np.nan
    csq8[rng.random(n) < 0.25] = np.nan
    qpr_18m[rng.random(n) < 0.4] = np.nan
    sessions = np.where(arm == "intervention", rng.integers(0, 11, n), 0)
    ethnicity = rng.choice(["white", "black", "asian", "mixed", "other"], n, p=[0.6, 0.17, 0.1, 0.07, 0.06])
    ethnicity = np.where(rng.random(n) < 0.1, None, ethnicity)
    dates = pd.Timestamp("2014-03-12") + pd.to_timedelta(np.sort(rng.integers(0, 478, n)), unit="D")
    return pd.DataFrame(
        {
            "participant_id": [f"P{i + 1:04d}" for i in range(n)],
            "site": site,
            "arm": arm,
            "randomised_on": dates.strftime("%Y-%m-%d"),
            "age": age,
            "sex": sex,
            "prior_admissions": prior,
            "readmitted_1y": readmitted_1y,
            "days_to_readmission": days,
            "readmission_event": event,
            "died_1y": died,
            "n_readmissions_1y": count,
            "acute_bed_days_1y": bed_days,
            "csq8_4m": csq8,
            "qpr_0": qpr_0,
            "qpr_4m": qpr_4m,
            "qpr_18m": qpr_18m,
            "sessions_attended": sessions,
            "ethnicity": ethnicity,
        }
    )


def with_resource_use(frame: pd.DataFrame, *, seed: int = 11, effect: float = 0.02) -> pd.DataFrame:
    """The dataset with EQ-5D-3L utilities, resource use before and after randomisation, and peer
    support hours, for the CORE protocol's unit costs; `effect` is the QALY gain of the intervention."""
    rng = np.random.default_rng(seed)
    n = len(frame)
    treated = (frame["arm"] == "intervention").to_numpy(float)
    bed_days = frame["acute_bed_days_1y"].to_numpy(float)
    unknown = np.isnan(bed_days) | (rng.random(n) < 0.05)
    ward = np.round(bed_days * rng.uniform(0.6, 1.0, n))
    use = {
        "inpatient_ward_day": (rng.negative_binomial(1, 0.08, n), ward),
        "crisis_house_day": (rng.negative_binomial(1, 0.5, n), bed_days - ward),
        "acute_day_unit_day": (rng.poisson(0.8, n), rng.poisson(0.6, n)),
        "crisis_team_contact": (rng.poisson(12, n), rng.poisson(4 + 6 * (bed_days > 0), n)),
        "cmht_contact": (rng.poisson(8, n), rng.poisson(10, n)),
        "ae_attendance": (rng.poisson(0.8, n), rng.poisson(0.5, n)),
    }
    columns: dict[str, np.ndarray] = {}
    for code, (before, after) in use.items():
        columns[f"use_{code}_0"] = np.where(rng.random(n) < 0.03, np.nan, before.astype(float))
        columns[f"use_{code}_1y"] = np.where(unknown, np.nan, after.astype(float))
    sessions = frame["sessions_attended"].to_numpy(float)
    hours = np.round(sessions * rng.uniform(0.75, 1.5, n) * 4) / 4
    u0 = np.clip(np.round(rng.normal(0.55, 0.28, n), 3), -0.594, 1.0)
    u4 = np.clip(np.round(0.5 * u0 + 0.32 + 1.5 * effect * treated + rng.normal(0, 0.2, n), 3), -0.594, 1.0)
    u18 = np.clip(np.round(0.4 * u0 + 0.38 + effect * treated + rng.normal(0, 0.22, n), 3), -0.594, 1.0)
    u0[rng.random(n) < 0.04] = np.nan
    u4[rng.random(n) < 0.12] = np.nan
    u18[rng.random(n) < 0.2] = np.nan
    return frame.assign(eq5d_0=u0, eq5d_4m=u4, eq5d_18m=u18, peer_support_hours=hours, **columns)
