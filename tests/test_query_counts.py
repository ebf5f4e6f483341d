"""Pages make a bounded number of SQL queries whatever the trial size.

Every page each role may open (the permission matrix says which) is counted with everything
Django runs for it: the session read, the user, the role, the page's own queries.
"""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice
from tests.conftest import DEMO_TODAY
from tests.test_permissions import MATRIX, OK, ROLES, url_of

from aftercrisis.accounts.models import User
from aftercrisis.accounts.roles import Role
from aftercrisis.demo.loader import load_demo
from aftercrisis.participants.models import Participant
from aftercrisis.reporting.form_export import FORMS

pytestmark = pytest.mark.django_db

MAX_QUERIES = 10
# Downloads that read one table per form or per source: bounded by those, not by the trial's size.
DOWNLOADS = {
    "reporting:form_bundle": MAX_QUERIES + len(FORMS),
    # one query per source: participants, arms, each kind of record, scores, resource use, episode days
    "reporting:analysis_dataset": MAX_QUERIES + 2,
}
# The demo login that acts in each role; researcher1 and the peer support worker work at CAM.
DEMO_LOGIN = {
    Role.TRIAL_MANAGER: "manager",
    Role.RESEARCHER: "researcher1",
    Role.PEER_SUPPORT_WORKER: "psw.cam",
    Role.STATISTICIAN: "statistician",
    Role.REFERRER: "referrer.cam",
    Role.CHIEF_INVESTIGATOR: "chief",
    Role.RANDOMISATION_STATISTICIAN: "lists",
}


def _pages() -> dict[tuple[Role, str], str]:
    """(role, route) -> URL for every page the role may open, filled from a CAM participant in peer support."""
    staff = {role: User.objects.get(username=name) for role, name in DEMO_LOGIN.items()}
    sample = (
        Participant.objects.filter(
            site__code="CAM", caseload_assignment__worker=staff[Role.PEER_SUPPORT_WORKER]
        )
        .order_by("trial_id")
        .first()
    )
    assert sample is not None
    return {
        (role, name): url_of(name, sample, staff)
        for name, outcomes in sorted(MATRIX.items())
        for role in ROLES
        if role is not None and outcomes[role] == OK
    }


def _signed_in(username: str) -> Client:
    """A session as production has it: signed in, and through the second factor (its device read on each page)."""
    client = Client()
    user = User.objects.get(username=username)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = TOTPDevice.objects.create(user=user, name="app").persistent_id
    session.save()
    return client


# A day-long session: no renewal of its idle expiry falls inside the count.
@override_settings(SESSION_COOKIE_AGE=24 * 3600, OTP_REQUIRED_FOR_UNBLINDED=True)
def _counts(pages: dict[tuple[Role, str], str]) -> dict[tuple[Role, str], int]:
    """Queries per page, each page opened once in a session signed in as the role's demo login."""
    counts = {}
    for role in DEMO_LOGIN:
        client = _signed_in(DEMO_LOGIN[role])
        client.get("/")  # the landing page after sign-in
        for (page_role, name), url in pages.items():
            if page_role != role:
                continue
            with CaptureQueriesContext(connection) as captured:
                response = client.get(url)
                if response.streaming:
                    b"".join(response.streaming_content)
            assert response.status_code == 200, (role, url)
            counts[(role, name)] = len(captured)
    return counts


@pytest.mark.parametrize("sizes", [(20, 441)])
def test_query_counts_are_bounded_and_do_not_grow_with_the_trial(db, core_protocol, sizes):
    """The demo trial at a small and a larger size, each loaded, counted and rolled back in turn."""
    counts = {}
    for size in sizes:
        with transaction.atomic():
            load_demo(core_protocol, seed=7, today=DEMO_TODAY, size=size)
            counts[size] = _counts(_pages())
            transaction.set_rollback(True)
    small, large = (counts[size] for size in sizes)
    assert large == small
    over = {page: n for page, n in large.items() if n > DOWNLOADS.get(page[1], MAX_QUERIES)}
    assert over == {}, over
