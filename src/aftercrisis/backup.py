"""Backups that restore: a consistent copy of the whole database and a manifest to check it against.

The manifest names every table (trial data, audit history, accounts, sessions) with its row count and a
SHA-256 of its rows read in primary-key order, so a restore is checked on what it holds, not on the bytes of
a file. SQLite is copied with its online backup API; PostgreSQL with `pg_dump --format=custom` from the same
snapshot the manifest is read from. A restore goes only into an empty database.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aftercrisis import __version__

BATCH = 2000


class BackupError(Exception):
    """A backup or restore that could not be done; nothing was changed."""


@dataclass(frozen=True)
class Database:
    """Where a database is, as Django's settings name it: a SQLite file (or URI) or a PostgreSQL server."""

    engine: str  # "sqlite" or "postgresql"
    name: str
    host: str = ""
    port: str = ""
    user: str = ""
    password: str = ""

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> Database:
        engine = settings["ENGINE"].rsplit(".", 1)[-1]
        if engine == "sqlite3":
            return cls("sqlite", str(settings["NAME"]))
        if engine == "postgresql":
            return cls(
                "postgresql",
                str(settings["NAME"]),
                str(settings.get("HOST") or ""),
                str(settings.get("PORT") or ""),
                str(settings.get("USER") or ""),
                str(settings.get("PASSWORD") or ""),
            )
        raise BackupError(f"backups support SQLite and PostgreSQL, not {settings['ENGINE']}")

    def connect(self) -> Any:
        if self.engine == "sqlite":
            return sqlite3.connect(self.name, uri=self.name.startswith("file:"))
        import psycopg

        return psycopg.connect(self.conninfo(with_password=True))

    def conninfo(self, *, with_password: bool = False) -> str:
        """A libpq connection string; the client programs get the password from PGPASSWORD instead."""
        from psycopg.conninfo import make_conninfo

        given = {"dbname": self.name, "host": self.host, "port": self.port, "user": self.user}
        if with_password:
            given["password"] = self.password
        return make_conninfo(**{k: v for k, v in given.items() if v})

    def tables(self, cursor: Any) -> list[str]:
        if self.engine == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        else:
            cursor.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename"
            )
        return sorted(row[0] for row in cursor.fetchall())

    def order_columns(self, cursor: Any, table: str) -> list[str]:
        """The primary key's columns; every column for a table without one."""
        if self.engine == "sqlite":
            cursor.execute(f'PRAGMA table_info("{table}")')
            columns = cursor.fetchall()
            key = [c[1] for c in sorted(columns, key=lambda c: c[5]) if c[5]]
            return key or [c[1] for c in columns]
        cursor.execute(
            "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
            "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = %s::regclass AND i.indisprimary",
            [f'"{table}"'],
        )
        key = [row[0] for row in cursor.fetchall()]
        if key:
            return key
        cursor.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
            "AND table_name = %s ORDER BY ordinal_position",
            [table],
        )
        return [row[0] for row in cursor.fetchall()]


def table_digests(database: Database, connection: Any) -> dict[str, dict[str, int | str]]:
    """Row count and SHA-256 of each table, its rows read in primary-key order and written as JSON lines."""
    cursor = connection.cursor()
    digests: dict[str, dict[str, int | str]] = {}
    for table in database.tables(cursor):
        order = ", ".join(f'"{c}"' for c in database.order_columns(cursor, table))
        cursor.execute(f'SELECT * FROM "{table}" ORDER BY {order}')
        digest, rows = hashlib.sha256(), 0
        while batch := cursor.fetchmany(BATCH):
            for row in batch:
                digest.update(json.dumps(list(row), default=str, sort_keys=True).encode() + b"\n")
            rows += len(batch)
        digests[table] = {"rows": rows, "sha256": digest.hexdigest()}
    return digests


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _pg_program(name: str) -> str:
    """The newest PostgreSQL client of that name: Debian keeps each version's under /usr/lib/postgresql."""
    versions = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), key=lambda p: int(p.parts[-3]))
    found = str(versions[-1]) if versions else shutil.which(name)
    if not found:
        raise BackupError(f"{name} is not installed (Debian: apt-get install postgresql-client)")
    return found


def _pg_env(database: Database) -> dict[str, str]:
    env = dict(os.environ)
    if database.password:
        env["PGPASSWORD"] = database.password
    return env


def backup(database: Database, directory: Path, now: dt.datetime | None = None) -> Path:
    """Write DIRECTORY/aftercrisis-<UTC time>.{sqlite3,pgdump} and its manifest (.json); return the manifest."""
    directory.mkdir(parents=True, exist_ok=True)
    stamp = (now or dt.datetime.now(dt.UTC)).strftime("%Y%m%dT%H%M%SZ")
    data = directory / f"aftercrisis-{stamp}.{'sqlite3' if database.engine == 'sqlite' else 'pgdump'}"
    if data.exists():
        raise BackupError(f"{data} already exists")
    if database.engine == "sqlite":
        source, copy = database.connect(), sqlite3.connect(data)
        try:
            source.backup(copy)
            tables = table_digests(database, copy)  # read from the copy: exactly what it holds
        finally:
            source.close()
            copy.close()
    else:
        with _pg_snapshot(database) as (connection, snapshot):
            result = subprocess.run(
                [_pg_program("pg_dump"), "--format=custom", f"--snapshot={snapshot}", f"--file={data}",
                 f"--dbname={database.conninfo()}"],
                env=_pg_env(database), capture_output=True, text=True, check=False,
            )  # fmt: skip
            if result.returncode != 0:
                data.unlink(missing_ok=True)
                raise BackupError(f"pg_dump failed: {result.stderr.strip()}")
            tables = table_digests(database, connection)
    manifest = {
        "created": stamp,
        "software_version": __version__,
        "engine": database.engine,
        "file": data.name,
        "file_sha256": _file_sha256(data),
        "tables": tables,
    }
    path = data.with_suffix(".json")
    path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return path


@contextmanager
def _pg_snapshot(database: Database) -> Iterator[tuple[Any, str]]:
    """A repeatable-read transaction and its exported snapshot, for pg_dump to read the same data."""
    connection = database.connect()
    connection.autocommit = True  # so that BEGIN below opens the transaction, with its isolation level
    try:
        cursor = connection.cursor()
        cursor.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        cursor.execute("SELECT pg_export_snapshot()")
        yield connection, cursor.fetchone()[0]
    finally:
        connection.execute("ROLLBACK")
        connection.close()


@dataclass(frozen=True)
class Restored:
    tables: int
    rows: int
    mismatches: list[str]


def read_manifest(file: Path) -> tuple[dict[str, Any], Path]:
    """The manifest of a backup, given the manifest or the data file beside it, and the data file."""
    manifest_path = file if file.suffix == ".json" else file.with_suffix(".json")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BackupError(f"cannot read the manifest {manifest_path}: {exc}") from exc
    return manifest, manifest_path.with_name(manifest["file"])


def restore(file: Path, database: Database) -> Restored:
    """Restore a backup into `database`, which must be empty, then check it against the manifest."""
    manifest, data = read_manifest(file)
    if manifest["engine"] != database.engine:
        raise BackupError(f"{data.name} is a {manifest['engine']} backup; this database is {database.engine}")
    if not data.is_file() or _file_sha256(data) != manifest["file_sha256"]:
        raise BackupError(f"{data} is missing or not the file the manifest describes; nothing was restored")
    connection = database.connect()
    try:
        present = database.tables(connection.cursor())
    finally:
        connection.close()
    if present:
        raise BackupError(
            f"the database {database.name} already holds {len(present)} tables; "
            "restore only into an empty database (nothing was changed)"
        )
    if database.engine == "sqlite":
        source, target = sqlite3.connect(data), database.connect()
        try:
            source.backup(target)
        finally:
            source.close()
            target.close()
    else:
        result = subprocess.run(
            [_pg_program("pg_restore"), "--no-owner", "--no-privileges", "--single-transaction", "--exit-on-error",
             f"--dbname={database.conninfo()}", str(data)],
            env=_pg_env(database), capture_output=True, text=True, check=False,
        )  # fmt: skip
        if result.returncode != 0:
            raise BackupError(f"pg_restore failed: {result.stderr.strip()}")
    return verify(manifest, database)


def verify(manifest: Mapping[str, Any], database: Database) -> Restored:
    """Compare a database with a manifest: each table's row count and checksum."""
    connection = database.connect()
    try:
        found = table_digests(database, connection)
    finally:
        connection.close()
    expected: dict[str, dict[str, Any]] = manifest["tables"]
    mismatches = [f"{t}: missing" for t in sorted(set(expected) - set(found))]
    mismatches += [f"{t}: not in the backup" for t in sorted(set(found) - set(expected))]
    for table in sorted(set(expected) & set(found)):
        want, got = expected[table], found[table]
        if want["rows"] != got["rows"]:
            mismatches.append(f"{table}: {got['rows']} rows, the manifest says {want['rows']}")
        elif want["sha256"] != got["sha256"]:
            mismatches.append(f"{table}: the rows differ from the manifest's checksum")
    rows = sum(int(d["rows"]) for d in found.values())
    return Restored(tables=len(found), rows=rows, mismatches=mismatches)
