"""Small server-drawn SVG charts for pages: no scripts, so they pass a strict CSP and print well."""

from __future__ import annotations

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
