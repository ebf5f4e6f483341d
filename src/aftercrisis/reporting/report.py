"""The trial report: one self-contained HTML file (figures inlined) and its PDF.

Pure assembly from the analysis outputs; the web application adds who may produce it.
"""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from aftercrisis.analysis.run import Outputs, table_html

FIGURE_CAPTIONS = {
    "consort": "CONSORT 2010 flow diagram.",
    "kaplan_meier": "Kaplan-Meier estimates of remaining free of readmission, with 95% confidence bands "
    "(log-log) and numbers at risk.",
    "cumulative_incidence": "Aalen-Johansen cumulative incidence of readmission with death as a competing "
    "risk, with 95% confidence bands.",
    "forest": "Odds ratios of readmission within one year by prespecified subgroup (95% CI), from "
    "models with the subgroup-by-arm interaction, adjusted as the primary analysis.",
    "ce_plane": "Cost-effectiveness plane: incremental cost and QALYs of each two-stage bootstrap replicate, "
    "the point estimate, and lines of constant willingness to pay per QALY.",
    "ceac": "Cost-effectiveness acceptability curve: the share of bootstrap replicates in which the compared "
    "arm has the higher net monetary benefit, by willingness to pay per QALY.",
}


@dataclass(frozen=True)
class Stamp:
    dataset_sha256: str
    protocol_version: str
    software_version: str
    generated_at: dt.datetime
    blinded: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "dataset_sha256": self.dataset_sha256,
            "protocol_version": self.protocol_version,
            "software_version": self.software_version,
            "generated_at": self.generated_at.isoformat(timespec="seconds"),
            "blinded": self.blinded,
        }


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("aftercrisis.reporting", "templates"),
        autoescape=select_autoescape(["html", "jinja"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = lambda v, d=2: "\u2013" if v is None else f"{v:.{d}f}"
    env.filters["pval"] = lambda v: "\u2013" if v is None else ("< 0.001" if v < 0.001 else f"{v:.3f}")
    return env


def _data_uri(svg: bytes) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")


def render_html(
    outputs: Outputs,
    stamp: Stamp,
    *,
    trial: str,
    figures: dict[str, bytes],
    unblinded_assessments: dict[str, int] | None = None,
) -> str:
    """The report as one HTML document; `figures` maps a figure's name to its SVG.

    `unblinded_assessments` counts outcome assessments by an emergency-unblinded assessor, when the
    report is produced from the live database."""
    tables: dict[str, Markup] = {
        name: Markup(table_html(table))
        for name, table in outputs.tables.items()
        if isinstance(table, pd.DataFrame)
    }
    shown = [
        {"name": name, "src": _data_uri(svg), "caption": FIGURE_CAPTIONS.get(name, "")}
        for name, svg in figures.items()
    ]
    template = _environment().get_template("report.html.jinja")
    return template.render(
        r=outputs.results,
        stamp=stamp.as_dict(),
        trial=trial,
        tables=tables,
        figures={f["name"]: f for f in shown},
        unblinded_assessments=unblinded_assessments,
    )


def write_pdf(html: str, path: Path) -> None:
    from weasyprint import HTML  # imported here: it loads system libraries (Pango) and takes a moment

    HTML(string=html, base_url=str(path.parent)).write_pdf(path)


def write_report(outputs: Outputs, stamp: Stamp, directory: Path, *, trial: str) -> tuple[Path, Path]:
    """Write report.html and report.pdf, reading the figures already written under directory/figures."""
    figures = {
        name: (directory / "figures" / f"{name}.svg").read_bytes()
        for name in outputs.figures
        if (directory / "figures" / f"{name}.svg").exists()
    }
    html = render_html(outputs, stamp, trial=trial, figures=figures)
    html_path, pdf_path = directory / "report.html", directory / "report.pdf"
    html_path.write_text(html, encoding="utf-8")
    write_pdf(html, pdf_path)
    return html_path, pdf_path
