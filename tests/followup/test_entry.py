"""Questionnaire returns by staff and by the participant, visit completion, contact attempts."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from aftercrisis.accounts.roles import Role
from aftercrisis.audit import history_of
from aftercrisis.followup.models import ContactAttempt, QuestionnaireResponse, VisitRecord
from aftercrisis.followup.services import enter_questionnaire, log_contact
from aftercrisis.participants.links import issue_link
from aftercrisis.participants.models import Status

pytestmark = pytest.mark.django_db
QPR = {f"q{i}": 2 for i in range(1, 16)}


@pytest.fixture
def participant(allocation_lists, make_participant):
    return make_participant("CAM", Status.RANDOMISED, on=dt.date(2026, 1, 5))


def test_scores_are_stored_with_the_instrument_version(core_protocol, participant, staff):
    response = enter_questionnaire(
        core_protocol,
        participant,
        "m4",
        "qpr15",
        {**QPR, "q15": None},
        method="phone",
        completed_on=dt.date(2026, 5, 10),
        by=staff[Role.RESEARCHER],
    )
    assert (response.total, response.prorated, response.instrument_version) == (30.0, True, "QPR-15 (2014)")
    assert response.answers["q15"] is None


def test_out_of_range_answers_are_refused_naming_the_item_and_nothing_is_written(
    core_protocol, participant, staff
):
    with pytest.raises(ValidationError) as caught:
        enter_questionnaire(
            core_protocol,
            participant,
            "m4",
            "uls8",
            {"q1": 9, "q3": 0},
            method="post",
            completed_on=dt.date(2026, 5, 10),
            by=staff[Role.RESEARCHER],
        )
    assert caught.value.messages == [
        "uls8.q1 (Lacks companionship): 9 is outside 1 to 4",
        "uls8.q3 (Is an outgoing person): 0 is outside 1 to 4",
    ]
    with pytest.raises(ValidationError, match="does not include csq8"):
        enter_questionnaire(
            core_protocol,
            participant,
            "m18",
            "csq8",
            {},
            method="post",
            completed_on=dt.date(2026, 5, 10),
            by=staff[Role.RESEARCHER],
        )
    assert QuestionnaireResponse.objects.count() == 0


def test_completing_every_instrument_of_the_visit_records_the_visit(core_protocol, participant, staff):
    answers = {
        "csq8": {f"q{i}": 3 for i in range(1, 9)},
        "qpr15": QPR,
        "uls8": {f"q{i}": 2 for i in range(1, 9)},
        "lsns6": {"family_contact": 2, "family_private": 1},
        "eq5d3l": {
            "mobility": 1,
            "self_care": 1,
            "usual_activities": 2,
            "pain_discomfort": 1,
            "anxiety_depression": 2,
        },
    }
    for n, (code, given) in enumerate(answers.items()):
        assert not VisitRecord.objects.filter(participant=participant, visit="m4").exists()
        enter_questionnaire(
            core_protocol,
            participant,
            "m4",
            code,
            given,
            method="post",
            completed_on=dt.date(2026, 5, 10 + n),
            by=staff[Role.RESEARCHER],
        )
    record = VisitRecord.objects.get(participant=participant, visit="m4")
    assert (record.outcome, record.method, record.on) == ("completed", "post", dt.date(2026, 5, 14))
    # A correction needs a reason and keeps the history.
    with pytest.raises(ValidationError):
        enter_questionnaire(
            core_protocol,
            participant,
            "m4",
            "csq8",
            {f"q{i}": 4 for i in range(1, 9)},
            method="post",
            completed_on=dt.date(2026, 5, 10),
            by=staff[Role.RESEARCHER],
        )
    fixed = enter_questionnaire(
        core_protocol,
        participant,
        "m4",
        "csq8",
        {f"q{i}": 4 for i in range(1, 9)},
        method="post",
        completed_on=dt.date(2026, 5, 10),
        by=staff[Role.RESEARCHER],
        reason="transcription error",
    )
    assert fixed.total == 32 and fixed.history.count() == 2


def test_baseline_returns_record_the_baseline_visit(core_protocol, allocation_lists, make_participant, staff):
    consented = make_participant("CAM", Status.CONSENTED)
    for code in core_protocol.visit("baseline").instruments:
        enter_questionnaire(
            core_protocol,
            consented,
            "baseline",
            code,
            {},
            method="in_person",
            completed_on=dt.date(2026, 1, 5),
            by=staff[Role.RESEARCHER],
        )
    assert VisitRecord.objects.filter(participant=consented, visit="baseline", outcome="completed").exists()


def test_contact_attempts_are_logged(actor_of, participant, staff):
    log_contact(
        actor_of(Role.RESEARCHER),
        participant,
        "m4",
        channel="phone",
        outcome="no_answer",
        on=dt.date(2026, 5, 1),
        by=staff[Role.RESEARCHER],
    )
    assert ContactAttempt.objects.get().get_outcome_display() == "No answer"
    with pytest.raises(PermissionDenied):
        log_contact(
            actor_of(Role.STATISTICIAN),
            participant,
            "m4",
            channel="sms",
            outcome="sent",
            on=dt.date(2026, 5, 1),
            by=staff[Role.STATISTICIAN],
        )


def test_staff_entry_page_saves_answers(client, participant, staff):
    client.force_login(staff[Role.RESEARCHER])
    url = reverse(
        "followup:questionnaire",
        kwargs={"trial_id": participant.trial_id, "visit": "m4", "instrument": "lsns6"},
    )
    page = client.get(url).content.decode()
    assert "Relatives seen or heard from monthly" in page
    response = client.post(
        url, {"family_contact": "2", "family_private": "9", "method": "phone", "completed_on": "2026-05-10"}
    )
    assert response.status_code == 200 and "There is a problem" in response.content.decode()
    response = client.post(
        url,
        {
            "family_contact": "2",
            "family_private": "1",
            "family_help": "1",
            "friends_contact": "3",
            "friends_private": "2",
            "friends_help": "2",
            "method": "phone",
            "completed_on": "2026-05-10",
        },
    )
    assert response.status_code == 302
    assert QuestionnaireResponse.objects.get(instrument="lsns6").total == 11


def test_a_participant_completes_due_questionnaires_through_a_link(client, core_protocol, participant, staff):
    from django.utils import timezone

    # Randomised today minus 122 days: the four-month window is open.
    alloc = participant.allocation
    alloc.randomised_on = timezone.localdate() - dt.timedelta(days=122)
    alloc.save()
    issued = issue_link(participant, "questionnaires", by=staff[Role.RESEARCHER])
    open_url = reverse("followup:open_questionnaires", kwargs={"token": issued.token})
    assert (
        client.post(open_url, {"code": "000000" if issued.code != "000000" else "111111"}).status_code == 200
    )
    assert client.post(open_url, {"code": issued.code}).status_code == 302
    mine = reverse("followup:my_questionnaires")
    for code in core_protocol.visit("m4").instruments:
        page = client.get(mine).content.decode()
        assert "questionnaire" in page
        inst_items = {"csq8": 8, "qpr15": 15, "uls8": 8, "lsns6": 6, "eq5d3l": 5}[code]
        data = {f"q{i}": "2" for i in range(1, inst_items + 1)}
        if code == "lsns6":
            data = dict.fromkeys(
                [
                    "family_contact",
                    "family_private",
                    "family_help",
                    "friends_contact",
                    "friends_private",
                    "friends_help",
                ],
                "2",
            )
        if code == "eq5d3l":
            data = dict.fromkeys(
                ["mobility", "self_care", "usual_activities", "pain_discomfort", "anxiety_depression"], "1"
            )
        assert client.post(mine, data).status_code == 302
    assert "Thank you" in client.get(mine).content.decode()
    record = VisitRecord.objects.get(participant=participant, visit="m4")
    assert (record.method, record.recorded_by) == ("online", None)
    assert QuestionnaireResponse.objects.get(participant=participant, instrument="eq5d3l").total == 1.0


def test_reminders_go_once_a_week_by_the_best_channel_and_are_logged(core_protocol, participant, mailoutbox):
    from aftercrisis.followup.reminders import send_reminders

    due_day = participant.allocation.randomised_on + dt.timedelta(days=122)
    # The fixture's participant has a mobile number and no e-mail address.
    assert send_reminders(core_protocol, due_day) == {"email": 0, "sms": 1, "letter": 0, "unreachable": 0}
    assert send_reminders(core_protocol, due_day + dt.timedelta(days=3))["sms"] == 0
    assert send_reminders(core_protocol, due_day + dt.timedelta(days=7))["sms"] == 1
    attempts = ContactAttempt.objects.filter(participant=participant, automatic=True)
    assert [(a.visit, a.channel, a.outcome) for a in attempts] == [("m4", "sms", "sent")] * 2
    identity = participant.identity
    identity.email = "alex@example.org"
    identity.save()
    assert send_reminders(core_protocol, due_day + dt.timedelta(days=14))["email"] == 1
    assert mailoutbox[0].subject == "Your study questionnaires are due"
    assert "intervention" not in mailoutbox[0].body.lower() and "peer" not in mailoutbox[0].body.lower()
    # Nothing before the window opens.
    assert (
        sum(
            send_reminders(
                core_protocol, participant.allocation.randomised_on + dt.timedelta(days=30)
            ).values()
        )
        == 0
    )


CSQ = {f"q{i}": 3 for i in range(1, 9)}


def _enter(core_protocol, participant, staff, on, visit="m4", **extra):
    return enter_questionnaire(
        core_protocol,
        participant,
        visit,
        "csq8" if visit == "m4" else "qpr15",
        CSQ if visit == "m4" else {},
        method="post",
        completed_on=on,
        by=staff[Role.RESEARCHER],
        **extra,
    )


def test_a_date_outside_the_visit_window_needs_a_reason_kept_with_the_return(
    core_protocol, participant, staff
):
    # Randomised 5 Jan 2026: the four-month window opens on day 108, 23 Apr 2026.
    day_66 = dt.date(2026, 3, 12)
    with pytest.raises(ValidationError) as caught:
        _enter(core_protocol, participant, staff, day_66)
    assert caught.value.message_dict["completed_on"] == [
        "12 Mar 2026 is outside the four-month follow-up window, 23 Apr 2026 to 6 Jul 2026: "
        "correct the date, or confirm it is outside the window and give the reason"
    ]
    assert not QuestionnaireResponse.objects.exists()
    response = _enter(
        core_protocol, participant, staff, day_66, outside_window_reason="  seen early: moving abroad "
    )
    assert response.outside_window_reason == "seen early: moving abroad"
    assert history_of(response)[0]["kind"] == "Created"
    assert response.history.get().outside_window_reason == "seen early: moving abroad"
    # Correcting the answers keeps the confirmed reason; inside the window no reason is kept.
    corrected = enter_questionnaire(
        core_protocol, participant, "m4", "csq8", {**CSQ, "q1": 4}, method="post",
        completed_on=day_66, by=staff[Role.RESEARCHER], reason="transcription error",
    )  # fmt: skip
    assert corrected.outside_window_reason == "seen early: moving abroad"
    inside = _enter(
        core_protocol,
        participant,
        staff,
        dt.date(2026, 5, 7),
        reason="date typed wrongly",
        outside_window_reason="x",
    )
    assert inside.outside_window_reason == ""


@pytest.mark.parametrize(
    ("on", "visit", "message"),
    [
        (None, "m4", "The date completed cannot be in the future"),
        (dt.date(1026, 5, 7), "m4", "The date completed cannot be before 1900: check the year"),
        (dt.date(2026, 1, 4), "m4", "The date completed cannot be before randomisation (5 Jan 2026)"),
        (dt.date(2025, 12, 1), "baseline", "The date completed cannot be before the referral (5 Jan 2026)"),
    ],
    ids=["future", "mistyped year", "before randomisation", "before referral"],
)
def test_an_impossible_completion_date_is_refused_even_with_a_reason(
    core_protocol, participant, staff, on, visit, message
):
    from django.utils import timezone

    on = on or timezone.localdate() + dt.timedelta(days=1)
    with pytest.raises(ValidationError) as caught:
        _enter(core_protocol, participant, staff, on, visit=visit, outside_window_reason="I am sure")
    assert caught.value.message_dict["completed_on"] == [message]
    assert not QuestionnaireResponse.objects.exists()


def test_the_entry_page_asks_to_confirm_a_date_outside_the_window_and_why(client, participant, staff):
    client.force_login(staff[Role.RESEARCHER])
    url = reverse(
        "followup:questionnaire",
        kwargs={"trial_id": participant.trial_id, "visit": "m4", "instrument": "csq8"},
    )
    answers = {**{k: str(v) for k, v in CSQ.items()}, "method": "post", "completed_on": "2026-03-12"}
    page = client.post(url, answers).content.decode()
    assert (
        "is outside the four-month follow-up window" in page
        and "I confirm this date is outside the visit window" in page
    )
    page = client.post(url, {**answers, "outside_window_confirmed": "on"}).content.decode()
    assert "Give the reason the date outside the visit window is right" in page
    page = client.post(url, {**answers, "outside_window_reason": "moving abroad"}).content.decode()
    assert "Confirm the date is outside the visit window, or clear the reason" in page
    assert not QuestionnaireResponse.objects.exists()
    done = client.post(
        url, {**answers, "outside_window_confirmed": "on", "outside_window_reason": "moving abroad"}
    )
    assert done.status_code == 302
    assert QuestionnaireResponse.objects.get().outside_window_reason == "moving abroad"


def test_a_first_entry_asks_no_reason_and_a_correction_starts_from_what_is_stored(client, participant, staff):
    client.force_login(staff[Role.RESEARCHER])
    url = reverse(
        "followup:questionnaire",
        kwargs={"trial_id": participant.trial_id, "visit": "baseline", "instrument": "qpr15"},
    )
    first = client.get(url).content.decode()
    assert "Reason for the change" not in first
    answers = {f"q{i}": "2" for i in range(1, 16)} | {"method": "phone", "completed_on": "2026-01-05"}
    response = client.post(url, answers)
    assert response.status_code == 302, response.content.decode()[-3000:]
    again = client.get(url).content.decode()
    assert "Reason for the change" in again
    assert 'value="2026-01-05"' in again and 'value="phone" checked' in again
    page = client.post(url, answers | {"q1": "3"}).content.decode()
    assert "Give a reason for changing data that has already been entered" in page
    assert QuestionnaireResponse.objects.get().answers["q1"] == 2
    assert client.post(url, answers | {"q1": "3", "reason": "typed wrongly"}).status_code == 302
    assert QuestionnaireResponse.objects.get().answers["q1"] == 3
