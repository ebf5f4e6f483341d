"""`aftercrisis manage ...` and `aftercrisis serve`: Django's own commands, with our settings."""

from __future__ import annotations

import argparse
import os
from typing import Any


def manage(args: argparse.Namespace) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aftercrisis.config.settings.dev")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["aftercrisis manage", *args.arguments])
    return 0


def serve(args: argparse.Namespace) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aftercrisis.config.settings.dev")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["aftercrisis manage", "runserver", "--noreload", args.address])
    return 0


def register(subparsers: Any) -> None:
    manage_parser = subparsers.add_parser(
        "manage", help="run a Django management command (migrate, createsuperuser, ...)", add_help=False
    )
    manage_parser.add_argument("arguments", nargs=argparse.REMAINDER)
    manage_parser.set_defaults(func=manage)
    serve_parser = subparsers.add_parser("serve", help="serve the web application for local use")
    serve_parser.add_argument(
        "address", nargs="?", default="127.0.0.1:8000", help="address:port (default 127.0.0.1:8000)"
    )
    serve_parser.set_defaults(func=serve)
