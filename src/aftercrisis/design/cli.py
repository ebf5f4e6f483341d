"""`aftercrisis design samplesize ...` and `aftercrisis design power ...`: the parsers.

The commands themselves live in `commands.py`, imported only when one runs, so that
`aftercrisis --help` does not load the statistics stack.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any


def _lazy(name: str) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        from aftercrisis.design import commands

        handler: Callable[[argparse.Namespace], int] = commands._guarded(getattr(commands, name))
        return handler(args)

    return run


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--alpha", type=float, default=0.05, help="two-sided significance level (0.05)")
    parser.add_argument("--json", action="store_true", help="print machine-readable results")


def _effect(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--control-risk", type=float, default=0.38, help="one-year readmission risk, control (0.38)"
    )
    effect = parser.add_mutually_exclusive_group()
    effect.add_argument("--treatment-risk", type=float, help="one-year readmission risk, intervention (0.29)")
    effect.add_argument("--odds-ratio", type=float, help="the effect as an odds ratio")
    effect.add_argument("--hazard-ratio", type=float, help="the effect as a hazard ratio")


def register(subparsers: Any) -> None:
    design = subparsers.add_parser("design", help="sample size and simulated power for a new trial")
    actions = design.add_subparsers(dest="design_command", metavar="ACTION", required=True)

    size = actions.add_parser("samplesize", help="closed-form sample sizes")
    outcomes = size.add_subparsers(dest="outcome", metavar="OUTCOME", required=True)
    binary = outcomes.add_parser(
        "binary", help="two proportions (normal approximation, +/- continuity correction)"
    )
    _effect(binary)
    survival = outcomes.add_parser(
        "survival", help="time to event: Schoenfeld and Freedman events, participants"
    )
    survival.add_argument("--control-risk", type=float, default=0.38, help="control arm one-year event risk")
    survival_effect = survival.add_mutually_exclusive_group()
    survival_effect.add_argument("--hazard-ratio", type=float)
    survival_effect.add_argument(
        "--treatment-risk", type=float, help="intervention one-year risk (PH implied)"
    )
    survival.add_argument("--accrual-days", type=float, default=0.0, help="uniform accrual period (0)")
    survival.add_argument("--followup-days", type=float, default=365.0, help="minimum follow-up (365)")
    survival.add_argument("--weibull-shape", type=float, default=1.0, help="Weibull shape of survival (1)")
    continuous = outcomes.add_parser("continuous", help="difference in means, ANCOVA on baseline")
    continuous.add_argument("--difference", type=float, required=True)
    continuous.add_argument("--sd", type=float, required=True)
    continuous.add_argument("--correlation", type=float, default=0.0, help="baseline-follow-up correlation")
    for parser, handler in (
        (binary, "samplesize_binary"),
        (survival, "samplesize_survival"),
        (continuous, "samplesize_continuous"),
    ):
        parser.add_argument("--power", type=float, default=0.8, help="target power (0.8)")
        parser.add_argument(
            "--attrition", type=float, default=0.0, help="share expected to give no outcome (0)"
        )
        _common(parser)
        parser.set_defaults(func=_lazy(handler))

    power = actions.add_parser(
        "power",
        help="simulation-based power, analysed as the analysis plan says",
        description="Simulate many trials and analyse each with site-adjusted logistic regression, "
        "Cox (Efron ties) and the log-rank test.",
    )
    power.add_argument("--n", type=int, default=441, help="participants randomised (441)")
    _effect(power)
    power.add_argument("--trials", type=int, default=10000, help="simulated trials (10000)")
    power.add_argument("--seed", type=int, default=1, help="random seed; the same seed gives the same result")
    power.add_argument(
        "--sites", type=int, help="number of equally recruiting sites (default: the six CORE teams)"
    )
    power.add_argument("--protocol", help="take sites and block sizes from this protocol file")
    power.add_argument("--site-sd", type=float, default=0.25, help="SD of site log-odds effects (0.25)")
    power.add_argument("--loss-to-followup", type=float, default=0.015, help="share withdrawn (0.015)")
    power.add_argument("--death-rate", type=float, default=0.01, help="one-year death rate (0.01)")
    power.add_argument("--weibull-shape", type=float, default=0.8, help="shape of time to readmission (0.8)")
    power.add_argument(
        "--no-prior-adjustment", action="store_true", help="logistic model on arm and site only"
    )
    power.add_argument("--workers", type=int, help="processes (default: all cores)")
    power.add_argument("--curve", help="draw power curves over n and effect to this SVG/PNG file")
    power.add_argument(
        "--curve-n", default="200,300,400,500,600,800,1000,1200", help="n values for the curve"
    )
    power.add_argument(
        "--curve-treatment-risk", default="0.34,0.32,0.30,0.29,0.28,0.26,0.24", help="effects for the curve"
    )
    power.add_argument(
        "--curve-trials", type=int, default=2000, help="simulated trials per curve point (2000)"
    )
    _common(power)
    power.set_defaults(func=_lazy("power_command"))
