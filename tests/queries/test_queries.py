"""Data queries: checks defined as data, idempotent runs, the state machine, the thread, the owner, masking."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from aftercrisis.accounts.roles import Role
from aftercrisis.accounts.selectors import actor_for
from aftercrisis.audit import record_creation
from aftercrisis.config.trial import protocol as protocol_of
from aftercrisis.followup.schedule import follow_up_windows
from aftercrisis.lock.models import DatabaseLockEvent, LockAction
from aftercrisis.lock.services import DatabaseLocked
from aftercrisis.outcomes.models import AcuteCareEpisode, EpisodeReconciliation
from aftercrisis.participants.models import Status
from aftercrisis.queries import checks
from aftercrisis.queries.models import DataQuery, QueryAction, QueryState
from aftercrisis.queries.selectors import queries_for
from aftercrisis.queries.services import raise_query, respond, run_checks, scales

pytestmark = pytest.mark.django_db

RANDOMISED_ON = dt.date(2026, 1, 5)  # make_participant's date
MISSING = "UCLA Loneliness Scale, short form (ULS-8); Lubben Social Network Scale (LSNS-6); EQ-5D-3L"


def _facts(protocol, today=RANDOMISED_ON + dt.timedelta(days=30), **values) -> checks.Facts:
    baseline = tuple(protocol.visit("baseline").instruments)
    defaults = {
        "questionnaires": tuple(
            checks.Questionnaire("baseline", code, RANDOMISED_ON, None, {}, "") for code in baseline
        )
    }
    return checks.Facts(
        today=today,
        randomised_on=RANDOMISED_ON,
        horizon_days=protocol.outcomes.primary.horizon_days,
        windows=tuple(follow_up_windows(protocol, RANDOMISED_ON)),
        baseline_instruments=baseline,
        scales=scales(protocol),
        **(defaults | values),
    )


def _found(facts) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for check, finding in checks.discrepancies(facts):
        found.setdefault(check.code, []).append(check.text(finding))
    return found


def test_every_check_names_a_field_a_manual_query_may_name_too():
    codes = {f.code for f in checks.FIELDS}
    assert {f"{c.form}.{c.field}" for c in checks.CHECKS} <= codes
    assert len(checks.CHECKS_BY_CODE) == len(checks.CHECKS)


def test_clean_values_raise_nothing(core_protocol):
    assert _found(_facts(core_protocol)) == {}


def test_each_check_finds_its_discrepancy_in_the_users_words(core_protocol):
    m4 = next(w for w in follow_up_windows(core_protocol, RANDOMISED_ON) if w.code == "m4")
    late = m4.closes + dt.timedelta(days=3)
    facts = _facts(
        core_protocol,
        today=late + dt.timedelta(days=10),
        questionnaires=(
            checks.Questionnaire("baseline", "qpr15", RANDOMISED_ON, 99.0, {"q1": 7}, ""),
            checks.Questionnaire("m4", "uls8", late, None, {}, ""),
            checks.Questionnaire("m4", "qpr15", late, None, {}, "posted back late"),
        ),
        episodes=(
            checks.Episode(1, dt.date(2026, 2, 1), dt.date(2026, 2, 10)),
            checks.Episode(2, dt.date(2026, 2, 9), None),
            checks.Episode(3, dt.date(2026, 3, 1), dt.date(2027, 6, 1)),
        ),
        died_on=dt.date(2026, 2, 15),
    )
    found = _found(facts)
    assert found["baseline_missing"] == [
        f"Baseline questionnaires not entered: {MISSING}. Enter them, or say why they cannot be"
    ]
    assert len(found["questionnaire_outside_window"]) == 1  # the one with a reason is confirmed
    assert "outside the window" in found["questionnaire_outside_window"][0]
    assert found["visit_overdue"][0].startswith("The four-month follow-up window closed on")
    assert "overlaps the one starting 9 Feb 2026" in found["episodes_overlap"][0]
    assert (
        "item q1 is 7" in found["answers_out_of_range"][0]
        and "the score is 99" in found["answers_out_of_range"][0]
    )
    assert "longer than the 365 days of follow-up" in found["episode_longer_than_follow_up"][0]
    assert any("after the date of death (15 Feb 2026)" in t for t in found["recorded_after_death"])
    assert found["episode_after_death"] == [
        "The acute-care episode starting 1 Mar 2026 starts after the date of death (15 Feb 2026): check both dates"
    ]


def test_no_check_text_reveals_an_arm(core_protocol):
    words = [a.code for a in core_protocol.arms] + [a.name for a in core_protocol.arms]
    texts = [c.message for c in checks.CHECKS] + [f.label for f in checks.FIELDS]
    for word in [*words, "session", "caseload", "peer", "workbook", "dispatch"]:
        assert not any(word.lower() in t.lower() for t in texts), word


def test_a_follow_up_withdrawal_before_the_window_closes_stops_the_overdue_check(core_protocol):
    m4 = next(w for w in follow_up_windows(core_protocol, RANDOMISED_ON) if w.code == "m4")
    later = m4.closes + dt.timedelta(days=5)
    assert "visit_overdue" in _found(_facts(core_protocol, today=later))
    assert "visit_overdue" not in _found(_facts(core_protocol, today=later, follow_up_withdrawn_on=m4.opens))


@pytest.fixture
def overlapping(allocation_lists, make_participant, staff):
    participant = make_participant("CAM", Status.RANDOMISED)
    researcher = staff[Role.RESEARCHER]
    made = [
        record_creation(
            AcuteCareEpisode(
                participant=participant,
                setting=setting,
                start=start,
                end=end,
                source=source,
                recorded_by=researcher,
            ),
            by=researcher,
            reason="test",
        )
        for setting, start, end, source in [
            ("inpatient", dt.date(2026, 2, 1), dt.date(2026, 2, 10), "clinical_records"),
            ("inpatient", dt.date(2026, 2, 9), dt.date(2026, 2, 20), "self_report"),
        ]
    ]
    return participant, made


def test_a_run_raises_once_and_closes_what_is_gone_with_a_note(core_protocol, overlapping, staff):
    participant, (first, second) = overlapping
    today = RANDOMISED_ON + dt.timedelta(days=60)
    summary = run_checks(core_protocol, today)
    overlap = DataQuery.objects.get(participant=participant, check_code="episodes_overlap")
    assert summary.raised == DataQuery.objects.count() and overlap.state == QueryState.OPEN
    assert overlap.raised_by is None and overlap.messages.get().by is None
    again = run_checks(core_protocol, today)
    assert (again.raised, again.closed) == (0, 0)
    assert DataQuery.objects.filter(check_code="episodes_overlap").count() == 1

    record_creation(
        EpisodeReconciliation(
            first=first,
            second=second,
            decision="distinct",
            reason="two stays",
            decided_by=staff[Role.RESEARCHER],
        ),
        by=staff[Role.RESEARCHER],
        reason="test",
    )
    assert run_checks(core_protocol, today).closed == 1
    overlap.refresh_from_db()
    assert overlap.state == QueryState.CLOSED
    assert overlap.messages.last().text.startswith("The check no longer finds this discrepancy")
    assert [h.state for h in overlap.history.order_by("history_id")] == [QueryState.OPEN, QueryState.CLOSED]


def test_the_thread_moves_through_its_states_by_role(core_protocol, make_participant, staff, actor_of):
    participant = make_participant("CAM")
    manager, researcher = staff[Role.TRIAL_MANAGER], staff[Role.RESEARCHER]
    tm, rs = actor_of(Role.TRIAL_MANAGER), actor_of(Role.RESEARCHER)
    query = raise_query(
        tm, core_protocol, participant, field="baseline.sex", text="Please check sex", by=manager
    )
    assert query.state == QueryState.OPEN and query.raised_by == manager
    with pytest.raises(PermissionDenied):
        respond(tm, core_protocol, query, action=QueryAction.ANSWERED, text="x", by=manager)
    with pytest.raises(PermissionDenied):
        raise_query(rs, core_protocol, participant, field="baseline.sex", text="x", by=researcher)
    with pytest.raises(ValidationError, match="Enter the message"):
        respond(rs, core_protocol, query, action=QueryAction.ANSWERED, text="  ", by=researcher)
    query = respond(
        rs, core_protocol, query, action=QueryAction.ANSWERED, text="Checked: correct", by=researcher
    )
    assert query.state == QueryState.ANSWERED
    with pytest.raises(ValidationError, match="cannot be answered now"):
        respond(rs, core_protocol, query, action=QueryAction.ANSWERED, text="again", by=researcher)
    query = respond(tm, core_protocol, query, action=QueryAction.REOPENED, text="And the notes?", by=manager)
    query = respond(rs, core_protocol, query, action=QueryAction.ANSWERED, text="Notes agree", by=researcher)
    query = respond(tm, core_protocol, query, action=QueryAction.CLOSED, text="Thank you", by=manager)
    assert query.state == QueryState.CLOSED
    thread = [(m.action, m.by) for m in query.messages.all()]
    assert thread == [
        (QueryAction.RAISED, manager),
        (QueryAction.ANSWERED, researcher),
        (QueryAction.REOPENED, manager),
        (QueryAction.ANSWERED, researcher),
        (QueryAction.CLOSED, manager),
    ]


def test_the_owners_are_the_researchers_at_the_site(core_protocol, make_participant, staff, actor_of):
    elsewhere = make_participant("BRI")
    manager = staff[Role.TRIAL_MANAGER]
    query = raise_query(
        actor_of(Role.TRIAL_MANAGER), core_protocol, elsewhere, field="baseline.sex", text="Check", by=manager
    )
    researcher = actor_of(Role.RESEARCHER)  # works at CAM only
    assert not queries_for(researcher).filter(pk=query.pk).exists()
    with pytest.raises(PermissionDenied):
        respond(
            researcher, core_protocol, query, action=QueryAction.ANSWERED, text="x", by=staff[Role.RESEARCHER]
        )


@pytest.mark.parametrize(
    "text", ["Was this participant in the control group?", "peer-supported SELF-MANAGEMENT"]
)
def test_a_query_naming_an_arm_is_refused(core_protocol, make_participant, staff, actor_of, text):
    participant = make_participant("CAM")
    with pytest.raises(ValidationError, match="names a trial arm"):
        raise_query(
            actor_of(Role.TRIAL_MANAGER), core_protocol, participant, field="baseline.sex", text=text,
            by=staff[Role.TRIAL_MANAGER],
        )  # fmt: skip
    assert not DataQuery.objects.exists()


def test_queries_are_refused_while_the_database_is_locked(core_protocol, make_participant, staff, actor_of):
    participant = make_participant("CAM")
    DatabaseLockEvent.objects.create(
        action=LockAction.LOCKED, by=staff[Role.TRIAL_MANAGER], reason="analysis"
    )
    with pytest.raises(DatabaseLocked):
        raise_query(
            actor_of(Role.TRIAL_MANAGER), core_protocol, participant, field="baseline.sex", text="Check",
            by=staff[Role.TRIAL_MANAGER],
        )  # fmt: skip
    with pytest.raises(DatabaseLocked):
        run_checks(core_protocol, RANDOMISED_ON)
    assert not DataQuery.objects.exists()


def test_pages_raise_answer_and_close_a_query(client, core_protocol, make_participant, staff):
    participant = make_participant("CAM")
    client.force_login(staff[Role.TRIAL_MANAGER])
    page = client.get(reverse("queries:new") + f"?participant={participant.trial_id}").content.decode()
    assert "Masked staff read this" in page and participant.trial_id in page
    refused = client.post(
        reverse("queries:new"),
        {"trial_id": participant.trial_id, "field": "baseline.sex", "text": "Control?"},
    )
    assert refused.status_code == 200 and "names a trial arm" in refused.content.decode()
    raised = client.post(
        reverse("queries:new"),
        {"trial_id": participant.trial_id, "field": "baseline.sex", "text": "Check sex"},
    )
    query = DataQuery.objects.get()
    assert raised["Location"] == reverse("queries:detail", kwargs={"pk": query.pk})

    client.force_login(staff[Role.RESEARCHER])
    worklist = client.get(reverse("followup:worklist")).content.decode()
    assert (
        "1</strong> data query" in worklist and reverse("queries:detail", kwargs={"pk": query.pk}) in worklist
    )
    client.post(
        reverse("queries:detail", kwargs={"pk": query.pk}), {"action": "answered", "text": "It is right"}
    )
    client.force_login(staff[Role.TRIAL_MANAGER])
    client.post(reverse("queries:detail", kwargs={"pk": query.pk}), {"action": "closed", "text": "Thanks"})
    query.refresh_from_db()
    assert query.state == QueryState.CLOSED
    listed = client.get(reverse("queries:list") + "?state=closed").content.decode()
    assert f"Query {query.pk}" in listed and "Check sex" in listed


def test_the_command_runs_the_checks_and_is_refused_while_locked(overlapping, staff, capsys):
    from aftercrisis.cli import main

    assert main(["queries", "run", "--today", "2026-03-06"]) == 0
    assert "queries raised" in capsys.readouterr().out
    assert DataQuery.objects.filter(check_code="episodes_overlap").count() == 1
    assert main(["queries", "run", "--today", "2026-03-06"]) == 0
    assert "0 queries raised" in capsys.readouterr().out
    DatabaseLockEvent.objects.create(
        action=LockAction.LOCKED, by=staff[Role.TRIAL_MANAGER], reason="analysis"
    )
    assert main(["queries", "run"]) == 1
    assert "locked for analysis" in capsys.readouterr().err


def test_the_query_forms_say_the_database_is_locked_before_they_are_filled_in(
    client, make_participant, staff
):
    participant = make_participant("CAM")
    query = raise_query(
        actor_for(staff[Role.TRIAL_MANAGER], Role.TRIAL_MANAGER), protocol_of(), participant,
        field="baseline.sex", text="Check", by=staff[Role.TRIAL_MANAGER],
    )  # fmt: skip
    DatabaseLockEvent.objects.create(
        action=LockAction.LOCKED, by=staff[Role.TRIAL_MANAGER], reason="analysis"
    )
    client.force_login(staff[Role.TRIAL_MANAGER])
    assert b"locked for analysis" in client.get(reverse("queries:new")).content
    client.force_login(staff[Role.RESEARCHER])
    page = client.get(reverse("queries:detail", kwargs={"pk": query.pk}))
    assert b"locked for analysis" in page.content
    refused = client.post(
        reverse("queries:detail", kwargs={"pk": query.pk}), {"action": "answered", "text": "x"}
    )
    assert refused.status_code == 200 and b"locked for analysis" in refused.content
    query.refresh_from_db()
    assert query.state == QueryState.OPEN and query.messages.count() == 1
