"""CONSORT 2010 flow diagram: the disposition of participants, checked, and drawn as a figure."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from dataclasses import dataclass, field

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, Rectangle

from aftercrisis.analysis.blinding import ArmLabels


class ConsortError(ValueError):
    """The disposition counts do not add up; the message lists every mismatch."""


@dataclass(frozen=True)
class ArmFlow:
    label: str
    allocated: int
    analysed: int
    received: int | None = None  # received the allocated intervention; None when not shown
    not_received: Mapping[str, int] = field(default_factory=dict)
    lost_to_follow_up: Mapping[str, int] = field(default_factory=dict)
    excluded_from_analysis: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Disposition:
    randomised: int
    arms: tuple[ArmFlow, ArmFlow]
    assessed: int | None = None  # None when screening counts are not supplied
    excluded: Mapping[str, int] = field(default_factory=dict)

    def problems(self) -> list[str]:
        found: list[str] = []
        counts: list[tuple[str, int]] = [("randomised", self.randomised)]
        counts += [(f"excluded ({reason})", n) for reason, n in self.excluded.items()]
        if self.assessed is not None:
            counts.append(("assessed", self.assessed))
            excluded = sum(self.excluded.values())
            if self.assessed != self.randomised + excluded:
                found.append(
                    f"assessed ({self.assessed}) is not randomised ({self.randomised}) + excluded ({excluded})"
                )
        elif self.excluded:
            found.append("exclusions are given but the number assessed is not")
        allocated = sum(a.allocated for a in self.arms)
        if allocated != self.randomised:
            found.append(f"allocated ({allocated}) does not equal randomised ({self.randomised})")
        for arm in self.arms:
            counts += [(f"{arm.label}: allocated", arm.allocated), (f"{arm.label}: analysed", arm.analysed)]
            for group in (arm.not_received, arm.lost_to_follow_up, arm.excluded_from_analysis):
                counts += [(f"{arm.label}: {reason}", n) for reason, n in group.items()]
            if arm.received is not None:
                counts.append((f"{arm.label}: received", arm.received))
                missing = sum(arm.not_received.values())
                if arm.received + missing != arm.allocated:
                    found.append(
                        f"{arm.label}: received ({arm.received}) + did not receive ({missing}) "
                        f"is not allocated ({arm.allocated})"
                    )
            lost, left_out = sum(arm.lost_to_follow_up.values()), sum(arm.excluded_from_analysis.values())
            if arm.analysed + lost + left_out != arm.allocated:
                found.append(
                    f"{arm.label}: analysed ({arm.analysed}) + lost to follow-up ({lost}) + excluded from "
                    f"analysis ({left_out}) is not allocated ({arm.allocated})"
                )
        found += [f"{name} is negative ({n})" for name, n in counts if n < 0]
        return found

    def check(self) -> None:
        found = self.problems()
        if found:
            raise ConsortError("the CONSORT counts do not add up:\n" + "\n".join(f"  - {p}" for p in found))


def disposition_from_dataset(
    frame: pd.DataFrame,
    labels: ArmLabels,
    *,
    outcome: str,
    assessed: int | None = None,
    excluded: Mapping[str, int] | None = None,
) -> Disposition:
    """The post-randomisation flow counted from the analysis dataset (one row per randomised participant).

    Receipt of the intervention (at least one session) is shown only when unblinded: in a
    blinded report it would tell which arm is which.
    """
    arms = []
    for code in (labels.compared_code, labels.reference_code):
        rows = frame.loc[frame["arm"] == code]
        unknown = int(rows[outcome].isna().sum())
        received: int | None = None
        not_received: dict[str, int] = {}
        if not labels.blinded and code == "intervention":
            received = int((rows["sessions_attended"] >= 1).sum())
            not_received = {"attended no session": len(rows) - received}
        arms.append(
            ArmFlow(
                label=labels.label(code),
                allocated=len(rows),
                analysed=len(rows) - unknown,
                received=received,
                not_received=not_received,
                lost_to_follow_up={"primary outcome not known": unknown} if unknown else {},
            )
        )
    return Disposition(
        randomised=len(frame), arms=(arms[0], arms[1]), assessed=assessed, excluded=dict(excluded or {})
    )


def _lines(title: str, total: int | None, reasons: Mapping[str, int]) -> list[str]:
    head = title if total is None else f"{title} (n\u00a0=\u00a0{total})"
    return [head] + [f"• {reason} (n\u00a0=\u00a0{n})" for reason, n in reasons.items()]


BOX_W = 3.3
LINE_H = 0.2


def _wrap(lines: list[str], width: float) -> list[str]:
    chars = int(width * 14)  # about 14 characters an inch at 8.5 pt
    wrapped: list[str] = []
    for line in lines:
        indent = " " * (len(line) - len(line.lstrip()) + 2)
        wrapped += textwrap.wrap(line, chars, subsequent_indent=indent) or [""]
    return wrapped


def _box(
    ax: Axes, x: float, y: float, lines: list[str], width: float = BOX_W, rows: int = 0
) -> tuple[float, float]:
    """Draw a box with its top-centre at (x, y), at least `rows` lines high; returns its (top, bottom)."""
    lines = _wrap(lines, width)
    height = LINE_H * max(len(lines), rows) + 0.2
    ax.add_patch(Rectangle((x - width / 2, y - height), width, height, fill=False, linewidth=1.0))
    ax.text(
        x - width / 2 + 0.1, y - 0.1, "\n".join(lines), va="top", ha="left", fontsize=8.5, linespacing=1.35
    )
    return y, y - height


def _arrow(ax: Axes, start: tuple[float, float], end: tuple[float, float]) -> None:
    ax.add_patch(
        FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=10, linewidth=1.0, color="black")
    )


def _stage(ax: Axes, y_top: float, y_bottom: float, name: str) -> None:
    middle = (y_top + y_bottom) / 2
    y_top, y_bottom = max(y_top, middle + 0.4), min(y_bottom, middle - 0.4)  # room for the label
    ax.add_patch(Rectangle((0.05, y_bottom), 0.35, y_top - y_bottom, color="#d6e6f5", linewidth=0))
    ax.text(
        0.225, (y_top + y_bottom) / 2, name, rotation=90, ha="center", va="center", fontsize=9, weight="bold"
    )


def _allocation_lines(arm: ArmFlow) -> list[str]:
    lines = _lines(f"Allocated to {arm.label}", arm.allocated, {})
    if arm.received is not None:
        lines.append(f"• Received allocated intervention (n\u00a0=\u00a0{arm.received})")
    return lines + [f"    \u2013 {r} (n\u00a0=\u00a0{n})" for r, n in arm.not_received.items()]


def _follow_up_lines(arm: ArmFlow) -> list[str]:
    return _lines("Lost to follow-up", sum(arm.lost_to_follow_up.values()), arm.lost_to_follow_up)


def _analysis_lines(arm: ArmFlow) -> list[str]:
    excluded = arm.excluded_from_analysis
    return (
        _lines("Analysed", arm.analysed, {})
        + [f"• Excluded from analysis (n\u00a0=\u00a0{sum(excluded.values())})"]
        + [f"    \u2013 {r} (n\u00a0=\u00a0{n})" for r, n in excluded.items()]
    )


def consort_figure(disposition: Disposition) -> Figure:
    """Draw the checked disposition as a CONSORT 2010 flow diagram."""
    disposition.check()
    fig = plt.figure(figsize=(8.2, 9.0))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, 8.2)
    ax.set_ylim(0, 9.0)
    ax.axis("off")
    centre, left, right = 4.5, 2.6, 6.4
    y = 8.8
    if disposition.assessed is not None:
        top, bottom = _box(
            ax, centre, y, [f"Assessed for eligibility (n\u00a0=\u00a0{disposition.assessed})"]
        )
        side = _lines("Excluded", sum(disposition.excluded.values()), disposition.excluded)
        s_top = bottom - 0.1
        _, s_bottom = _box(ax, 6.55, s_top, side, width=3.0)
        ax.plot([centre, centre], [bottom, s_bottom - 0.25], color="black", linewidth=1.0)
        _arrow(ax, (centre, (s_top + s_bottom) / 2), (6.55 - 1.5, (s_top + s_bottom) / 2))
        _stage(ax, top, s_bottom, "Enrolment")
        y = s_bottom - 0.25
        _arrow(ax, (centre, y), (centre, y - 0.15))
        y -= 0.15
    _, bottom = _box(ax, centre, y, [f"Randomised (n\u00a0=\u00a0{disposition.randomised})"], width=2.6)
    stages = (
        ("Allocation", _allocation_lines),
        ("Follow-up", _follow_up_lines),
        ("Analysis", _analysis_lines),
    )
    ax.plot([left, right], [bottom - 0.2, bottom - 0.2], color="black", linewidth=1.0)
    ax.plot([centre, centre], [bottom, bottom - 0.2], color="black", linewidth=1.0)
    starts = {left: bottom - 0.2, right: bottom - 0.2}
    y = bottom - 0.45
    for name, describe in stages:
        lows = []
        texts = [_wrap(describe(arm), BOX_W) for arm in disposition.arms]
        rows = max(3, *(len(t) for t in texts))  # three lines at least: room for the stage label
        for x, lines in zip((left, right), texts, strict=True):
            _arrow(ax, (x, starts[x]), (x, y))
            _, low = _box(ax, x, y, lines, rows=rows)
            starts[x] = low
            lows.append(low)
        _stage(ax, y, min(lows), name)
        y = min(lows) - 0.3
    # crop the canvas to what was drawn
    ax.set_ylim(y, 9.0)
    fig.set_size_inches(8.2, 9.0 - y)
    return fig
