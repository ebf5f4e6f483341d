"""A small synthetic routine data set, written once per test session."""

from __future__ import annotations

import json

import pytest

from aftercrisis.evaluation.synthesise import synthesise


@pytest.fixture(scope="session")
def routine_data(tmp_path_factory):
    directory = tmp_path_factory.mktemp("routine")
    synthesise(3000, directory, seed=11)
    return directory


@pytest.fixture(scope="session")
def planted_data(tmp_path_factory):
    """20,000 persons: enough for the planted effects to show."""
    directory = tmp_path_factory.mktemp("planted")
    synthesise(20000, directory, seed=2018)
    return directory, json.loads((directory / "planted.json").read_text())
