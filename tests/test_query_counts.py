"""Pages make a bounded number of SQL queries whatever the trial size."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from tests.conftest import fresh_nhs_number

from aftercrisis.accounts.models import Site, User
from aftercrisis.accounts.roles import Role
from aftercrisis.accounts.selectors import actor_for
from aftercrisis.config.trial import protocol
from aftercrisis.demo.recruitment import enrol
from aftercrisis.intervention.services import assign_least_loaded_worker
from aftercrisis.participants.models import Participant
from aftercrisis.participants.services import register_participant
from aftercrisis.randomisation.services import randomise

pytestmark = pytest.mark.django_db

PAGES = {
    "manager": [
        "/recruitment/",
        "/participants/",
        "/participants/?site=CAM&status=randomised",
        "/reports/",
        "/sites/",
        "/peer-support/dispatch/",
        "/peer-support/supervision/",
        "/peer-support/fidelity/",
        "/recruitment/screening-log/",
        "/randomisation/unblinding/",
    ],
    "researcher1": ["/worklist/", "/participants/", "/outcomes/safety/", "/outcomes/episodes/reconcile/"],
    "chief": ["/outcomes/safety/"],
    "psw.cam": ["/caseload/"],
    "statistician": ["/reports/", "/reports/research-export.csv"],
    "referrer.cam": ["/recruitment/referrals/", "/randomisation/unblinding/mine/"],
}


def _queries(username: str, path: str) -> int:
    client = Client()
    client.force_login(User.objects.get(username=username))
    client.get(path)  # warm the session and caches
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
        if response.streaming:
            b"".join(response.streaming_content)
    assert response.status_code == 200, path
    return len(captured)


def _grow(count: int) -> None:
    """More randomised participants at CAM, through the services."""
    manager = User.objects.get(username="manager")
    researcher = User.objects.get(username="researcher1")
    referrer = User.objects.get(username="referrer.cam")
    actor = actor_for(manager, Role.TRIAL_MANAGER)
    for i in range(count):
        on = dt.date(2026, 8, 1) + dt.timedelta(days=i)
        p = register_participant(
            site=Site.objects.get(code="CAM"),
            referred_on=on,
            by=referrer,
            identity={
                "nhs_number": fresh_nhs_number(),
                "given_name": "G",
                "family_name": "Row",
                "date_of_birth": dt.date(1980, 1, 1),
            },
        )
        enrol(p, protocol(), researcher, on)
        if randomise(actor, p, by=manager, on=on).arm == "intervention":
            assign_least_loaded_worker(p, by=manager, on=on)


def test_query_counts_do_not_grow_with_the_trial(demo):
    before = {(u, p): _queries(u, p) for u, paths in PAGES.items() for p in paths}
    _grow(20)
    after = {(u, p): _queries(u, p) for u, paths in PAGES.items() for p in paths}
    assert after == before
    assert max(before.values()) <= 15, before


def test_participant_pages_query_counts_are_bounded(demo):
    small = Participant.objects.filter(allocation__isnull=False).order_by("trial_id").first()
    counts = {
        path: _queries("manager", path.format(small.trial_id))
        for path in ["/participants/{}/", "/participants/{}/history/", "/participants/{}/edit/"]
    }
    assert all(n <= 15 for n in counts.values()), counts
