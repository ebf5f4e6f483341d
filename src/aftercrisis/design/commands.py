"""What `aftercrisis design samplesize ...` and `aftercrisis design power ...` do (parsers in cli.py)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from aftercrisis.design import samplesize as ss
from aftercrisis.design.config import (
    CORE_SITES,
    Site,
    TrialConfig,
    treatment_risk_from_hazard_ratio,
    treatment_risk_from_odds_ratio,
)
from aftercrisis.design.power import ANALYSES, PowerResult, simulated_power


def _guarded(handler: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Bad numbers get one clear line naming the field, and exit code 2."""

    def run(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except ValueError as exc:
            print(f"aftercrisis design: {exc}", file=sys.stderr)
            return 2

    return run


def _print(payload: dict[str, Any], as_json: bool, lines: list[str]) -> None:
    if as_json:
        print(json.dumps(payload, indent=2))
    else:
        print("\n".join(lines))


def _sizes(per_arm: float, attrition: float) -> dict[str, Any]:
    recruited = ss.inflate_for_attrition(per_arm, attrition)
    return {
        "per_arm_exact": per_arm,
        "per_arm": ss.round_up(per_arm),
        "recruit_per_arm": ss.round_up(recruited),
        "recruit_total": 2 * ss.round_up(recruited),
    }


def samplesize_binary(args: argparse.Namespace) -> int:
    treatment = _treatment_risk(args)
    payload: dict[str, Any] = {
        "outcome": "binary",
        "control_risk": args.control_risk,
        "treatment_risk": treatment,
        "alpha": args.alpha,
        "power": args.power,
        "attrition": args.attrition,
    }
    lines = [
        f"two proportions {args.control_risk:.3f} vs {treatment:.3f}, alpha {args.alpha}, power {args.power}"
    ]
    for name, continuity in (("normal", False), ("continuity_corrected", True)):
        per_arm = ss.two_proportions(
            args.control_risk, treatment, alpha=args.alpha, power=args.power, continuity=continuity
        )
        payload[name] = _sizes(per_arm, args.attrition)
        lines.append(
            f"  {name.replace('_', ' ')}: {payload[name]['per_arm']} per arm; "
            f"recruit {payload[name]['recruit_total']} allowing {args.attrition:.1%} attrition"
        )
    _print(payload, args.json, lines)
    return 0


def samplesize_survival(args: argparse.Namespace) -> int:
    hr = args.hazard_ratio
    if hr is None:
        if args.treatment_risk is None:
            raise SystemExit("design samplesize survival: give --hazard-ratio or --treatment-risk")
        # Proportional hazards: S1 = S0 ** HR at one year.
        hr = float(np.log1p(-args.treatment_risk) / np.log1p(-args.control_risk))
    probability = ss.event_probability(
        args.control_risk,
        hr,
        accrual_days=args.accrual_days,
        followup_days=args.followup_days,
        weibull_shape=args.weibull_shape,
    )
    payload: dict[str, Any] = {
        "outcome": "time_to_event",
        "hazard_ratio": hr,
        "event_probability": probability,
        "alpha": args.alpha,
        "power": args.power,
    }
    lines = [f"hazard ratio {hr:.3f}; probability of an event while followed {probability:.3f}"]
    for name, events in (
        ("schoenfeld", ss.events_schoenfeld(hr, alpha=args.alpha, power=args.power)),
        ("freedman", ss.events_freedman(hr, alpha=args.alpha, power=args.power)),
    ):
        payload[name] = {"events": ss.round_up(events), **_sizes(events / probability / 2, args.attrition)}
        lines.append(
            f"  {name}: {payload[name]['events']} events; {payload[name]['recruit_total']} participants "
            f"allowing {args.attrition:.1%} attrition"
        )
    _print(payload, args.json, lines)
    return 0


def samplesize_continuous(args: argparse.Namespace) -> int:
    payload: dict[str, Any] = {"outcome": "continuous", "difference": args.difference, "sd": args.sd}
    lines = [f"difference {args.difference} (SD {args.sd}), alpha {args.alpha}, power {args.power}"]
    for name, rho in (("unadjusted", 0.0), ("baseline_adjusted", args.correlation)):
        per_arm = ss.continuous(args.difference, args.sd, correlation=rho, alpha=args.alpha, power=args.power)
        payload[name] = {"correlation": rho, **_sizes(per_arm, args.attrition)}
        lines.append(f"  {name.replace('_', ' ')} (rho {rho}): {payload[name]['recruit_total']} participants")
    _print(payload, args.json, lines)
    return 0


def _treatment_risk(args: argparse.Namespace) -> float:
    # The argument group makes these mutually exclusive; with none given, CORE's 29%.
    if args.odds_ratio is not None:
        return treatment_risk_from_odds_ratio(args.control_risk, args.odds_ratio)
    if args.hazard_ratio is not None:
        return treatment_risk_from_hazard_ratio(args.control_risk, args.hazard_ratio)
    return 0.29 if args.treatment_risk is None else float(args.treatment_risk)


def _config(args: argparse.Namespace, n: int, treatment_risk: float) -> TrialConfig:
    sites: tuple[Site, ...] = CORE_SITES
    blocks: tuple[int, ...] = (2, 4, 6)
    if args.protocol:
        from aftercrisis.protocol import load_protocol  # only when asked: pydantic is slow to import

        protocol = load_protocol(args.protocol)
        sites = tuple(Site(s.code, 1.0) for s in protocol.sites)
        blocks = tuple(protocol.randomisation.block_sizes) or blocks
    if args.sites is not None:
        sites = tuple(Site(f"S{i + 1}", 1.0) for i in range(args.sites))
    return TrialConfig(
        n=n,
        sites=sites,
        block_sizes=blocks,
        control_risk=args.control_risk,
        treatment_risk=treatment_risk,
        weibull_shape=args.weibull_shape,
        site_sd=args.site_sd,
        loss_to_followup=args.loss_to_followup,
        death_rate_1y=args.death_rate,
    )


def _result_lines(result: PowerResult) -> list[str]:
    lines = [
        f"n {result.n}: readmission {result.control_risk:.3f} vs {result.treatment_risk:.3f}, "
        f"{result.trials} simulated trials, alpha {result.alpha}"
    ]
    labels = {"logistic": "site-adjusted logistic", "cox": "Cox (Efron ties)", "logrank": "log-rank"}
    for name in ANALYSES:
        a = result.analyses[name]
        note = f"  ({a.not_converged} not converged)" if a.not_converged else ""
        lines.append(f"  {labels[name]:<24} power {a.power:.3f} (MC SE {a.mcse:.3f}){note}")
    return lines


def power_command(args: argparse.Namespace) -> int:
    treatment = _treatment_risk(args)
    config = _config(args, args.n, treatment)
    started = time.perf_counter()
    result = simulated_power(
        config,
        trials=args.trials,
        seed=args.seed,
        alpha=args.alpha,
        adjust_prior=not args.no_prior_adjustment,
        workers=args.workers,
        progress=not args.json,
    )
    seconds = time.perf_counter() - started
    closed = ss.power_two_proportions(args.n / 2, args.control_risk, treatment, alpha=args.alpha)
    payload = {**result.as_dict(), "seconds": seconds, "closed_form_two_proportions_power": closed}
    lines = [*_result_lines(result), f"  closed form (two proportions) power {closed:.3f}; {seconds:.1f} s"]
    if args.curve:
        payload["curve"] = _curve(args, config, Path(args.curve))
        lines.append(f"  power curves drawn in {args.curve}")
    _print(payload, args.json, lines)
    return 0


def _grid(text: str, kind: type) -> list[Any]:
    try:
        values = [kind(v) for v in text.split(",")]
    except ValueError as exc:
        raise SystemExit(f"could not read the list {text!r}: {exc}") from exc
    return values


def _curve(args: argparse.Namespace, config: TrialConfig, path: Path) -> dict[str, Any]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = _grid(args.curve_n, int)
    risks = _grid(args.curve_treatment_risk, float)
    points = len(sizes) + len(risks)
    bar = tqdm(total=points * args.curve_trials, unit="trial", file=sys.stderr, disable=args.json)
    by_n: list[PowerResult] = []
    by_effect: list[PowerResult] = []
    for n in sizes:
        cfg = _config(args, n, config.treatment_risk)
        by_n.append(_point(args, cfg, bar))
    for risk in risks:
        cfg = _config(args, config.n, risk)
        by_effect.append(_point(args, cfg, bar))
    bar.close()

    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    for name, style in zip(ANALYSES, ("-o", "--s", ":^"), strict=True):
        left.plot(sizes, [r.analyses[name].power for r in by_n], style, label=name)
        right.plot(risks, [r.analyses[name].power for r in by_effect], style, label=name)
    left.set(
        xlabel="participants randomised",
        ylabel="power",
        title=f"control {config.control_risk:.2f} vs {config.treatment_risk:.2f}",
    )
    right.set(
        xlabel="intervention-arm one-year risk", title=f"n = {config.n}, control {config.control_risk:.2f}"
    )
    for axis in (left, right):
        axis.axhline(0.8, color="grey", lw=0.8)
        axis.axhline(0.9, color="grey", lw=0.8, ls="--")
        axis.set_ylim(0, 1)
        axis.grid(alpha=0.3)
    left.legend(loc="lower right")
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
    return {
        "by_n": [{"n": r.n, **{k: v.power for k, v in r.analyses.items()}} for r in by_n],
        "by_treatment_risk": [
            {"treatment_risk": r.treatment_risk, **{k: v.power for k, v in r.analyses.items()}}
            for r in by_effect
        ],
    }


def _point(args: argparse.Namespace, config: TrialConfig, bar: Any) -> PowerResult:
    return simulated_power(
        config,
        trials=args.curve_trials,
        seed=args.seed,
        alpha=args.alpha,
        adjust_prior=not args.no_prior_adjustment,
        workers=args.workers,
        on_chunk=bar.update,
    )
