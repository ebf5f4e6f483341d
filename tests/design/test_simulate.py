"""The synthetic-trial generator: shape of its data, its allocation scheme and its risks."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from scipy.special import expit

from aftercrisis.design import Site, TrialConfig, analysis_columns, simulate_trial
from aftercrisis.design.allocation import block_sequence, intervention_counts
from aftercrisis.design.config import intercepts, prior_admissions_centre

PARTICIPANT_COLUMNS = [
    "participant",
    "site",
    "randomised_on",
    "arm",
    "age",
    "sex",
    "ethnicity",
    "prior_admissions",
    "qpr_0",
    "qpr_4m",
    "qpr_18m",
    "csq8_4m",
    "sessions_attended",
    "died_on",
    "record_review_end",
]


@pytest.fixture(scope="module")
def trial() -> object:
    return simulate_trial(seed=2018)


def test_same_seed_same_trial_other_seed_other_trial() -> None:
    a, b, c = simulate_trial(seed=7), simulate_trial(seed=7), simulate_trial(seed=8)
    for name in ("participants", "episodes", "sessions"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))
    assert not a.participants["arm"].equals(c.participants["arm"])
    assert not a.participants["randomised_on"].equals(c.participants["randomised_on"])


def test_participant_columns_and_types(trial: object) -> None:
    people = trial.participants  # type: ignore[attr-defined]
    assert list(people.columns) == PARTICIPANT_COLUMNS
    assert len(people) == 441
    assert people["participant"].tolist() == list(range(441))
    assert set(people["site"]) == {"CAM", "ISL", "HAR", "ENF", "BRI", "SLO"}
    assert set(people["arm"]) == {"intervention", "control"}
    assert set(people["sex"]) <= {"female", "male"}
    assert set(people["ethnicity"]) <= {"white", "black", "asian", "mixed", "other"}
    for column in ("randomised_on", "died_on", "record_review_end"):
        assert people[column].dtype == "datetime64[ns]"
    for column in ("participant", "age", "prior_admissions", "sessions_attended"):
        assert people[column].dtype == np.int64
    assert people["age"].between(18, 80).all() and 35 < people["age"].mean() < 45
    assert (people["prior_admissions"] >= 0).all()
    assert people["prior_admissions"].skew() > 1  # most have few, some many
    for column, low, high in (("qpr_0", 0, 60), ("qpr_4m", 0, 60), ("qpr_18m", 0, 60), ("csq8_4m", 8, 32)):
        values = people[column].dropna()
        assert values.between(low, high).all()
    assert people["qpr_0"].notna().all()
    assert 0.2 < people["qpr_4m"].isna().mean() < 0.4
    assert people["qpr_18m"].isna().mean() > people["qpr_4m"].isna().mean()


def test_dates_lie_in_the_recruitment_window_and_review_year(trial: object) -> None:
    people = trial.participants  # type: ignore[attr-defined]
    assert people["randomised_on"].is_monotonic_increasing
    assert people["randomised_on"].min() >= pd.Timestamp(date(2014, 3, 12))
    assert people["randomised_on"].max() <= pd.Timestamp(date(2015, 7, 3))
    review = (people["record_review_end"] - people["randomised_on"]).dt.days
    assert review.between(1, 365).all()
    dead = people["died_on"].notna()
    assert (people.loc[dead, "record_review_end"] <= people.loc[dead, "died_on"]).all()


def test_episodes_follow_randomisation_and_stop_at_the_review_end(trial: object) -> None:
    people = trial.participants.set_index("participant")  # type: ignore[attr-defined]
    episodes = trial.episodes  # type: ignore[attr-defined]
    assert list(episodes.columns) == ["participant", "setting", "start", "end", "admission_type", "source"]
    assert set(episodes["setting"]) <= {
        "inpatient_ward",
        "crisis_house",
        "acute_day_unit",
        "crt_reacceptance",
    }
    assert (episodes["end"] >= episodes["start"]).all()
    assert (episodes["start"] > people.loc[episodes["participant"], "randomised_on"].to_numpy()).all()
    assert (episodes["start"] <= people.loc[episodes["participant"], "record_review_end"].to_numpy()).all()
    assert (episodes.loc[episodes["setting"] != "inpatient_ward", "admission_type"] == "informal").all()
    assert set(episodes["admission_type"]) == {"informal", "detained"}
    clinical = episodes[episodes["source"] == "clinical_records"]
    self_report = episodes[episodes["source"] == "self_report"]
    assert 0 < len(self_report) < len(clinical) / 3
    # Every self-reported episode is also in the clinical records.
    key = ["participant", "setting", "start", "end"]
    assert len(self_report.merge(clinical, on=key)) == len(self_report)


def test_sessions_belong_to_the_intervention_arm_within_four_months(trial: object) -> None:
    people = trial.participants.set_index("participant")  # type: ignore[attr-defined]
    sessions = trial.sessions  # type: ignore[attr-defined]
    assert list(sessions.columns) == ["participant", "number", "date", "duration_minutes", "mode"]
    assert (people.loc[sessions["participant"], "arm"] == "intervention").all()
    assert (people.loc[people["arm"] == "control", "sessions_attended"] == 0).all()
    counted = sessions.groupby("participant").size().reindex(people.index, fill_value=0)
    assert (counted == people["sessions_attended"]).all()
    for _, own in sessions.groupby("participant"):
        assert own["number"].tolist() == list(range(1, len(own) + 1))
        assert own["date"].is_monotonic_increasing
    days = (sessions["date"] - people.loc[sessions["participant"], "randomised_on"].to_numpy()).dt.days
    assert days.between(1, 122).all()
    attended = people.loc[people["arm"] == "intervention", "sessions_attended"]
    assert 4.5 < attended.mean() < 6.5
    assert attended.max() <= 10 and (attended == 0).mean() < 0.25 and (attended < 10).mean() > 0.5
    assert set(sessions["mode"]) <= {"face_to_face", "phone", "video"}


def test_csq8_is_higher_with_peer_support() -> None:
    people = simulate_trial(TrialConfig(n=4000), seed=3).participants
    means = people.groupby("arm")["csq8_4m"].mean()
    assert means["intervention"] > means["control"] + 1.5


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(2, 300),
    blocks=st.sampled_from([(2,), (4,), (2, 4, 6), (4, 8)]),
)
def test_allocation_is_balanced_within_each_site_block(seed: int, n: int, blocks: tuple[int, ...]) -> None:
    config = TrialConfig(n=n, block_sizes=blocks)
    people = simulate_trial(config, seed=seed).participants
    for _, site in people.groupby("site", sort=False):
        running = np.cumsum(np.where(site["arm"] == "intervention", 1, -1))
        # Within a block the imbalance is at most half its size; blocks close balanced.
        assert np.abs(running).max(initial=0) <= max(blocks) // 2


def test_vectorised_allocation_counts_have_the_block_sequence_distribution() -> None:
    rng = np.random.default_rng(11)
    blocks = (2, 4, 6)
    length = 13
    direct = np.array([block_sequence(length, blocks, rng).sum() for _ in range(20000)])
    fast = intervention_counts(np.full(20000, length), blocks, rng)
    values = np.arange(length + 1)
    table = np.array([[np.sum(direct == v) for v in values], [np.sum(fast == v) for v in values]])
    table = table[:, table.sum(axis=0) > 0]
    assert stats.chi2_contingency(table).pvalue > 0.001
    assert set(np.unique(fast)) <= {5, 6, 7, 8}  # 13 = 12 balanced + 1, or 10 + 3 open, ...


def test_intercepts_give_the_marginal_risks_by_independent_monte_carlo() -> None:
    # Calibration uses quadrature and the closed-form pmf; check it by brute force with numpy's own
    # geometric sampler and normal site effects (2 million draws, SE about 0.0003).
    config = TrialConfig(site_sd=0.5, prior_admission_log_odds=0.3)
    rng = np.random.default_rng(5)
    u = rng.normal(0.0, config.site_sd, size=2_000_000)
    prior = np.minimum(rng.geometric(1 / (1 + config.prior_admissions_mean), size=u.size) - 1, 12)
    centre = prior_admissions_centre(config)
    for intercept, target in zip(
        intercepts(config), (config.control_risk, config.treatment_risk), strict=True
    ):
        risk = expit(intercept + u + config.prior_admission_log_odds * (prior - centre)).mean()
        assert risk == pytest.approx(target, abs=0.0015)


def test_one_year_risks_and_weibull_timing_on_a_large_trial() -> None:
    config = TrialConfig(
        n=40000, site_sd=0.0, death_rate_1y=0.0, loss_to_followup=0.0, prior_admission_log_odds=0.0
    )
    trial = simulate_trial(config, seed=99)
    outcomes = trial.participants[["participant", "arm"]].merge(analysis_columns(trial))
    risk = outcomes.groupby("arm")["readmitted_1y"].mean()
    # SE of each arm's share is about 0.0032; allow 4 SE.
    assert risk["control"] == pytest.approx(0.38, abs=0.013)
    assert risk["intervention"] == pytest.approx(0.29, abs=0.013)
    # Weibull: P(T <= t) = 1 - (1 - p) ** ((t / 365) ** 0.8). With equal arms, the share of the
    # year's readmissions within 122 days is (F0(122) + F1(122)) / (0.38 + 0.29).
    expected = sum(1 - (1 - p) ** ((122 / 365) ** 0.8) for p in (0.38, 0.29)) / 0.67
    events = outcomes[outcomes["readmission_event"] == 1]
    early = (events["days_to_readmission"] <= 122).mean()
    assert early == pytest.approx(expected, abs=0.015)  # SE about 0.004
    assert early > 122 / 365 + 0.1  # the hazard falls after discharge


def test_analysis_columns_follow_the_truth(trial: object) -> None:
    people = trial.participants  # type: ignore[attr-defined]
    out = analysis_columns(trial)  # type: ignore[arg-type]
    assert list(out.columns) == [
        "participant",
        "readmitted_1y",
        "days_to_readmission",
        "readmission_event",
        "died_1y",
        "n_readmissions_1y",
        "acute_bed_days_1y",
    ]
    review = (people["record_review_end"] - people["randomised_on"]).dt.days
    died = people["died_on"].notna()
    early_end = (review < 365) & ~died
    assert (out["readmitted_1y"].isna() == (early_end & (out["readmission_event"] == 0))).all()
    assert ((out["readmitted_1y"] == 1) == (out["readmission_event"] == 1)).all()
    assert out["days_to_readmission"].between(1, 365).all()
    assert (out["died_1y"] == died.astype(int)).all()
    readmitted = out["readmission_event"] == 1
    assert (out.loc[readmitted, "n_readmissions_1y"].dropna() >= 1).all()
    assert (out.loc[~readmitted, "n_readmissions_1y"].dropna() == 0).all()
    assert (out["acute_bed_days_1y"].dropna() >= 0).all()
    first = trial.episodes.groupby("participant")["start"].min()  # type: ignore[attr-defined]
    days = (first - people.set_index("participant").loc[first.index, "randomised_on"]).dt.days
    assert (out.set_index("participant").loc[first.index, "days_to_readmission"] == days).all()


def test_bad_configuration_names_the_field() -> None:
    with pytest.raises(ValueError, match="control_risk"):
        TrialConfig(control_risk=1.2)
    with pytest.raises(ValueError, match="block_sizes"):
        TrialConfig(block_sizes=(3,))
    with pytest.raises(ValueError, match="site ISL weight"):
        TrialConfig(sites=(Site("CAM", 1.0), Site("ISL", -1.0)))
    with pytest.raises(ValueError, match="horizon_days"):
        analysis_columns(simulate_trial(TrialConfig(n=10), seed=1), horizon_days=400)


@settings(max_examples=50, deadline=None)
@given(
    counts=st.lists(st.integers(0, 200), min_size=1, max_size=12),
    blocks=st.sampled_from([(2,), (4,), (2, 4, 6), (4, 8)]),
    seed=st.integers(0, 2**32 - 1),
)
def test_vectorised_allocation_counts_stay_within_half_a_block(
    counts: list[int], blocks: tuple[int, ...], seed: int
) -> None:
    m = np.array(counts)
    treated = intervention_counts(m, blocks, np.random.default_rng(seed))
    assert treated.shape == m.shape
    assert (np.abs(2 * treated - m) <= max(blocks) // 2).all()
