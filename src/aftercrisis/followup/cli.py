"""`aftercrisis reminders`: send follow-up reminders (daily, from cron)."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from typing import Any


def run(args: argparse.Namespace) -> int:
    from aftercrisis.config.django import setup

    setup()
    from tqdm import tqdm

    from aftercrisis.config.trial import protocol
    from aftercrisis.followup.reminders import send_reminders

    today = args.today or dt.date.today()
    with tqdm(desc="Sending reminders", unit=" reminders", file=sys.stderr, mininterval=1.0) as bar:
        counts = send_reminders(protocol(), today, dry_run=args.dry_run, progress=bar.update)
    verb = "would send" if args.dry_run else "sent"
    print(
        f"Reminders {verb}: {counts['email']} by e-mail, {counts['sms']} by text message, "
        f"{counts['letter']} by letter; {counts['unreachable']} participants have no usable contact details."
    )
    return 0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "reminders",
        help="send reminders for follow-up visits whose window is open (run daily from cron)",
        description="Send one reminder per open follow-up visit at most weekly, and log each as a contact attempt.",
    )
    parser.add_argument("--today", type=dt.date.fromisoformat, default=None, help="treat this date as today")
    parser.add_argument("--dry-run", action="store_true", help="count the reminders without sending any")
    parser.set_defaults(func=run)
