"""The statistical analysis plan, driven by the protocol's analysis section.

`run_plan` computes everything in memory (results, tables, figures); `write_outputs` writes
them. Nothing is written until every estimate has been computed, so a failure leaves no
half-finished output.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from aftercrisis.analysis import effects, figures, survival
from aftercrisis.analysis.baseline import baseline_table
from aftercrisis.analysis.blinding import ArmLabels
from aftercrisis.analysis.cace import cace
from aftercrisis.analysis.consort import Disposition, consort_figure, disposition_from_dataset
from aftercrisis.analysis.economics import Evaluation, evaluate
from aftercrisis.analysis.imputation import ColumnKind, mice, rubin
from aftercrisis.analysis.safety import sae_table
from aftercrisis.analysis.subgroups import SubgroupResult, subgroup_analysis
from aftercrisis.protocol.models import Analysis, HealthEconomics

COMPARED = "_compared"  # 1 = the compared arm, 0 = the reference arm
AT_RISK_DAYS = (0, 90, 180, 270, 365)
CATEGORICAL_AUXILIARY = ("sex", "ethnicity")


@dataclass
class Outputs:
    results: dict[str, Any]
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    figures: dict[str, Figure] = field(default_factory=dict)


def _r(value: float) -> float | None:
    """A JSON-safe float: NaN and infinities become null."""
    return float(value) if math.isfinite(value) else None


def _ci(pair: tuple[float, float]) -> list[float | None]:
    return [_r(pair[0]), _r(pair[1])]


def _primary(frame: pd.DataFrame, plan: Analysis) -> dict[str, Any]:
    primary = plan.primary
    outcome = primary.outcome
    table = effects.two_by_two(frame, outcome, COMPARED)
    unadjusted = effects.logistic(frame, outcome, COMPARED)
    adjusted = effects.logistic(frame, outcome, COMPARED, primary.covariates, [primary.stratifier])
    rd, rd_ci, rd_p = table.risk_difference()
    rr = table.risk_ratio()
    return {
        "outcome": outcome,
        "events": {
            "compared": [table.events_1, table.total_1],
            "reference": [table.events_0, table.total_0],
        },
        "unadjusted": {
            "or": _r(math.exp(unadjusted.coef)),
            "ci": _ci(unadjusted.ci(exponentiate=True)),
            "p": _r(unadjusted.p),
            "n": unadjusted.n,
        },
        "adjusted": {
            "or": _r(math.exp(adjusted.coef)),
            "ci": _ci(adjusted.ci(exponentiate=True)),
            "p": _r(adjusted.p),
            "covariates": [*primary.covariates, primary.stratifier],
            "categorical": [primary.stratifier],
            "n": adjusted.n,
        },
        "risk_difference": {"rd": _r(rd), "ci": _ci(rd_ci), "p": _r(rd_p)},
        "risk_ratio": {"rr": _r(rr.ratio), "ci": _ci(rr.ci), "p": _r(rr.p)},
    }


def _imputed(frame: pd.DataFrame, plan: Analysis, progress: Callable[[int], None] | None) -> dict[str, Any]:
    primary = plan.primary
    kinds: dict[str, ColumnKind] = {
        primary.outcome: "binary",
        COMPARED: "binary",
        primary.stratifier: "categorical",
    }
    for column in primary.covariates:
        kinds[column] = "continuous"
    for column in ("age", "qpr_0"):
        if column in frame.columns:
            kinds.setdefault(column, "continuous")
    for column in CATEGORICAL_AUXILIARY:
        if column in frame.columns:
            kinds.setdefault(column, "categorical")
    completed = mice(frame, kinds, m=plan.imputation.datasets, seed=plan.imputation.seed, progress=progress)
    fits = [
        effects.logistic(c, primary.outcome, COMPARED, primary.covariates, [primary.stratifier])
        for c in completed
    ]
    pooled = rubin([f.coef for f in fits], [f.se**2 for f in fits])
    return {
        "or": _r(math.exp(pooled.estimate)),
        "ci": _ci(pooled.ci(exponentiate=True)),
        "p": _r(pooled.p),
        "datasets": pooled.m,
        "df": _r(pooled.df),
        "fraction_missing_information": _r(pooled.fraction_missing_information),
        "imputed_columns": {k: v for k, v in kinds.items() if k != COMPARED and frame[k].isna().any()},
        "method": "chained equations (logistic / multinomial / predictive mean matching), Rubin's rules",
    }


def _time_to_event(
    frame: pd.DataFrame, plan: Analysis, labels: ArmLabels
) -> tuple[dict[str, Any], dict[str, Figure]]:
    tte, primary = plan.time_to_event, plan.primary
    time = frame[tte.time].to_numpy(float)
    event = frame[tte.event].to_numpy(float)
    group = frame[COMPARED].to_numpy(int)
    lr = survival.logrank(time, event, group)
    hazard = survival.cox(frame, tte.time, tte.event, COMPARED, primary.covariates, [primary.stratifier])
    ph = survival.ph_check(frame, tte.time, tte.event, COMPARED, primary.covariates, [primary.stratifier])
    arms = ((labels.compared, 1), (labels.reference, 0))
    km = [(label, survival.kaplan_meier(time[group == g], event[group == g])) for label, g in arms]
    at_risk = [(label, survival.numbers_at_risk(time[group == g], AT_RISK_DAYS)) for label, g in arms]
    result: dict[str, Any] = {
        "logrank": {"chi2": _r(lr.chi2), "p": _r(lr.p)},
        "cox": {
            "hr": _r(math.exp(hazard.coef)),
            "ci": _ci(hazard.ci(exponentiate=True)),
            "p": _r(hazard.p),
            "covariates": [*primary.covariates, primary.stratifier],
            "ties": "efron",
            "n": hazard.n,
        },
        "proportional_hazards": {
            "chi2": _r(ph.chi2),
            "p": _r(ph.p),
            "method": f"scaled Schoenfeld residuals against {ph.transform}-transformed time",
        },
        "numbers_at_risk": {"days": list(AT_RISK_DAYS), **dict(at_risk)},
    }
    found: dict[str, Figure] = {
        "kaplan_meier": figures.step_plot(
            km,
            title="Time to first readmission to acute care",
            ylabel="Proportion not readmitted",
            at_risk=at_risk,
            at_times=AT_RISK_DAYS,
        )
    }
    if tte.competing_event:
        status = survival.competing_status(event, frame[tte.competing_event].to_numpy(float))
        curves = [
            (label, survival.cumulative_incidence(time[group == g], status[group == g])) for label, g in arms
        ]
        result["cumulative_incidence"] = {
            "competing_event": tte.competing_event,
            "at_1y": {label: _r(float(c.values[c.times <= 365][-1])) for label, c in curves},
        }
        found["cumulative_incidence"] = figures.step_plot(
            curves,
            title="Cumulative incidence of readmission, death as a competing risk",
            ylabel="Cumulative incidence",
            at_times=AT_RISK_DAYS,
        )
        found["cumulative_incidence"].axes[0].set_ylim(0, 0.6)
    return result, found


def _not_estimable(frame: pd.DataFrame, outcome: str, why: effects.NotEstimable) -> dict[str, Any]:
    """An outcome the data cannot estimate yet (no 18-month answers at an interim analysis, say)."""
    return {"estimable": False, "reason": str(why), "n": int(frame[outcome].notna().sum())}


def _secondary(frame: pd.DataFrame, plan: Analysis) -> tuple[dict[str, Any], dict[str, Any]]:
    stratifier = plan.primary.stratifier
    continuous: dict[str, Any] = {}
    for spec in plan.secondary.continuous:
        covariates = [spec.baseline] if spec.baseline else []
        try:
            fit = effects.linear(frame, spec.outcome, COMPARED, covariates, [stratifier])
        except effects.NotEstimable as why:
            continuous[spec.outcome] = _not_estimable(frame, spec.outcome, why)
            continue
        continuous[spec.outcome] = {
            "estimable": True,
            "difference": _r(fit.coef),
            "ci": _ci(fit.ci(exponentiate=False)),
            "p": _r(fit.p),
            "covariates": [*covariates, stratifier],
            "n": fit.n,
        }
    counts: dict[str, Any] = {}
    for outcome in plan.secondary.counts:
        try:
            fit, alpha = effects.negative_binomial(
                frame, outcome, COMPARED, plan.primary.covariates, [stratifier]
            )
        except effects.NotEstimable as why:
            counts[outcome] = _not_estimable(frame, outcome, why)
            continue
        counts[outcome] = {
            "estimable": True,
            "rate_ratio": _r(math.exp(fit.coef)),
            "ci": _ci(fit.ci(exponentiate=True)),
            "p": _r(fit.p),
            "covariates": [*plan.primary.covariates, stratifier],
            "alpha": _r(alpha),
            "n": fit.n,
        }
    return continuous, counts


def _subgroups(frame: pd.DataFrame, plan: Analysis) -> list[SubgroupResult]:
    return [
        subgroup_analysis(
            frame,
            name=s.name,
            column=s.column,
            cutpoints=s.cutpoints,
            outcome=plan.primary.outcome,
            exposure=COMPARED,
            covariates=plan.primary.covariates,
            categorical=[plan.primary.stratifier],
        )
        for s in plan.subgroups
    ]


def run_plan(
    frame: pd.DataFrame,
    plan: Analysis,
    labels: ArmLabels,
    *,
    saes: pd.DataFrame | None = None,
    enrolment: Mapping[str, Any] | None = None,
    disposition: Disposition | None = None,
    step: Callable[[str], None] | None = None,
    imputation_progress: Callable[[int], None] | None = None,
    economics: HealthEconomics | None = None,
) -> Outputs:
    """Run the whole plan on a validated, typed dataset.

    The CONSORT flow is counted from the dataset and `enrolment`, unless the caller, who may
    know more (reasons for loss to follow-up, say), gives the whole `disposition`. With the
    protocol's `economics`, the economic evaluation runs too, unless the analysis is blinded.
    """
    missing = _missing_columns(frame, plan)
    if missing:
        raise ValueError(f"the protocol's analysis uses columns not in the dataset: {', '.join(missing)}")
    tell = step or (lambda _name: None)
    frame = frame.assign(**{COMPARED: frame["arm"].map(labels.indicator).astype(int)})
    out = Outputs(
        results={
            "blinded": labels.blinded,
            "comparison": {"compared": labels.compared, "reference": labels.reference},
            "participants": {
                labels.compared: int((frame[COMPARED] == 1).sum()),
                labels.reference: int((frame[COMPARED] == 0).sum()),
            },
        }
    )
    tell("baseline")
    out.tables["baseline"] = baseline_table(frame, labels)
    tell("primary")
    out.results["primary"] = _primary(frame, plan)
    tell("time to readmission")
    out.results["time_to_readmission"], found = _time_to_event(frame, plan, labels)
    out.figures.update(found)
    tell("secondary")
    out.results["secondary"], out.results["counts"] = _secondary(frame, plan)
    tell("subgroups")
    groups = _subgroups(frame, plan)
    out.results["subgroups"] = [
        {
            "name": g.name,
            "interaction": {"chi2": _r(g.interaction_chi2), "df": g.interaction_df, "p": _r(g.interaction_p)},
            "levels": [
                {"level": lv.level, "n": lv.n, "events": lv.events, "or": _r(lv.odds_ratio), "ci": _ci(lv.ci)}
                for lv in g.levels
            ],
        }
        for g in groups
    ]
    adjusted = out.results["primary"]["adjusted"]
    out.figures["forest"] = figures.forest_plot(
        groups,
        overall=(adjusted["or"], *adjusted["ci"]),
        labels=(labels.compared, labels.reference),
    )
    if not labels.blinded:
        # uptake exists only in the intervention arm, so it would unmask a blinded report
        tell("complier-average causal effect")
        est = cace(
            frame[plan.primary.outcome].to_numpy(float),
            frame["sessions_attended"].to_numpy(float),
            frame[COMPARED].to_numpy(int),
            threshold=plan.uptake_threshold,
            seed=plan.imputation.seed,
        )
        out.results["cace"] = {
            "risk_difference": _r(est.estimate),
            "ci": _ci(est.ci),
            "ci_method": f"percentile bootstrap, {est.replicates} replicates within arms",
            "se_delta": _r(est.se_delta),
            "ci_delta": _ci(est.ci_delta),
            "itt_risk_difference": _r(est.itt_risk_difference),
            "complier_proportion": _r(est.complier_proportion),
            "uptake_threshold": est.threshold,
            "n": est.n,
        }
    tell("multiple imputation")
    out.results["primary"]["imputed"] = _imputed(frame, plan, imputation_progress)
    if economics is not None:
        tell("health economics")
        out.results["health_economics"] = _health_economics(frame, plan, economics, labels, out)
    if saes is not None:
        tell("serious adverse events")
        out.tables["saes"] = sae_table(saes, frame, labels)
        arm_of = (
            saes["participant_id"]
            .str.strip()
            .map(dict(zip(frame["participant_id"], frame[COMPARED], strict=True)))
        )
        out.results["saes"] = {
            labels.compared: int((arm_of == 1).sum()),
            labels.reference: int((arm_of == 0).sum()),
        }
    tell("CONSORT")
    disposition = disposition or disposition_from_dataset(
        frame,
        labels,
        outcome=plan.primary.outcome,
        assessed=None if enrolment is None else int(enrolment["assessed"]),
        excluded=None
        if enrolment is None
        else {str(k): int(v) for k, v in enrolment.get("excluded", {}).items()},
    )
    out.figures["consort"] = consort_figure(disposition)
    out.tables.update(_result_tables(out.results, labels))
    return out


def _health_economics(
    frame: pd.DataFrame, plan: Analysis, economics: HealthEconomics, labels: ArmLabels, out: Outputs
) -> dict[str, Any]:
    """The economic evaluation's results; its table and figures go into `out`."""
    setting = {
        "perspective": economics.perspective,
        "time_horizon_months": economics.time_horizon_months,
        "price_year": economics.price_year,
        "currency": economics.currency,
    }
    if labels.blinded:
        # the intervention's own cost is borne by one arm only, so any cost would unmask the report
        return {
            **setting,
            "estimable": False,
            "reason": "withheld while the analysis is blinded, since the arms' own costs differ",
        }
    try:
        found = evaluate(
            frame,
            economics,
            COMPARED,
            imputations=plan.imputation.datasets,
            imputation_seed=plan.imputation.seed,
        )
    except effects.NotEstimable as why:
        return {**setting, "estimable": False, "reason": str(why)}
    compared, reference = labels.compared, labels.reference
    cost_ci, qaly_ci = found.cost.ci(), found.qaly.ci()
    boot = found.bootstrap
    result: dict[str, Any] = {
        **setting,
        "estimable": True,
        "n": found.n,
        "complete_cases": {compared: found.n_compared, reference: found.n_reference},
        "unit_costs": {
            u.code: {"cost": u.cost, "unit": u.unit, "source": u.source} for u in economics.unit_costs
        },
        "mean_cost": {compared: _r(found.mean_costs["1"][0]), reference: _r(found.mean_costs["0"][0])},
        "mean_baseline_cost": {
            compared: _r(found.mean_costs["1"][1]),
            reference: _r(found.mean_costs["0"][1]),
        },
        "mean_qalys": {compared: _r(found.mean_qalys[0]), reference: _r(found.mean_qalys[1])},
        "incremental_cost": {
            "estimate": _r(found.cost.estimate),
            "se": _r(found.cost.se),
            "ci": _ci(cost_ci),
            "bootstrap_ci": _ci(boot.percentile_ci(boot.costs)),
            "adjusted_for": ["cost_0", plan.primary.stratifier],
        },
        "incremental_qalys": {
            "estimate": _r(found.qaly.estimate),
            "se": _r(found.qaly.se),
            "ci": _ci(qaly_ci),
            "bootstrap_ci": _ci(boot.percentile_ci(boot.qalys)),
            "adjusted_for": ["eq5d_0", plan.primary.stratifier],
        },
        "icer": _r(found.icer),
        "quadrant": found.quadrant,
        "net_monetary_benefit": [
            {"threshold": t, "estimate": _r(nmb), "ci": _ci(ci), "probability_cost_effective": _r(prob)}
            for t in found.thresholds
            for nmb, ci, prob in [found.net_benefit(t)]
        ],
        "bootstrap": {
            "replicates": boot.replicates,
            "degenerate_replicates_left_out": boot.degenerate,
            "seed": boot.seed,
            "method": "two-stage non-parametric bootstrap (sites, then participants within sites)",
            "quadrants": {
                "north_east": _r(float(((boot.qalys > 0) & (boot.costs > 0)).mean())),
                "south_east": _r(float(((boot.qalys > 0) & (boot.costs <= 0)).mean())),
                "south_west": _r(float(((boot.qalys <= 0) & (boot.costs <= 0)).mean())),
                "north_west": _r(float(((boot.qalys <= 0) & (boot.costs > 0)).mean())),
            },
        },
        "acceptability": {
            "willingness_to_pay": [float(w) for w in found.willingness],
            "probability": [float(p) for p in found.acceptability],
        },
    }
    if found.imputed_cost is not None and found.imputed_qaly is not None:
        result["imputed"] = {
            "incremental_cost": {
                "estimate": _r(found.imputed_cost.estimate),
                "ci": _ci(found.imputed_cost.ci()),
            },
            "incremental_qalys": {
                "estimate": _r(found.imputed_qaly.estimate),
                "ci": _ci(found.imputed_qaly.ci()),
            },
            "datasets": found.imputed_cost.m,
            "method": "chained equations (predictive mean matching) of costs and utilities, Rubin's rules",
        }
    if found.glm is not None:
        result["gamma_glm"] = {
            "cost_ratio": _r(found.glm.cost_ratio),
            "ci": _ci(found.glm.ci),
            "p": _r(found.glm.p),
            "incremental_cost": _r(found.glm.difference),
            "n": found.glm.n,
        }
    else:
        result["gamma_glm"] = {"estimable": False, "reason": found.glm_reason}
    out.tables["health_economics"] = _economic_table(result, found, economics, labels)
    names = (compared, reference)
    out.figures["ce_plane"] = figures.cost_effectiveness_plane(
        boot.qalys,
        boot.costs,
        point=(found.qaly.estimate, found.cost.estimate),
        thresholds=found.thresholds,
        labels=names,
        currency=economics.currency,
    )
    out.figures["ceac"] = figures.acceptability_curve(
        found.willingness,
        found.acceptability,
        thresholds=found.thresholds,
        labels=names,
        currency=economics.currency,
    )
    return result


def _economic_table(
    result: dict[str, Any], found: Evaluation, economics: HealthEconomics, labels: ArmLabels
) -> pd.DataFrame:
    """Mean cost of each resource by arm, then the adjusted increments, ICER and net benefit."""
    money = economics.currency
    rows = [
        {
            "": economics.unit_cost(str(code).removeprefix("cost_")).name,
            labels.compared: f"{means[1]:,.0f}",
            labels.reference: f"{means[0]:,.0f}",
            "Adjusted difference (95% CI)": "",
        }
        for code, means in found.resource_costs.iterrows()
    ]
    cost, qaly = result["incremental_cost"], result["incremental_qalys"]
    rows += [
        {
            "": f"Total cost in the year ({money})",
            labels.compared: f"{result['mean_cost'][labels.compared]:,.0f}",
            labels.reference: f"{result['mean_cost'][labels.reference]:,.0f}",
            "Adjusted difference (95% CI)": f"{cost['estimate']:,.0f} ({cost['bootstrap_ci'][0]:,.0f} to "
            f"{cost['bootstrap_ci'][1]:,.0f})",
        },
        {
            "": "QALYs over the year",
            labels.compared: f"{result['mean_qalys'][labels.compared]:.3f}",
            labels.reference: f"{result['mean_qalys'][labels.reference]:.3f}",
            "Adjusted difference (95% CI)": f"{qaly['estimate']:.3f} ({qaly['bootstrap_ci'][0]:.3f} to "
            f"{qaly['bootstrap_ci'][1]:.3f})",
        },
        {
            "": "Incremental cost per QALY gained",
            labels.compared: "",
            labels.reference: "",
            # a negative ratio means nothing on its own: a dominant or dominated arm is said to be so
            "Adjusted difference (95% CI)": result["quadrant"]
            if result["quadrant"] in ("dominant", "dominated")
            else f"{_fmt(result['icer'], 0)} ({result['quadrant']})",
        },
    ]
    rows += [
        {
            "": f"Net monetary benefit at {money} {item['threshold']:,.0f} per QALY",
            labels.compared: "",
            labels.reference: "",
            "Adjusted difference (95% CI)": f"{item['estimate']:,.0f} ({item['ci'][0]:,.0f} to {item['ci'][1]:,.0f}); "
            f"P(cost-effective) {item['probability_cost_effective']:.2f}",
        }
        for item in result["net_monetary_benefit"]
    ]
    table = pd.DataFrame(rows)
    table.attrs["caption"] = (
        f"Mean cost per participant ({money}, {economics.price_year} prices) and QALYs in the "
        f"{found.n} participants with both known; differences are {labels.compared} minus "
        f"{labels.reference}, adjusted for baseline cost or utility and site, with percentile intervals "
        f"from {found.bootstrap.replicates:,} two-stage bootstrap replicates."
    )
    return table


def _missing_columns(frame: pd.DataFrame, plan: Analysis) -> list[str]:
    wanted = [plan.primary.outcome, plan.primary.stratifier, *plan.primary.covariates]
    wanted += [plan.time_to_event.time, plan.time_to_event.event]
    wanted += [plan.time_to_event.competing_event] if plan.time_to_event.competing_event else []
    for spec in plan.secondary.continuous:
        wanted += [spec.outcome] + ([spec.baseline] if spec.baseline else [])
    wanted += list(plan.secondary.counts) + [s.column for s in plan.subgroups]
    return sorted({c for c in wanted if c not in frame.columns})


def _fmt(value: float | None, digits: int = 2) -> str:
    return "\u2013" if value is None else f"{value:.{digits}f}"


def _p(value: float | None) -> str:
    if value is None:
        return "\u2013"
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def _result_tables(results: dict[str, Any], labels: ArmLabels) -> dict[str, pd.DataFrame]:
    primary = results["primary"]
    e1, n1 = primary["events"]["compared"]
    e0, n0 = primary["events"]["reference"]
    rows = [
        ("Odds ratio, adjusted", primary["adjusted"], "or"),
        ("Odds ratio, unadjusted", primary["unadjusted"], "or"),
        ("Risk difference", primary["risk_difference"], "rd"),
        ("Risk ratio", primary["risk_ratio"], "rr"),
        ("Odds ratio, multiple imputation", primary["imputed"], "or"),
    ]
    if "cace" in results:
        rows.append(("Complier-average causal effect (risk difference)", results["cace"], "risk_difference"))
    cox = results["time_to_readmission"]["cox"]
    rows.append(("Hazard ratio, time to readmission (Cox)", cox, "hr"))
    primary_table = pd.DataFrame(
        [
            {
                "Estimate": name,
                "Value": _fmt(item[key], 3),
                "95% CI": f"{_fmt(item['ci'][0], 3)} to {_fmt(item['ci'][1], 3)}",
                "p": _p(item["p"]) if "p" in item else "\u2013",
            }
            for name, item, key in rows
        ]
    )
    primary_table.attrs["caption"] = (
        f"Readmission within one year: {e1}/{n1} ({100 * e1 / n1:.1f}%) {labels.compared} vs "
        f"{e0}/{n0} ({100 * e0 / n0:.1f}%) {labels.reference}; ratios and differences are "
        f"{labels.compared} relative to {labels.reference}."
    )
    secondary_rows = [
        _secondary_row(outcome, item, "mean difference", "difference")
        for outcome, item in results["secondary"].items()
    ]
    secondary_rows += [
        _secondary_row(outcome, item, "rate ratio", "rate_ratio")
        for outcome, item in results["counts"].items()
    ]
    subgroup_rows = [
        {
            "Subgroup": group["name"],
            "Level": level["level"],
            "Events/n": f"{level['events']}/{level['n']}",
            "Odds ratio (95% CI)": f"{_fmt(level['or'])} ({_fmt(level['ci'][0])} to {_fmt(level['ci'][1])})",
            "Interaction p": _p(group["interaction"]["p"]),
        }
        for group in results["subgroups"]
        for level in group["levels"]
    ]
    return {
        "primary": primary_table,
        "secondary": pd.DataFrame(secondary_rows),
        "subgroups": pd.DataFrame(subgroup_rows),
    }


def _secondary_row(outcome: str, item: dict[str, Any], estimate: str, key: str) -> dict[str, Any]:
    if not item["estimable"]:
        return {
            "Outcome": outcome,
            "Estimate": f"{estimate}: not estimable, {item['reason']}",
            "Value": "\u2013",
            "95% CI": "\u2013",
            "p": "\u2013",
            "n": item["n"],
            "Adjusted for": "\u2013",
        }
    return {
        "Outcome": outcome,
        "Estimate": estimate,
        "Value": _fmt(item[key]),
        "95% CI": f"{_fmt(item['ci'][0])} to {_fmt(item['ci'][1])}",
        "p": _p(item["p"]),
        "n": item["n"],
        "Adjusted for": ", ".join(item["covariates"]),
    }


def _json_default(value: object) -> object:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return _r(float(value))
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


def write_outputs(outputs: Outputs, directory: Path) -> list[Path]:
    """Write results.json, tables/NAME.csv and .html, figures/NAME.svg and .png."""
    directory.mkdir(parents=True, exist_ok=True)
    written = [directory / "results.json"]
    written[0].write_text(
        json.dumps(outputs.results, indent=2, default=_json_default, ensure_ascii=False) + "\n"
    )
    tables = directory / "tables"
    tables.mkdir(exist_ok=True)
    for name, table in outputs.tables.items():
        table.to_csv(tables / f"{name}.csv", index=False)
        (tables / f"{name}.html").write_text(table_html(table), encoding="utf-8")
        written += [tables / f"{name}.csv", tables / f"{name}.html"]
    for name, figure in outputs.figures.items():
        written += figures.save(figure, directory / "figures", name)
    return written


def table_html(table: pd.DataFrame) -> str:
    caption = table.attrs.get("caption")
    html = table.to_html(index=False, border=0, classes="results", escape=True, na_rep="\u2013")
    return html if not caption else html.replace(">\n", f">\n  <caption>{_escape(caption)}</caption>\n", 1)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
