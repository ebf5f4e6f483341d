"""The wheel works on its own: built from this checkout, installed in a new virtual environment outside it.

`aftercrisis init` makes a home, the demo loads into it, and the production server serves a signed-in
page, with the protocol and the NHS.UK assets taken from the installed package. The new environment gets
the same versions of the dependencies as this one, so the test checks the package, not the resolver.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from tests.server import ROOT, Server, free_port


def run(command: list[str], **kwargs) -> str:
    result = subprocess.run(command, capture_output=True, text=True, check=False, **kwargs)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    return result.stdout


def test_the_installed_wheel_inits_loads_the_demo_and_serves_it(tmp_path):
    wheels, venv, home = tmp_path / "wheels", tmp_path / "venv", tmp_path / "trial"
    run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels), str(ROOT)])
    (wheel,) = wheels.glob("aftercrisis-*.whl")
    constraints = tmp_path / "constraints.txt"
    frozen = run([sys.executable, "-m", "pip", "freeze", "--exclude-editable"])
    constraints.write_text(
        "".join(line + "\n" for line in frozen.splitlines() if not line.startswith("aftercrisis"))
    )
    run([sys.executable, "-m", "venv", str(venv)])
    run([str(venv / "bin" / "pip"), "install", "-q", str(wheel), "-c", str(constraints)])

    # Nothing of the checkout or of this test run's settings reaches the installed program.
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AFTERCRISIS_", "DJANGO_", "DATABASE_URL", "PYTHON", "VIRTUAL_ENV"))
    }
    env["PATH"] = f"{venv / 'bin'}:{env['PATH']}"
    package = run(
        [str(venv / "bin" / "python"), "-c", "import aftercrisis; print(aftercrisis.__file__)"],
        cwd=tmp_path,
        env=env,
    )
    assert not Path(package.strip()).is_relative_to(ROOT)
    run(["aftercrisis", "init", str(home)], cwd=tmp_path, env=env)
    logins = run(["aftercrisis", "demo", "--participants", "30"], cwd=home, env=env)
    researcher = re.search(r"^\s+Researcher\s+(\S+)", logins, re.MULTILINE)
    password = re.search(r"password: (\S+)", logins)
    assert researcher and password, logins

    port = free_port()
    command = ["aftercrisis", "serve", "--production", f"127.0.0.1:{port}"]
    server_env = env | {"AFTERCRISIS_WORKERS": "1", "AFTERCRISIS_THREADS": "2"}
    with Server(command, server_env, port, tmp_path / "server.log", cwd=home) as server:
        page = signed_in_page(server.url, researcher.group(1), password.group(1))
    assert re.search(r'href="/static/nhsuk/app\.[0-9a-f]{12}\.css"', page)
    assert "Follow-up" in page or "follow-up" in page
    assert (home / "var" / "aftercrisis.sqlite3").is_file() and (home / "var" / "static").is_dir()


def signed_in_page(base: str, username: str, password: str) -> str:
    """Sign in through the form as a browser behind the HTTPS proxy would, and return the page it lands on.

    The production cookies are Secure, which urllib's cookie jar keeps from plain HTTP: they are carried by hand.
    """
    https = {
        "X-Forwarded-Proto": "https",
        "Referer": f"https://127.0.0.1:{urllib.parse.urlsplit(base).port}/",
    }
    cookies: dict[str, str] = {}
    opener = urllib.request.build_opener(_NoRedirect)

    def fetch(path: str, data: bytes | None = None) -> tuple[int, str, str]:
        cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())
        request = urllib.request.Request(base + path, data=data, headers=https | {"Cookie": cookie})
        try:
            response = opener.open(request)
        except urllib.error.HTTPError as exc:  # a redirect, which _NoRedirect leaves to us
            response = exc
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, value = header.split(";")[0].partition("=")
            cookies[name] = value
        return response.status, response.headers.get("Location", ""), response.read().decode()

    _, _, form = fetch("/account/login/")
    (token,) = re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', form)
    fields = {"csrfmiddlewaretoken": token, "username": username, "password": password}
    status, location, page = fetch("/account/login/", urllib.parse.urlencode(fields).encode())
    for _ in range(5):
        if status != 302:
            break
        assert not location.startswith("/account/login/"), location
        status, location, page = fetch(location)
    assert status == 200, (status, location)
    return page


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None
