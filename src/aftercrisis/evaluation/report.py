"""Run the evaluation and write results.json, CSV tables, figures and the report (HTML and PDF).

Everything is written to a scratch directory beside OUT first and moved in only when all of it
exists, so bad data or a failed step writes nothing.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import math
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import ibis.expr.types as ir
import pandas as pd
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup
from matplotlib.figure import Figure

from aftercrisis import __version__
from aftercrisis.analysis.figures import save
from aftercrisis.analysis.run import table_html
from aftercrisis.evaluation import cohort as cohorts
from aftercrisis.evaluation import figures, statistics
from aftercrisis.evaluation.contract import check

Step = Callable[[str], None]

CAPTIONS = {
    "funnel": "One-year readmission by crisis team, adjusted for case-mix (age, sex, deprivation, prior "
    "admissions) by indirect standardisation, against exact binomial 95% and 99.8% limits around the rate "
    "of all teams. Peer support reach is not adjusted for: it is part of what a team does.",
    "p_chart": "One-year readmission by month of discharge (p-chart) with 3-sigma limits; red points complete a "
    "run rule (a point outside the limits, a shift of 8, a trend of 6, or 2 of 3 beyond 2 sigma).",
    "kaplan_meier": "Kaplan-Meier estimates of remaining free of readmission by exposure to peer support, "
    "with 95% confidence bands (log-log) and numbers at risk; censored at death and the end of the data.",
    "cumulative_incidence": "Aalen-Johansen cumulative incidence of readmission with death as a competing "
    "risk, by exposure to peer support, with 95% confidence bands.",
    "balance": "Absolute standardised differences between people with and without peer support, before and "
    "after inverse probability weighting; 0.1 is the usual threshold of concern.",
}


@dataclass
class Evaluation:
    results: dict[str, Any]  # results.json
    tables: dict[str, pd.DataFrame]  # NAME.csv
    figures: dict[str, Figure]  # figures/NAME.svg and .png
    cohort: pd.DataFrame  # cohort.parquet: one row per index discharge


def evaluate(
    tables: Mapping[str, ir.Table | None],
    definition: cohorts.Definition,
    *,
    step: Step = lambda _: None,
) -> Evaluation:
    """Check the data, derive the cohort and compute everything."""
    step("checking the data")
    check(tables, sorted(definition.settings - {cohorts.REACCEPTANCE}))
    usable = {name: table for name, table in tables.items() if table is not None}
    step("deriving the cohort")
    derived = cohorts.derive(usable, definition).cache()  # materialised once, in the engine
    cohort = derived.order_by(["person_id", "episode_id"]).execute()  # in one order on every engine and run
    if cohort.empty:
        raise ValueError("no discharge from a crisis team falls in the period: nothing to evaluate")
    teams = cohorts.by_team(derived).execute()
    step("teams and months")
    funnel = statistics.funnel(cohort)
    months = statistics.p_chart(cohort)
    step("exposure")
    comparison = statistics.weighted_comparison(cohort)
    step("figures")
    km, cif = figures.survival_by_exposure(cohort, horizon=definition.horizon_days)
    drawn = {
        "funnel": figures.funnel_plot(funnel),
        "p_chart": figures.p_chart(months),
        "kaplan_meier": km,
        "cumulative_incidence": cif,
        "balance": figures.balance_plot(comparison.balance),
    }
    results = {
        "definition": {
            key: (
                value.isoformat()
                if isinstance(value, dt.date)
                else sorted(value)
                if isinstance(value, frozenset)
                else value
            )
            for key, value in asdict(definition).items()
        },
        "counts": statistics.summary_counts(cohort),
        "teams": _records(funnel),
        "overall_rate": funnel.attrs["overall"],
        "months": _records(months),
        "exposure": comparison.as_dict(),
    }
    return Evaluation(
        results=results,
        tables={"teams": teams, "funnel": funnel, "months": months, "balance": comparison.balance},
        figures=drawn,
        cohort=cohort,
    )


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [
        {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}
        for row in json.loads(frame.to_json(orient="records"))
    ]


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("aftercrisis.evaluation", "templates"),
        autoescape=select_autoescape(["html", "jinja"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["pct"] = lambda v, d=1: "\u2013" if v is None else f"{100 * v:.{d}f}%"
    env.filters["num"] = lambda v, d=2: "\u2013" if v is None else f"{v:.{d}f}"
    return env


def write(evaluation: Evaluation, out: Path, *, pdf: bool = True, source: str = "") -> Path:
    """Write everything to OUT at once (scratch first); returns OUT."""
    out.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".evaluate-", dir=out.parent))
    try:
        results = {
            "software_version": __version__,
            "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "source": source,
            **evaluation.results,
        }
        (scratch / "results.json").write_text(
            json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8"
        )
        for name, frame in evaluation.tables.items():
            frame.to_csv(scratch / f"{name}.csv", index=False)
        evaluation.cohort.to_parquet(scratch / "cohort.parquet", index=False)
        svgs = {}
        for name, fig in evaluation.figures.items():
            save(fig, scratch / "figures", name)
            svgs[name] = (scratch / "figures" / f"{name}.svg").read_bytes()
        html = (
            _environment()
            .get_template("report.html.jinja")
            .render(
                r=results,
                tables={
                    "teams": Markup(table_html(_shown_teams(evaluation.tables["funnel"]))),
                    "balance": Markup(table_html(_shown_balance(evaluation.tables["balance"]))),
                },
                figures={
                    name: {
                        "src": "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii"),
                        "caption": CAPTIONS[name],
                    }
                    for name, svg in svgs.items()
                },
            )
        )
        (scratch / "report.html").write_text(html, encoding="utf-8")
        if pdf:
            from weasyprint import HTML  # loads system libraries (Pango): only when a PDF is wanted

            HTML(string=html, base_url=str(scratch)).write_pdf(scratch / "report.pdf")
        out.mkdir(parents=True, exist_ok=True)
        for item in sorted(scratch.rglob("*")):
            target = out / item.relative_to(scratch)
            if item.is_dir():
                target.mkdir(exist_ok=True)
            else:
                os.replace(item, target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return out


def _shown_teams(funnel: pd.DataFrame) -> pd.DataFrame:
    shown = pd.DataFrame(
        {
            "Team": funnel["team"],
            "Index discharges (full year)": funnel["n"],
            "Readmitted": funnel["observed"],
            "Crude": [f"{v:.1%}" for v in funnel["crude"]],
            "Expected": [f"{v:.1f}" for v in funnel["expected"]],
            "Adjusted": [f"{v:.1%}" for v in funnel["adjusted"]],
            "99.8% limits": [
                f"{lo:.1%} to {hi:.1%}"
                for lo, hi in zip(funnel["lower_99.8%"], funnel["upper_99.8%"], strict=True)
            ],
            "Signal": funnel["signal"],
        }
    )
    shown.attrs["caption"] = "Table 1. One-year readmission by crisis team."
    return shown


def _shown_balance(balance: pd.DataFrame) -> pd.DataFrame:
    shown = pd.DataFrame(
        {
            "Covariate": [c.replace("_", " ") for c in balance["covariate"]],
            "Standardised difference before": [f"{v:.3f}" for v in balance["smd_before"]],
            "after weighting": [f"{v:.3f}" for v in balance["smd_after"]],
        }
    )
    shown.attrs["caption"] = "Table 2. Balance of the propensity model's covariates."
    return shown
