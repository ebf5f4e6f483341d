"""The server is killed (SIGKILL to gunicorn's whole process group) mid-work, restarted, and nothing is half done.

In the middle of a burst of randomisations: every acknowledged one (302) is in the database, every
allocation is whole (its slot, its arm, the participant's status, a caseload for the peer support arm) or
absent, and each stratum's list cursor stands at the last position used, with no gap; the rest then
randomise on the restarted server and fill the lists without a gap. In the middle of a large episode
import: none of its rows is there, and an import acknowledged before it is there whole.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from zoneinfo import ZoneInfo

import pytest
from tests.randomisation.served import Browser, build_world, server_env, sign_in_all
from tests.server import Server, free_port, fresh_database, gunicorn_command, query

PER_SITE = 20  # six strata: 120 participants
MANAGERS = 4

pytestmark = pytest.mark.django_db  # runs again on PostgreSQL


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def post(url: str, browser: Browser, body: bytes = b"", content_type: str = "") -> int:
    """The response's status, or 0 when the server died before answering."""
    cookies = "; ".join(f"{k}={v}" for k, v in browser.cookies.items())
    headers = {"Cookie": cookies, "X-CSRFToken": browser.cookies["csrftoken"]}
    if content_type:
        headers["Content-Type"] = content_type
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.build_opener(_NoRedirect).open(request, timeout=300) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (OSError, urllib.error.URLError):
        return 0


def multipart(name: str, content: bytes) -> tuple[bytes, str]:
    boundary = "aftercrisis-fault-test-boundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            "Content-Type: text/csv\r\n\r\n"
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


def episodes_csv(trial_ids: list[str], rows: int, day: dt.date) -> bytes:
    lines = ["trial_id,setting,start,end,admission_type"]
    lines += [f"{trial_ids[i % len(trial_ids)]},crisis_house,{day},{day}," for i in range(rows)]
    return ("\n".join(lines) + "\n").encode()


def check_allocations(url: str) -> dict[str, int]:
    """Every allocation whole, each cursor at its stratum's last position with no gap; positions used per site."""
    allocations = query(
        url,
        "SELECT p.trial_id, p.status, s.code, sl.position, sl.arm, a.arm, c.id "
        "FROM randomisation_allocation a JOIN participants_participant p ON p.id = a.participant_id "
        "JOIN randomisation_allocationslot sl ON sl.id = a.slot_id JOIN accounts_site s ON s.id = sl.site_id "
        "LEFT JOIN intervention_caseloadassignment c ON c.participant_id = p.id",
    )
    positions: dict[str, list[int]] = defaultdict(list)
    for trial_id, status, site, position, slot_arm, arm, caseload in allocations:
        assert status == "randomised" and arm == slot_arm, trial_id
        assert (caseload is not None) == (arm == "intervention"), trial_id
        positions[site].append(position)
    unallocated_randomised = query(
        url,
        "SELECT p.trial_id FROM participants_participant p LEFT JOIN randomisation_allocation a "
        "ON a.participant_id = p.id WHERE a.id IS NULL AND p.status = 'randomised'",
    )
    assert unallocated_randomised == []
    cursors = dict(
        query(
            url,
            "SELECT s.code, c.last_position FROM randomisation_stratumcursor c "
            "JOIN accounts_site s ON s.id = c.site_id",
        )
    )
    for site, used in positions.items():
        assert sorted(used) == list(range(1, len(used) + 1)), site  # no gap, no position twice
        assert cursors[site] == len(used), site
    return {site: len(used) for site, used in positions.items()}


def allocated(url: str) -> set[str]:
    rows = query(
        url,
        "SELECT p.trial_id FROM randomisation_allocation a JOIN participants_participant p ON p.id = a.participant_id",
    )
    return {r[0] for r in rows}


def test_killed_mid_randomisation_and_mid_import_the_server_leaves_nothing_half_done(tmp_path):
    with fresh_database(tmp_path) as url:
        env = server_env(url, tmp_path)
        world = build_world(env, per_site=PER_SITE, managers=MANAGERS)
        trial_ids = world.trial_ids
        port = free_port()
        server = Server(
            gunicorn_command(sys.executable, port, workers=2, threads=4), env, port, tmp_path / "log"
        )

        # A burst of randomisations, killed once a quarter of them are acknowledged.
        server.start()
        browsers = sign_in_all(port, world.managers, production=False)  # their sessions outlive the server
        statuses: dict[str, int] = {}
        enough = threading.Event()

        def randomise(i: int) -> None:
            trial_id = trial_ids[i]
            statuses[trial_id] = post(
                f"{server.url}/participants/{trial_id}/randomise/", browsers[i % MANAGERS]
            )
            if sum(s == 302 for s in statuses.values()) >= len(trial_ids) // 4:
                enough.set()

        with ThreadPoolExecutor(max_workers=16) as pool:
            for i in range(len(trial_ids)):
                pool.submit(randomise, i)
            assert enough.wait(timeout=300)
            server.kill()
        acknowledged = {t for t, s in statuses.items() if s == 302}
        assert set(Counter(statuses.values())) <= {302, 0}
        assert len(acknowledged) < len(trial_ids), "the kill came after every request had been answered"
        assert acknowledged <= allocated(url)  # nothing acknowledged was lost
        check_allocations(url)

        # The restarted server randomises the rest, and the lists fill without a gap.
        server.start()
        rest = [t for t in trial_ids if t not in allocated(url)]
        with ThreadPoolExecutor(max_workers=8) as pool:
            answers = list(
                pool.map(lambda t: post(f"{server.url}/participants/{t}/randomise/", browsers[0]), rest)
            )
        assert set(answers) == {302}
        assert allocated(url) == set(trial_ids)
        assert check_allocations(url) == dict.fromkeys(check_allocations(url), PER_SITE)

        # A large import, acknowledged; then a larger one, killed half way through.
        today = dt.datetime.now(ZoneInfo("Europe/London")).date()
        importing = f"{server.url}/outcomes/episodes/import/"
        started = time.monotonic()
        body, content_type = multipart("first.csv", episodes_csv(trial_ids, 1000, today))
        assert post(importing, browsers[0], body, content_type) == 302
        took = time.monotonic() - started
        assert query(url, "SELECT COUNT(*) FROM outcomes_acutecareepisode") == [(1000,)]

        body, content_type = multipart("second.csv", episodes_csv(trial_ids, 9000, today))
        answer: list[int] = []
        second = threading.Thread(
            target=lambda: answer.append(post(importing, browsers[1], body, content_type))
        )
        second.start()
        time.sleep(max(took * 2, 0.5))  # well into the second import, nine times as large as the first
        server.kill()
        second.join()
        assert answer == [0], "the kill came after the import had been answered"
        server.start()  # the database opens again after the kill
        assert query(url, "SELECT COUNT(*) FROM outcomes_acutecareepisode") == [(1000,)]
        assert query(
            url, "SELECT COUNT(*) FROM outcomes_acutecareepisode WHERE source_reference LIKE 'second.csv%'"
        ) == [(0,)]
        with urllib.request.urlopen(server.url + "/healthz") as response:
            assert json.load(response) == {"status": "ok"}
        server.stop()
