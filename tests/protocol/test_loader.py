from __future__ import annotations

import re

import pytest
from tests.conftest import CORE

from aftercrisis.cli import main
from aftercrisis.protocol import ProtocolError, load_protocol, parse_protocol


def test_core_protocol_declares_the_trial():
    p = load_protocol(CORE)
    assert p.arm_codes == ["intervention", "control"]
    assert [a.ratio for a in p.arms] == [1, 1]
    assert len(p.sites) == 6
    assert p.intervention.max_sessions == 10
    assert p.outcomes.primary.horizon_days == 365
    assert [v.day for v in p.visits] == [0, 122, 548]
    assert p.setting_codes == ["inpatient_ward", "crisis_house", "acute_day_unit", "crt_reacceptance"]
    assert p.analysis.primary.covariates == ["prior_admissions"]
    assert p.analysis.uptake_threshold == 5


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), start=1) if needle in line)


def test_three_mistakes_are_each_named_with_path_and_line():
    text = CORE.read_text()
    text = text.replace("    ratio: 1\n", "    ratio: 0\n", 1)  # arms[0].ratio below 1
    text = text.replace("max_sessions: 10", "max_sessions: ten")  # not an integer
    text = text.replace("instruments: [csq8, qpr15", "instruments: [csq9, qpr15")  # undeclared instrument
    with pytest.raises(ProtocolError) as caught:
        parse_protocol(text, "core-copy.yaml")
    problems = {p.dotted: p for p in caught.value.problems}
    assert set(problems) == {"arms[0].ratio", "intervention.max_sessions", "visits[1].instruments[0]"}
    assert problems["arms[0].ratio"].line == _line_of(text, "ratio: 0")
    assert problems["intervention.max_sessions"].line == _line_of(text, "max_sessions: ten")
    assert problems["visits[1].instruments[0]"].line == _line_of(text, "csq9")
    assert "csq9" in problems["visits[1].instruments[0]"].message


def test_unknown_and_missing_keys_are_named():
    text = CORE.read_text().replace("  horizon_days: 365", "  horizon_dayz: 365")
    with pytest.raises(ProtocolError) as caught:
        parse_protocol(text)
    found = {p.dotted for p in caught.value.problems}
    assert "outcomes.primary.horizon_dayz" in found  # extra key
    assert "outcomes.primary.horizon_days" in found  # now missing


def test_yaml_syntax_error_gives_its_line():
    with pytest.raises(ProtocolError) as caught:
        parse_protocol("trial:\n  short_name: [unclosed\n")
    assert caught.value.problems[0].line is not None
    assert "not valid YAML" in caught.value.problems[0].message


def test_block_sizes_must_fit_the_ratio():
    text = CORE.read_text().replace("block_sizes: [2, 4, 6]", "block_sizes: [2, 3, 6]")
    with pytest.raises(ProtocolError) as caught:
        parse_protocol(text)
    assert [p.dotted for p in caught.value.problems] == ["randomisation.block_sizes[1]"]


def test_cli_check_valid_file_exits_zero(capsys):
    assert main(["protocol", "check", str(CORE)]) == 0
    assert "valid" in capsys.readouterr().out


def test_cli_check_lists_every_problem_and_fails(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        CORE.read_text()
        .replace("max_sessions: 10", "max_sessions: -1")
        .replace("arm: intervention", "arm: peer")
    )
    assert main(["protocol", "check", str(bad)]) == 1
    err = capsys.readouterr().err
    assert re.search(r"line \d+: intervention\.max_sessions: ", err)
    assert re.search(r"line \d+: intervention\.arm: 'peer' is not one of the arms", err)


def test_core_protocol_prices_each_resource_with_its_source():
    economics = load_protocol(CORE).health_economics
    assert economics is not None
    assert (economics.currency, economics.price_year, economics.time_horizon_months) == ("GBP", 2022, 12)
    assert economics.thresholds == [20000, 30000]
    assert economics.bootstrap.replicates >= 1000
    assert {u.setting for u in economics.unit_costs if u.measure == "episodes"} == {
        "inpatient_ward",
        "crisis_house",
        "acute_day_unit",
    }
    assert [u.code for u in economics.unit_costs if u.measure == "sessions"] == ["peer_support_hour"]
    assert all(u.source and u.cost > 0 for u in economics.unit_costs)


def test_unit_cost_mistakes_are_each_named_with_path_and_line():
    text = CORE.read_text()
    text = text.replace("      cost: 522\n", "      cost: -522\n")  # a negative price
    text = text.replace("      setting: crisis_house\n", "      setting: crisis_hut\n")  # no such setting
    text = text.replace("arms: [intervention, control]\n", "arms: [intervention, placebo]\n")
    with pytest.raises(ProtocolError) as caught:
        parse_protocol(text, "core-copy.yaml")
    problems = {p.dotted: p for p in caught.value.problems}
    assert set(problems) == {
        "health_economics.unit_costs[0].cost",
        "health_economics.unit_costs[1].setting",
        "health_economics.unit_costs[7].arms[1]",
    }
    assert problems["health_economics.unit_costs[0].cost"].line == _line_of(text, "cost: -522")
    assert problems["health_economics.unit_costs[1].setting"].line == _line_of(text, "crisis_hut")
    assert problems["health_economics.unit_costs[7].arms[1]"].line == _line_of(text, "placebo")


def test_a_unit_cost_measured_from_episodes_names_its_setting():
    text = CORE.read_text().replace("      setting: inpatient_ward\n", "", 1)
    with pytest.raises(ProtocolError) as caught:
        parse_protocol(text, "core-copy.yaml")
    [problem] = caught.value.problems
    assert problem.dotted == "health_economics.unit_costs[0]"
    assert "setting" in problem.message


def test_the_safety_section_and_recruitment_targets_are_checked_with_path_and_line():
    text = CORE.read_text()
    text = text.replace("review_days: 7", "review_days: 0")
    text = text.replace("sponsor_email: sponsor-safety@example.org", "sponsor_email: the sponsor")
    text = text.replace("recruitment_target: 440", "recruitment_target: many")
    with pytest.raises(ProtocolError) as caught:
        parse_protocol(text, "core-copy.yaml")
    problems = {p.dotted: p for p in caught.value.problems}
    assert set(problems) == {"safety.review_days", "safety.sponsor_email", "trial.recruitment_target"}
    assert problems["safety.review_days"].line == _line_of(text, "review_days: 0")
    assert problems["safety.sponsor_email"].line == _line_of(text, "sponsor_email: the sponsor")
    core = load_protocol(CORE)
    assert core.safety.review_days == 7 and core.site_target("CAM") == 74  # 440 shared by six sites
