"""The example deployment works as written: gunicorn started from the systemd unit's own command line.

`aftercrisis init` makes the home, the unit's ExecStart starts the production server on it (the unit's
paths pointed at this machine's), and the server answers /healthz, serves a static file by its hashed name
and logs JSON lines without query strings. The reminders unit's command runs too.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import urllib.request
from pathlib import Path

from tests.server import ROOT, Server, free_port

DEPLOY = ROOT / "deploy"
UNIT_HOME, UNIT_PROGRAM, UNIT_BIND = "/srv/aftercrisis", "/opt/aftercrisis/bin/aftercrisis", "127.0.0.1:8000"
PROGRAM = str(Path(sys.executable).with_name("aftercrisis"))


def service(name: str) -> dict[str, list[str]]:
    """The [Service] section of a systemd unit: each key with its values in order (keys may repeat)."""
    section, found = "", {}
    for line in (DEPLOY / name).read_text().splitlines():
        line = line.strip()
        if line.startswith("["):
            section = line
        elif section == "[Service]" and "=" in line and not line.startswith("#"):
            key, _, value = line.partition("=")
            found.setdefault(key, []).append(value)
    return found


def here(value: str, home: Path, port: int = 0) -> str:
    """A unit's value with its paths (and bind address) made this machine's."""
    return (
        value.replace(UNIT_PROGRAM, PROGRAM)
        .replace(UNIT_HOME, str(home))
        .replace(UNIT_BIND, f"127.0.0.1:{port}")
    )


def unit_environment(unit: dict[str, list[str]], home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")}
    for assignment in unit["Environment"]:
        key, _, value = here(assignment, home).partition("=")
        env[key] = value
    for env_file in unit["EnvironmentFile"]:
        assert Path(here(env_file, home)).is_file()  # read by the settings themselves
    return env


def https_get(url: str) -> urllib.request.Request:
    return urllib.request.Request(url, headers={"X-Forwarded-Proto": "https", "Accept-Encoding": "gzip"})


def test_the_web_unit_starts_gunicorn_that_serves_health_and_hashed_static_files(tmp_path):
    home = tmp_path / "srv"
    subprocess.run([PROGRAM, "init", str(home)], check=True, capture_output=True)
    unit = service("aftercrisis.service")
    env = unit_environment(unit, home) | {"AFTERCRISIS_WORKERS": "2", "AFTERCRISIS_THREADS": "2"}
    subprocess.run([PROGRAM, "manage", "migrate", "-v0"], env=env, cwd=home, check=True)
    port = free_port()
    (command,) = unit["ExecStart"]
    assert UNIT_BIND in command and command.startswith(UNIT_PROGRAM)
    log = tmp_path / "server.log"
    with Server(
        shlex.split(here(command, home, port)),
        env,
        port,
        log,
        cwd=Path(here(unit["WorkingDirectory"][0], home)),
    ) as server:
        with urllib.request.urlopen(server.url + "/healthz") as response:
            assert json.load(response) == {"status": "ok"}
        with urllib.request.urlopen(
            https_get(server.url + "/account/login/?next=/participants/Jane-Example/")
        ) as page:
            html = page.read().decode()
        (stylesheet,) = re.findall(r'href="(/static/nhsuk/app\.[0-9a-f]{12}\.css)"', html)
        with urllib.request.urlopen(https_get(server.url + stylesheet)) as response:
            assert response.headers["Content-Encoding"] == "gzip"
            assert "immutable" in response.headers["Cache-Control"]
            assert len(response.read()) > 1000
    assert (home / "var" / "static" / "staticfiles.json").is_file()  # collected into the home
    assert any((home / "var" / "cache").iterdir())  # the blank workbook, printed before the workers started
    lines = [json.loads(line) for line in log.read_text().splitlines()]  # every line JSON, gunicorn's too
    requests = [line for line in lines if line["logger"] == "aftercrisis.request"]
    assert {"time", "level", "method", "path", "status", "duration_ms", "user_id"} <= set(requests[0])
    assert [(r["path"], r["status"]) for r in requests if r["path"].startswith("/account/")] == [
        ("/account/login/", 200)
    ]
    assert "Jane-Example" not in log.read_text()  # the query string is never logged


def test_the_reminders_unit_runs_under_the_production_settings(tmp_path):
    home = tmp_path / "srv"
    subprocess.run([PROGRAM, "init", str(home)], check=True, capture_output=True)
    unit = service("aftercrisis-reminders.service")
    env = unit_environment(unit, home)
    subprocess.run([PROGRAM, "manage", "migrate", "-v0"], env=env, cwd=home, check=True)
    (command,) = unit["ExecStart"]
    result = subprocess.run(
        shlex.split(here(command, home)), env=env, cwd=home, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    timer = (DEPLOY / "aftercrisis-reminders.timer").read_text()
    assert re.search(r"^OnCalendar=\*-\*-\* \d\d:\d\d:\d\d$", timer, re.MULTILINE)
