"""Bad routine data: every problem in one message naming the table, the column and example rows; nothing written."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from aftercrisis.cli import main
from aftercrisis.evaluation.contract import TABLES, ContractError, check
from aftercrisis.evaluation.engines import open_tables

SETTINGS = ["acute_day_unit", "crisis_house", "inpatient_ward"]


@pytest.fixture
def damaged(routine_data, tmp_path):
    """A copy of the routine data as CSV, to be damaged by each test."""
    directory = tmp_path / "data"
    directory.mkdir()
    for name in TABLES:
        pd.read_parquet(routine_data / f"{name}.parquet").to_csv(directory / f"{name}.csv", index=False)
    return directory


def _edit(directory, name, change):
    frame = pd.read_csv(directory / f"{name}.csv")
    change(frame).to_csv(directory / f"{name}.csv", index=False)


def _problems(directory) -> list[str]:
    with open_tables(str(directory)) as tables, pytest.raises(ContractError) as raised:
        check(tables, SETTINGS)
    return [str(p) for p in raised.value.problems]


def test_good_data_passes(damaged):
    with open_tables(str(damaged)) as tables:
        check(tables, SETTINGS)


def test_every_problem_is_listed_at_once(damaged):
    (damaged / "deaths.csv").unlink()
    _edit(damaged, "persons", lambda f: f.drop(columns="ethnicity"))
    _edit(damaged, "peer_support_contacts", lambda f: f.assign(contact_date="soon"))

    def backwards(frame):
        frame.loc[:2, "discharged"] = "2020-01-01"
        return frame

    _edit(damaged, "crisis_episodes", backwards)
    _edit(
        damaged,
        "acute_episodes",
        lambda f: pd.concat([f, f.head(2)]).assign(setting=lambda g: g.setting.where(g.index > 4, "sofa")),
    )
    problems = _problems(damaged)
    text = "\n".join(problems)
    assert "deaths: table missing" in text
    assert "persons.ethnicity: column missing" in text
    assert "peer_support_contacts.contact_date: should be date" in text
    assert "crisis_episodes.discharged: 3 row(s) end before they start" in text and "episode_id=1" in text
    assert "acute_episodes.acute_episode_id: 2 identifier(s) used more than once" in text
    assert "acute_episodes.setting:" in text and "setting=sofa" in text


def test_rows_of_unknown_persons_are_named(damaged):
    _edit(damaged, "persons", lambda f: f.iloc[10:])
    problems = _problems(damaged)
    assert any(p.startswith("crisis_episodes.person_id:") and "not in persons" in p for p in problems)


def test_the_command_writes_nothing_for_bad_data(damaged, tmp_path, capsys):
    _edit(
        damaged, "persons", lambda f: f.assign(deprivation_decile=f.deprivation_decile.where(f.index > 0, 11))
    )
    out = tmp_path / "results"
    assert main(["evaluate", str(damaged), "--out", str(out), "--no-pdf"]) == 1
    message = capsys.readouterr().err
    assert "persons.deprivation_decile: 1 value(s) outside 1 to 10 (e.g. person_id=1" in message
    assert not out.exists()
    assert not list(tmp_path.glob(".evaluate-*"))


def test_a_missing_directory_is_refused(tmp_path, capsys):
    assert main(["evaluate", str(tmp_path / "nowhere"), "--out", str(tmp_path / "r")]) == 2
    assert "is not a directory" in capsys.readouterr().err


def test_the_csv_and_the_parquet_of_a_table_are_one_table(damaged, routine_data):
    shutil.copy(routine_data / "persons.parquet", damaged / "persons.parquet")  # parquet is preferred
    with open_tables(str(damaged)) as tables:
        check(tables, SETTINGS)


def test_the_documentation_describes_every_column():
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "evaluation.md").read_text()
    for spec in TABLES.values():
        assert f"### `{spec.name}`" in text
        for column in spec.columns:
            assert f"| `{column.name}` | {column.kind}" in text, f"{spec.name}.{column.name}"
