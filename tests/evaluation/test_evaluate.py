"""The command end to end on 20,000 synthetic persons: the planted team stands out and the planted effect
of exposure is recovered."""

from __future__ import annotations

import json

from aftercrisis.cli import main


def test_synthesise_then_evaluate(planted_data, tmp_path, capsys):
    directory, planted = planted_data
    out = tmp_path / "results"
    assert main(["evaluate", str(directory), "--out", str(out)]) == 0
    results = json.loads((out / "results.json").read_text())
    teams = {row["team"]: row for row in results["teams"]}
    outlier = teams[planted["outlier_team"]]
    assert outlier["adjusted"] > outlier["upper_99.8%"] and outlier["signal"] == "above 99.8% limit"
    exposure = results["exposure"]
    low, high = exposure["risk_difference_ci"]
    assert low <= planted["risk_difference"] <= high
    assert exposure["odds_ratio_ci"][1] < 1
    assert all(abs(row["smd_after"]) < 0.05 for row in exposure["balance"])
    assert max(abs(row["smd_before"]) for row in exposure["balance"]) > 0.1  # there was confounding to remove
    for name in (
        "teams.csv",
        "funnel.csv",
        "months.csv",
        "balance.csv",
        "cohort.parquet",
        "report.html",
        "report.pdf",
    ):
        assert (out / name).stat().st_size > 0, name
    for figure in ("funnel", "p_chart", "kaplan_meier", "cumulative_incidence", "balance"):
        assert (out / "figures" / f"{figure}.svg").exists()
    html = (out / "report.html").read_text()
    assert "Observational." in html and "Funnel plot" in html and planted["outlier_team"] in html


def test_synthesise_writes_the_contract(tmp_path, capsys):
    out = tmp_path / "data"
    assert main(["evaluate", "synthesise", "--persons", "500", "--out", str(out), "--csv"]) == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [
            "persons.csv",
            "crisis_episodes.csv",
            "acute_episodes.csv",
            "crt_reacceptances.csv",
            "peer_support_contacts.csv",
            "deaths.csv",
            "planted.json",
        ]
    )
    assert "wrote 500 persons" in capsys.readouterr().out
