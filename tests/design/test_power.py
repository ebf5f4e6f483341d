"""Simulation-based power: reproducible, right size under the null, near the closed form."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from aftercrisis.design import TrialConfig
from aftercrisis.design import cli as design_cli
from aftercrisis.design import samplesize as ss
from aftercrisis.design.power import simulated_power


def test_same_seed_same_power_whatever_the_number_of_processes() -> None:
    config = TrialConfig(n=200)
    one = simulated_power(config, trials=600, seed=5, workers=1)
    two = simulated_power(config, trials=600, seed=5, workers=2)
    other = simulated_power(config, trials=600, seed=6, workers=1)
    assert one == two
    assert one.analyses["logistic"].power != other.analyses["logistic"].power


def test_type_one_error_under_the_null() -> None:
    config = TrialConfig(n=300, control_risk=0.35, treatment_risk=0.35)
    result = simulated_power(config, trials=4000, seed=11)
    for analysis in result.analyses.values():
        # Monte Carlo SE 0.0034 at 0.05; Wald and log-rank tests are near nominal at this size.
        assert analysis.power == pytest.approx(0.05, abs=0.015)


def test_power_agrees_with_the_closed_form_in_the_simple_case() -> None:
    # No site heterogeneity, no prognostic covariate, no loss: the logistic Wald test is the
    # two-proportion test, whose power the normal approximation gives.
    config = TrialConfig(
        n=600, site_sd=0.0, prior_admission_log_odds=0.0, loss_to_followup=0.0, death_rate_1y=0.0
    )
    result = simulated_power(config, trials=4000, seed=3, adjust_prior=False)
    expected = ss.power_two_proportions(300, 0.38, 0.29)
    assert result.analyses["logistic"].power == pytest.approx(expected, abs=0.025)  # MC SE 0.008
    # Schoenfeld's formula for the Cox model, from the events the design expects.
    events = 300 * (0.38 + 0.29)
    assert result.analyses["cox"].power == pytest.approx(ss.power_schoenfeld(events, 0.716), abs=0.03)


def test_core_trial_is_a_coin_flip() -> None:
    result = simulated_power(TrialConfig(n=440), trials=4000, seed=1)
    logistic = result.analyses["logistic"]
    assert 0.49 < logistic.power < 0.57
    assert logistic.mcse == pytest.approx(0.0079, abs=0.0003)
    assert logistic.not_converged == 0
    assert logistic.mean_estimate is not None and logistic.mean_estimate < 0


def _run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    design_cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))


def test_cli_power_json(capsys: pytest.CaptureFixture[str]) -> None:
    code = _run(["design", "power", "--n", "200", "--treatment-risk", "0.25", "--trials", "500", "--json"])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert out["n"] == 200 and out["trials"] == 500
    assert set(out["analyses"]) == {"logistic", "cox", "logrank"}
    assert 0 < out["analyses"]["logistic"]["power"] < 1


def test_cli_power_curve(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    figure = tmp_path / "curve.svg"
    argv = ["design", "power", "--n", "200", "--odds-ratio", "0.6", "--trials", "250", "--curve", str(figure)]
    argv += ["--curve-n", "100,300", "--curve-treatment-risk", "0.3,0.2", "--curve-trials", "250", "--json"]
    assert _run(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert [row["n"] for row in out["curve"]["by_n"]] == [100, 300]
    assert out["curve"]["by_n"][0]["logistic"] < out["curve"]["by_n"][1]["logistic"]
    assert figure.read_text().lstrip().startswith("<?xml")


def test_cli_samplesize(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        _run(
            ["design", "samplesize", "binary", "--control-risk", "0.05", "--treatment-risk", "0.1", "--json"]
        )
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert out["continuity_corrected"]["per_arm"] == 474
    assert _run(["design", "samplesize", "survival", "--hazard-ratio", "0.75", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["schoenfeld"]["events"] == 380 and out["freedman"]["events"] == 385


def test_cli_bad_input_is_one_clear_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        _run(["design", "power", "--control-risk", "1.5", "--treatment-risk", "0.2", "--trials", "10"]) == 2
    )
    assert "control_risk" in capsys.readouterr().err
