"""`aftercrisis init` and the settings file it writes."""

from __future__ import annotations

import os
import stat

import pytest

from aftercrisis.cli import main
from aftercrisis.config.home import EXAMPLE_PROTOCOL, read_env_file


def test_init_makes_a_home_and_never_overwrites_one(tmp_path, capsys):
    home = tmp_path / "trial"
    assert main(["init", str(home)]) == 0
    assert (home / "protocol.yaml").read_text() == EXAMPLE_PROTOCOL.read_text()
    assert (home / "var").is_dir()
    env_file = home / "aftercrisis.env"
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600  # it holds the secret key
    settings = dict(
        line.split("=", 1) for line in env_file.read_text().splitlines() if not line.startswith("#")
    )
    assert settings["AFTERCRISIS_HOME"] == str(home) and settings["AFTERCRISIS_PROTOCOL"] == "protocol.yaml"
    assert len(settings["DJANGO_SECRET_KEY"]) >= 50
    before = env_file.read_text()
    (home / "protocol.yaml").write_text("edited")
    assert main(["init", str(home)]) == 1
    assert "already exists; nothing was changed" in capsys.readouterr().err
    assert env_file.read_text() == before and (home / "protocol.yaml").read_text() == "edited"


def test_the_environment_wins_over_the_settings_file_and_a_bad_line_is_named(tmp_path, monkeypatch):
    env_file = tmp_path / "aftercrisis.env"
    env_file.write_text("# a comment\n\nAFTERCRISIS_TEST_A=from-file\nAFTERCRISIS_TEST_B = 'quoted'\n")
    monkeypatch.setenv("AFTERCRISIS_TEST_A", "from-environment")
    monkeypatch.delenv("AFTERCRISIS_TEST_B", raising=False)
    read_env_file(env_file)
    assert (
        os.environ["AFTERCRISIS_TEST_A"] == "from-environment"
        and os.environ["AFTERCRISIS_TEST_B"] == "quoted"
    )
    monkeypatch.delenv("AFTERCRISIS_TEST_B")
    env_file.write_text("AFTERCRISIS_TEST_B=1\nnot a setting\n")
    with pytest.raises(ValueError, match=r"aftercrisis.env, line 2: expected KEY=VALUE"):
        read_env_file(env_file)
