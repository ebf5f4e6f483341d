"""Figures of the analysis (matplotlib, Agg): Kaplan-Meier with numbers at risk, cumulative
incidence with death competing, the subgroup forest plot, and the cost-effectiveness plane and
acceptability curve. Saved as SVG (text kept as text) and PNG."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from aftercrisis.analysis.subgroups import SubgroupResult
from aftercrisis.analysis.survival import Curve

COLOURS = ("#005eb8", "#d5281b")  # NHS blue and red: distinguishable in greyscale by line style too
STYLES = ("-", "--")

plt.rcParams.update(
    {
        "svg.fonttype": "none",
        "font.size": 10,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.titlesize": 11,
        "axes.titleweight": "bold",
    }
)


def svg(fig: Figure) -> bytes:
    """The figure as SVG, and the figure closed: pyplot keeps every figure it made until it is closed, which
    in a web server's long-lived process would be every figure of every report produced."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    plt.close(fig)
    return buffer.getvalue()


def save(fig: Figure, directory: Path, name: str) -> list[Path]:
    """Write NAME.svg and NAME.png (150 dpi) and close the figure; returns the paths."""
    directory.mkdir(parents=True, exist_ok=True)
    svg, png = directory / f"{name}.svg", directory / f"{name}.png"
    fig.savefig(svg, metadata={"Date": None, "Creator": None}, bbox_inches="tight")
    fig.savefig(png, dpi=150, metadata={"Software": None}, bbox_inches="tight")
    plt.close(fig)
    return [svg, png]


def step_plot(
    curves: Sequence[tuple[str, Curve]],
    *,
    title: str,
    ylabel: str,
    at_risk: Sequence[tuple[str, Sequence[int]]] = (),
    at_times: Sequence[float] = (),
    horizon: float = 365,
    xlabel: str = "Days since randomisation",
) -> Figure:
    """Step curves with confidence bands, and a numbers-at-risk table under the axis."""
    fig = plt.figure(figsize=(7.2, 5.2 if at_risk else 4.0))
    ax = fig.add_axes((0.12, 0.36 if at_risk else 0.14, 0.84, 0.56 if at_risk else 0.76))
    for (label, curve), colour, style in zip(curves, COLOURS, STYLES, strict=False):
        ax.step(
            curve.times, curve.values, where="post", color=colour, linestyle=style, linewidth=1.8, label=label
        )
        ax.fill_between(
            curve.times, curve.low, curve.high, step="post", color=colour, alpha=0.12, linewidth=0
        )
    ax.set_xlim(0, horizon)
    ax.set_ylim(0, 1)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, loc="left")
    ax.set_xticks(list(at_times) or np.linspace(0, horizon, 5))
    ax.grid(axis="y", color="#dddddd", linewidth=0.6)
    ax.legend(frameon=False, loc="best")
    if at_risk:
        fig.text(0.12, 0.205, "Number at risk", fontsize=9, weight="bold", ha="left")
        for row, ((label, counts), colour) in enumerate(zip(at_risk, COLOURS, strict=False)):
            y = 0.16 - row * 0.08
            fig.text(0.12, y, label, fontsize=8.5, color=colour, ha="left", va="center")
            for t, n in zip(at_times, counts, strict=True):
                fig.text(0.12 + 0.84 * t / horizon, y - 0.035, str(n), fontsize=9, ha="center", va="center")
    return fig


def forest_plot(
    results: Sequence[SubgroupResult], *, overall: tuple[float, float, float] | None, labels: tuple[str, str]
) -> Figure:
    """Odds ratios with 95% CIs by subgroup level (log scale) and each interaction p value."""
    rows: list[tuple[str, float, float, float, bool]] = []  # text, or, low, high, is_header
    if overall is not None:
        rows.append(("All participants", *overall, False))
    for result in results:
        rows.append(
            (
                f"{result.name.replace('_', ' ')} (interaction p = {result.interaction_p:.2f})",
                np.nan,
                np.nan,
                np.nan,
                True,
            )
        )
        rows += [
            (f"   {lv.level}  ({lv.events}/{lv.n})", lv.odds_ratio, *lv.ci, False) for lv in result.levels
        ]
    height = 1.2 + 0.32 * len(rows)
    fig, ax = plt.subplots(figsize=(7.2, height))
    positions = np.arange(len(rows))[::-1]
    finite = [v for r in rows for v in r[1:4] if np.isfinite(v)]
    low_lim, high_lim = min([*finite, 0.5]) / 1.3, max([*finite, 2.0]) * 1.3
    for y, (text, est, low, high, header) in zip(positions, rows, strict=True):
        ax.text(
            -0.02,
            y,
            text,
            transform=ax.get_yaxis_transform(),
            ha="right",
            va="center",
            fontsize=9,
            weight="bold" if header else "normal",
        )
        if not header:
            ax.plot([low, high], [y, y], color="#212b32", linewidth=1.4)
            ax.plot([est], [y], marker="s", color=COLOURS[0], markersize=6)
    ax.axvline(1.0, color="#768692", linestyle=":", linewidth=1)
    ax.set_xscale("log")
    ax.set_xlim(low_lim, high_lim)
    ticks = [t for t in (0.1, 0.2, 0.5, 1, 2, 5, 10) if low_lim <= t <= high_lim]
    ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
    ax.minorticks_off()
    ax.set_yticks([])
    ax.spines["left"].set_visible(False)
    ax.set_ylim(-0.8, len(rows) - 0.2)
    ax.set_xlabel(f"Odds ratio of readmission (95% CI)\n← favours {labels[0]}      favours {labels[1]} →")
    ax.set_title("Readmission within one year by subgroup", loc="left", x=-0.75)
    fig.subplots_adjust(left=0.45, right=0.97, top=1 - 0.45 / height, bottom=0.9 / height)
    return fig


def cost_effectiveness_plane(
    delta_qalys: np.ndarray,
    delta_costs: np.ndarray,
    *,
    point: tuple[float, float],
    thresholds: Sequence[float],
    labels: tuple[str, str],
    currency: str,
) -> Figure:
    """Bootstrap replicates of incremental QALYs and cost, the point estimate, and a line through the
    origin for each willingness to pay per QALY (below a line is cost-effective at that threshold)."""
    fig, ax = plt.subplots(figsize=(7.2, 5.0))
    ax.scatter(delta_qalys, delta_costs, s=4, color=COLOURS[0], alpha=0.25, linewidths=0, rasterized=True)
    ax.plot([point[0]], [point[1]], marker="o", color=COLOURS[1], markersize=7, label="Point estimate")
    span = max(float(np.abs(delta_qalys).max()), abs(point[0]), 1e-3) * 1.1
    ax.set_xlim(-span, span)
    for threshold, style in zip(thresholds, (":", "-."), strict=False):
        ax.plot(
            [-span, span],
            [-span * threshold, span * threshold],
            color="#4c6272",
            linestyle=style,
            linewidth=1,
            label=f"{currency} {threshold:,.0f} per QALY",
        )
    low, high = float(delta_costs.min()), float(delta_costs.max())
    pad = (high - low) * 0.08 or 1.0
    ax.set_ylim(min(low, 0) - pad, max(high, 0) + pad)
    ax.axhline(0, color="#212b32", linewidth=0.8)
    ax.axvline(0, color="#212b32", linewidth=0.8)
    ax.set_xlabel(f"Incremental QALYs, {labels[0]} minus {labels[1]}")
    ax.set_ylabel(f"Incremental cost ({currency})")
    ax.set_title("Cost-effectiveness plane", loc="left")
    ax.legend(frameon=False, loc="best", fontsize=8.5)
    return fig


def acceptability_curve(
    willingness: np.ndarray,
    probability: np.ndarray,
    *,
    thresholds: Sequence[float],
    labels: tuple[str, str],
    currency: str,
) -> Figure:
    """Probability that the compared arm is cost-effective at each willingness to pay per QALY."""
    fig, ax = plt.subplots(figsize=(7.2, 4.0))
    ax.plot(willingness, probability, color=COLOURS[0], linewidth=1.8, label=f"{labels[0]} vs {labels[1]}")
    for threshold in thresholds:
        ax.axvline(threshold, color="#768692", linestyle=":", linewidth=1)
    ax.set_xlim(0, float(willingness[-1]))
    ax.set_ylim(0, 1)
    ax.set_xlabel(f"Willingness to pay per QALY ({currency})")
    ax.set_ylabel("Probability cost-effective")
    ax.legend(frameon=False, loc="lower right", fontsize=8.5)
    ax.set_title("Cost-effectiveness acceptability curve", loc="left")
    ax.grid(axis="y", color="#dddddd", linewidth=0.6)
    ax.xaxis.set_major_formatter(lambda value, _pos: f"{value:,.0f}")
    return fig
