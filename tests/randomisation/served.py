"""A day of randomisation through the production server, for the concurrency test and benchmarks/randomise.py.

The world is built in its own process on a fresh database (`python -m tests.randomisation.served world`):
sites, trial managers, a peer support worker and a researcher per site, allocation lists, and
participants ready to randomise, each with a postal address, all through the services. gunicorn then
serves it with several worker processes and threads; every e-mail and letter its processes send is
written to a file (`tests.randomisation.served_settings`), so what they sent can be counted afterwards.
Clients sign in through the login form (and the two-factor step under the production settings) and
post to the randomise page with their CSRF token, as a browser does.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email
import http.client
import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from tests.server import ROOT, Server, free_port, gunicorn_command, query

PASSWORD = "a-long-test-password-1"


def server_env(database_url: str, directory: Path, *, production: bool = False) -> dict[str, str]:
    """The environment of every process of one served day: its database, settings, home and outbox."""
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "tests.randomisation.served_settings",
        "SERVED_SETTINGS": "production" if production else "test",
        "SERVED_OUTBOX": str(directory / "outbox"),
        "AFTERCRISIS_HOME": str(directory),
        "AFTERCRISIS_PROTOCOL": str(ROOT / "protocols" / "core.yaml"),
        "DJANGO_SECRET_KEY": f"served-{uuid.uuid4().hex}",
        "ALLOWED_HOSTS": "127.0.0.1",
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }


@dataclass(frozen=True)
class World:
    trial_ids: list[str]
    managers: list[dict[str, str]]  # username, password and (under production settings) TOTP key


def build_world(env: dict[str, str], *, per_site: int, managers: int) -> World:
    made = subprocess.run(
        [sys.executable, "-m", "tests.randomisation.served", "world", str(per_site), str(managers)],
        env=env, cwd=ROOT, check=True, capture_output=True, text=True,
    )  # fmt: skip
    data = json.loads(made.stdout)
    return World(data["trial_ids"], data["managers"])


def _world(per_site: int, managers: int) -> None:
    """Run in the world's own process: migrate, then build everything through the services."""
    import django

    django.setup()
    from django.core.management import call_command
    from django_otp.plugins.otp_totp.models import TOTPDevice
    from tests.conftest import fresh_nhs_number

    from aftercrisis.accounts.roles import Role
    from aftercrisis.accounts.services import create_staff, sync_sites
    from aftercrisis.config.trial import protocol
    from aftercrisis.demo.recruitment import enrol
    from aftercrisis.participants.services import register_participant
    from aftercrisis.randomisation.services import generate_allocation_lists

    call_command("migrate", verbosity=0)
    production = os.environ.get("SERVED_SETTINGS") == "production"
    if production:
        call_command("collectstatic", interactive=False, verbosity=0)  # hashed names, as served
    trial = protocol()
    sites = sync_sites(trial)
    accounts = []
    for i in range(managers):
        user = create_staff(
            username=f"manager-{i}", password=PASSWORD, first_name="Manager", last_name=str(i),
            email=f"manager-{i}@example.org", roles=[(Role.TRIAL_MANAGER, None)],
        )  # fmt: skip
        account = {"username": user.username, "password": PASSWORD}
        if production:  # each with its own authenticator: a code cannot be used twice
            account["totp_key"] = TOTPDevice.objects.create(user=user, name="app", confirmed=True).key
        accounts.append(account)
    researchers = {}
    for site in sites:
        code = site.code.lower()
        create_staff(
            username=f"psw-{code}", password=PASSWORD, first_name="Peer", last_name=site.code,
            email=f"psw-{code}@example.org", roles=[(Role.PEER_SUPPORT_WORKER, site)],
        )  # fmt: skip
        researchers[site.pk] = create_staff(
            username=f"researcher-{code}", password=PASSWORD, first_name="Research", last_name=site.code,
            email=f"researcher-{code}@example.org", roles=[(Role.RESEARCHER, site)],
        )  # fmt: skip
    generate_allocation_lists(trial, length_per_site=per_site + 6)
    on = dt.date(2026, 1, 5)
    trial_ids = []
    for site in sites:
        for _ in range(per_site):
            participant = register_participant(
                site=site,
                referred_on=on,
                by=researchers[site.pk],
                identity={
                    "nhs_number": fresh_nhs_number(),
                    "given_name": "Sam",
                    "family_name": "Served",
                    "date_of_birth": dt.date(1980, 1, 1),
                    "address": "1 Mill Road\nLondon",
                    "postcode": "NW1 2AB",
                },
            )
            enrol(participant, trial, researchers[site.pk], on)
            trial_ids.append(participant.trial_id)
    json.dump({"trial_ids": trial_ids, "managers": accounts}, sys.stdout)


@contextlib.contextmanager
def gunicorn(env: dict[str, str], *, workers: int, threads: int) -> Iterator[int]:
    """gunicorn serving the application on a free loopback port, logging to gunicorn.log beside the
    outbox; yields the port."""
    # Migrated again just before serving, as a deployment does: /healthz (the server's readiness)
    # answers 503 while any migration is pending.
    subprocess.run(
        [sys.executable, "-m", "django", "migrate", "--verbosity", "0"], env=env, cwd=ROOT, check=True
    )
    port = free_port()
    log = Path(env["SERVED_OUTBOX"]).parent / "gunicorn.log"
    with Server(gunicorn_command(sys.executable, port, workers, threads), env, port, log):
        yield port


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: str


@dataclass
class Browser:
    """One signed-in user's cookies, on plain HTTP to loopback. Under the production settings it says
    it came through a TLS-ending proxy (X-Forwarded-Proto), as nginx would, and sends Secure cookies."""

    port: int
    production: bool
    cookies: dict[str, str] = field(default_factory=dict)

    def request(self, method: str, path: str, form: dict[str, str] | None = None) -> Response:
        headers = {"Host": f"127.0.0.1:{self.port}", "Connection": "close"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if self.production:
            headers["X-Forwarded-Proto"] = "https"
        body = None
        if method == "POST":
            scheme = "https" if self.production else "http"
            headers["Referer"] = f"{scheme}://127.0.0.1:{self.port}{path}"  # checked on HTTPS
            headers["X-CSRFToken"] = self.cookies.get("csrftoken", "")
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            body = urllib.parse.urlencode(form or {})
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        try:
            conn.request(method, path, body=body, headers=headers)
            raw = conn.getresponse()
            text = raw.read().decode("utf-8", "replace")
        finally:
            conn.close()
        for header in raw.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            value = rest.split(";", 1)[0]
            if "expires=Thu, 01 Jan 1970" in rest:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        return Response(raw.status, raw.headers, text)

    def get(self, path: str) -> Response:
        return self.request("GET", path)

    def post(self, path: str, form: dict[str, str] | None = None) -> Response:
        return self.request("POST", path, form)

    def submit(self, path: str, form: dict[str, str]) -> Response:
        """Fetch the page's form, then post it back with its CSRF token."""
        page = self.get(path)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.body)
        assert token, f"{path}: no form with a CSRF token ({page.status})"
        return self.post(path, {"csrfmiddlewaretoken": token.group(1), **form})

    def sign_in(self, account: dict[str, str]) -> Browser:
        answer = self.submit(
            "/account/login/", {"username": account["username"], "password": account["password"]}
        )
        assert answer.status == 302, f"sign-in of {account['username']} failed ({answer.status})"
        if "totp_key" in account:
            from django_otp.oath import totp

            code = f"{totp(bytes.fromhex(account['totp_key'])):06d}"
            answer = self.submit("/account/two-factor/", {"token": code})
            assert answer.status == 302, f"two-factor step of {account['username']} failed ({answer.status})"
        return self


def sign_in_all(port: int, accounts: Sequence[dict[str, str]], *, production: bool) -> list[Browser]:
    """A browser per account, signed in eight at a time (people arrive over the morning, not at once)."""
    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(lambda account: Browser(port, production).sign_in(account), accounts))


def randomise_at_once(
    browsers: Sequence[Browser], work: Sequence[tuple[str, int]], *, clients: int
) -> tuple[list[int], float]:
    """`clients` users start together, each with a browser (shared round the browsers, like tabs) and
    its share of the work, which it posts one after another; a participant with two clicks is posted
    twice at once from the same browser (a double click). Returns the statuses and the seconds taken."""
    shares = [work[k::clients] for k in range(clients)]
    barrier = threading.Barrier(clients + 1)
    statuses: list[int] = []

    def post(browser: Browser, trial_id: str) -> None:
        try:
            statuses.append(browser.post(f"/participants/{trial_id}/randomise/").status)
        except (OSError, http.client.HTTPException):
            statuses.append(0)  # no answer at all

    def user(k: int) -> None:
        browser = browsers[k % len(browsers)]
        barrier.wait()
        for trial_id, clicks in shares[k]:
            extra = [threading.Thread(target=post, args=(browser, trial_id)) for _ in range(clicks - 1)]
            for t in extra:
                t.start()
            post(browser, trial_id)
            for t in extra:
                t.join()

    threads = [threading.Thread(target=user, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    barrier.wait()
    started = time.perf_counter()
    for t in threads:
        t.join()
    return statuses, time.perf_counter() - started


def double_clicks(trial_ids: Sequence[str], count: int) -> list[tuple[str, int]]:
    """Each participant with its number of clicks: `count` of them, spread through the list, get two."""
    step = max(len(trial_ids) // max(count, 1), 1)
    twice = set(trial_ids[::step][:count]) if count else set()
    return [(trial_id, 2 if trial_id in twice else 1) for trial_id in trial_ids]


@dataclass(frozen=True)
class Day:
    """What the database and the outbox hold after a served day."""

    allocations: list[
        tuple[str, str, int, int | None, int | None, str, str]
    ]  # trial ID, site, position, block, size, arm, list arm
    assignments: Counter[str]  # caseload assignments per trial ID
    notices: dict[str, Counter[str]]  # per trial ID: manager e-mails, peer support e-mails, letters

    def positions(self) -> dict[str, list[int]]:
        by_site: dict[str, list[int]] = defaultdict(list)
        for _, site, position, *_ in self.allocations:
            by_site[site].append(position)
        return {site: sorted(p) for site, p in by_site.items()}

    def duplicate_positions(self) -> int:
        return sum(len(p) - len(set(p)) for p in self.positions().values())

    def gaps(self) -> int:
        return sum(max(p) - len(set(p)) for p in self.positions().values() if p)

    def expected_notices(self, trial_id: str, arm: str) -> Counter[str]:
        return Counter({"manager": 1, "letter": 1, "peer support": int(arm == "intervention")})

    def wrong_notices(self) -> list[str]:
        """Trial IDs whose notifications are not exactly one set."""
        allocated = {t: arm for t, *_, arm, _ in self.allocations}
        wrong = [
            t
            for t, arm in allocated.items()
            if +self.notices.get(t, Counter()) != +self.expected_notices(t, arm)
        ]
        return wrong + sorted(set(self.notices) - set(allocated))

    def wrong_assignments(self) -> list[str]:
        """Trial IDs with other than one caseload assignment in the intervention arm and none in control."""
        allocated = {t: arm for t, *_, arm, _ in self.allocations}
        return sorted(
            t for t in set(allocated) | set(self.assignments)
            if self.assignments[t] != int(allocated.get(t) == "intervention")
        )  # fmt: skip


def examine(database_url: str, outbox: Path) -> Day:
    allocations = query(
        database_url,
        "SELECT p.trial_id, s.code, sl.position, sl.block, sl.block_size, a.arm, sl.arm "
        "FROM randomisation_allocation a JOIN participants_participant p ON p.id = a.participant_id "
        "JOIN randomisation_allocationslot sl ON sl.id = a.slot_id JOIN accounts_site s ON s.id = sl.site_id",
    )
    assignments = Counter(
        row[0]
        for row in query(
            database_url,
            "SELECT p.trial_id FROM intervention_caseloadassignment c "
            "JOIN participants_participant p ON p.id = c.participant_id",
        )
    )
    notices: dict[str, Counter[str]] = defaultdict(Counter)
    for path in sorted((outbox / "email").glob("*")) if (outbox / "email").exists() else []:
        # Django's file backend: messages one after another, each followed by a line of dashes.
        for text in path.read_text(encoding="utf-8").split("\n" + "-" * 79 + "\n"):
            if not text.strip():
                continue
            message = email.message_from_string(text)
            subject = str(message["Subject"])
            body = message.get_payload(decode=True).decode()  # type: ignore[union-attr]
            trial_id = body.split(" ", 1)[0]
            kind = "manager" if subject.endswith(" randomised") else "peer support"
            notices[trial_id][kind] += 1
    for path in sorted((outbox / "text").glob("letter-*.json")) if (outbox / "text").exists() else []:
        notices[json.loads(path.read_text(encoding="utf-8"))["reference"]]["letter"] += 1
    return Day(allocations, assignments, dict(notices))


if __name__ == "__main__" and sys.argv[1] == "world":
    _world(int(sys.argv[2]), int(sys.argv[3]))
