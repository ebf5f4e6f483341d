from __future__ import annotations

import pytest

from aftercrisis.accounts.roles import Role
from aftercrisis.lock.models import DatabaseLockEvent, LockAction
from aftercrisis.lock.services import DatabaseLocked, is_locked
from aftercrisis.participants.models import Participant
from aftercrisis.participants.services import update_research_data

pytestmark = pytest.mark.django_db


def test_a_locked_database_refuses_changes_until_unlocked(make_participant, staff):
    participant = make_participant(prior_admissions=1)
    manager = staff[Role.TRIAL_MANAGER]
    DatabaseLockEvent.objects.create(action=LockAction.LOCKED, by=manager, reason="final analysis")
    assert is_locked()
    with pytest.raises(DatabaseLocked):
        update_research_data(participant, {"prior_admissions": 2}, by=manager, reason="late correction")
    with pytest.raises(DatabaseLocked):
        make_participant()
    DatabaseLockEvent.objects.create(action=LockAction.UNLOCKED, by=manager, reason="query from the DMC")
    update_research_data(participant, {"prior_admissions": 2}, by=manager, reason="late correction")
    participant.refresh_from_db()
    assert participant.prior_admissions == 2


def test_the_trial_manager_locks_with_a_reason_and_the_statistician_is_unblinded(
    client, staff, make_participant, allocation_lists
):
    from aftercrisis.participants.models import Status

    make_participant("CAM", Status.RANDOMISED)
    client.force_login(staff[Role.STATISTICIAN])
    before = b"".join(client.get("/reports/research-export.csv").streaming_content).decode()
    assert "arm" not in before.splitlines()[0].split(",")

    client.force_login(staff[Role.TRIAL_MANAGER])
    refused = client.post("/reports/lock/", {"reason": " "})
    assert refused.status_code == 200 and b"Enter reason" in refused.content
    assert not is_locked()
    client.post("/reports/lock/", {"reason": "all queries resolved"})
    assert is_locked()
    event = DatabaseLockEvent.objects.get()
    assert (event.action, event.by, event.reason) == (
        LockAction.LOCKED,
        staff[Role.TRIAL_MANAGER],
        "all queries resolved",
    )

    client.force_login(staff[Role.STATISTICIAN])
    after = b"".join(client.get("/reports/research-export.csv").streaming_content).decode()
    assert after.splitlines()[0].split(",")[-1] == "arm"
    assert after.splitlines()[1].split(",")[-1] in ("intervention", "control")

    client.force_login(staff[Role.RESEARCHER])  # masked roles stay masked after lock
    participant = Participant.objects.get()
    page = client.get(f"/participants/{participant.trial_id}/").content.decode()
    assert "Allocation" not in page and "intervention" not in page

    client.force_login(staff[Role.TRIAL_MANAGER])
    client.post("/reports/lock/", {"reason": "query from the data monitoring committee"})
    assert not is_locked()


def test_an_edit_while_locked_is_refused_on_the_page_not_with_an_error(client, make_participant, staff):
    participant = make_participant(prior_admissions=1)
    DatabaseLockEvent.objects.create(
        action=LockAction.LOCKED, by=staff[Role.TRIAL_MANAGER], reason="analysis"
    )
    client.force_login(staff[Role.RESEARCHER])
    response = client.post(
        f"/participants/{participant.trial_id}/edit/",
        {"sex": "female", "prior_admissions": 2, "reason": "late correction"},
    )
    assert response.status_code == 200
    assert b"database is locked" in response.content
    participant.refresh_from_db()
    assert participant.prior_admissions == 1


def test_a_form_says_the_database_is_locked_before_it_is_filled_in(client, make_participant, staff):
    participant = make_participant()
    client.force_login(staff[Role.RESEARCHER])
    url = f"/participants/{participant.trial_id}/edit/"
    assert b"locked for analysis" not in client.get(url).content
    DatabaseLockEvent.objects.create(
        action=LockAction.LOCKED, by=staff[Role.TRIAL_MANAGER], reason="analysis"
    )
    assert b"locked for analysis" in client.get(url).content
    assert b"locked for analysis" not in client.get(f"/participants/{participant.trial_id}/").content


def test_a_button_refused_while_locked_goes_back_to_its_page_with_the_reason(
    client, make_participant, staff, allocation_lists
):
    from aftercrisis.participants.models import Status

    participant = make_participant("CAM", Status.CONSENTED)
    DatabaseLockEvent.objects.create(
        action=LockAction.LOCKED, by=staff[Role.TRIAL_MANAGER], reason="analysis"
    )
    client.force_login(staff[Role.TRIAL_MANAGER])
    page = f"http://testserver/participants/{participant.trial_id}/"
    url = f"/participants/{participant.trial_id}/randomise/"
    back = client.post(url, headers={"referer": page}, follow=True)
    assert back.redirect_chain == [(page, 302)]
    assert b"locked for analysis" in back.content
    elsewhere = client.post(url, headers={"referer": "https://example.org/"})
    assert elsewhere.status_code == 409 and b"locked for analysis" in elsewhere.content
    participant.refresh_from_db()
    assert participant.status == Status.CONSENTED
