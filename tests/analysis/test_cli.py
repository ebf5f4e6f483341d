"""`aftercrisis analyse` end to end: outputs, the results.json contract, blinding, bad input."""

from __future__ import annotations

import base64
import json
import re
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from aftercrisis.analysis import effects
from aftercrisis.analysis.blinding import arm_labels
from aftercrisis.analysis.dataset import _as_text, typed
from aftercrisis.analysis.run import COMPARED
from aftercrisis.cli import main

from .synthetic import synthetic_dataset

ROOT = Path(__file__).resolve().parents[2]
ARM_WORDS = re.compile(r"intervention|control|peer.supported|workbook by post|sessions", re.IGNORECASE)


@pytest.fixture(scope="module")
def protocol(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # The CORE protocol with fewer imputations, to keep the test short.
    text = (ROOT / "protocols" / "core.yaml").read_text()
    path = tmp_path_factory.mktemp("protocol") / "core.yaml"
    path.write_text(text.replace("datasets: 20", "datasets: 3"))
    return path


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("data") / "dataset.csv"
    synthetic_dataset(441, seed=7).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def unblinded(protocol: Path, dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("run") / "out"
    saes = out.parent / "saes.csv"
    frame = pd.read_csv(dataset)
    treated = frame.loc[frame["arm"] == "intervention", "participant_id"].iloc[0]
    untreated = frame.loc[frame["arm"] == "control", "participant_id"].iloc[0]
    saes.write_text(
        f"participant_id,category\n{treated},death\n{untreated},hospitalisation\n{untreated},self-harm\n"
    )
    assert (
        main(["analyse", str(dataset), "--protocol", str(protocol), "--out", str(out), "--saes", str(saes)])
        == 0
    )
    return out


def test_results_json_holds_the_named_keys(unblinded: Path) -> None:
    results = json.loads((unblinded / "results.json").read_text())
    primary = results["primary"]
    for name in ("unadjusted", "adjusted"):
        assert set(primary[name]) >= {"or", "ci", "p"}
        assert primary[name]["ci"][0] < primary[name]["or"] < primary[name]["ci"][1]
    assert primary["adjusted"]["covariates"] == ["prior_admissions", "site"]
    assert set(primary["risk_difference"]) >= {"rd", "ci", "p"}
    assert set(primary["risk_ratio"]) >= {"rr", "ci", "p"}
    assert set(results["time_to_readmission"]["logrank"]) == {"chi2", "p"}
    assert set(results["time_to_readmission"]["cox"]) >= {"hr", "ci", "p", "covariates"}
    for outcome in ("csq8_4m", "qpr_4m", "qpr_18m"):
        assert set(results["secondary"][outcome]) >= {"difference", "ci", "p", "covariates"}
    assert results["secondary"]["qpr_4m"]["covariates"] == ["qpr_0", "site"]
    assert set(results["counts"]) == {"n_readmissions_1y", "acute_bed_days_1y"}
    assert results["primary"]["imputed"]["datasets"] == 3
    assert results["cace"]["uptake_threshold"] == 5
    assert results["saes"] == {"Peer-supported self-management": 1, "Workbook by post": 2}
    assert len(results["stamp"]["dataset_sha256"]) == 64


def test_outputs_are_written(unblinded: Path) -> None:
    for name in ("baseline", "primary", "secondary", "subgroups", "saes"):
        assert (unblinded / "tables" / f"{name}.csv").exists()
        assert (unblinded / "tables" / f"{name}.html").exists()
    for name in ("consort", "kaplan_meier", "cumulative_incidence", "forest"):
        assert (unblinded / "figures" / f"{name}.svg").read_text().startswith("<?xml")
        assert (unblinded / "figures" / f"{name}.png").read_bytes()[:4] == b"\x89PNG"
    html = (unblinded / "report.html").read_text()
    assert 'src="http' not in html and "<link" not in html  # self-contained
    assert (unblinded / "report.pdf").read_bytes()[:5] == b"%PDF-"


def test_blinded_outputs_name_no_arm(
    protocol: Path, dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AFTERCRISIS_BLINDING_KEY", "a secret of the trial manager")
    out = tmp_path / "blinded"
    assert main(["analyse", str(dataset), "--protocol", str(protocol), "--out", str(out), "--blinded"]) == 0
    texts = []
    for path in sorted(out.rglob("*")):
        if path.suffix in {".json", ".csv", ".html", ".svg"}:
            texts.append((path, path.read_text()))
        elif path.suffix == ".pdf":
            pdf = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True)
            texts.append((path, pdf.stdout))
    html = (out / "report.html").read_text()
    for encoded in re.findall(r"base64,([A-Za-z0-9+/=]+)", html):
        texts.append((out / "report.html", base64.b64decode(encoded).decode()))
    assert len(texts) > 10
    for path, text in texts:
        assert not ARM_WORDS.search(text), f"{path.name} names an arm: {ARM_WORDS.search(text)}"
    results = json.loads((out / "results.json").read_text())
    assert results["comparison"] == {"compared": "A", "reference": "B"}
    assert "cace" not in results


def test_a_malformed_dataset_is_named_and_nothing_is_written(
    protocol: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    frame = synthetic_dataset(60, seed=3).drop(columns=["qpr_18m"])
    frame["arm"] = frame["arm"].astype(object)
    frame.loc[4, "arm"] = "placebo"
    frame["age"] = frame["age"].astype(object)
    frame.loc[9, "age"] = 250
    path = tmp_path / "bad.csv"
    frame.to_csv(path, index=False)
    out = tmp_path / "out"
    assert main(["analyse", str(path), "--protocol", str(protocol), "--out", str(out)]) == 1
    error = capsys.readouterr().err
    assert "column qpr_18m: required column is missing" in error
    assert "row 5, column arm: 'placebo' is not one of intervention, control" in error
    assert "row 10, column age: 250 is above the maximum 110" in error
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["bad.csv"]


def test_blinded_without_a_key_is_refused(
    protocol: Path, dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AFTERCRISIS_BLINDING_KEY", raising=False)
    assert (
        main(
            ["analyse", str(dataset), "--protocol", str(protocol), "--out", str(tmp_path / "o"), "--blinded"]
        )
        == 2
    )
    assert not (tmp_path / "o").exists()


def test_plan_recovers_the_simulated_effect() -> None:
    # A large synthetic trial with a true conditional OR of 0.66 (site and prior admissions in the model).
    frame = typed(synthetic_dataset(6000, seed=21).apply(_as_text))
    frame[COMPARED] = frame["arm"].map(arm_labels(blinded=False).indicator)
    fit = effects.logistic(frame, "readmitted_1y", COMPARED, ["prior_admissions"], ["site"])
    low, high = fit.ci(exponentiate=True)
    assert low < 0.66 < high
    assert abs(np.log(np.exp(fit.coef) / 0.66)) < 0.15


def test_demo_trial_recovers_the_simulated_odds_ratio() -> None:
    # The simulator's CORE-like trial has a marginal odds ratio of 0.66; a large one pins it down.
    from aftercrisis.analysis.demo import demo_dataset
    from aftercrisis.design.config import TrialConfig

    frame = typed(demo_dataset(seed=2018, config=TrialConfig(n=6000)).apply(_as_text))
    frame[COMPARED] = frame["arm"].map(arm_labels(blinded=False).indicator)
    crude = effects.two_by_two(frame, "readmitted_1y", COMPARED).odds_ratio()
    assert crude.ci[0] < 0.66 < crude.ci[1]


def test_enrolment_counts_that_do_not_add_up_write_nothing(
    protocol: Path, dataset: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    enrolment = tmp_path / "enrolment.json"
    enrolment.write_text('{"assessed": 500, "excluded": {"declined": 100}}')
    out = tmp_path / "out"
    code = main(
        [
            "analyse",
            str(dataset),
            "--protocol",
            str(protocol),
            "--out",
            str(out),
            "--enrolment",
            str(enrolment),
        ]
    )
    assert code == 2
    assert "assessed (500) is not randomised (441) + excluded (100)" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["enrolment.json"]


def test_an_interim_dataset_reports_the_outcomes_it_cannot_estimate_yet(
    protocol: Path, tmp_path: Path
) -> None:
    frame = synthetic_dataset(441, seed=7)
    frame["qpr_18m"] = np.nan  # no 18-month questionnaires yet
    frame.loc[frame["arm"] == "control", "csq8_4m"] = np.nan  # answered in one arm only
    known = frame["acute_bed_days_1y"].first_valid_index()
    frame.loc[frame.index != known, "acute_bed_days_1y"] = np.nan  # a single answer
    path = tmp_path / "interim.csv"
    frame.to_csv(path, index=False)
    out = tmp_path / "out"
    assert main(["analyse", str(path), "--protocol", str(protocol), "--out", str(out), "--no-pdf"]) == 0
    results = json.loads((out / "results.json").read_text())
    assert results["secondary"]["qpr_18m"] == {"estimable": False, "reason": "no qpr_18m values yet", "n": 0}
    assert results["secondary"]["csq8_4m"]["estimable"] is False
    assert results["secondary"]["csq8_4m"]["reason"].startswith("csq8_4m is known in one arm only")
    assert results["counts"]["acute_bed_days_1y"] == {
        "estimable": False,
        "reason": "acute_bed_days_1y is known in one arm only (n = 1)",
        "n": 1,
    }
    assert results["secondary"]["qpr_4m"]["estimable"] is True
    assert results["counts"]["n_readmissions_1y"]["estimable"] is True
    report = (out / "report.html").read_text()
    assert "mean difference: not estimable, no qpr_18m values yet" in report
    assert "rate ratio: not estimable, acute_bed_days_1y is known in one arm only" in report
