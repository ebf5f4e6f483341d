"""The trial manager's audit search across participants: by person, dates, form and field, paginated."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from aftercrisis.accounts.roles import Role
from aftercrisis.participants.audit_search import AuditQuery, audit_search
from aftercrisis.participants.models import Status
from aftercrisis.participants.services import update_research_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def corrected(make_participant, staff):
    participant = make_participant("CAM", Status.CONSENTED)
    update_research_data(
        participant, {"prior_admissions": 4}, by=staff[Role.RESEARCHER], reason="typed 1 for 4"
    )
    return participant


def test_a_field_change_is_found_by_person_date_form_and_field(corrected, staff, actor_of):
    manager = actor_of(Role.TRIAL_MANAGER)
    today = timezone.localdate()
    query = AuditQuery(
        "participants.participant", staff[Role.RESEARCHER].pk, today, today, "prior_admissions"
    )
    (version,) = audit_search(manager, query)
    assert (version.before, version.prior_admissions) == (1, 4)
    assert version.history_change_reason == "typed 1 for 4"
    assert not audit_search(
        manager, AuditQuery("participants.participant", staff[Role.STATISTICIAN].pk, field="prior_admissions")
    ).exists()
    assert not audit_search(
        manager, AuditQuery("participants.participant", since=today + dt.timedelta(days=1))
    ).exists()
    for role in (Role.RESEARCHER, Role.STATISTICIAN, Role.CHIEF_INVESTIGATOR, Role.PEER_SUPPORT_WORKER):
        with pytest.raises(PermissionDenied):
            audit_search(actor_of(role), query)


def test_the_page_searches_on_listed_values_and_stays_within_its_queries(client, corrected, staff):
    client.force_login(staff[Role.TRIAL_MANAGER])
    url = reverse("participants:audit")
    assert "Choose a form or record" in client.get(url).content.decode()
    asked = {
        "form": "participants.participant",
        "person": staff[Role.RESEARCHER].pk,
        "field": "prior_admissions",
    }
    with CaptureQueriesContext(connection) as queries:
        page = client.get(url, asked).content.decode()
    assert corrected.trial_id in page and "typed 1 for 4" in page
    assert len(queries) <= 12
    bad = client.get(url, {"form": "x", "field": "password", "since": "2026-02-01", "until": "2026-01-01"})
    assert bad.status_code == 200 and "Select a valid choice" in bad.content.decode()
    assert client.get(url, {"form": "x\x00"}).status_code == 400  # a NUL character: named, refused
    order = client.get(
        url, {"form": "participants.participant", "since": "2026-02-01", "until": "2026-01-01"}
    )
    assert "The end date must be on or after the start date" in order.content.decode()
