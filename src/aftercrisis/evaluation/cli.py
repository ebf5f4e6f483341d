"""`aftercrisis evaluate DATA --out DIR`: readmission monitoring on routine data;
`aftercrisis evaluate synthesise --persons N --out DIR`: a synthetic routine data set to try it on."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path

SYNTHESISE = "synthesise"


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2025-12-31") from error


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from error
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be at least 1")
    return value


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "evaluate",
        help="readmission monitoring on routine health-record data (or `evaluate synthesise` a data set)",
        description="Derive one-year readmission after discharge from a crisis team from routine records, by "
        "team, by month and by exposure to peer support, and write results.json, CSV tables, figures and a report "
        f"to DIR. `aftercrisis evaluate {SYNTHESISE} --persons N --out DIR` writes a synthetic data set instead. "
        "The tables and columns are described in docs/evaluation.md.",
    )
    parser.add_argument(
        "data",
        metavar="DATA",
        help=f"a directory of the tables (Parquet or CSV), a PostgreSQL URL (with --engine postgres), "
        f"or '{SYNTHESISE}'",
    )
    parser.add_argument("--out", type=Path, required=True, help="output directory")
    parser.add_argument("--engine", choices=["duckdb", "spark", "postgres"], default="duckdb",
                        help="where the derivation runs (default duckdb, embedded)")  # fmt: skip
    parser.add_argument("--spark-master", help="Spark master URL of a cluster (default local[*])")
    parser.add_argument(
        "--spark-database", help="read the tables from this Spark catalogue database instead of DATA"
    )
    parser.add_argument(
        "--protocol", type=Path, help="protocol file: acute-care settings and horizon (default CORE)"
    )
    parser.add_argument(
        "--exposure-days", type=_positive, default=30, help="peer support counts on days 0 to N (30)"
    )
    parser.add_argument(
        "--min-contacts", type=_positive, default=1, help="attended contacts that make exposure (1)"
    )
    parser.add_argument(
        "--every-discharge", action="store_true", help="every discharge is an index event, not the first"
    )
    parser.add_argument("--from", dest="period_start", type=_date, help="first discharge date of the period")
    parser.add_argument("--to", dest="period_end", type=_date, help="last discharge date of the period")
    parser.add_argument(
        "--data-end", type=_date, help="last day the data cover (default: the latest date in it)"
    )
    parser.add_argument("--no-pdf", action="store_true", help="write the HTML report only")
    group = parser.add_argument_group(f"{SYNTHESISE} only")
    group.add_argument("--persons", type=_positive, default=20000, help="persons to synthesise (20000)")
    group.add_argument("--seed", type=int, default=2018, help="random seed (2018)")
    group.add_argument("--csv", action="store_true", help="write CSV instead of Parquet")
    parser.set_defaults(func=handle)


def _fail(message: str) -> int:
    print(f"aftercrisis evaluate: {message}", file=sys.stderr)
    return 2


def handle(args: argparse.Namespace) -> int:
    if args.data == SYNTHESISE:
        from aftercrisis.evaluation.synthesise import synthesise

        started = time.perf_counter()
        planted = synthesise(args.persons, args.out, seed=args.seed, csv=args.csv)
        print(f"wrote {planted.persons:,} persons to {args.out} in {time.perf_counter() - started:.1f} s "
              f"(planted: team {planted.outlier_team} odds ratio {planted.outlier_odds_ratio}, exposure odds ratio "
              f"{planted.exposure_odds_ratio}; see planted.json)")  # fmt: skip
        return 0
    return _evaluate(args)


def _evaluate(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from aftercrisis import protocol as protocols
    from aftercrisis.evaluation import cohort
    from aftercrisis.evaluation.contract import ContractError
    from aftercrisis.evaluation.engines import open_tables
    from aftercrisis.evaluation.report import evaluate, write
    from aftercrisis.protocol import ProtocolError, load_protocol

    source = args.data
    if args.engine == "postgres":
        if not source.startswith(("postgres://", "postgresql://")):
            source = os.environ.get("DATABASE_URL", "") if source == "-" else source
        if not source.startswith(("postgres://", "postgresql://")):
            return _fail("with --engine postgres, DATA is a postgresql:// URL (or '-' for $DATABASE_URL)")
    elif args.spark_database is None and not Path(source).is_dir():
        return _fail(f"{source} is not a directory of routine data tables")
    try:
        protocol = load_protocol(args.protocol or Path(protocols.__file__).with_name("core.yaml"))
    except (ProtocolError, OSError) as error:
        return _fail(f"protocol: {error}")
    shown = source.split("@")[-1] if "://" in source else source  # never print a password
    with tqdm(total=6, desc="evaluate", unit="step", file=sys.stderr, leave=False) as bar:

        def step(name: str) -> None:
            bar.set_postfix_str(name)
            bar.update(1)

        try:
            with open_tables(source, args.engine, spark_master=args.spark_master,
                             spark_database=args.spark_database) as tables:  # fmt: skip
                present = {name: table for name, table in tables.items() if table is not None}
                try:
                    end = args.data_end or cohort.data_end(present)
                except KeyError:
                    end = dt.date.today()  # a table is missing: the check below names it
                definition = cohort.Definition.from_protocol(
                    protocol,
                    data_end=end,
                    exposure_days=args.exposure_days,
                    min_contacts=args.min_contacts,
                    every_discharge=args.every_discharge,
                    period_start=args.period_start,
                    period_end=args.period_end,
                )
                evaluation = evaluate(tables, definition, step=step)
        except ContractError as error:
            print(f"aftercrisis evaluate: {shown}: {error}", file=sys.stderr)
            return 1
        except ValueError as error:
            return _fail(str(error))
        step("report")
        write(evaluation, args.out, pdf=not args.no_pdf, source=f"{shown} ({args.engine})")
    print(
        f"wrote {args.out / 'results.json'}, {args.out / 'report.html'} and the tables and figures under {args.out}"
    )
    return 0
