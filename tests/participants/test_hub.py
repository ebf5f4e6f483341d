"""The participant's page as a hub: the schedule of visits and forms, what happened, and each next step."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from aftercrisis.accounts.roles import Role
from aftercrisis.demo.recruitment import consent
from aftercrisis.followup.schedule import FormState
from aftercrisis.followup.selectors import schedule_of
from aftercrisis.outcomes.services import record_death
from aftercrisis.participants.models import Status

pytestmark = pytest.mark.django_db


def _page(client, who, participant) -> str:
    client.force_login(who)
    response = client.get(reverse("participants:detail", kwargs={"trial_id": participant.trial_id}))
    assert response.status_code == 200
    return response.content.decode()


def _states(participant, core_protocol, today) -> dict[tuple[str, str], FormState]:
    randomised_on = getattr(getattr(participant, "allocation", None), "randomised_on", None)
    return {
        (v.code, f.instrument): f.state
        for v in schedule_of(
            core_protocol,
            participant,
            today,
            randomised_on=randomised_on,
            withdrawals=participant.withdrawals.all(),
        )
        for f in v.forms
    }


def test_after_consent_the_next_step_is_the_baseline(client, make_participant, staff, core_protocol):
    participant = make_participant("CAM", Status.SCREENED)
    consent(participant, core_protocol, staff[Role.RESEARCHER], dt.date(2026, 1, 5))
    page = _page(client, staff[Role.RESEARCHER], participant)
    baseline = reverse("followup:visit", kwargs={"trial_id": participant.trial_id, "visit": "baseline"})
    assert f'href="{baseline}"' in page and "Enter the baseline questionnaires" in page
    states = _states(participant, core_protocol, dt.date(2026, 1, 6))
    assert states[("baseline", "qpr15")] is FormState.DUE
    assert states[("m4", "csq8")] is FormState.NOT_DUE


def test_not_ready_to_randomise_links_to_the_baseline(client, make_participant, staff, core_protocol):
    participant = make_participant("CAM", Status.SCREENED)
    consent(participant, core_protocol, staff[Role.RESEARCHER], dt.date(2026, 1, 5))
    page = _page(client, staff[Role.TRIAL_MANAGER], participant)
    assert "the baseline questionnaires are not complete" in page
    assert "a researcher enters them" in page  # the manager does not enter questionnaires


def test_the_schedule_follows_the_windows_and_what_happened(
    client, allocation_lists, make_participant, staff, actor_of, core_protocol
):
    participant = make_participant("CAM", Status.RANDOMISED, on=dt.date(2026, 1, 5))
    # Four-month visit: day 122, window from day 108 to day 182.
    assert _states(participant, core_protocol, dt.date(2026, 4, 1))[("m4", "csq8")] is FormState.NOT_DUE
    assert _states(participant, core_protocol, dt.date(2026, 5, 6))[("m4", "csq8")] is FormState.DUE
    assert _states(participant, core_protocol, dt.date(2026, 7, 10))[("m4", "csq8")] is FormState.OVERDUE
    assert (
        _states(participant, core_protocol, dt.date(2026, 7, 10))[("baseline", "qpr15")] is FormState.COMPLETE
    )
    record_death(
        actor_of(Role.RESEARCHER),
        participant,
        died_on=dt.date(2026, 6, 1),
        cause="unknown",
        by=staff[Role.RESEARCHER],
        today=dt.date(2026, 6, 10),
    )
    participant.refresh_from_db()
    states = _states(participant, core_protocol, dt.date(2026, 7, 10))
    assert states[("m4", "csq8")] is FormState.NOT_POSSIBLE
    assert states[("m18", "qpr15")] is FormState.NOT_POSSIBLE
    page = _page(client, staff[Role.RESEARCHER], participant)
    assert "Not possible" in page and "Record a death" not in page
    assert "Report a serious adverse event" in page


def test_the_hub_shows_the_allocation_and_sessions_only_to_those_who_may_see_the_arm(
    client, supported, staff, core_protocol
):
    participant = supported()
    manager = _page(client, staff[Role.TRIAL_MANAGER], participant)
    assert "Allocation" in manager and "Peer support sessions" in manager
    researcher = _page(client, staff[Role.RESEARCHER], participant)
    assert "Allocation" not in researcher and "Peer support sessions" not in researcher
    assert all(arm.name not in researcher for arm in core_protocol.arms)


def test_the_next_step_of_a_randomised_participant_is_the_visit_due(
    client, allocation_lists, make_participant, staff
):
    import datetime as dt

    from django.utils import timezone

    # Randomised 130 days ago: the four-month questionnaires are due (window from day 108 to day 182).
    participant = make_participant("CAM", Status.RANDOMISED, on=timezone.localdate() - dt.timedelta(days=130))
    page = _page(client, staff[Role.RESEARCHER], participant)
    m4 = reverse("followup:visit", kwargs={"trial_id": participant.trial_id, "visit": "m4"})
    assert f'<a href="{m4}">Enter the four-month follow-up questionnaires' in page
