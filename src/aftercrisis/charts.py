"""Small server-drawn SVG charts for pages: no scripts, so they pass a strict CSP and print well."""

from __future__ import annotations

import datetime as dt
from html import escape

NHS_BLUE = "#005eb8"
TEXT = "#212b32"
GRID = "#d8dde0"


def bar_chart_svg(bars: list[tuple[str, int]], *, title: str, width: int = 720, height: int = 260) -> str:
    left, right, top, bottom = 40, 10, 30, 46
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max((n for _, n in bars), default=0) or 1
    step = max(1, -(-peak // 4))  # about four gridlines
    ceiling = step * -(-peak // step)
    slot = plot_w / max(len(bars), 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="chart-title" class="chart">',
        f'<title id="chart-title">{escape(title)}</title>',
        f'<text x="{left}" y="18" fill="{TEXT}" font-size="14" font-weight="600">{escape(title)}</text>',
    ]
    for tick in range(0, ceiling + 1, step):
        y = top + plot_h - plot_h * tick / ceiling
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>')
        parts.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" fill="{TEXT}" font-size="11" text-anchor="end">{tick}</text>'
        )
    label_every = max(1, len(bars) // 12)
    for i, (label, n) in enumerate(bars):
        h = plot_h * n / ceiling
        x = left + i * slot + slot * 0.15
        parts.append(
            f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{slot * 0.7:.1f}" height="{h:.1f}" fill="{NHS_BLUE}">'
            f"<title>{escape(label)}: {n}</title></rect>"
        )
        if i % label_every == 0:
            parts.append(
                f'<text x="{x + slot * 0.35:.1f}" y="{height - bottom + 16}" fill="{TEXT}" font-size="11" '
                f'text-anchor="middle">{escape(label)}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


def _day(x: dt.date) -> int:
    return x.toordinal()


def accrual_svg(
    days: list[tuple[dt.date, int]],
    *,
    target: int,
    planned_days: int,
    today: dt.date,
    title: str,
    key: str,
    width: int = 340,
    height: int = 200,
) -> str:
    """Cumulative randomisations (a solid step line) against the plan (dashed): the target reached
    evenly over `planned_days` from the first randomisation. `days`: each date with randomisations and how
    many, one step up each. `key` keeps element ids unique on a page."""
    left, right, top, bottom = 36, 12, 30, 26
    plot_w, plot_h = width - left - right, height - top - bottom
    days = sorted((day, n) for day, n in days if n)
    total = sum(n for _, n in days)
    start = days[0][0] if days else today
    end = max(start + dt.timedelta(days=planned_days), today, days[-1][0] if days else today)
    span = max(_day(end) - _day(start), 1)
    ceiling = max(target, total, 1)

    def x(day: dt.date) -> float:
        return left + plot_w * (_day(day) - _day(start)) / span

    def y(n: float) -> float:
        return top + plot_h - plot_h * n / ceiling

    elapsed = min(max(_day(today) - _day(start), 0), planned_days)
    expected = round(target * elapsed / planned_days) if days else 0
    summary = f"{total} randomised of a target of {target}; the plan expects {expected} by {today:%-d %B %Y}."
    steps = [f"{x(start):.1f},{y(0):.1f}"]
    so_far = 0
    for day, n in days:
        steps.append(f"{x(day):.1f},{y(so_far):.1f} {x(day):.1f},{y(so_far + n):.1f}")
        so_far += n
    steps.append(f"{x(max(today, start)):.1f},{y(total):.1f}")
    planned_end = start + dt.timedelta(days=planned_days)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="{key}-title {key}-desc" class="chart">',
        f'<title id="{key}-title">{escape(title)}</title>',
        f'<desc id="{key}-desc">{escape(summary)}</desc>',
        f'<text x="{left}" y="18" fill="{TEXT}" font-size="14" font-weight="600">{escape(title)}</text>',
        f'<line x1="{left}" x2="{width - right}" y1="{y(0):.1f}" y2="{y(0):.1f}" stroke="{GRID}"/>',
        f'<line x1="{left}" x2="{width - right}" y1="{y(target):.1f}" y2="{y(target):.1f}" stroke="{GRID}"/>',
        f'<text x="{left - 4}" y="{y(0) + 4:.1f}" fill="{TEXT}" font-size="11" text-anchor="end">0</text>',
        f'<text x="{left - 4}" y="{y(target) + 4:.1f}" fill="{TEXT}" font-size="11" text-anchor="end">{target}</text>',
        f'<line x1="{x(start):.1f}" y1="{y(0):.1f}" x2="{x(planned_end):.1f}" y2="{y(target):.1f}" '
        f'stroke="{TEXT}" stroke-dasharray="4 3"/>',
        f'<polyline points="{" ".join(steps)}" fill="none" stroke="{NHS_BLUE}" stroke-width="2.5"/>',
        f'<text x="{left}" y="{height - 8}" fill="{TEXT}" font-size="11">{start:%b %Y}</text>',
        f'<text x="{width - right}" y="{height - 8}" fill="{TEXT}" font-size="11" text-anchor="end">'
        f"{end:%b %Y}</text>",
        "</svg>",
    ]
    return "".join(parts)


def flow_svg(stages: list[tuple[str, int]], split: list[tuple[str, int]], *, title: str, key: str) -> str:
    """A CONSORT-style flow: one box per stage, top to bottom, then a box per arm side by side
    (`split` is empty for a role that may not know the arms)."""
    width, box_h, gap = 520, 44, 22
    rows = len(stages) + (1 if split else 0)
    height = 30 + rows * (box_h + gap)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="{key}-title {key}-desc" class="chart">',
        f'<title id="{key}-title">{escape(title)}</title>',
        f'<desc id="{key}-desc">'
        + escape("; ".join(f"{label}: {n}" for label, n in [*stages, *split]))
        + "</desc>",
        f'<text x="0" y="18" fill="{TEXT}" font-size="14" font-weight="600">{escape(title)}</text>',
    ]

    def box(x: float, top: float, w: float, label: str, n: int) -> None:
        parts.append(
            f'<rect x="{x:.1f}" y="{top:.1f}" width="{w:.1f}" height="{box_h}" fill="#ffffff" '
            f'stroke="{NHS_BLUE}" stroke-width="2"/>'
        )
        parts.append(
            f'<text x="{x + w / 2:.1f}" y="{top + 27:.1f}" fill="{TEXT}" font-size="13" text-anchor="middle">'
            f"{escape(label)}: {n}</text>"
        )

    top = 30.0
    for i, (label, n) in enumerate(stages):
        box(110, top, 300, label, n)
        if i < rows - 1:
            parts.append(
                f'<line x1="260" x2="260" y1="{top + box_h:.1f}" y2="{top + box_h + gap:.1f}" '
                f'stroke="{TEXT}" stroke-width="1.5"/>'
            )
        top += box_h + gap
    if split:
        w = (width - 10 * (len(split) - 1)) / len(split)
        for i, (label, n) in enumerate(split):
            box(i * (w + 10), top, w, label, n)
    parts.append("</svg>")
    return "".join(parts)


def completeness_svg(rows: list[tuple[str, int, int]], *, title: str, key: str, width: int = 520) -> str:
    """One horizontal bar per visit: the share of expected returns that came back."""
    left, bar_h, gap = 150, 22, 14
    plot_w = width - left - 70
    height = 30 + len(rows) * (bar_h + gap)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="{key}-title {key}-desc" class="chart">',
        f'<title id="{key}-title">{escape(title)}</title>',
        f'<desc id="{key}-desc">'
        + escape("; ".join(f"{label}: {done} of {expected} completed" for label, done, expected in rows))
        + "</desc>",
        f'<text x="0" y="18" fill="{TEXT}" font-size="14" font-weight="600">{escape(title)}</text>',
    ]
    for i, (label, done, expected) in enumerate(rows):
        top = 30 + i * (bar_h + gap)
        share = done / expected if expected else 0.0
        parts.append(
            f'<text x="{left - 8}" y="{top + 16}" fill="{TEXT}" font-size="12" text-anchor="end">{escape(label)}</text>'
        )
        parts.append(f'<rect x="{left}" y="{top}" width="{plot_w}" height="{bar_h}" fill="{GRID}"/>')
        parts.append(
            f'<rect x="{left}" y="{top}" width="{plot_w * share:.1f}" height="{bar_h}" fill="{NHS_BLUE}"/>'
        )
        parts.append(
            f'<text x="{left + plot_w + 6}" y="{top + 16}" fill="{TEXT}" font-size="12">'
            f"{done}/{expected}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)
