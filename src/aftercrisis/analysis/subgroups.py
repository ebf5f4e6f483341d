"""Prespecified subgroups: odds ratios within each subgroup and the test of interaction.

One logistic model per subgroup variable holds the exposure, the subgroup's levels and their
products with the exposure, plus the primary model's adjustment. The odds ratio in a level is
the exposure's coefficient plus that level's product term; the interaction test is the
likelihood ratio test against the same model without the product terms.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

from aftercrisis.analysis.effects import Z95, design_matrix


@dataclass(frozen=True)
class SubgroupLevel:
    level: str
    n: int
    events: int
    odds_ratio: float
    ci: tuple[float, float]


@dataclass(frozen=True)
class SubgroupResult:
    name: str
    levels: tuple[SubgroupLevel, ...]
    interaction_chi2: float
    interaction_df: int
    interaction_p: float


def subgroup_levels(values: pd.Series, cutpoints: Sequence[float]) -> pd.Series:
    """Text levels: the values themselves, or bands `< c` / `c to < d` / `>= d` at the cutpoints."""
    if not cutpoints:
        return values.astype("string")
    cuts = sorted(cutpoints)
    names = band_names(cuts)
    codes = np.searchsorted(np.asarray(cuts, float), values.to_numpy(float), side="right")
    out = pd.Series([names[c] for c in codes], index=values.index, dtype="string")
    return out.mask(values.isna())


def subgroup_analysis(
    frame: pd.DataFrame,
    *,
    name: str,
    column: str,
    cutpoints: Sequence[float],
    outcome: str,
    exposure: str,
    covariates: Sequence[str],
    categorical: Sequence[str],
) -> SubgroupResult:
    data = frame.dropna(subset=[outcome, exposure, column, *covariates, *categorical]).copy()
    data["_level"] = subgroup_levels(data[column], cutpoints)
    levels = _ordered([str(v) for v in data["_level"].unique()], cutpoints)
    base = design_matrix(data, exposure, covariates, categorical)
    level_terms = pd.DataFrame(
        {f"_in[{lv}]": (data["_level"] == lv).astype(float) for lv in levels[1:]}, index=data.index
    )
    products = level_terms.mul(data[exposure].astype(float), axis=0).add_prefix("x")
    y = data[outcome].astype(float)
    without = sm.Logit(y, pd.concat([base, level_terms], axis=1)).fit(
        disp=False, method="newton", maxiter=100
    )
    full_x = pd.concat([base, level_terms, products], axis=1)
    full = sm.Logit(y, full_x).fit(disp=False, method="newton", maxiter=100)
    cov = full.cov_params()
    results = []
    for index, level in enumerate(levels):
        weights = pd.Series(0.0, index=full_x.columns)
        weights[exposure] = 1.0
        if index > 0:
            weights[f"x_in[{level}]"] = 1.0
        coef = float(weights @ full.params)
        se = math.sqrt(float(weights @ cov @ weights))
        in_level = data["_level"] == level
        results.append(
            SubgroupLevel(
                str(level),
                int(in_level.sum()),
                int(y[in_level].sum()),
                math.exp(coef),
                (math.exp(coef - Z95 * se), math.exp(coef + Z95 * se)),
            )
        )
    chi2 = max(0.0, 2 * float(full.llf - without.llf))
    df = len(levels) - 1
    return SubgroupResult(name, tuple(results), chi2, df, float(stats.chi2.sf(chi2, df)))


def band_names(cutpoints: Sequence[float]) -> list[str]:
    cuts = sorted(cutpoints)
    names = [f"< {cuts[0]:g}"]
    names += [f"{low:g} to < {high:g}" for low, high in itertools.pairwise(cuts)]
    names.append(f"≥ {cuts[-1]:g}")
    return names


def _ordered(levels: Sequence[str], cutpoints: Sequence[float]) -> list[str]:
    if not cutpoints:
        return sorted(levels)
    order = band_names(cutpoints)
    return sorted(levels, key=order.index)
