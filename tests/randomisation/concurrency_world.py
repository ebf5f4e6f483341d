"""Build the world for the concurrency test in a fresh database and print it as JSON; or serve it.

Run as a separate process (DATABASE_URL names the fresh database): migrate, staff and sites,
allocation lists, and consented participants with a baseline in every stratum, all through the
services; then one signed-in session per request to be sent.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aftercrisis.config.settings.test")


def main(per_site: int, sessions: int) -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client
    from tests.conftest import fresh_nhs_number

    from aftercrisis.accounts.roles import Role
    from aftercrisis.accounts.services import create_staff, sync_sites
    from aftercrisis.config.trial import protocol
    from aftercrisis.demo.recruitment import enrol
    from aftercrisis.participants.services import register_participant
    from aftercrisis.randomisation.services import generate_allocation_lists

    call_command("migrate", verbosity=0)
    trial = protocol()
    sites = sync_sites(trial)
    manager = create_staff(
        username="manager", password="a-long-test-password-1", first_name="M", last_name="T",
        email="manager@example.org", roles=[(Role.TRIAL_MANAGER, None)],
    )  # fmt: skip
    researcher = create_staff(
        username="researcher", password="a-long-test-password-1", first_name="R", last_name="T",
        email="researcher@example.org", roles=[(Role.RESEARCHER, None)],
    )  # fmt: skip
    generate_allocation_lists(trial, length_per_site=per_site + 6)
    on = dt.date(2026, 1, 5)
    trial_ids = []
    for site in sites:
        for _ in range(per_site):
            p = register_participant(
                site=site,
                referred_on=on,
                by=researcher,
                identity={
                    "nhs_number": fresh_nhs_number(),
                    "given_name": "C",
                    "family_name": "Test",
                    "date_of_birth": dt.date(1980, 1, 1),
                },
            )
            enrol(p, trial, researcher, on)
            trial_ids.append(p.trial_id)
    cookies = []
    for _ in range(sessions):
        client = Client()
        client.force_login(manager)
        cookies.append(client.cookies["sessionid"].value)
    json.dump({"trial_ids": trial_ids, "sessions": cookies}, sys.stdout)


def serve(port: int) -> None:
    """Django's threaded development server, with a listen queue long enough for every request at once."""
    import django

    django.setup()
    from django.core.handlers.wsgi import WSGIHandler
    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler

    class Server(ThreadedWSGIServer):
        request_queue_size = 1024

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    httpd = Server(("127.0.0.1", port), QuietHandler)
    httpd.set_app(WSGIHandler())
    httpd.serve_forever()


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve(int(sys.argv[2]))
    else:
        main(int(sys.argv[1]), int(sys.argv[2]))
