from __future__ import annotations

import datetime as dt
import re

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
    assert refused.status_code == 200 and b"Enter the reason" in refused.content
    unconfirmed = client.post("/reports/lock/", {"reason": "all queries resolved"})
    assert b"Confirm that you have reviewed the checklist" in unconfirmed.content
    assert not is_locked()
    client.post("/reports/lock/", {"reason": "all queries resolved", "reviewed": "on"})
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
    client.post("/reports/lock/unlock/", {"reason": "query from the data monitoring committee"})
    assert is_locked()  # until the chief investigator agrees
    client.force_login(staff[Role.CHIEF_INVESTIGATOR])
    client.post("/reports/lock/unlock/decision/", {"decision": "agree"})
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


def _checklist(page: str) -> dict[str, tuple[int, str]]:
    """Each item of the checklist on the lock page: its count and where its link leads."""
    rows = re.findall(
        r'<td class="nhsuk-table__cell">([^<]+)</td>\s*<td class="nhsuk-table__cell"><strong[^>]*>(\d+)</strong>'
        r'</td>\s*<td class="nhsuk-table__cell"><a href="([^"]+)"',
        page,
    )
    return {what: (int(count), href) for what, count, href in rows}


def _trial_ids(page: str) -> list[str]:
    return re.findall(r'<a href="/participants/([^/"]+)/">', page)


def test_the_checklist_counts_what_is_left_and_links_to_those_rows(
    client, staff, make_participant, allocation_lists, core_protocol, actor_of
):
    from django.utils import timezone

    from aftercrisis.followup.models import VisitOutcome, VisitRecord
    from aftercrisis.outcomes.models import SeriousAdverseEvent
    from aftercrisis.outcomes.selectors import overlaps_for
    from aftercrisis.outcomes.services import EpisodeDraft, reconcile, record_episodes, sign_off_sae
    from aftercrisis.participants.models import Status
    from aftercrisis.queries.services import raise_query

    today = timezone.localdate()
    manager, researcher = staff[Role.TRIAL_MANAGER], staff[Role.RESEARCHER]
    # Past the year, with a readmission recorded twice: the outcome is known, the two records overlap.
    settled = make_participant("CAM", Status.RANDOMISED, on=today - dt.timedelta(days=400))
    # Within the year: the outcome is not yet known. The four-month window (days 108 to 182) is open.
    due = make_participant("CAM", Status.RANDOMISED, on=today - dt.timedelta(days=125))
    seen = make_participant("CAM", Status.RANDOMISED, on=today - dt.timedelta(days=130))
    VisitRecord.objects.create(participant=seen, visit="m4", outcome=VisitOutcome.COMPLETED, on=today)
    start = today - dt.timedelta(days=300)
    record_episodes(
        actor_of(Role.RESEARCHER), core_protocol,
        [EpisodeDraft(settled, "inpatient_ward", start, start + dt.timedelta(days=9), "informal", source, "", "form")
         for source in ("clinical_records", "self_report")],
        by=researcher, today=today,
    )  # fmt: skip
    sae = SeriousAdverseEvent.objects.create(
        participant=settled, category="self_harm", onset=start, description="example",
        seriousness="hospitalisation", relatedness="not_related", expectedness="expected",
        reported_by=researcher, reported_on=start,
    )  # fmt: skip
    raise_query(
        actor_of(Role.TRIAL_MANAGER), core_protocol, due, field="baseline.sex", text="Check", by=manager
    )
    client.force_login(manager)

    checklist = _checklist(client.get("/reports/lock/").content.decode())
    assert checklist == {
        "Data queries open or answered": (1, "/queries/"),
        "Serious adverse events not yet signed off": (1, "/outcomes/safety/"),
        "Overlapping acute-care episodes not reconciled": (1, "/outcomes/episodes/reconcile/"),
        "Participants whose primary outcome is not known": (2, "/reports/lock/outcome-not-known/"),
        "Follow-up visits still in their window": (1, "/reports/lock/visits-in-window/"),
    }
    unknown = client.get("/reports/lock/outcome-not-known/").content.decode()
    assert sorted(_trial_ids(unknown)) == sorted([due.trial_id, seen.trial_id])
    in_window = client.get("/reports/lock/visits-in-window/").content.decode()
    assert _trial_ids(in_window) == [due.trial_id] and "Four-month follow-up" in in_window
    for masked in (Role.RESEARCHER, Role.STATISTICIAN, Role.CHIEF_INVESTIGATOR):
        client.force_login(staff[masked])
        for url in ("/reports/lock/outcome-not-known/", "/reports/lock/visits-in-window/"):
            assert client.get(url).status_code == 403

    # Each count follows the state of the trial.
    VisitRecord.objects.create(participant=due, visit="m4", outcome=VisitOutcome.COMPLETED, on=today)
    record_episodes(
        actor_of(Role.RESEARCHER), core_protocol,
        [EpisodeDraft(seen, "inpatient_ward", today - dt.timedelta(days=20), today - dt.timedelta(days=10),
                      "informal", "clinical_records", "", "form")],
        by=researcher, today=today,
    )  # fmt: skip
    sign_off_sae(
        actor_of(Role.CHIEF_INVESTIGATOR), core_protocol, sae, {},
        by=staff[Role.CHIEF_INVESTIGATOR], on=today, reason="reviewed",
    )  # fmt: skip
    (overlap,) = overlaps_for(actor_of(Role.TRIAL_MANAGER))
    reconcile(overlap.first, overlap.second, "same", kept=overlap.first, by=manager, reason="one stay")
    raise_query(
        actor_of(Role.TRIAL_MANAGER), core_protocol, seen, field="baseline.sex", text="Check", by=manager
    )
    client.force_login(manager)
    assert {
        what: n for what, (n, _) in _checklist(client.get("/reports/lock/").content.decode()).items()
    } == {
        "Data queries open or answered": 2,
        "Serious adverse events not yet signed off": 0,
        "Overlapping acute-care episodes not reconciled": 0,
        "Participants whose primary outcome is not known": 1,
        "Follow-up visits still in their window": 0,
    }
    assert _trial_ids(client.get("/reports/lock/outcome-not-known/").content.decode()) == [due.trial_id]
    assert _trial_ids(client.get("/reports/lock/visits-in-window/").content.decode()) == []
    assert "I have reviewed the checklist" in client.get("/reports/lock/").content.decode()


def test_an_unlock_needs_the_trial_manager_and_the_chief_investigator(staff, actor_of):
    from django.core.exceptions import PermissionDenied, ValidationError

    from aftercrisis.lock.models import UnlockRequest
    from aftercrisis.lock.services import decide_unlock, lock_database, request_unlock, unlock_state

    manager, chief = staff[Role.TRIAL_MANAGER], staff[Role.CHIEF_INVESTIGATOR]
    tm, ci = actor_of(Role.TRIAL_MANAGER), actor_of(Role.CHIEF_INVESTIGATOR)
    lock_database(tm, by=manager, reason="final analysis", reviewed=True)
    with pytest.raises(PermissionDenied):
        lock_database(ci, by=chief, reason="x", reviewed=True)
    with pytest.raises(PermissionDenied):
        request_unlock(actor_of(Role.STATISTICIAN), by=staff[Role.STATISTICIAN], reason="x")
    with pytest.raises(ValidationError, match="Give a reason"):
        request_unlock(ci, by=chief, reason=" ")
    request_unlock(ci, by=chief, reason="a late death certificate")
    assert unlock_state(ci, chief).may_decide is False and unlock_state(tm, manager).may_decide is True
    with pytest.raises(ValidationError, match="already been requested"):
        request_unlock(tm, by=manager, reason="again")
    with pytest.raises(ValidationError, match="needs two people"):
        decide_unlock(ci, by=chief, agree=True)
    assert is_locked()
    decide_unlock(tm, by=manager, agree=False)
    assert is_locked()
    request_unlock(tm, by=manager, reason="a late death certificate")
    decide_unlock(ci, by=chief, agree=True)
    assert not is_locked()
    event = DatabaseLockEvent.objects.first()
    assert event.action == LockAction.UNLOCKED and event.by == chief
    assert event.reason == (
        f"a late death certificate (asked by {manager.display_name}, agreed by {chief.display_name})"
    )
    audit = [(h.history_user, h.agreed) for h in UnlockRequest.history.order_by("history_id")]
    assert audit == [(chief, None), (manager, False), (manager, None), (chief, True)]


def test_the_chief_investigator_agrees_on_the_safety_page(client, staff, actor_of):
    from aftercrisis.lock.services import lock_database, request_unlock

    lock_database(
        actor_of(Role.TRIAL_MANAGER), by=staff[Role.TRIAL_MANAGER], reason="analysis", reviewed=True
    )
    client.force_login(staff[Role.CHIEF_INVESTIGATOR])
    assert "Ask to unlock the database" in client.get("/outcomes/safety/").content.decode()
    request_unlock(actor_of(Role.TRIAL_MANAGER), by=staff[Role.TRIAL_MANAGER], reason="late correction")
    page = client.get("/outcomes/safety/").content.decode()
    assert "late correction" in page and "Agree: unlock the database" in page
    back = client.post("/reports/lock/unlock/decision/", {"decision": "agree"})
    assert back["Location"] == "/outcomes/safety/" and not is_locked()


def test_visits_of_participants_no_longer_followed_up_are_not_awaited(
    make_participant, allocation_lists, core_protocol, staff, actor_of
):
    from django.utils import timezone

    from aftercrisis.outcomes.services import record_death
    from aftercrisis.participants.models import Status
    from aftercrisis.participants.services import move_to
    from aftercrisis.reporting.checklist import lock_checklist, visits_in_window

    today = timezone.localdate()
    on = today - dt.timedelta(days=125)  # the four-month window is open
    due, withdrawn, died = (make_participant("CAM", Status.RANDOMISED, on=on) for _ in range(3))
    move_to(withdrawn, Status.WITHDRAWN, by=staff[Role.RESEARCHER], reason="withdrew from follow-up")
    record_death(
        actor_of(Role.RESEARCHER), died, died_on=today - dt.timedelta(days=3), cause="natural",
        by=staff[Role.RESEARCHER], today=today,
    )  # fmt: skip
    assert [v.participant.trial_id for v in visits_in_window(core_protocol, today)] == [due.trial_id]
    checklist = lock_checklist(actor_of(Role.TRIAL_MANAGER), core_protocol, today)
    assert next(i.count for i in checklist if i.what == "Follow-up visits still in their window") == 1
