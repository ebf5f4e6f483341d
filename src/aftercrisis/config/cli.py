"""`aftercrisis init`, `manage ...`, `serve`, `backup` and `restore`: running an installation."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any


def init(args: argparse.Namespace) -> int:
    from aftercrisis.config.home import init as make_home

    try:
        made = make_home(Path(args.directory))
    except (FileExistsError, OSError) as exc:
        print(exc, file=sys.stderr)
        return 1
    for path in made:
        print(f"  {path}")
    home = made[0].parent
    print(
        f"\nEdit {home / 'protocol.yaml'} and {home / 'aftercrisis.env'}, then, in {home}:\n"
        "  aftercrisis manage migrate       create the database\n"
        "  aftercrisis demo                 or load the demo trial to try it\n"
        "  aftercrisis serve --production   serve it with gunicorn"
    )
    return 0


def manage(args: argparse.Namespace) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aftercrisis.config.settings.dev")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["aftercrisis manage", *args.arguments])
    return 0


def serve(args: argparse.Namespace) -> int:
    if args.production:
        return serve_production(args.address or os.environ.get("AFTERCRISIS_BIND", "127.0.0.1:8000"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aftercrisis.config.settings.dev")
    from django.core.management import execute_from_command_line

    execute_from_command_line(
        ["aftercrisis manage", "runserver", "--noreload", args.address or "127.0.0.1:8000"]
    )
    return 0


def serve_production(address: str) -> int:
    """Collect the static files and print the blank workbook, then become gunicorn (so a service manager's
    signals reach it)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aftercrisis.config.settings.production")
    from django.core.management import call_command

    from aftercrisis.config.django import setup

    setup()
    call_command("collectstatic", interactive=False, verbosity=0)
    from aftercrisis.config.trial import protocol
    from aftercrisis.workbook.pdf import blank_workbook_pdf

    # Printed once into the cache the workers share, before any of them answers: not once by each at the start.
    blank_workbook_pdf(protocol())
    workers = (
        os.environ.get("AFTERCRISIS_WORKERS")
        or os.environ.get("WEB_CONCURRENCY")
        or str(2 * (os.cpu_count() or 1) + 1)
    )
    threads = os.environ.get("AFTERCRISIS_THREADS", "4")
    command = [sys.executable, "-m", "gunicorn", "aftercrisis.config.wsgi:application", "--bind", address,
               "--workers", workers, "--threads", threads, "--timeout", "120", "--no-control-socket",
               "--logger-class", "aftercrisis.config.logs.GunicornLogger"]  # fmt: skip
    os.execv(sys.executable, command)


def backup(args: argparse.Namespace) -> int:
    from aftercrisis.backup import BackupError, Database
    from aftercrisis.backup import backup as make_backup
    from aftercrisis.config.django import setup

    setup()
    from django.conf import settings

    try:
        manifest = make_backup(Database.from_settings(settings.DATABASES["default"]), Path(args.directory))
    except (BackupError, OSError) as exc:
        print(f"No backup made: {exc}", file=sys.stderr)
        return 1
    written = json.loads(manifest.read_text())
    rows = sum(t["rows"] for t in written["tables"].values())
    print(f"Backed up {len(written['tables'])} tables, {rows} rows: {manifest.with_name(written['file'])}")
    print(f"Manifest: {manifest}")
    return 0


def restore(args: argparse.Namespace) -> int:
    from aftercrisis.backup import BackupError, Database
    from aftercrisis.backup import restore as restore_backup
    from aftercrisis.config.django import setup

    setup()
    from django.conf import settings

    try:
        restored = restore_backup(Path(args.file), Database.from_settings(settings.DATABASES["default"]))
    except (BackupError, OSError) as exc:
        print(f"Not restored: {exc}", file=sys.stderr)
        return 1
    if restored.mismatches:
        print("Restored, but the database does not match the manifest:", file=sys.stderr)
        for mismatch in restored.mismatches:
            print(f"  {mismatch}", file=sys.stderr)
        return 1
    print(
        f"Restored {restored.tables} tables, {restored.rows} rows; every row count and checksum matches the manifest."
    )
    return 0


def register(subparsers: Any) -> None:
    init_parser = subparsers.add_parser(
        "init",
        help="create a working directory: settings file, a protocol to edit, data folder",
        description="Create DIRECTORY with aftercrisis.env (settings, with a new secret key), protocol.yaml "
        "(the CORE protocol, to edit) and var/ (the SQLite database and static files). Commands run in "
        "DIRECTORY, or with AFTERCRISIS_HOME set to it, use them.",
    )
    init_parser.add_argument("directory", help="the directory to create or fill")
    init_parser.set_defaults(func=init)
    manage_parser = subparsers.add_parser(
        "manage", help="run a Django management command (migrate, createsuperuser, ...)", add_help=False
    )
    manage_parser.add_argument("arguments", nargs=argparse.REMAINDER)
    manage_parser.set_defaults(func=manage)
    serve_parser = subparsers.add_parser(
        "serve",
        help="serve the web application (for local use, or --production)",
        description="Serve the web application. Without --production, Django's development server with the demo "
        "settings. With --production, gunicorn under the production settings: static files collected into "
        "AFTERCRISIS_HOME/var/static and served with hashed names, the blank workbook printed into the cache the "
        "workers share; AFTERCRISIS_WORKERS (or WEB_CONCURRENCY, "
        "default 2 x cores + 1) worker processes of AFTERCRISIS_THREADS threads (default 4) each.",
    )
    serve_parser.add_argument(
        "address",
        nargs="?",
        help="address:port (default AFTERCRISIS_BIND with --production, else 127.0.0.1:8000)",
    )
    serve_parser.add_argument(
        "--production", action="store_true", help="serve with gunicorn under the production settings"
    )
    serve_parser.set_defaults(func=serve)
    backup_parser = subparsers.add_parser(
        "backup",
        help="back up the whole database, with a manifest to check a restore against",
        description="Copy the configured database into DIRECTORY as aftercrisis-<UTC time>.sqlite3 (SQLite's "
        "online backup) or .pgdump (pg_dump custom format), beside a manifest (.json) with each table's row "
        "count and SHA-256 of its rows, audit history included. Safe while the application is serving.",
    )
    backup_parser.add_argument("directory", help="where to write the backup and its manifest")
    backup_parser.set_defaults(func=backup)
    restore_parser = subparsers.add_parser(
        "restore",
        help="restore a backup into an empty database and check it against its manifest",
        description="Restore FILE (the backup or its manifest) into the configured database, which must be "
        "empty, then compare every table's row count and checksum with the manifest.",
    )
    restore_parser.add_argument("file", help="the backup's .sqlite3/.pgdump file or its .json manifest")
    restore_parser.set_defaults(func=restore)
