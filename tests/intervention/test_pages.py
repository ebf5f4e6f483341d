"""Peer support against the demo: a realistic programme, pages for their own roles, own caseload only.

One test, because loading the demo dominates its time.
"""

from __future__ import annotations

import pytest
from django.test import Client

from aftercrisis.accounts.models import User
from aftercrisis.intervention.models import CaseloadAssignment, Dispatch, Session, SupervisionRecord
from aftercrisis.randomisation.models import Allocation
from aftercrisis.workbook.models import WorkbookEntry

pytestmark = pytest.mark.django_db


def _client(username: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


def test_the_demo_programme_and_its_pages(demo):
    # Uptake looks like a real programme: most start, many do not finish all ten.
    intervention = Allocation.objects.filter(arm="intervention").count()
    started = Session.objects.filter(outcome="held").values("participant").distinct().count()
    full = Session.objects.filter(outcome="held", number=10).values("participant").distinct().count()
    assert 0.6 * intervention <= started < intervention
    assert full < started / 2
    assert Session.objects.exclude(outcome="held").exists()
    assert Dispatch.objects.values("participant").distinct().count() == Allocation.objects.count()
    assert WorkbookEntry.objects.values("participant").distinct().count() >= started / 3
    assert SupervisionRecord.objects.count() > 6

    for username, path in [
        ("psw.cam", "/caseload/"),
        ("psw.cam", "/workbook/blank.pdf"),
        ("manager", "/peer-support/dispatch/"),
        ("manager", "/peer-support/dispatch/print-batch.pdf"),
        ("manager", "/peer-support/supervision/"),
        ("manager", "/peer-support/fidelity/"),
        ("manager", "/peer-support/fidelity.csv"),
    ]:
        assert _client(username).get(path).status_code == 200, path

    # A worker opens only their own participants; anyone else's do not exist for them.
    own = CaseloadAssignment.objects.filter(
        worker__username="psw.cam", participant__peer_sessions__isnull=False
    )
    other = CaseloadAssignment.objects.exclude(worker__username="psw.cam").first()
    client = _client("psw.cam")
    page = client.get(f"/caseload/{own.first().participant.trial_id}/").content.decode()
    assert "Sessions" in page and "Contact attempts" in page
    for path in [
        "/caseload/{}/",
        "/caseload/{}/sessions/new/",
        "/caseload/{}/contacts/new/",
        "/workbook/participants/{}/workbook.pdf",
        "/workbook/participants/{}/link/",
    ]:
        assert client.get(path.format(other.participant.trial_id)).status_code == 404, path
