"""A researcher emergency-unblinded for a participant no longer assesses that participant's outcomes."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.urls import reverse
from tests.conftest import PASSWORD

from aftercrisis.accounts.roles import Role
from aftercrisis.accounts.selectors import actor_for
from aftercrisis.accounts.services import create_staff
from aftercrisis.followup.models import ContactAttempt, QuestionnaireResponse
from aftercrisis.followup.selectors import worklist
from aftercrisis.followup.services import enter_questionnaire, log_contact
from aftercrisis.outcomes.services import EpisodeDraft, record_episodes
from aftercrisis.participants.models import Status
from aftercrisis.randomisation.models import UnblindingRequest
from aftercrisis.randomisation.unblinding import decide_unblinding, request_unblinding
from aftercrisis.reporting.selectors import unblinded_assessments

pytestmark = pytest.mark.django_db
QPR = {f"q{i}": 2 for i in range(1, 16)}
IN_THE_4_MONTH_WINDOW = dt.date(2026, 5, 10)


@pytest.fixture
def unblinded(allocation_lists, make_participant, staff, actor_of):
    """A randomised participant, and the researcher who was emergency-unblinded for them."""
    participant = make_participant("CAM", Status.RANDOMISED, on=dt.date(2026, 1, 5))
    researcher = staff[Role.RESEARCHER]
    request = request_unblinding(
        actor_of(Role.RESEARCHER),
        participant,
        reason="admitted, drug interaction",
        by=researcher,
        notify=False,
    )
    decide_unblinding(
        actor_of(Role.TRIAL_MANAGER),
        request,
        approve=True,
        note="",
        by=staff[Role.TRIAL_MANAGER],
        notify=False,
    )
    return participant, researcher


@pytest.fixture
def colleague(sites):
    """Another researcher at the same site."""
    user = create_staff(
        username="researcher.two",
        password=PASSWORD,
        first_name="Sam",
        last_name="Second",
        email="sam@example.org",
        roles=[(Role.RESEARCHER, sites["CAM"])],
    )
    return user


def _qpr(core_protocol, participant, by):
    return enter_questionnaire(
        core_protocol,
        participant,
        "m4",
        "qpr15",
        QPR,
        method="phone",
        completed_on=IN_THE_4_MONTH_WINDOW,
        by=by,
    )


def test_the_worklist_offers_the_visit_to_another_researcher_at_the_site(unblinded, colleague, core_protocol):
    participant, researcher = unblinded
    mine = worklist(actor_for(researcher, Role.RESEARCHER), core_protocol, IN_THE_4_MONTH_WINDOW)
    theirs = worklist(actor_for(colleague, Role.RESEARCHER), core_protocol, IN_THE_4_MONTH_WINDOW)
    assert participant not in {e.participant for e in mine}
    assert [e.window.code for e in theirs if e.participant == participant] == ["m4"]


def test_the_unblinded_researcher_cannot_enter_their_outcomes(unblinded, colleague, core_protocol, actor_of):
    participant, researcher = unblinded
    with pytest.raises(ValidationError) as refused:
        _qpr(core_protocol, participant, researcher)
    assert f"You were unblinded for {participant.trial_id}" in refused.value.messages[0]
    assert "another researcher at the site" in refused.value.messages[0]
    with pytest.raises(ValidationError):
        log_contact(
            actor_of(Role.RESEARCHER),
            participant,
            "m4",
            channel="phone",
            outcome="no_answer",
            on=IN_THE_4_MONTH_WINDOW,
            by=researcher,
        )
    assert not QuestionnaireResponse.objects.exists() and not ContactAttempt.objects.exists()
    assert _qpr(core_protocol, participant, colleague).entered_by == colleague


def test_the_visit_pages_send_the_unblinded_researcher_back_with_the_reason(unblinded, client):
    participant, researcher = unblinded
    client.force_login(researcher)
    for url in (
        reverse("followup:visit", kwargs={"trial_id": participant.trial_id, "visit": "m4"}),
        reverse(
            "followup:questionnaire",
            kwargs={"trial_id": participant.trial_id, "visit": "m4", "instrument": "qpr15"},
        ),
    ):
        response = client.post(url, {"channel": "phone", "outcome": "no_answer", "on": "2026-05-10"})
        assert response.status_code == 302 and response["Location"] == reverse("followup:worklist")
        shown = [str(m) for m in get_messages(response.wsgi_request)]
        assert f"You were unblinded for {participant.trial_id}" in shown[-1]
    assert not ContactAttempt.objects.exists() and not QuestionnaireResponse.objects.exists()


def test_the_report_counts_assessments_made_after_the_assessor_was_unblinded(
    allocation_lists, make_participant, staff, actor_of, colleague, core_protocol
):
    participant = make_participant("CAM", Status.RANDOMISED, on=dt.date(2026, 1, 5))
    researcher = staff[Role.RESEARCHER]
    _qpr(core_protocol, participant, researcher)  # masked when entered
    _qpr(core_protocol, make_participant("CAM", Status.RANDOMISED, on=dt.date(2026, 1, 5)), colleague)
    assert unblinded_assessments() == {"questionnaires": 0, "acute_care_episodes": 0}

    request = request_unblinding(
        actor_of(Role.RESEARCHER), participant, reason="clinical emergency", by=researcher, notify=False
    )
    decide_unblinding(
        actor_of(Role.TRIAL_MANAGER),
        request,
        approve=True,
        note="",
        by=staff[Role.TRIAL_MANAGER],
        notify=False,
    )
    assert unblinded_assessments() == {"questionnaires": 0, "acute_care_episodes": 0}
    # Primary outcome data recorded by the unblinded researcher afterwards counts against masking.
    draft = EpisodeDraft(
        participant, "inpatient_ward", dt.date(2026, 3, 1), None, "", "clinical_records", "", "form"
    )
    record_episodes(
        actor_of(Role.RESEARCHER), core_protocol, [draft], by=researcher, today=dt.date(2026, 6, 1)
    )
    assert unblinded_assessments() == {"questionnaires": 0, "acute_care_episodes": 1}
    # An unblinding decided on or before the day a questionnaire was completed makes it count too.
    UnblindingRequest.objects.filter(pk=request.pk).update(
        decided_at=dt.datetime(2026, 5, 10, 9, 0, tzinfo=dt.UTC)
    )
    assert unblinded_assessments() == {"questionnaires": 1, "acute_care_episodes": 1}
