"""Recording peer support sessions: the protocol's limit, locking, validation and risk escalation."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import OperationalError, connection, transaction
from django.urls import reverse

from aftercrisis.accounts.roles import Role
from aftercrisis.intervention.models import CaseloadAssignment, ContactAttempt, RiskEscalation, Session
from aftercrisis.intervention.selectors import caseload
from aftercrisis.intervention.services import (
    SessionDetails,
    WorkerSessions,
    record_caseload_sessions,
    record_contact_attempt,
    record_contact_attempts,
    record_session,
)

pytestmark = pytest.mark.django_db

START = dt.date(2026, 1, 5)


def held(day: int, **more) -> SessionDetails:
    return SessionDetails(
        outcome="held", on=START + dt.timedelta(days=day), duration_minutes=60, mode="face_to_face", **more
    )


def test_sessions_are_numbered_and_the_eleventh_is_refused(supported, staff, core_protocol):
    participant = supported()
    worker = staff[Role.PEER_SUPPORT_WORKER]
    record_session(
        participant, core_protocol, SessionDetails("did_not_attend", START + dt.timedelta(days=2)), by=worker
    )
    numbers = [
        record_session(participant, core_protocol, held(7 * k + 3), by=worker).number for k in range(10)
    ]
    assert numbers == list(range(1, 11))
    with pytest.raises(ValidationError) as refused:
        record_session(participant, core_protocol, held(80), by=worker)
    assert refused.value.messages == [
        f"{participant.trial_id} has already had 10 sessions, the most the protocol allows. "
        "Session 11 cannot be recorded."
    ]
    # Missed and cancelled sessions can still be recorded: they take no number.
    record_session(
        participant, core_protocol, SessionDetails("cancelled", START + dt.timedelta(days=81)), by=worker
    )
    assert Session.objects.filter(participant=participant).count() == 12
    assert Session.objects.filter(participant=participant, outcome="held").count() == 10


def test_a_session_outside_the_workers_caseload_is_refused(supported, make_participant, staff, core_protocol):
    stranger = make_participant("CAM", "randomised")
    with pytest.raises(ValidationError, match="not on your caseload"):
        record_session(stranger, core_protocol, held(3), by=staff[Role.PEER_SUPPORT_WORKER])
    with pytest.raises(ValidationError, match="not on your caseload"):
        record_session(supported(), core_protocol, held(3), by=staff[Role.TRIAL_MANAGER])
    assert not Session.objects.exists()


def test_bad_details_name_the_field_and_write_nothing(supported, staff, core_protocol):
    participant = supported()
    bad = SessionDetails(
        outcome="held",
        on=START - dt.timedelta(days=1),
        duration_minutes=None,
        mode="carrier pigeon",
        sections_covered=("goals", "horoscopes"),
        next_session_on=START - dt.timedelta(days=3),
    )
    with pytest.raises(ValidationError) as refused:
        record_session(participant, core_protocol, bad, by=staff[Role.PEER_SUPPORT_WORKER])
    assert set(refused.value.message_dict) == {
        "on",
        "duration_minutes",
        "mode",
        "sections_covered",
        "next_session_on",
    }
    assert "horoscopes" in refused.value.message_dict["sections_covered"][0]
    assert not Session.objects.exists()


def test_a_risk_concern_goes_to_the_sites_duty_contact_once_the_session_is_saved(
    supported, staff, sites, django_capture_on_commit_callbacks, core_protocol
):
    participant = supported()
    worker = staff[Role.PEER_SUPPORT_WORKER]
    concern = "Talked about stopping their medication and not feeling safe at home"
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        session = record_session(participant, core_protocol, held(10, risk_concern=concern), by=worker)
        assert mail.outbox == []  # nothing is sent before the session is committed
    assert len(callbacks) == 1
    assert session.risk_concern
    escalation = RiskEscalation.objects.get(session=session)
    assert escalation.escalated_to == "Camden study duty clinician <duty-cam@example.org>"
    assert escalation.concern == concern and escalation.raised_by == worker
    (sent,) = mail.outbox
    # The concern reveals the arm, so it goes to the named duty contact, never to the masked crisis team.
    assert sent.to == ["duty-cam@example.org"]
    assert participant.trial_id in sent.subject and concern in sent.body
    with django_capture_on_commit_callbacks(execute=True):
        assert record_session(participant, core_protocol, held(17), by=worker).risk_concern is False
    assert len(mail.outbox) == 1


def test_without_a_duty_contact_the_concern_goes_to_the_trial_managers(
    supported, staff, sites, django_capture_on_commit_callbacks, core_protocol
):
    sites["CAM"].duty_contact_email = ""
    sites["CAM"].save()
    participant = supported()
    with django_capture_on_commit_callbacks(execute=True):
        record_session(
            participant, core_protocol, held(10, risk_concern="Not safe"), by=staff[Role.PEER_SUPPORT_WORKER]
        )
    (sent,) = mail.outbox
    assert sent.to == [staff[Role.TRIAL_MANAGER].email]


def test_no_risk_concern_is_sent_for_a_session_that_was_rolled_back(
    supported, staff, django_capture_on_commit_callbacks, core_protocol
):
    participant = supported()
    worker = staff[Role.PEER_SUPPORT_WORKER]
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        record_session(participant, core_protocol, held(10, risk_concern="Not safe"), by=worker)
        raise RuntimeError("the request failed after the session was recorded")
    assert mail.outbox == [] and not RiskEscalation.objects.exists()


def test_the_caseload_shows_sessions_contacts_and_the_next_session(supported, staff, actor_of, core_protocol):
    participant = supported()
    worker = staff[Role.PEER_SUPPORT_WORKER]
    record_contact_attempt(participant, by=worker, on=START, method="phone", reached=False)
    record_contact_attempt(
        participant, by=worker, on=START + dt.timedelta(days=1), method="text", reached=True
    )
    record_session(
        participant, core_protocol, held(3, next_session_on=START + dt.timedelta(days=10)), by=worker
    )
    (entry,) = caseload(actor_of(Role.PEER_SUPPORT_WORKER), core_protocol, START + dt.timedelta(days=30))
    assert entry.participant == participant
    assert (entry.sessions_held, entry.contact_attempts) == (1, 2)
    assert entry.next_session_on == START + dt.timedelta(days=10)
    assert entry.days_since_randomisation == 30
    assert entry.days_left_in_window == core_protocol.intervention.window_days - 30
    assert ContactAttempt.objects.filter(participant=participant).count() == 2
    assert caseload(actor_of(Role.RESEARCHER), core_protocol, START) == []


@pytest.mark.db_server
@pytest.mark.django_db(transaction=True)
def test_concurrent_submissions_never_pass_the_limit(supported, staff, core_protocol):
    """Four browsers submit the tenth session at once: exactly one is numbered 10.

    On PostgreSQL the others wait for the caseload row's lock and are then refused by the limit. The test
    database of SQLite is in memory, where a writer that finds the database busy fails at once instead of
    waiting: that counts as refused too.
    """
    participant = supported()
    worker = staff[Role.PEER_SUPPORT_WORKER]
    for k in range(9):
        record_session(participant, core_protocol, held(k + 1), by=worker)
    outcomes: list[object] = []
    barrier = threading.Barrier(4)

    def submit(day: int) -> None:
        barrier.wait()
        try:
            outcomes.append(record_session(participant, core_protocol, held(day), by=worker).number)
        except ValidationError as exc:
            outcomes.append(exc.messages[0])
        except OperationalError as exc:
            outcomes.append(f"busy: {exc}")
        finally:
            connection.close()

    threads = [threading.Thread(target=submit, args=(20 + i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(o for o in outcomes if isinstance(o, int)) == [10]
    assert len(outcomes) == 4
    refusals = [o for o in outcomes if isinstance(o, str)]
    assert all("Session 11 cannot be recorded" in o or "same moment" in o or "locked" in o for o in refusals)
    assert Session.objects.filter(participant=participant, outcome="held").count() == 10


def test_a_participant_withdrawn_from_peer_support_is_off_the_workers_pages(supported, staff, client):
    from aftercrisis.participants.models import Withdrawal, WithdrawalLevel

    participant = supported()
    client.force_login(staff[Role.PEER_SUPPORT_WORKER])
    page = reverse("intervention:participant", kwargs={"trial_id": participant.trial_id})
    assert client.get(page).status_code == 200
    Withdrawal.objects.create(
        participant=participant, level=WithdrawalLevel.PEER_SUPPORT, on=participant.referred_on,
        reason="no longer wants sessions", recorded_by=staff[Role.TRIAL_MANAGER],
    )  # fmt: skip
    assert participant.trial_id not in client.get(reverse("intervention:caseload")).content.decode()
    assert client.get(page).status_code == 404  # as on the caseload: no longer theirs


def test_sessions_for_many_caseloads_are_numbered_per_participant_and_refused_whole(
    supported, make_participant, staff, core_protocol
):
    worker = staff[Role.PEER_SUPPORT_WORKER]
    first, second = supported(), supported()
    record_session(first, core_protocol, held(1), by=worker)
    recorded = record_caseload_sessions(
        core_protocol,
        [
            WorkerSessions(
                first,
                worker,
                [held(8), SessionDetails("did_not_attend", START + dt.timedelta(days=12)), held(15)],
            ),
            WorkerSessions(second, worker, [held(2, next_session_on=START + dt.timedelta(days=9))]),
        ],
    )
    assert [[s.number for s in made] for made in recorded] == [[2, None, 3], [1]]
    assert CaseloadAssignment.objects.get(participant=second).next_session_on == START + dt.timedelta(days=9)
    stranger = make_participant("CAM", "consented")  # on no caseload
    with pytest.raises(ValidationError, match=f"{stranger.trial_id} is not on your caseload"):
        record_caseload_sessions(
            core_protocol,
            [WorkerSessions(second, worker, [held(20)]), WorkerSessions(stranger, worker, [held(20)])],
        )
    assert Session.objects.filter(participant=second).count() == 1


def test_contact_attempts_recorded_together_are_refused_whole(supported, make_participant, staff):
    worker = staff[Role.PEER_SUPPORT_WORKER]
    participant, stranger = supported(), make_participant("CAM", "consented")  # on no caseload
    attempts = [
        ContactAttempt(participant=p, worker=worker, on=START, method="phone", reached=True)
        for p in (participant, stranger)
    ]
    with pytest.raises(ValidationError, match=f"{stranger.trial_id} is not on your caseload"):
        record_contact_attempts(attempts)
    assert not ContactAttempt.objects.exists()
    assert [a.participant for a in record_contact_attempts(attempts[:1])] == [participant]
