"""At least 200 simultaneous randomisation requests, across strata, to a real server on loopback.

The server is Django's threaded server in its own process, on its own fresh database: a SQLite file
by default, or a new PostgreSQL database beside the one DATABASE_URL names (as CI sets it).
Every request thread waits at a barrier, so the requests arrive together. Some participants
are submitted twice (a double click): they must get one allocation.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PER_SITE = 36  # six strata: 216 participants
DOUBLES = 24  # submitted twice: 240 requests in all
CSRF = "c" * 32  # an unmasked CSRF secret, sent as both cookie and header

pytestmark = pytest.mark.django_db


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def database_url(tmp_path) -> Iterator[str]:
    """A fresh, empty database of the kind the tests run on."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        yield f"sqlite:///{tmp_path / 'concurrency.sqlite3'}"
        return
    import psycopg

    name = f"aftercrisis_concurrency_{uuid.uuid4().hex[:10]}"
    base, _, _ = url.rpartition("/")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _post(port: int, session: str, trial_id: str, barrier: threading.Barrier, out: list[int]) -> None:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/participants/{trial_id}/randomise/",
        data=b"",
        method="POST",
        headers={"Cookie": f"sessionid={session}; csrftoken={CSRF}", "X-CSRFToken": CSRF},
    )
    opener = urllib.request.build_opener(_NoRedirect)
    barrier.wait()
    # A connection refused by a full listen queue is tried again, as a browser would: the repeat
    # is a double submission, which the service must answer with the same allocation.
    for attempt in range(20):
        try:
            out.append(opener.open(request, timeout=120).status)
            return
        except urllib.error.HTTPError as exc:
            out.append(exc.code)
            return
        except (ConnectionError, urllib.error.URLError):
            time.sleep(0.05 * (attempt + 1))
    out.append(0)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def test_simultaneous_requests_leave_no_duplicates_no_gaps_and_balanced_blocks(database_url):
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "aftercrisis.config.settings.test",
        "PYTHONPATH": str(ROOT),
        "NOTIFICATIONS_BACKEND": "recording",
    }
    world = json.loads(
        subprocess.run(
            [sys.executable, str(Path(__file__).with_name("concurrency_world.py")), str(PER_SITE), str(PER_SITE * 6 + DOUBLES)],
            env=env, cwd=ROOT, check=True, capture_output=True, text=True,
        ).stdout
    )  # fmt: skip
    trial_ids: list[str] = world["trial_ids"]
    targets = trial_ids + trial_ids[:: len(trial_ids) // DOUBLES][:DOUBLES]
    assert len(targets) >= 200
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("concurrency_world.py")), "serve", str(port)],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        barrier = threading.Barrier(len(targets))
        statuses: list[int] = []
        threads = [
            threading.Thread(target=_post, args=(port, session, trial_id, barrier, statuses))
            for session, trial_id in zip(world["sessions"], targets, strict=False)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        server.terminate()
        server.wait(timeout=20)
    assert Counter(statuses) == {302: len(targets)}
    rows = _allocations(database_url)
    assert sorted(r[0] for r in rows) == sorted(trial_ids)  # everyone once, no one twice
    by_site: dict[str, list[tuple[int, int | None, int | None, str, str]]] = defaultdict(list)
    for _trial_id, site, position, block, size, arm, slot_arm in rows:
        by_site[site].append((position, block, size, arm, slot_arm))
    for site, slots in by_site.items():
        positions = sorted(p for p, *_ in slots)
        assert positions == list(range(1, PER_SITE + 1)), site  # no gaps, no duplicates
        assert all(arm == slot_arm for *_, arm, slot_arm in slots)
        blocks: dict[int | None, list[str]] = defaultdict(list)
        for _, block, size, arm, _ in slots:
            blocks[(block, size)].append(arm)
        for (block, size), arms in blocks.items():
            if len(arms) == size:  # a completed block
                assert Counter(arms)["intervention"] == Counter(arms)["control"], (site, block)


def _allocations(url: str) -> list[tuple]:
    query = (
        "SELECT p.trial_id, s.code, sl.position, sl.block, sl.block_size, a.arm, sl.arm "
        "FROM randomisation_allocation a JOIN participants_participant p ON p.id = a.participant_id "
        "JOIN randomisation_allocationslot sl ON sl.id = a.slot_id JOIN accounts_site s ON s.id = sl.site_id"
    )
    if url.startswith("sqlite"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            return conn.execute(query).fetchall()
    import psycopg

    with psycopg.connect(url) as conn:
        return conn.execute(query).fetchall()
