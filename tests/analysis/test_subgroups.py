"""Subgroup odds ratios from the interaction model against crude odds ratios by hand."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from aftercrisis.analysis.subgroups import band_names, subgroup_analysis, subgroup_levels


def _cells(level: str, a: int, b: int, c: int, d: int) -> list[tuple[str, int, int]]:
    return [(level, 1, 1)] * a + [(level, 1, 0)] * b + [(level, 0, 1)] * c + [(level, 0, 0)] * d


def test_level_odds_ratios_without_adjustment_equal_crude_woolf_by_hand() -> None:
    rows = _cells("female", 20, 80, 30, 70) + _cells("male", 25, 50, 20, 60)
    frame = pd.DataFrame(rows, columns=["sex", "x", "y"])
    result = subgroup_analysis(
        frame,
        name="sex",
        column="sex",
        cutpoints=[],
        outcome="y",
        exposure="x",
        covariates=[],
        categorical=[],
    )
    female, male = result.levels
    assert female.odds_ratio == pytest.approx(20 * 70 / (80 * 30), rel=1e-8)
    se = math.sqrt(1 / 25 + 1 / 50 + 1 / 20 + 1 / 60)
    assert male.odds_ratio == pytest.approx(25 * 60 / (50 * 20), rel=1e-8)
    assert male.ci[0] == pytest.approx(1.5 * math.exp(-1.959963984540054 * se), rel=1e-8)
    assert (female.n, female.events, male.n, male.events) == (200, 50, 155, 45)
    assert result.interaction_df == 1
    # The likelihood-ratio test is asymptotically Woolf's test of homogeneity, by hand:
    # (ln(20*70/(80*30)) - ln 1.5)^2 / (1/20 + 1/80 + 1/30 + 1/70 + 1/25 + 1/50 + 1/20 + 1/60) = 3.767.
    woolf = (math.log(20 * 70 / (80 * 30)) - math.log(1.5)) ** 2 / (
        1 / 20 + 1 / 80 + 1 / 30 + 1 / 70 + 1 / 25 + 1 / 50 + 1 / 20 + 1 / 60
    )
    assert result.interaction_chi2 == pytest.approx(woolf, rel=0.05)


def test_bands_at_cutpoints() -> None:
    assert band_names([40]) == ["< 40", "≥ 40"]
    assert band_names([2, 5]) == ["< 2", "2 to < 5", "≥ 5"]
    levels = subgroup_levels(pd.Series([39, 40, 41, None]), [40])
    assert levels.tolist()[:3] == ["< 40", "≥ 40", "≥ 40"]
    assert pd.isna(levels.iloc[3])
