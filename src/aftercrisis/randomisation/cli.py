"""`aftercrisis randomisation assess | export | import`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from aftercrisis.protocol.models import MinimisationFactor


def assess(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from aftercrisis.protocol.loader import ProtocolError, load_protocol
    from aftercrisis.randomisation.assess import assess_scheme

    try:
        trial = load_protocol(args.protocol)
    except (FileNotFoundError, ProtocolError) as exc:
        print(f"{args.protocol}: {exc}", file=sys.stderr)
        return 2
    if args.method:
        scheme: dict[str, Any] = {"method": args.method}
        if args.method == "minimisation" and not trial.randomisation.factors:
            # Sex and prior admissions, as a CORE-like minimisation within site.
            scheme["factors"] = [
                MinimisationFactor(code="sex"),
                MinimisationFactor(code="prior_admissions", cutpoints=[2]),
            ]
        trial = trial.model_copy(update={"randomisation": trial.randomisation.model_copy(update=scheme)})
    with tqdm(
        total=args.trials, desc="Simulating trials", unit=" trials", file=sys.stderr, mininterval=0.5
    ) as bar:
        result = assess_scheme(
            trial,
            trials=args.trials,
            participants=args.participants,
            seed=args.seed,
            progress=lambda done: bar.update(done - bar.n),
        )
    if args.json:
        print(json.dumps(result.__dict__, indent=2))
        return 0
    print(
        f"{trial.trial.short_name}: {result.method}, {result.trials} simulated trials of "
        f"{result.participants} participants (seed {args.seed})"
    )
    print(f"{'stratum':<8} {'worst imbalance':>16} {'mean imbalance':>15}")
    for stratum in result.strata:
        print(
            f"{stratum:<8} {result.worst_imbalance[stratum]:>16.0f} {result.mean_imbalance[stratum]:>15.2f}"
        )
    print(
        f"convergence-strategy guesses right: {result.guess_right:.3f} "
        f"(no information: {result.chance:.3f}; excess {result.guess_right - result.chance:+.3f})"
    )
    return 0


def export_lists(args: argparse.Namespace) -> int:
    from aftercrisis.config.django import setup

    setup()
    from aftercrisis.randomisation.services import allocation_list_csv

    text = allocation_list_csv()
    Path(args.output).write_text(text, encoding="utf-8")
    from aftercrisis.randomisation.lists import checksum

    print(f"{args.output}: SHA-256 {checksum(text)} (send the checksum by another route)")
    return 0


def import_lists(args: argparse.Namespace) -> int:
    from aftercrisis.config.django import setup

    setup()
    from aftercrisis.config.trial import protocol
    from aftercrisis.randomisation.lists import ListError
    from aftercrisis.randomisation.services import import_allocation_lists

    try:
        loaded = import_allocation_lists(
            protocol(), Path(args.file).read_text(encoding="utf-8"), args.checksum
        )
    except FileNotFoundError:
        print(f"{args.file}: no such file", file=sys.stderr)
        return 2
    except ListError as exc:
        print(f"{args.file}: {exc}; nothing was loaded", file=sys.stderr)
        return 1
    print(f"{args.file}: loaded " + ", ".join(f"{n} positions for {s}" for s, n in sorted(loaded.items())))
    return 0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "randomisation", help="assess the scheme; export or import allocation lists"
    )
    commands = parser.add_subparsers(dest="randomisation_command", metavar="ACTION", required=True)
    a = commands.add_parser(
        "assess",
        help="simulate many trials under the scheme: imbalance and predictability",
        description="Simulate many trials under the protocol's randomisation scheme and report the worst "
        "imbalance per stratum and how often a recruiter guessing by the convergence strategy is right.",
    )
    a.add_argument(
        "--protocol", default="protocols/core.yaml", help="protocol file (default protocols/core.yaml)"
    )
    a.add_argument("--trials", type=int, default=1000, help="simulated trials (default 1000)")
    a.add_argument("--participants", type=int, default=441, help="participants per trial (default 441)")
    a.add_argument("--seed", type=int, default=2018, help="seed of the simulation (default 2018)")
    a.add_argument(
        "--method",
        choices=["simple", "stratified_blocks", "minimisation"],
        help="assess another scheme instead",
    )
    a.add_argument("--json", action="store_true", help="print the figures as JSON")
    a.set_defaults(func=assess)
    e = commands.add_parser("export", help="write every stratum's allocation list to a CSV file")
    e.add_argument("output", help="the CSV file to write")
    e.set_defaults(func=export_lists)
    i = commands.add_parser("import", help="load allocation lists from CSV, verified against its checksum")
    i.add_argument("file", help="the CSV file")
    i.add_argument("--checksum", required=True, help="the SHA-256 of the file, received by another route")
    i.set_defaults(func=import_lists)
