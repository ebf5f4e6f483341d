"""The `aftercrisis` command line: one entry point, one module per capability."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from aftercrisis import __version__

# Each module defines register(subparsers) and sets func=handler(args) -> exit code.
COMMAND_MODULES = [
    "aftercrisis.protocol.cli",
    "aftercrisis.design.cli",
    "aftercrisis.config.cli",
    "aftercrisis.demo.cli",
    "aftercrisis.followup.cli",
    "aftercrisis.queries.cli",
    "aftercrisis.analysis.cli",
    "aftercrisis.randomisation.cli",
    "aftercrisis.evaluation.cli",
    "aftercrisis.exchange.cli",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aftercrisis",
        description="Run a peer-supported self-management programme after crisis care, its trial and its analysis.",
    )
    parser.add_argument("--version", action="version", version=f"aftercrisis {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
