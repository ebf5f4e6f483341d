"""The workbook as data: the edition file, and how entries are arranged back into its shape."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from aftercrisis.workbook.content import EntryKey, Section, arrange, load_workbook, parse_value


def test_the_edition_has_every_part_the_programme_needs():
    workbook = load_workbook()
    assert workbook.version == "1"
    assert [s.title for s in workbook.sections] == [
        "Moving on after a crisis",
        "What recovery means to me",
        "My personal recovery goals",
        "My support network",
        "Early warning signs and triggers",
        "My action plan to prevent relapse",
        "Staying well day to day",
        "My crisis plan",
    ]
    assert [s.code for s in workbook.sections if s.optional] == ["crisis_plan"]
    goal = workbook.section("goals").group("goal")
    assert [(f.code, f.kind) for f in goal.fields] == [
        ("goal", "line"),
        ("why", "text"),
        ("steps", "text"),
        ("review_on", "date"),
    ]
    person = workbook.section("support_network").group("person")
    assert {"name", "role", "contact"} <= {f.code for f in person.fields}
    assert {g.code for g in workbook.section("warning_signs").groups} == {"trigger", "sign"}


def test_an_unknown_edition_or_key_is_refused():
    with pytest.raises(KeyError, match="no workbook edition"):
        load_workbook("9")
    with pytest.raises(ValidationError, match="neither prompts nor groups"):
        Section(code="empty", title="Empty", introduction="Nothing here")
    with pytest.raises(ValidationError, match="Extra inputs"):
        Section(code="x", title="X", introduction="Y", promts=[])


def test_parse_value_checks_dates_and_lengths():
    workbook = load_workbook()
    review = workbook.field("goals", "goal", "review_on")
    assert parse_value(review, " 2026-03-31 ") == "2026-03-31"
    assert parse_value(review, "") == ""
    with pytest.raises(ValueError, match="Date to review how it is going must be a real date"):
        parse_value(review, "2026-02-30")
    with pytest.raises(ValueError, match="300 characters"):
        parse_value(workbook.field("goals", "goal", "goal"), "x" * 301)


def test_arrange_keeps_the_workbooks_order_and_drops_blank_rows():
    workbook = load_workbook()
    entries = [
        (EntryKey("goals", "goal", 2, "goal"), "Swim once a week"),
        (EntryKey("goals", "goal", 0, "goal"), "Walk to the park"),
        (EntryKey("goals", "goal", 1, "goal"), "   "),
        (EntryKey("recovery", "", 0, "meaning"), "Feeling like myself"),
    ]
    filled = {f.section.code: f for f in arrange(workbook, entries)}
    assert [s.section.code for s in arrange(workbook, entries)] == workbook.section_codes
    (goals,) = filled["goals"].groups
    assert [row["goal"] for row in goals.items] == ["Walk to the park", "Swim once a week"]
    assert filled["recovery"].answers["meaning"] == "Feeling like myself"
    assert filled["moving_on"].is_empty and not filled["goals"].is_empty


@given(st.lists(st.tuples(st.integers(0, 2), st.text(max_size=20)), max_size=10))
def test_arrange_never_loses_a_written_answer(rows):
    workbook = load_workbook()
    entries = [(EntryKey("goals", "goal", item, "goal"), text) for item, text in rows]
    last = dict(rows)  # a later value for the same key replaces an earlier one
    (goals,) = next(f for f in arrange(workbook, entries) if f.section.code == "goals").groups
    assert [r["goal"] for r in goals.items] == [last[i] for i in sorted(last) if last[i].strip()]
