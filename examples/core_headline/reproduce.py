"""Reproduce the CORE trial's headline from its published 2x2 table.

Johnson et al., Lancet 2018;392:409-418: readmitted to acute care within one year,
64 of 218 in the peer-supported self-management arm and 83 of 216 in the control arm.

Run: python examples/core_headline/reproduce.py
"""

from __future__ import annotations

import math

import pandas as pd

from aftercrisis.analysis import effects

PUBLISHED_CRUDE = (0.666, 0.446, 0.994)
PUBLISHED_ADJUSTED = (0.66, 0.43, 0.99, 0.0438)


def core_table() -> pd.DataFrame:
    """One row per participant with a known primary outcome, rebuilt from the 2x2 table."""
    cells = {(1, 1): 64, (1, 0): 218 - 64, (0, 1): 83, (0, 0): 216 - 83}
    rows = [(arm, readmitted) for (arm, readmitted), n in cells.items() for _ in range(n)]
    return pd.DataFrame(rows, columns=["intervention", "readmitted_1y"])


def main() -> None:
    frame = core_table()
    table = effects.two_by_two(frame, "readmitted_1y", "intervention")
    crude = table.odds_ratio()
    model = effects.logistic(frame, "readmitted_1y", "intervention")
    low, high = model.ci(exponentiate=True)
    rd, rd_ci, _ = table.risk_difference()
    rr = table.risk_ratio()
    print(
        f"Readmitted: {table.events_1}/{table.total_1} ({table.risk_1:.1%}) vs {table.events_0}/{table.total_0} ({table.risk_0:.1%})"
    )
    print(
        f"Crude odds ratio (Woolf):          {crude.ratio:.3f} (95% CI {crude.ci[0]:.3f} to {crude.ci[1]:.3f}), p = {crude.p:.4f}"
    )
    print(
        f"Unadjusted logistic regression:    {math.exp(model.coef):.3f} (95% CI {low:.3f} to {high:.3f}), p = {model.p:.4f}"
    )
    print(f"Risk difference:                   {rd:+.3f} (95% CI {rd_ci[0]:+.3f} to {rd_ci[1]:+.3f})")
    print(f"Risk ratio:                        {rr.ratio:.3f} (95% CI {rr.ci[0]:.3f} to {rr.ci[1]:.3f})")
    print("Published crude:                   {:.3f} (95% CI {:.3f} to {:.3f})".format(*PUBLISHED_CRUDE))
    print(
        "Published adjusted (paper):        {:.2f} (95% CI {:.2f} to {:.2f}), p = {:.4f}".format(
            *PUBLISHED_ADJUSTED
        )
    )
    assert (round(crude.ratio, 3), round(crude.ci[0], 3), round(crude.ci[1], 3)) == PUBLISHED_CRUDE
    print("The crude odds ratio and its interval reproduce the published values to three decimals.")


if __name__ == "__main__":
    main()
