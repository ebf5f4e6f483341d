"""Randomisations per second through the production server, with 200 users at once.

Builds 1,000 participants ready to randomise (through the services) in a fresh database, serves it
with gunicorn under the production settings (as `aftercrisis serve --production` does: 2 x cores + 1
worker processes of 4 threads), signs in 200 trial managers through the login form and the two-factor
step, and has them randomise everyone at once, each posting its share one after another, a few as
double clicks. Then it counts, in the database and in the e-mails and letters the server wrote:

    python benchmarks/randomise.py [--participants 1000] [--clients 200] [--doubles 50]
                                   [--database sqlite postgresql]

SQLite is a file in a temporary directory. PostgreSQL is a new database on the server DATABASE_URL
names or, without one, a throwaway server started here (as root, from Debian's PostgreSQL). The last
line is `allocations/s: N` (PostgreSQL's when it ran). Target: at least 100 allocations/s on PostgreSQL,
with no duplicates, no gaps, no server errors and exactly one set of notifications per allocation.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.randomisation.served import (
    build_world,
    double_clicks,
    examine,
    gunicorn,
    randomise_at_once,
    server_env,
    sign_in_all,
)
from tests.server import free_port, fresh_database


@contextlib.contextmanager
def throwaway_postgresql() -> Iterator[str]:
    """A PostgreSQL server of its own, for this run only (needs root, as initdb runs as postgres)."""
    pgbin = sorted(Path("/usr/lib/postgresql").glob("*/bin"))[-1]
    home = Path(tempfile.mkdtemp(prefix="aftercrisis-bench-pg."))
    shutil.chown(home, "postgres", "postgres")
    home.chmod(0o755)
    port = free_port()

    def as_postgres(*command: str) -> None:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", *command], cwd=home, check=True, capture_output=True
        )

    try:
        as_postgres(str(pgbin / "initdb"), "-D", str(home / "data"), "-U", "postgres", "-A", "trust",
                    "-E", "UTF8", "--locale=C.UTF-8", "--no-sync")  # fmt: skip
        as_postgres(str(pgbin / "pg_ctl"), "-D", str(home / "data"), "-l", str(home / "server.log"), "-w",
                    "-t", "30", "start", "-o", f"-c listen_addresses=127.0.0.1 -p {port} -k {home} "
                    "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300")  # fmt: skip
        yield f"postgres://postgres@127.0.0.1:{port}/postgres"
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):
            as_postgres(str(pgbin / "pg_ctl"), "-D", str(home / "data"), "-m", "fast", "-w", "stop")
        shutil.rmtree(home, ignore_errors=True)


def run(kind: str, server_url: str, args: argparse.Namespace) -> float:
    workers = 2 * (os.cpu_count() or 1) + 1
    with tempfile.TemporaryDirectory(prefix="aftercrisis-bench.") as tmp:
        directory = Path(tmp)
        os.environ["DATABASE_URL"] = server_url  # where the fresh database is made: none for SQLite
        with fresh_database(directory) as database_url:
            env = server_env(database_url, directory, production=True)
            print(f"== {kind}: building {args.participants} participants and {args.clients} trial managers",
                  flush=True)  # fmt: skip
            world = build_world(env, per_site=math.ceil(args.participants / 6), managers=args.clients)
            work = double_clicks(world.trial_ids[: args.participants], args.doubles)
            with gunicorn(env, workers=workers, threads=4) as port:
                browsers = sign_in_all(port, world.managers, production=True)
                statuses, seconds = randomise_at_once(browsers, work, clients=args.clients)
            day = examine(database_url, directory / "outbox")
            log = (directory / "gunicorn.log").read_text(errors="replace").splitlines()
    failures = Counter(
        f"{entry.get('error', '')} {entry.get('message', '')}"[:200]
        for entry in (json.loads(line) for line in log if line.startswith("{"))
        if entry.get("level") == "ERROR" and "/healthz" not in entry.get("message", "")
    )
    allocated = len(day.allocations)
    per_second = allocated / seconds
    twice = sum(n - 1 for n in Counter(t for t, *_ in day.allocations).values())
    errors = sum(1 for s in statuses if s >= 500 or s == 0)
    sets = sum(1 for t, *_ in day.allocations if t in day.notices)
    print(
        f"{kind}: {allocated} allocations from {len(statuses)} requests ({args.doubles} double clicks) by "
        f"{args.clients} users, gunicorn {workers} workers x 4 threads\n"
        f"  {seconds:.1f} s, allocations/s: {per_second:.0f}\n"
        f"  participants allocated twice: {twice}, list positions used twice: {day.duplicate_positions()}, "
        f"gaps: {day.gaps()}\n"
        f"  server errors: {errors}, statuses: {dict(sorted(Counter(statuses).items()))}\n"
        f"  notification sets per allocation: {sets / max(allocated, 1):.2f} "
        f"(allocations with other than one set: {len(day.wrong_notices())}), "
        f"caseload assignments wrong: {len(day.wrong_assignments())}",
        flush=True,
    )
    for line, n in failures.most_common(3):
        print(f"  {n} x {line}")
    return per_second


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--doubles", type=int, default=50, help="participants posted twice at once")
    parser.add_argument(
        "--database", nargs="+", choices=["sqlite", "postgresql"], default=["sqlite", "postgresql"]
    )
    args = parser.parse_args()
    results = {}
    if "sqlite" in args.database:
        results["sqlite"] = run("SQLite", "", args)
    if "postgresql" in args.database:
        given = os.environ.get("DATABASE_URL", "")
        if given.startswith("postgres"):
            results["postgresql"] = run("PostgreSQL", given, args)
        elif os.geteuid() == 0:
            with throwaway_postgresql() as url:
                results["postgresql"] = run("PostgreSQL", url, args)
        else:
            print("PostgreSQL: skipped (set DATABASE_URL, or run as root for a throwaway server)")
    last = results.get("postgresql", results.get("sqlite", 0.0))
    print(f"allocations/s: {last:.0f}")


if __name__ == "__main__":
    main()
