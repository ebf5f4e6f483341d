"""Figures of the evaluation: the funnel plot by team, the p-chart by month, Kaplan-Meier and
cumulative incidence by exposure, and covariate balance before and after weighting."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from aftercrisis.analysis.figures import COLOURS, step_plot
from aftercrisis.analysis.survival import (
    competing_status,
    cumulative_incidence,
    kaplan_meier,
    numbers_at_risk,
)
from aftercrisis.evaluation.statistics import FUNNEL_LIMITS, binomial_limit

GROUPS = ((True, "Peer support"), (False, "No peer support"))
AT_TIMES = (0, 90, 180, 270, 365)


def funnel_plot(teams: pd.DataFrame) -> Figure:
    overall = float(teams.attrs["overall"])
    fig, ax = plt.subplots(figsize=(7.2, 5.0))
    top = max(float(teams["n"].max()) * 1.1, 10.0)
    n = np.unique(np.linspace(max(5.0, float(teams["n"].min()) * 0.5), top, 300).astype(int))
    for (label, (low, high)), style in zip(FUNNEL_LIMITS.items(), ("--", ":"), strict=True):
        ax.plot(n, binomial_limit(overall, n, low), color="#768692", linestyle=style, linewidth=1)
        ax.plot(
            n,
            binomial_limit(overall, n, high),
            color="#768692",
            linestyle=style,
            linewidth=1,
            label=f"{label} limits",
        )
    ax.axhline(overall, color="#212b32", linewidth=1, label=f"All teams ({overall:.1%})")
    outside = teams["signal"].str.contains("99.8")
    ax.scatter(
        teams.loc[~outside, "n"], teams.loc[~outside, "adjusted"], color=COLOURS[0], zorder=3, label="Team"
    )
    ax.scatter(teams.loc[outside, "n"], teams.loc[outside, "adjusted"], color=COLOURS[1], marker="D", zorder=3,
               label="Team outside 99.8% limits")  # fmt: skip
    for row in teams.itertuples():
        ax.annotate(
            str(row.team), (row.n, row.adjusted), textcoords="offset points", xytext=(5, 3), fontsize=8
        )
    ax.set_xlabel("Index discharges with a full year of data")
    ax.set_ylabel("Readmitted within a year (case-mix adjusted)")
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_title("Readmission within one year by crisis team", loc="left")
    ax.legend(frameon=False, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=3)
    fig.tight_layout()
    return fig


def p_chart(months: pd.DataFrame) -> Figure:
    fig, ax = plt.subplots(figsize=(7.2, 4.0))
    x = np.arange(len(months))
    ax.plot(x, months["p"], marker="o", markersize=3.5, color=COLOURS[0], linewidth=1.2, label="Month")
    ax.plot(x, months["centre"], color="#212b32", linewidth=1, label="Centre line")
    ax.step(
        x, months["upper"], where="mid", color="#768692", linestyle="--", linewidth=1, label="3-sigma limits"
    )
    ax.step(x, months["lower"], where="mid", color="#768692", linestyle="--", linewidth=1)
    flagged = months["signals"] != ""
    ax.scatter(
        x[flagged], months.loc[flagged, "p"], color=COLOURS[1], marker="D", zorder=3, label="Run-rule signal"
    )
    step = max(1, len(months) // 12)
    ax.set_xticks(x[::step], months["month"].iloc[::step], rotation=45, ha="right", fontsize=8)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_ylabel("Readmitted within a year")
    ax.set_xlabel("Month of discharge from the crisis team")
    ax.set_title("Readmission within one year by month (p-chart)", loc="left")
    ax.legend(frameon=False, fontsize=8, loc="best")
    fig.tight_layout()
    return fig


def survival_by_exposure(cohort: pd.DataFrame, *, horizon: int) -> tuple[Figure, Figure]:
    """Kaplan-Meier (free of readmission) and cumulative incidence with death competing, by exposure."""
    curves, incidence, at_risk = [], [], []
    for value, label in GROUPS:
        rows = cohort.loc[cohort["exposed"].astype(bool) == value]
        if rows.empty:
            continue
        time = rows["days"].to_numpy(float)
        event = rows["event"].to_numpy(int)
        curves.append((label, kaplan_meier(time, event)))
        competing = ((rows["died"] == 1) & ~rows["event"].astype(bool)).to_numpy(int)
        incidence.append((label, cumulative_incidence(time, competing_status(event, competing))))
        at_risk.append((label, numbers_at_risk(time, AT_TIMES)))
    xlabel = "Days since discharge from the crisis team"
    km = step_plot(curves, title="Remaining free of readmission", ylabel="Proportion not readmitted",
                   at_risk=at_risk, at_times=AT_TIMES, horizon=horizon, xlabel=xlabel)  # fmt: skip
    cif = step_plot(incidence, title="Cumulative incidence of readmission (death competing)",
                    ylabel="Proportion readmitted", horizon=horizon, xlabel=xlabel)  # fmt: skip
    return km, cif


def balance_plot(balance: pd.DataFrame) -> Figure:
    rows = balance.iloc[::-1]
    fig, ax = plt.subplots(figsize=(7.2, 0.8 + 0.28 * len(rows)))
    y = np.arange(len(rows))
    ax.scatter(rows["smd_before"].abs(), y, color=COLOURS[1], marker="o", label="Before weighting")
    ax.scatter(rows["smd_after"].abs(), y, color=COLOURS[0], marker="D", label="After weighting")
    ax.axvline(0.1, color="#768692", linestyle=":", linewidth=1)
    ax.set_yticks(y, [c.replace("_", " ") for c in rows["covariate"]], fontsize=8)
    ax.set_xlabel("Absolute standardised difference (exposed vs not)")
    ax.set_title("Covariate balance", loc="left")
    ax.legend(frameon=False, fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig
