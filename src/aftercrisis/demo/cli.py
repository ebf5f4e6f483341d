"""`aftercrisis demo`: a complete demo trial in the configured database."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from typing import Any

from aftercrisis.demo import DEMO_PARTICIPANTS, DEMO_SEED


def run(args: argparse.Namespace) -> int:
    from aftercrisis.config.django import setup

    setup()
    from django.conf import settings
    from django.core.management import call_command
    from tqdm import tqdm

    from aftercrisis.accounts.models import User
    from aftercrisis.config.trial import protocol
    from aftercrisis.demo.loader import DEMO_PASSWORD, load_demo

    # Debugging keeps every query for a page to show; the load makes tens of thousands and shows none.
    settings.DEBUG = False
    call_command("migrate", verbosity=0)
    if User.objects.exists():
        if not args.reset:
            print(
                "The database already holds a trial or staff; run with --reset to replace it with the demo.",
                file=sys.stderr,
            )
            return 1
        call_command("flush", interactive=False, verbosity=0)
    bar = tqdm(total=1, desc="Loading the demo trial", unit=" participants", file=sys.stderr, mininterval=1.0)

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.update(done - bar.n)

    logins = load_demo(
        protocol(), seed=args.seed, today=args.today, size=args.participants, progress=progress
    )
    bar.close()
    print(f"\nDemo trial loaded. Every demo login uses the password: {DEMO_PASSWORD}\n")
    role_width = max(len(login.role.label) for login in logins)
    width = max(len(login.username) for login in logins)
    for login in logins:
        print(f"  {login.role.label:<{role_width}}  {login.username:<{width}}  {login.name} ({login.where})")
    return 0


def _participants(text: str) -> int:
    number = int(text)
    if number < 2:  # the smallest trial the simulator draws
        raise argparse.ArgumentTypeError(f"the demo needs at least 2 participants, not {text}")
    return number


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="load the demo trial (a CORE-like trial with six sites) into the database",
        description="Load a complete demo trial through the application's services and print the demo logins.",
    )
    parser.add_argument("--reset", action="store_true", help="replace the trial data already in the database")
    parser.add_argument(
        "--seed",
        type=int,
        default=DEMO_SEED,
        help=f"seed of the simulated trial (default {DEMO_SEED}, CORE-like)",
    )
    parser.add_argument(
        "--participants",
        type=_participants,
        default=DEMO_PARTICIPANTS,
        metavar="N",
        help=f"randomised participants in the demo trial (default {DEMO_PARTICIPANTS}, as in CORE)",
    )
    parser.add_argument(
        "--today",
        type=dt.date.fromisoformat,
        default=None,
        help="the date the demo treats as today (YYYY-MM-DD)",
    )
    parser.set_defaults(func=run)
