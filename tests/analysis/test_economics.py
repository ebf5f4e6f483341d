"""The economic evaluation against formulae written out here, its bootstrap, its refusals."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import linalg
from tests.analysis.synthetic import synthetic_dataset, with_resource_use
from tests.conftest import CORE

from aftercrisis.analysis import economics
from aftercrisis.analysis.blinding import arm_labels
from aftercrisis.analysis.dataset import DatasetError, from_frame, load_dataset
from aftercrisis.analysis.effects import NotEstimable
from aftercrisis.analysis.exports import data_dictionary, write_stata
from aftercrisis.analysis.run import COMPARED, run_plan
from aftercrisis.analysis.schema import EQ5D_BEST, EQ5D_WORST
from aftercrisis.cli import main
from aftercrisis.followup.instruments import instrument
from aftercrisis.followup.scoring import score
from aftercrisis.protocol import load_protocol

PROTOCOL = load_protocol(CORE)
ECONOMICS = PROTOCOL.health_economics
assert ECONOMICS is not None
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "core_economics" / "analysis_dataset.csv"


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    typed, _ = from_frame(
        with_resource_use(synthetic_dataset()),
        sites=[s.code for s in PROTOCOL.sites],
        resources=economics.counted(ECONOMICS),
    )
    return typed.assign(**{COMPARED: (typed["arm"] == "intervention").astype(int)})


@pytest.fixture(scope="module")
def evaluation(frame: pd.DataFrame) -> economics.Evaluation:
    return economics.evaluate(frame, ECONOMICS, COMPARED, imputations=3, imputation_seed=5)


def _reference_qalys(frame: pd.DataFrame) -> np.ndarray:
    u0, u4, u18 = (frame[c].to_numpy(float) for c in ("eq5d_0", "eq5d_4m", "eq5d_18m"))
    u12 = u4 + (u18 - u4) * (12 - 4) / (18 - 4)
    return (u0 + u4) / 2 * (4 / 12) + (u4 + u12) / 2 * (8 / 12)


def _reference_costs(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    prices = {
        "inpatient_ward_day": 522,
        "crisis_house_day": 246,
        "acute_day_unit_day": 181,
        "crisis_team_contact": 226,
        "cmht_contact": 175,
        "ae_attendance": 242,
    }
    before = sum(frame[f"use_{code}_0"].to_numpy(float) * price for code, price in prices.items())
    after = sum(frame[f"use_{code}_1y"].to_numpy(float) * price for code, price in prices.items())
    after = after + frame["peer_support_hours"].to_numpy(float) * 61 + 6.5
    return np.asarray(before), np.asarray(after)


def _reference_ols(
    y: np.ndarray, arm: np.ndarray, baseline: np.ndarray, site: pd.Series
) -> tuple[float, float]:
    """Constant, arm, baseline and site indicators less the first: coefficient and SE of arm."""
    dummies = pd.get_dummies(site, drop_first=True).to_numpy(float)
    x = np.column_stack([np.ones(len(y)), arm, baseline, dummies])
    beta, *_ = linalg.lstsq(x, y)
    sigma2 = float(np.sum((y - x @ beta) ** 2)) / (len(y) - x.shape[1])
    cov = sigma2 * linalg.inv(x.T @ x)
    return float(beta[1]), float(np.sqrt(cov[1, 1]))


def test_the_utility_range_is_that_of_the_value_set():
    eq5d = instrument("eq5d3l")
    dimensions = [i.code for i in eq5d.scored_items]
    worst, best = (score(eq5d, dict.fromkeys(dimensions, level)).total for level in (3, 1))
    assert worst == pytest.approx(EQ5D_WORST, abs=1e-12)
    assert best == EQ5D_BEST


def test_qalys_per_participant_are_the_area_under_the_interpolated_curve(frame):
    found = economics.with_outcomes(frame, ECONOMICS)["qaly"].to_numpy()
    expected = _reference_qalys(frame)
    assert np.isnan(found).sum() == np.isnan(expected).sum() > 0
    np.testing.assert_allclose(found, expected, rtol=0, atol=1e-12, equal_nan=True)


def test_costs_per_participant_are_units_times_unit_costs(frame):
    found = economics.with_outcomes(frame, ECONOMICS)
    before, after = _reference_costs(frame)
    np.testing.assert_allclose(found["cost_0"], before, rtol=0, atol=1e-9, equal_nan=True)
    np.testing.assert_allclose(found["cost_1y"], after, rtol=0, atol=1e-9, equal_nan=True)


def test_incremental_cost_and_qalys_match_ols_written_out(frame, evaluation):
    before, after = _reference_costs(frame)
    qaly = _reference_qalys(frame)
    u0 = frame["eq5d_0"].to_numpy(float)
    known = ~(np.isnan(before) | np.isnan(after) | np.isnan(qaly) | np.isnan(u0))
    arm = frame[COMPARED].to_numpy(float)[known]
    site = frame["site"][known]
    cost, cost_se = _reference_ols(after[known], arm, before[known], site)
    effect, effect_se = _reference_ols(qaly[known], arm, u0[known], site)
    assert evaluation.n == int(known.sum())
    assert evaluation.cost.estimate == pytest.approx(cost, rel=1e-9, abs=1e-9)
    assert evaluation.cost.se == pytest.approx(cost_se, rel=1e-9, abs=1e-9)
    assert evaluation.qaly.estimate == pytest.approx(effect, rel=1e-9, abs=1e-9)
    assert evaluation.qaly.se == pytest.approx(effect_se, rel=1e-9, abs=1e-9)


def test_each_batched_replicate_is_the_ols_of_the_participants_drawn(frame):
    data = economics.with_outcomes(frame, ECONOMICS).dropna(subset=["cost_0", "cost_1y", "qaly", "eq5d_0"])
    cost_x, _, sites = economics.models(data, COMPARED)
    y = data["cost_1y"].to_numpy(float)
    draws = economics.site_draws(sites, 40, np.random.default_rng(3))
    [batched] = economics.replicate_coefficients([(cost_x, y)], sites, draws)
    weights = economics.bootstrap_weights(sites, 40, np.random.default_rng(3))
    site = data["site"].to_numpy()
    for r in range(40):
        rows = np.repeat(np.arange(len(data)), weights[r].astype(int))
        dummies = pd.get_dummies(site[rows], drop_first=True).to_numpy(float)
        x = np.column_stack([cost_x[rows], np.ones(len(rows)), dummies])
        fit = sm.OLS(y[rows], x).fit()
        assert batched[r] == pytest.approx(float(fit.params[0]), rel=1e-9, abs=1e-9)
    assert (weights @ np.eye(6)[sites] == 0).any()  # some replicates leave a site out


def test_two_stage_weights_draw_whole_sites_then_participants_within_them():
    sites = np.repeat(np.arange(4), [10, 20, 30, 40])
    weights = economics.bootstrap_weights(sites, 500, np.random.default_rng(1))
    per_site = np.column_stack([weights[:, sites == s].sum(axis=1) for s in range(4)])
    size = np.array([10, 20, 30, 40])
    copies = per_site / size
    assert np.array_equal(copies, np.round(copies))  # each copy of a site brings as many draws as it has
    assert (copies.sum(axis=1) == 4).all()  # as many sites drawn as there are
    assert (copies == 0).any()  # and some replicates leave a site out


def test_the_bootstrap_reproduces_with_its_seed(frame):
    first = economics.evaluate(frame, ECONOMICS, COMPARED, imputations=2, imputation_seed=5)
    again = economics.evaluate(frame, ECONOMICS, COMPARED, imputations=2, imputation_seed=5)
    assert first.bootstrap.replicates == ECONOMICS.bootstrap.replicates >= 1000
    assert np.array_equal(first.bootstrap.costs, again.bootstrap.costs)
    assert np.array_equal(first.bootstrap.qalys, again.bootstrap.qalys)
    other = ECONOMICS.model_copy(update={"bootstrap": ECONOMICS.bootstrap.model_copy(update={"seed": 1})})
    moved = economics.evaluate(frame, other, COMPARED, imputations=2, imputation_seed=5)
    assert not np.array_equal(first.bootstrap.costs, moved.bootstrap.costs)


def test_net_benefit_icer_and_acceptability_follow_from_the_increments(evaluation):
    point, _, probability = evaluation.net_benefit(20000)
    assert point == pytest.approx(20000 * evaluation.qaly.estimate - evaluation.cost.estimate)
    assert evaluation.acceptability[40] == pytest.approx(probability)  # 40th of 100 steps to 50,000
    assert evaluation.icer == pytest.approx(evaluation.cost.estimate / evaluation.qaly.estimate)
    assert evaluation.willingness[0] == 0 and evaluation.willingness[-1] == 50000


@pytest.mark.parametrize(
    ("cost", "qaly", "words"),
    [
        (-10.0, 0.01, "dominant"),
        (10.0, -0.01, "dominated"),
        (10.0, 0.01, "trade-off: more effective and more costly"),
        (-10.0, -0.01, "trade-off: less effective and less costly"),
    ],
)
def test_the_quadrant_is_named(cost, qaly, words):
    assert economics.quadrant(cost, qaly) == words


def test_sensitivity_analyses_are_reported(evaluation):
    assert evaluation.imputed_cost is not None and evaluation.imputed_qaly is not None
    assert evaluation.imputed_cost.m == 3
    assert evaluation.glm is not None and evaluation.glm.cost_ratio > 0


def test_a_blinded_analysis_withholds_the_economic_evaluation(frame):
    labels = arm_labels(blinded=True, key="k")
    out = run_plan(frame.drop(columns=[COMPARED]), PROTOCOL.analysis, labels, economics=ECONOMICS)
    withheld = out.results["health_economics"]
    assert withheld["estimable"] is False and "blinded" in withheld["reason"]
    assert "ce_plane" not in out.figures and "health_economics" not in out.tables


@pytest.mark.parametrize(
    ("column", "cell", "message"),
    [
        ("use_cmht_contact_1y", "-2", "row 5, column use_cmht_contact_1y: -2 is below the minimum 0"),
        ("eq5d_4m", "1.2", "row 5, column eq5d_4m: 1.2 is above the maximum 1"),
        ("eq5d_0", "-0.7", "row 5, column eq5d_0: -0.7 is below the minimum -0.594"),
    ],
)
def test_bad_resource_use_or_utility_is_named_and_nothing_is_written(tmp_path, column, cell, message, capsys):
    raw = pd.read_csv(EXAMPLE, dtype=str, keep_default_na=False)
    raw.loc[4, column] = cell
    path = tmp_path / "bad.csv"
    raw.to_csv(path, index=False)
    out = tmp_path / "out"
    assert main(["analyse", str(path), "--protocol", str(CORE), "--out", str(out), "--no-pdf"]) == 1
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_a_resource_the_protocol_does_not_price_is_refused(tmp_path):
    raw = pd.read_csv(EXAMPLE, dtype=str, keep_default_na=False).assign(use_taxi_ride_1y="1")
    path = tmp_path / "bad.csv"
    raw.to_csv(path, index=False)
    with pytest.raises(DatasetError) as caught:
        load_dataset(path, resources=economics.counted(ECONOMICS))
    [problem] = caught.value.problems
    assert str(problem).startswith("column use_taxi_ride_1y: 'taxi_ride' is not a resource of the protocol")


def test_exports_label_the_economic_columns(tmp_path):
    frame = load_dataset(EXAMPLE)
    dictionary = data_dictionary(frame).set_index("Variable / Field Name")
    assert dictionary.loc["use_cmht_contact_1y", "Field Label"].startswith("Units of cmht contact")
    assert dictionary.loc["eq5d_18m", "Text Validation Min"] == "-0.594"
    write_stata(frame, tmp_path / "d.dta")
    with pd.io.stata.StataReader(tmp_path / "d.dta") as reader:
        labels = reader.variable_labels()
    assert labels["use_inpatient_ward_day_0"].startswith("Units of inpatient ward day")
    assert labels["eq5d_0"].startswith("EQ-5D-3L index")


def test_the_core_sized_example_is_analysed_end_to_end(tmp_path):
    out = tmp_path / "out"
    assert main(["analyse", str(EXAMPLE), "--protocol", str(CORE), "--out", str(out), "--no-pdf"]) == 0
    economic = json.loads((out / "results.json").read_text())["health_economics"]
    assert economic["estimable"] is True and economic["currency"] == "GBP"
    assert economic["bootstrap"]["replicates"] == ECONOMICS.bootstrap.replicates
    assert [item["threshold"] for item in economic["net_monetary_benefit"]] == [20000, 30000]
    assert sum(economic["bootstrap"]["quadrants"].values()) == pytest.approx(1)
    assert economic["imputed"]["datasets"] == PROTOCOL.analysis.imputation.datasets
    assert (out / "figures" / "ce_plane.svg").exists() and (out / "figures" / "ceac.svg").exists()
    html = (out / "report.html").read_text()
    assert "Health economics" in html and "acceptability curve" in html
    assert "Psychiatric inpatient ward, bed day" in (out / "tables" / "health_economics.csv").read_text()


def test_a_horizon_beyond_the_last_utility_is_not_estimable(frame):
    longer = ECONOMICS.model_copy(update={"time_horizon_months": 24})
    with pytest.raises(NotEstimable, match="beyond the last utility measured"):
        economics.evaluate(frame, longer, COMPARED, imputations=2, imputation_seed=5)


def test_without_the_economic_columns_the_section_says_what_is_missing(frame):
    out = run_plan(
        frame.drop(columns=[COMPARED, "eq5d_18m"]),
        PROTOCOL.analysis,
        arm_labels(blinded=False),
        economics=ECONOMICS,
    )
    assert out.results["health_economics"] == {
        "perspective": ECONOMICS.perspective,
        "time_horizon_months": 12,
        "price_year": 2022,
        "currency": "GBP",
        "estimable": False,
        "reason": "the dataset has no eq5d_18m",
    }
