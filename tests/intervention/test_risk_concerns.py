"""A peer support worker's risk concern stays open in the application until someone acknowledges it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from aftercrisis.accounts.roles import Role
from aftercrisis.intervention.models import RiskEscalation
from aftercrisis.intervention.selectors import open_risk_concerns
from aftercrisis.intervention.services import SessionDetails, acknowledge_risk, record_session

pytestmark = pytest.mark.django_db
START = dt.date(2026, 1, 5)


@pytest.fixture
def concern(supported, staff, core_protocol):
    participant = supported()
    details = SessionDetails(
        outcome="held",
        on=START + dt.timedelta(days=10),
        duration_minutes=60,
        mode="face_to_face",
        risk_concern="Said they did not feel safe at home",
    )
    record_session(participant, core_protocol, details, by=staff[Role.PEER_SUPPORT_WORKER])
    return RiskEscalation.objects.get(participant=participant)


def test_an_open_concern_is_listed_for_the_trial_manager_until_acknowledged(concern, staff, actor_of):
    manager = actor_of(Role.TRIAL_MANAGER)
    assert list(open_risk_concerns(manager)) == [concern]
    # It reveals the arm: no masked role is shown it, whatever it asks.
    for role in (Role.RESEARCHER, Role.CHIEF_INVESTIGATOR, Role.STATISTICIAN, Role.REFERRER):
        assert not open_risk_concerns(actor_of(role)).exists()
    with pytest.raises(PermissionDenied):
        acknowledge_risk(actor_of(Role.RESEARCHER), concern, by=staff[Role.RESEARCHER], at=timezone.now())
    acknowledge_risk(manager, concern, by=staff[Role.TRIAL_MANAGER], at=timezone.now())
    concern.refresh_from_db()
    assert concern.acknowledged_by == staff[Role.TRIAL_MANAGER] and concern.acknowledged_at is not None
    assert concern.history.first().history_change_reason == "risk concern acknowledged"
    assert not open_risk_concerns(manager).exists()
    with pytest.raises(ValidationError, match="already acknowledged"):
        acknowledge_risk(manager, concern, by=staff[Role.TRIAL_MANAGER], at=timezone.now())


def test_the_manager_acknowledges_from_the_list_and_the_home_page_counts_what_is_open(concern, staff, client):
    client.force_login(staff[Role.TRIAL_MANAGER])
    home = client.get(reverse("recruitment:by_site")).content.decode()
    assert "1 open risk concern" in home
    listing = client.get(reverse("peer_support:risk_concerns")).content.decode()
    assert concern.participant.trial_id in listing and "did not feel safe" in listing
    response = client.post(reverse("peer_support:acknowledge_risk", args=[concern.pk]))
    assert response.status_code == 302
    assert (
        "There are no open risk concerns"
        in client.get(reverse("peer_support:risk_concerns")).content.decode()
    )
    assert "No open risk concerns" in client.get(reverse("recruitment:by_site")).content.decode()
    # Acknowledged once: a second post finds nothing open.
    assert client.post(reverse("peer_support:acknowledge_risk", args=[concern.pk])).status_code == 404
