"""Latency of every role's pages through the production server, 20 users browsing a large trial at once.

Loads the demo trial (`aftercrisis demo --participants N`, through the services) into a fresh database,
serves it with gunicorn under the production settings (as `aftercrisis serve --production` does:
2 x cores + 1 worker processes of 4 threads, static files from WhiteNoise), signs in one account per
simulated user through the login form and the two-factor step (each with its own authenticator, as a
code cannot be used twice), and has every user browse its role's pages, one request after another, for
the given time. Prints requests per second, p50/p95/p99 per page, the most SQL queries any page made
(the benchmark's settings count them: benchmarks/web_settings.py), and last `p95: N ms`. With `--pause S`
the same users then browse again for the same time, each pausing about S seconds between pages as people do,
and that workload's figures are printed too (before the last line, which stays the figure without pauses).

    python benchmarks/web.py [--participants 10000] [--users 20] [--seconds 60] [--pause 0]
                             [--database sqlite|postgresql]

SQLite is a file in a temporary directory. PostgreSQL is a new database on the server DATABASE_URL names
or, without one, a throwaway server started here (as root). Target: p95 <= 150 ms at 20 users, at most
10 queries a page. Traffic goes to 127.0.0.1 only, for a bounded time.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.randomise import throwaway_postgresql  # noqa: E402
from tests.randomisation.served import Browser, gunicorn, server_env, sign_in_all  # noqa: E402
from tests.server import fresh_database  # noqa: E402

# Who browses: demo logins in turn; a login already browsing is copied into a new account of the same role.
MIX = [
    "manager", "researcher1", "psw.cam", "manager", "researcher2", "psw.isl", "statistician", "referrer.cam",
    "manager", "researcher3", "psw.har", "chief", "referrer.isl", "manager", "researcher1", "psw.enf",
    "lists", "referrer.har", "manager", "statistician",
]  # fmt: skip
# Each role's pages; {trial_id} is one of the participants the account may open.
PAGES = {
    "trial_manager": [
        "/recruitment/", "/participants/", "/participants/?site=CAM&status=randomised", "/participants/?page=2",
        "/participants/{trial_id}/", "/participants/{trial_id}/history/", "/recruitment/screening-log/",
        "/peer-support/dispatch/", "/peer-support/dispatch/{trial_id}/", "/peer-support/supervision/",
        "/peer-support/fidelity/", "/randomisation/unblinding/", "/reports/", "/outcomes/safety/",
        "/outcomes/episodes/reconcile/", "/sites/", "/workbook/blank.pdf",
    ],
    "researcher": [
        "/worklist/", "/participants/", "/participants/{trial_id}/", "/worklist/{trial_id}/m18/",
        "/outcomes/{trial_id}/episodes/", "/recruitment/referrals/", "/recruitment/screening-log/",
        "/outcomes/safety/",
    ],
    "peer_support_worker": ["/caseload/", "/caseload/{trial_id}/", "/caseload/{trial_id}/sessions/new/"],
    "statistician": ["/reports/", "/reports/trial-report/"],
    "referrer": ["/recruitment/referrals/", "/randomisation/unblinding/mine/"],
    "chief_investigator": ["/outcomes/safety/"],
    "randomisation_statistician": ["/randomisation/allocation-lists/"],
}  # fmt: skip


def _accounts(users: int) -> None:
    """Run in its own process under the served settings: the static files and the blank workbook printed into
    the shared cache (as `aftercrisis serve --production` does before its workers start), then one account
    per user."""
    import django

    django.setup()
    from django.core.management import call_command
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from aftercrisis.accounts.models import User
    from aftercrisis.accounts.selectors import actor_for
    from aftercrisis.accounts.services import create_staff
    from aftercrisis.demo.loader import DEMO_PASSWORD
    from aftercrisis.participants.selectors import participants_for

    call_command("collectstatic", interactive=False, verbosity=0)
    from aftercrisis.config.trial import protocol
    from aftercrisis.workbook.pdf import blank_workbook_pdf

    blank_workbook_pdf(protocol())
    accounts, used = [], set()
    for k in range(users):
        demo = User.objects.get(username=MIX[k % len(MIX)])
        user = demo
        if demo.username in used:  # a copy: its own account and authenticator, the same roles
            user = create_staff(
                username=f"bench-{k}", password=DEMO_PASSWORD, first_name=demo.first_name,
                last_name=f"{demo.last_name} {k}", email=f"bench-{k}@example.org",
                roles=[(a.role, a.site) for a in demo.role_assignments.all()],
            )  # fmt: skip
        used.add(demo.username)
        actor = actor_for(user, None)
        assert actor is not None
        device = TOTPDevice.objects.create(user=user, name="benchmark", confirmed=True)
        scope = participants_for(actor).filter(allocation__isnull=False).order_by("?")
        accounts.append(
            {
                "username": user.username,
                "password": DEMO_PASSWORD,
                "totp_key": device.key,
                "role": actor.role.value,
                "trial_ids": list(scope.values_list("trial_id", flat=True)[:25]),
            }
        )
    json.dump(accounts, sys.stdout)


def _load(env: dict[str, str], participants: int) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", "import sys; from aftercrisis.cli import main; sys.exit(main(sys.argv[1:]))",
         "demo", "--participants", str(participants)],
        env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    return time.perf_counter() - started


def _browse(
    browsers: list[Browser], accounts: list[dict], seconds: float, pause: float = 0.0
) -> dict[str, list[tuple]]:
    """Every user at once, one page after another until time is up, each pausing between pages for a random
    0.5 to 1.5 times `pause` seconds (none by default): (seconds, status, queries) per page."""
    seen: dict[str, list[tuple[float, int, int]]] = defaultdict(list)
    lock = threading.Lock()
    barrier = threading.Barrier(len(browsers) + 1)
    deadline = [0.0]

    def user(k: int) -> None:
        rng = random.Random(k)
        pages, ids = PAGES[accounts[k]["role"]], accounts[k]["trial_ids"] or ["none"]
        barrier.wait()
        while time.perf_counter() < deadline[0]:
            page = rng.choice(pages)
            started = time.perf_counter()
            try:
                answer = browsers[k].get(page.format(trial_id=rng.choice(ids)))
                status, queries = answer.status, int(answer.headers.get("X-Queries", "-1"))
            except (OSError, http.client.HTTPException):
                status, queries = 0, -1
            with lock:
                seen[page].append((time.perf_counter() - started, status, queries))
            if pause:
                time.sleep(pause * rng.uniform(0.5, 1.5))

    threads = [threading.Thread(target=user, args=(k,)) for k in range(len(browsers))]
    for t in threads:
        t.start()
    deadline[0] = time.perf_counter() + seconds
    barrier.wait()
    for t in threads:
        t.join()
    return seen


def _ms(values: list[float], q: float) -> float:
    return (
        1000 * statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]
        if len(values) > 1
        else 1000 * values[0]
    )


def run(kind: str, args: argparse.Namespace) -> float:
    workers = 2 * (os.cpu_count() or 1) + 1
    with tempfile.TemporaryDirectory(prefix="aftercrisis-bench.") as tmp:
        directory = Path(tmp)
        with fresh_database(directory) as database_url:
            env = server_env(database_url, directory, production=True)
            env["DJANGO_SETTINGS_MODULE"] = "benchmarks.web_settings"
            print(f"== {kind}: loading the demo trial with {args.participants} participants", flush=True)
            loaded = _load(env, args.participants)
            made = subprocess.run(
                [sys.executable, __file__, "accounts", str(args.users)],
                env=env, cwd=ROOT, check=True, stdout=subprocess.PIPE, text=True,
            )  # fmt: skip
            accounts = json.loads(made.stdout)
            with gunicorn(env, workers=workers, threads=4) as port:
                browsers = sign_in_all(port, accounts, production=True)
                seen = _browse(browsers, accounts, args.seconds)
                paced = _browse(browsers, accounts, args.seconds, args.pause) if args.pause else None
    print(
        f"{kind}: demo of {args.participants} loaded in {loaded:.0f} s; gunicorn {workers} workers x 4 threads"
    )
    if paced:
        _report(
            f"{args.users} users pausing about {args.pause:g} s between pages, for {args.seconds:.0f} s",
            paced,
            args,
        )
    return _report(f"{args.users} users, one page after another, for {args.seconds:.0f} s", seen, args)


def _report(title: str, seen: dict[str, list[tuple]], args: argparse.Namespace) -> float:
    """Print a workload's requests per second and p50/p95/p99 and most queries per page; return its p95."""
    every = [s for rows in seen.values() for s, _, _ in rows]
    others = Counter(
        f"{status} {page}" for page, rows in seen.items() for _, status, _ in rows if status != 200
    )
    print(
        f"{title}\n"
        f"  requests: {len(every)}, requests/s: {len(every) / args.seconds:.1f}, not 200: {others.total()}"
        f"{' (' + ', '.join(f'{n} x {what}' for what, n in sorted(others.items())) + ')' if others else ''}\n"
        f"  {'page':<48} {'n':>5} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'queries':>7}"
    )
    for page, rows in sorted(seen.items()):
        times = [s for s, _, _ in rows]
        print(
            f"  {page:<48} {len(rows):>5} {_ms(times, 50):>7.0f} {_ms(times, 95):>7.0f} {_ms(times, 99):>7.0f} "
            f"{max(q for _, _, q in rows):>7}"
        )
    most = max(q for rows in seen.values() for _, _, q in rows)
    p95 = _ms(every, 95)
    print(f"  all pages: p50 {_ms(every, 50):.0f} ms, p95 {p95:.0f} ms, p99 {_ms(every, 99):.0f} ms; "
          f"most SQL queries on a page: {most}", flush=True)  # fmt: skip
    return p95


@contextlib.contextmanager
def _server(database: str) -> Iterator[str]:
    """DATABASE_URL set for the database asked for: none for SQLite; for PostgreSQL, the server it names
    already, or a throwaway one when run as root."""
    given = os.environ.get("DATABASE_URL", "")
    if database == "sqlite":
        os.environ.pop("DATABASE_URL", None)
        yield "SQLite"
    elif given.startswith("postgres"):
        yield "PostgreSQL"
    elif os.geteuid() == 0:
        with throwaway_postgresql() as url:
            os.environ["DATABASE_URL"] = url
            yield "PostgreSQL"
    else:
        sys.exit("PostgreSQL: set DATABASE_URL, or run as root for a throwaway server")


def main() -> None:
    if sys.argv[1:2] == ["accounts"]:
        _accounts(int(sys.argv[2]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=10_000, help="randomised in the demo trial")
    parser.add_argument("--users", type=int, default=20, help="browsing at once")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long they browse")
    parser.add_argument("--pause", type=float, default=0.0,
                        help="also browse again with each user pausing about this many seconds between pages "
                             "(printed first; the last line stays the figure without pauses)")  # fmt: skip
    default = "postgresql" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "sqlite"
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default=default,
                        help="sqlite (the default without a PostgreSQL DATABASE_URL) or postgresql")  # fmt: skip
    args = parser.parse_args()
    with _server(args.database) as kind:
        p95 = run(kind, args)
    print(f"p95: {p95:.0f} ms")


if __name__ == "__main__":
    main()
