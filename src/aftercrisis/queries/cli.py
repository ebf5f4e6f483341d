"""`aftercrisis queries run`: run the automatic data checks (daily, from cron, like the reminders)."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from typing import Any


def run(args: argparse.Namespace) -> int:
    from aftercrisis.config.django import setup

    setup()
    from django.core.exceptions import ValidationError
    from tqdm import tqdm

    from aftercrisis.config.trial import protocol
    from aftercrisis.queries.services import run_checks

    today = args.today or dt.date.today()
    try:
        with tqdm(
            desc="Checking participants", unit=" participants", file=sys.stderr, mininterval=1.0
        ) as bar:
            summary = run_checks(protocol(), today, progress=bar.update)
    except ValidationError as exc:  # the database is locked
        print(f"aftercrisis queries run: {'; '.join(exc.messages)}", file=sys.stderr)
        return 1
    print(f"Checks run: {summary}.")
    return 0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "queries",
        help="data queries: run the automatic checks (daily, from cron)",
        description="Data queries raised by automatic checks and answered by the researchers at each site.",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    checks = actions.add_parser(
        "run",
        help="raise a query for each new discrepancy and close those whose discrepancy is gone",
        description="Run every automatic check over every randomised participant. Running it again raises no "
        "duplicate: a discrepancy already queried keeps its one query, and a query whose discrepancy is gone "
        "is closed with a note. Refused while the database is locked.",
    )
    checks.add_argument("--today", type=dt.date.fromisoformat, default=None, help="treat this date as today")
    checks.set_defaults(func=run)
