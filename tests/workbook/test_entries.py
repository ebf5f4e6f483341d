"""Participants' entries as structured, audited rows; and who may be offered the workbook online."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from aftercrisis.accounts.roles import Role
from aftercrisis.audit import history_of
from aftercrisis.participants.models import ParticipantLink, Status
from aftercrisis.workbook.content import EntryKey
from aftercrisis.workbook.models import WorkbookEntry
from aftercrisis.workbook.selectors import filled_workbook
from aftercrisis.workbook.services import issue_workbook_link, save_answers, save_workbooks

pytestmark = pytest.mark.django_db


def test_answers_are_one_row_each_and_changes_are_audited(supported):
    participant = supported()
    goal = EntryKey("goals", "goal", 0, "goal")
    review = EntryKey("goals", "goal", 0, "review_on")
    meaning = EntryKey("recovery", "", 0, "meaning")
    written = save_answers(
        participant,
        {
            goal: "Walk to the park",
            review: "2026-04-01",
            meaning: "Getting back to work",
            EntryKey("recovery", "", 0, "hope"): "",
        },
        by=None,
        reason="written by the participant",
    )
    assert written == 3  # a blank answer makes no row
    rows = {(e.section, e.group, e.item, e.field): e.value for e in WorkbookEntry.objects.all()}
    assert rows == {
        ("goals", "goal", 0, "goal"): "Walk to the park",
        ("goals", "goal", 0, "review_on"): "2026-04-01",
        ("recovery", "", 0, "meaning"): "Getting back to work",
    }
    assert save_answers(participant, {goal: "Walk to the park"}, by=None, reason="again") == 0
    save_answers(
        participant, {goal: "Walk to the park twice a week", meaning: ""}, by=None, reason="changed my mind"
    )
    entry = WorkbookEntry.objects.get(section="goals", field="goal")
    assert [h["kind"] for h in history_of(entry)] == ["Changed", "Created"]
    assert history_of(entry)[0]["reason"] == "changed my mind"
    # Cleared, not deleted.
    assert WorkbookEntry.objects.get(section="recovery", field="meaning").value == ""
    filled = {f.section.code: f for f in filled_workbook(participant)}
    assert filled["goals"].groups[0].items == [
        {"goal": "Walk to the park twice a week", "why": "", "steps": "", "review_on": "2026-04-01"}
    ]
    assert filled["recovery"].is_empty


def test_bad_answers_name_the_field_and_write_nothing(supported):
    participant = supported()
    with pytest.raises(ValidationError) as refused:
        save_answers(
            participant,
            {
                EntryKey("goals", "goal", 0, "goal"): "A fine goal",
                EntryKey("goals", "goal", 1, "review_on"): "next Tuesday",
                EntryKey("goals", "goal", 7, "goal"): "a row the page does not have",
                EntryKey("horoscope", "", 0, "sign"): "Leo",
            },
            by=None,
            reason="written by the participant",
        )
    errors = refused.value.message_dict
    assert errors["goal-1-review_on"] == [
        "Date to review how it is going must be a real date, like 2026-03-31"
    ]
    assert len(errors["__all__"]) == 2
    assert not WorkbookEntry.objects.exists()


def test_workbooks_saved_together_change_each_their_own_rows_or_none(supported):
    first, second = supported(), supported()
    goal = EntryKey("goals", "goal", 0, "goal")
    save_answers(first, {goal: "Walk to the park"}, by=None, reason="written by the participant")
    written = save_workbooks(
        [(first, {goal: "Walk to the park twice a week"}), (second, {goal: "Call my sister"})],
        by=None,
        reason="written by the participant",
    )
    assert written == 2
    assert dict(WorkbookEntry.objects.values_list("participant", "value")) == {
        first.pk: "Walk to the park twice a week",
        second.pk: "Call my sister",
    }
    with pytest.raises(ValidationError) as refused:
        save_workbooks(
            [(first, {goal: "Run"}), (second, {EntryKey("goals", "goal", 0, "review_on"): "soon"})],
            by=None,
            reason="written by the participant",
        )
    assert refused.value.message_dict["goal-0-review_on"][0].startswith(f"{second.trial_id}: ")
    assert WorkbookEntry.objects.get(participant=first).value == "Walk to the park twice a week"


def test_links_go_only_to_arms_the_protocol_offers_online(
    allocation_lists, make_participant, supported, staff, core_protocol
):
    manager = staff[Role.TRIAL_MANAGER]
    issued = issue_workbook_link(supported(), core_protocol, by=manager)
    assert len(issued.code) == 6 and issued.link.purpose == "workbook"
    while True:
        control = make_participant("CAM", Status.RANDOMISED)
        if control.allocation.arm == "control":
            break
    with pytest.raises(ValidationError, match="not offered the workbook online"):
        issue_workbook_link(control, core_protocol, by=manager)
    with pytest.raises(ValidationError, match="not offered the workbook online"):
        issue_workbook_link(make_participant("CAM", Status.CONSENTED), core_protocol, by=manager)
    assert ParticipantLink.objects.count() == 1
