"""CPU of one randomisation in the server's own process, and where it goes.

Builds participants ready to randomise and the trial managers told of each allocation (through the
services, as benchmarks/randomise.py does) in a fresh database (SQLite, or beside the PostgreSQL database
DATABASE_URL names), then, in this process under the production settings as the benchmark serves them
(DEBUG off, HTTPS through a proxy, two-factor sign-in, every e-mail and letter written to a file), signs
in one trial manager through the login form and the two-factor step and posts the randomise page for each
participant in turn, with its CSRF token, as the benchmark's clients do. Prints the CPU milliseconds of
each randomisation (time.process_time: the median and the mean over the posts after a few to warm up),
the SQL queries each makes, and with --profile the functions that took the most CPU under cProfile:

    python benchmarks/randomise_cpu.py [--participants 200] [--managers 200] [--timeline] [--queries]
                                       [--profile [--sort tottime] [--top 40] [--callers NAME]]
"""

from __future__ import annotations

import argparse
import cProfile
import math
import os
import pstats
import re
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.randomisation.served import build_world, server_env
from tests.server import fresh_database

WARM_UP = 5


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=200)
    parser.add_argument(
        "--managers",
        type=int,
        default=200,
        help="trial managers, each told of every allocation, as the benchmark has",
    )
    parser.add_argument("--profile", action="store_true", help="print the functions that took the most CPU")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--queries", action="store_true", help="print the SQL of one randomisation")
    parser.add_argument("--callers", default="", help="print the callers of the functions matching this")
    parser.add_argument(
        "--timeline",
        action="store_true",
        help="the CPU before and in each SQL query, averaged over the posts",
    )
    parser.add_argument("--sort", default="tottime", help="cProfile's sort key (tottime, cumulative)")
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="aftercrisis-cpu.") as tmp,
        fresh_database(Path(tmp)) as database_url,
    ):
        directory = Path(tmp)
        env = server_env(database_url, directory, production=True)
        env["ALLOWED_HOSTS"] = "testserver"
        count = args.participants + WARM_UP
        world = build_world(env, per_site=math.ceil(count / 6), managers=args.managers)
        os.environ.update(env)
        measure(world.trial_ids[:count], world.managers[0], args)


def measure(trial_ids: list[str], account: dict[str, str], args: argparse.Namespace) -> None:
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django_otp.oath import totp

    client = Client(enforce_csrf_checks=True, HTTP_X_FORWARDED_PROTO="https")

    def post(path: str, form: dict[str, str]) -> int:
        return client.post(
            path,
            form,
            secure=True,
            HTTP_REFERER=f"https://testserver{path}",
            HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value,
        ).status_code

    def submit(path: str, form: dict[str, str]) -> int:
        client.get(path, secure=True)
        return post(path, form)

    assert (
        submit("/account/login/", {"username": account["username"], "password": account["password"]}) == 302
    )
    assert submit("/account/two-factor/", {"token": f"{totp(bytes.fromhex(account['totp_key'])):06d}"}) == 302

    def randomise(trial_id: str) -> None:
        # The messages a browser would have shown on the page it was sent to (the benchmark's clients
        # post a few times each, so theirs never overflow the cookie into the session).
        client.cookies.pop("messages", None)
        assert post(f"/participants/{trial_id}/randomise/", {}) == 302

    warm = []
    for trial_id in trial_ids[:WARM_UP]:
        started = time.process_time()
        randomise(trial_id)
        warm.append(f"{(time.process_time() - started) * 1000:.0f}")
    print(f"the first {WARM_UP} randomisations, CPU ms each: {', '.join(warm)}")
    measured = trial_ids[WARM_UP:]
    queries: list[str] = []

    def count(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        queries.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        randomise(measured[0])
    if args.timeline:  # instead of the clock over each post: the participants are the same
        timeline(randomise, measured[1:], connection)
        return
    cpu = []
    profile = cProfile.Profile() if args.profile else None
    for trial_id in measured[1:]:
        started = time.process_time()
        if profile:
            profile.enable()
        randomise(trial_id)
        if profile:
            profile.disable()
        cpu.append((time.process_time() - started) * 1000)
    print(
        f"{len(cpu)} randomisations through the page, CPU ms each: median {statistics.median(cpu):.2f}, "
        f"mean {statistics.fmean(cpu):.2f}; {len(queries)} SQL queries each ({connection.display_name})"
    )
    if args.queries:
        print("\n".join(f"  {sql[:300]}" for sql in queries))
    if profile:
        stats = pstats.Stats(profile).strip_dirs().sort_stats(args.sort)
        stats.print_stats(args.top)
        if args.callers:
            stats.print_callers(args.callers)


def timeline(randomise: Callable[[str], None], trial_ids: list[str], connection: Any) -> None:
    """Each query's CPU milliseconds: in Python since the query before (building it, reading the one
    before), and in the driver and database library; averaged over the posts that made it."""
    clock = time.process_time
    before: dict[str, list[float]] = defaultdict(list)
    inside: dict[str, list[float]] = defaultdict(list)
    order: list[str] = []
    last = [0.0]
    seen: Counter[str] = Counter()

    def timed(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        started = clock()
        label = re.sub(r"\s+", " ", sql)[:90]
        seen[label] += 1
        label = f"{label} #{seen[label]}" if seen[label] > 1 else label
        if label not in order:
            order.append(label)
        before[label].append(started - last[0])
        try:
            return execute(sql, params, many, context)
        finally:
            last[0] = clock()
            inside[label].append(last[0] - started)

    for trial_id in trial_ids:
        last[0] = clock()
        seen.clear()

        with connection.execute_wrapper(timed):
            randomise(trial_id)
        before["(after the last query)"].append(clock() - last[0])
    order.append("(after the last query)")
    inside["(after the last query)"] = [0.0]
    posts = len(trial_ids)
    print(f"{'before':>7} {'in':>6} {'posts':>5}  query (CPU ms, mean over the posts that made it)")
    for label in order:
        b, i = before[label], inside[label]
        print(f"{statistics.fmean(b) * 1000:7.2f} {statistics.fmean(i) * 1000:6.2f} {len(b):5d}  {label}")
    total = sum(sum(v) for v in before.values()) + sum(sum(v) for v in inside.values())
    print(f"total {total / posts * 1000:.2f} ms a post")


if __name__ == "__main__":
    main()
