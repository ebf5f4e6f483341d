"""At least 200 simultaneous randomisations, double clicks among them, through the production server.

gunicorn (several worker processes, each with several threads) serves a fresh database: a SQLite file
by default, or a new PostgreSQL database beside the one DATABASE_URL names (as CI sets it). Trial
managers sign in through the login form in several browsers; every request waits at a barrier, so they
arrive together, and some participants are posted twice at once from the same browser (a double click).
Each must get one allocation, one caseload assignment in the intervention arm, and one set of
notifications, and no request may fail.
"""

from __future__ import annotations

from collections import Counter, defaultdict

import pytest
from tests.randomisation.served import (
    build_world,
    double_clicks,
    examine,
    gunicorn,
    randomise_at_once,
    server_env,
    sign_in_all,
)
from tests.server import fresh_database

PER_SITE = 36  # six strata: 216 participants
DOUBLES = 24  # posted twice at once: 240 requests in all
BROWSERS = 8

pytestmark = [pytest.mark.django_db, pytest.mark.db_server]


def test_simultaneous_requests_leave_no_duplicates_no_gaps_and_one_set_of_everything(tmp_path):
    with fresh_database(tmp_path) as database_url:
        env = server_env(database_url, tmp_path)
        world = build_world(env, per_site=PER_SITE, managers=BROWSERS)
        work = double_clicks(world.trial_ids, DOUBLES)
        requests = sum(clicks for _, clicks in work)
        assert requests >= 200
        with gunicorn(env, workers=4, threads=8) as port:
            browsers = sign_in_all(port, world.managers, production=False)
            statuses, _ = randomise_at_once(browsers, work, clients=len(work))  # every request at once
        day = examine(database_url, tmp_path / "outbox")

    log = (tmp_path / "gunicorn.log").read_text(errors="replace")[-4000:]
    assert Counter(statuses) == {302: requests}, log  # no server error, no lost request
    assert sorted(t for t, *_ in day.allocations) == sorted(world.trial_ids)  # everyone once
    assert all(p == list(range(1, PER_SITE + 1)) for p in day.positions().values())  # no gaps, no repeats
    assert day.duplicate_positions() == day.gaps() == 0
    assert all(arm == listed for *_, arm, listed in day.allocations)
    blocks: dict[tuple[str, int | None, int | None], list[str]] = defaultdict(list)
    for _, site, _, block, size, arm, _ in day.allocations:
        blocks[(site, block, size)].append(arm)
    for (site, block, size), arms in blocks.items():
        if len(arms) == size:  # a completed block
            assert Counter(arms)["intervention"] == Counter(arms)["control"], (site, block)
    assert day.wrong_assignments() == []  # one peer support worker each in the intervention arm
    assert day.wrong_notices() == []  # the managers, the site's worker (intervention), the letter: once
