"""`aftercrisis protocol check FILE`."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from aftercrisis.protocol.loader import ProtocolError, load_protocol


def check(args: argparse.Namespace) -> int:
    try:
        protocol = load_protocol(args.file)
    except FileNotFoundError:
        print(f"{args.file}: no such file", file=sys.stderr)
        return 2
    except ProtocolError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(
        f"{args.file}: valid — {protocol.trial.short_name} protocol {protocol.trial.protocol_version}, "
        f"{len(protocol.arms)} arms, {len(protocol.sites)} sites, {len(protocol.visits)} visits"
    )
    return 0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("protocol", help="work with protocol files")
    commands = parser.add_subparsers(dest="protocol_command", metavar="ACTION", required=True)
    check_parser = commands.add_parser(
        "check",
        help="validate a protocol file",
        description="Validate a protocol file; list every problem with its path and line.",
    )
    check_parser.add_argument("file", help="the protocol YAML file, e.g. protocols/core.yaml")
    check_parser.set_defaults(func=check)
