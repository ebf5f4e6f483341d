"""The example reproducing CORE's published crude odds ratio runs and checks itself."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "examples" / "core_headline" / "reproduce.py"


def test_example_reproduces_the_published_crude_odds_ratio(capsys: pytest.CaptureFixture[str]) -> None:
    runpy.run_path(str(SCRIPT), run_name="__main__")
    out = capsys.readouterr().out
    assert "Crude odds ratio (Woolf):          0.666 (95% CI 0.446 to 0.994)" in out
