"""Time-to-event estimates against R's survival and cmprsk packages and published analyses."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from lifelines.datasets import load_rossi

from aftercrisis.analysis import survival

DATA = Path(__file__).parent / "data"


def test_cox_efron_matches_r_coxph() -> None:
    # R: d <- read.table("survival_data_100_5.csv"); coxph(Surv(d[,1], d[,2]) ~ as.matrix(d[,4:8]),
    # ties = "efron"); coef and sqrt(diag(vcov)) recorded by statsmodels' survival.R.
    raw = pd.read_csv(DATA / "survival_data_100_5.csv", header=None, sep=r"\s+")
    frame = pd.DataFrame({"time": raw[0], "event": raw[1], **{f"x{i}": raw[2 + i] for i in range(1, 6)}})
    coefs = [-0.5641909, -0.3233021, -0.1234858, 0.3712328, 0.6421963]
    ses = [0.1804027, 0.1496253, 0.1338531, 0.1529832, 0.1670848]
    for i in range(1, 6):
        others = [f"x{j}" for j in range(1, 6) if j != i]
        fit = survival.cox(frame, "time", "event", f"x{i}", others)
        assert fit.coef == pytest.approx(coefs[i - 1], rel=1e-6)
        assert fit.se == pytest.approx(ses[i - 1], rel=1e-6)


def test_cox_matches_published_rossi_analysis() -> None:
    # Fox and Weisberg, "Cox proportional-hazards regression for survival data in R" (appendix to
    # An R Companion to Applied Regression): coxph(Surv(week, arrest) ~ fin + age + race + wexp +
    # mar + paro + prio, data = Rossi): fin coef -0.379422, se 0.191379 (printed to 6 decimals).
    rossi = load_rossi()
    fit = survival.cox(rossi, "week", "arrest", "fin", ["age", "race", "wexp", "mar", "paro", "prio"])
    assert fit.coef == pytest.approx(-0.379422, abs=5e-7)
    assert fit.se == pytest.approx(0.191379, abs=5e-7)
    assert fit.n == 432


def test_logrank_matches_r_survdiff() -> None:
    # R: survdiff(Surv(ti, st) ~ ix) on the data below gives Chisq = 2.14673 (5 decimals printed).
    ti = np.r_[3, 1, 2, 3, 2, 1, 5, 3, 1, 1, 2, 3, 7, 1, 5, 3, 9]
    st = np.r_[0, 1, 1, 1, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 1, 0, 1]
    group = np.r_[np.zeros(8), np.ones(9)]
    result = survival.logrank(ti, st, group)
    assert result.chi2 == pytest.approx(2.14673, abs=5e-6)
    assert result.p == pytest.approx(0.14287, abs=5e-6)


def test_logrank_matches_r_on_bone_marrow_transplant_data() -> None:
    # R: survdiff(Surv(T, Status) ~ Group, data = subset(bmt, Group != "ALL")): Chisq = 13.44556.
    bmt = pd.read_csv(DATA / "bmt.csv")
    bmt = bmt.loc[bmt["Group"] != "ALL"]
    result = survival.logrank(bmt["T"].to_numpy(), bmt["Status"].to_numpy(), bmt["Group"].to_numpy())
    assert result.chi2 == pytest.approx(13.44556, abs=5e-6)


def test_kaplan_meier_matches_r_survfit() -> None:
    # R: summary(survfit(Surv(c(3,1,2,3,2,1,5,3), c(0,1,1,1,0,0,1,0)) ~ 1))
    curve = survival.kaplan_meier(np.r_[3, 1, 2, 3, 2, 1, 5, 3], np.r_[0, 1, 1, 1, 0, 0, 1, 0])
    assert curve.times.tolist() == [0, 1, 2, 3, 5]
    assert curve.values == pytest.approx([1.0, 0.8750000, 0.7291667, 0.5468750, 0.0], abs=5e-8)


def test_cumulative_incidence_matches_r_cmprsk() -> None:
    # R: cmprsk::cuminc(ftime, fstat) with the data below; cause 1's estimates.
    ftime = np.r_[1, 1, 2, 4, 4, 4, 6, 6, 7, 8, 9, 9, 9, 1, 2, 2, 4, 4]
    fstat = np.r_[1, 1, 1, 2, 2, 2, 3, 3, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0]
    curve = survival.cumulative_incidence(ftime, fstat, cause=1)
    expected = [0.11111111, 0.17037037, 0.17037037, 0.17037037, 0.17037037, 0.17037037, 0.17037037]
    assert curve.values[1:] == pytest.approx(expected, abs=5e-9)
    assert survival.cumulative_incidence(ftime, fstat, cause=2).values[-1] == pytest.approx(
        0.20740741, abs=5e-9
    )


def test_competing_status_codes() -> None:
    status = survival.competing_status(np.r_[1, 0, 0, 1], np.r_[0, 1, 0, 1])
    assert status.tolist() == [1, 2, 0, 1]


def test_proportional_hazards_check_flags_age_in_rossi_but_not_financial_aid() -> None:
    # Fox and Weisberg's cox.zph on this model finds non-proportional hazards for age, not fin.
    rossi = load_rossi()
    others = ["race", "wexp", "mar", "paro", "prio"]
    age = survival.ph_check(rossi, "week", "arrest", "age", ["fin", *others])
    fin = survival.ph_check(rossi, "week", "arrest", "fin", ["age", *others])
    assert age.p < 0.05
    assert fin.p > 0.5


def test_numbers_at_risk_count_those_still_observed() -> None:
    assert survival.numbers_at_risk(np.r_[10, 90, 90, 200, 365], [0, 90, 180, 365]) == [5, 4, 2, 1]
