"""The same Idempotency-Key sent 50 times at once through the production server (gunicorn, several
processes and threads, a fresh database): one allocation, every answer the same arm, one key stored."""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
import threading
from collections import Counter

import pytest
from tests.randomisation.served import build_world, gunicorn, server_env
from tests.server import ROOT, fresh_database, query

pytestmark = [pytest.mark.django_db, pytest.mark.db_server]

TIMES = 50

ISSUE = """
import datetime as dt, django
django.setup()
from aftercrisis.accounts.models import User
from aftercrisis.accounts.roles import Role
from aftercrisis.api.tokens import issue_token
today = dt.date.today()
user = User.objects.get(username="manager-0")
print(issue_token(user, name="ward system", role=Role.TRIAL_MANAGER, expires_on=today + dt.timedelta(days=1), today=today).secret)
"""


def test_one_key_sent_fifty_times_at_once_gives_one_allocation(tmp_path):
    with fresh_database(tmp_path) as database_url:
        env = server_env(database_url, tmp_path)
        world = build_world(env, per_site=1, managers=1)
        secret = subprocess.run(
            [sys.executable, "-c", ISSUE], env=env, cwd=ROOT, check=True, capture_output=True, text=True
        ).stdout.strip()
        trial_id = world.trial_ids[0]
        answers: list[tuple[int, dict]] = []
        barrier = threading.Barrier(TIMES)
        with gunicorn(env, workers=4, threads=8) as port:

            def send() -> None:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
                barrier.wait()
                conn.request(
                    "POST",
                    f"/api/v1/participants/{trial_id}/randomise",
                    headers={
                        "Authorization": f"Bearer {secret}",
                        "Idempotency-Key": "ward-7-bed-3",
                        "Host": "127.0.0.1",
                    },
                )
                response = conn.getresponse()
                answers.append((response.status, json.loads(response.read())))
                conn.close()

            threads = [threading.Thread(target=send) for _ in range(TIMES)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        allocations = query(
            database_url,
            "SELECT count(*) FROM randomisation_allocation a JOIN participants_participant p"
            f" ON p.id = a.participant_id WHERE p.trial_id = '{trial_id}'",
        )
        keys = query(database_url, "SELECT count(*) FROM api_idempotentrandomisation")
    log = (tmp_path / "gunicorn.log").read_text(errors="replace")[-4000:]
    assert Counter(status for status, _ in answers) == {201: 1, 200: TIMES - 1}, (answers[:3], log)
    assert len({body["arm"] for _, body in answers}) == 1
    assert allocations == [(1,)] and keys == [(1,)]
