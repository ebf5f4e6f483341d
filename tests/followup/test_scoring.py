"""Instrument scoring against totals worked out by hand from each instrument's published rules."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aftercrisis.followup.instruments import (
    InstrumentFileError,
    instrument,
    parse_instrument,
    shipped_instruments,
    with_wording,
)
from aftercrisis.followup.scoring import AnswerError, score


def answers(code: str, values: list[int | None]) -> dict[str, int | None]:
    items = instrument(code).items
    return {item.code: value for item, value in zip(items, values, strict=False)}


def test_every_protocol_instrument_is_shipped(core_protocol):
    assert {i.code for i in core_protocol.instruments} <= set(shipped_instruments())


# CSQ-8: eight items 1-4, summed; totals 8-32.
def test_csq8_complete():
    # 4+3+4+3+2+3+4+4 = 27
    result = score(instrument("csq8"), answers("csq8", [4, 3, 4, 3, 2, 3, 4, 4]))
    assert (result.total, result.answered, result.prorated) == (27, 8, False)
    assert result.version == "CSQ-8 (1979)"


def test_csq8_extremes():
    assert score(instrument("csq8"), answers("csq8", [1] * 8)).total == 8
    assert score(instrument("csq8"), answers("csq8", [4] * 8)).total == 32


def test_csq8_one_missing_is_prorated_two_is_not():
    # Seven answered: 4+3+4+3+2+3+4 = 23, mean 23/7, times 8 = 184/7 = 26.2857...
    one = score(instrument("csq8"), answers("csq8", [4, 3, 4, 3, 2, 3, 4, None]))
    assert one.total == pytest.approx(184 / 7) and one.prorated and one.missing == ("q8",)
    two = score(instrument("csq8"), answers("csq8", [4, 3, 4, 3, 2, 3, None, None]))
    assert two.total is None and two.missing == ("q7", "q8")


def test_csq8_entry_order_follows_the_paper_form():
    # Items 1, 3, 6, 7 are printed from 4 down, the others from 1 up.
    csq = instrument("csq8")
    assert [v for v, _ in csq.item("q1").choices()] == [4, 3, 2, 1]
    assert [v for v, _ in csq.item("q2").choices()] == [1, 2, 3, 4]


def test_csq8_wording_is_never_shipped_and_can_be_supplied():
    csq = instrument("csq8")
    assert csq.licensed_wording and not csq.wording_supplied
    assert all(len(i.label) < 40 and "?" not in i.label for i in csq.items)
    worded = with_wording(csq, {"csq8": {"q1": "Supplied wording of item one"}})
    assert worded.item("q1").label == "Supplied wording of item one" and worded.wording_supplied
    assert worded.item("q2").label == csq.item("q2").label
    with pytest.raises(InstrumentFileError, match="q9"):
        with_wording(csq, {"csq8": {"q9": "no such item"}})


# QPR-15: fifteen items 0-4, summed; totals 0-60; none reversed.
def test_qpr15_complete():
    values = [3, 3, 2, 4, 1, 0, 3, 2, 4, 4, 2, 3, 1, 2, 3]  # = 37
    assert score(instrument("qpr15"), answers("qpr15", values)).total == 37


def test_qpr15_three_missing_prorated_four_not():
    values = [3, 3, 2, 4, 1, 0, 3, 2, 4, 4, 2, 3, None, None, None]  # 31 over 12 items
    result = score(instrument("qpr15"), answers("qpr15", values))
    assert result.total == pytest.approx(31 * 15 / 12)  # 38.75
    assert result.total == 38.75
    values[11] = None
    assert score(instrument("qpr15"), answers("qpr15", values)).total is None


# ULS-8: eight items 1-4; items 3 and 6 reversed (5 - answer); totals 8-32.
def test_uls8_reverses_items_three_and_six():
    # Answers 2,3,1,2,2,4,3,2 -> item 3 becomes 4, item 6 becomes 1: 2+3+4+2+2+1+3+2 = 19
    assert score(instrument("uls8"), answers("uls8", [2, 3, 1, 2, 2, 4, 3, 2])).total == 19
    # All "often": 4*6 + 1 + 1 = 26
    assert score(instrument("uls8"), answers("uls8", [4] * 8)).total == 26


def test_uls8_prorates_after_reversal():
    # Item 8 missing; 2+3+4+2+2+1+3 = 17 over 7 items, times 8 = 136/7
    result = score(instrument("uls8"), answers("uls8", [2, 3, 1, 2, 2, 4, 3, None]))
    assert result.total == pytest.approx(136 / 7)


# LSNS-6: six items 0-5, summed; totals 0-30.
def test_lsns6():
    assert score(instrument("lsns6"), answers("lsns6", [2, 1, 1, 3, 2, 2])).total == 11
    # One missing: 2+1+1+3+2 = 9 over 5, times 6 = 10.8
    assert score(instrument("lsns6"), answers("lsns6", [2, 1, 1, 3, 2, None])).total == pytest.approx(10.8)
    assert score(instrument("lsns6"), answers("lsns6", [2, 1, 1, 3, None, None])).total is None


# EQ-5D-3L, UK TTO (Dolan 1997): 1 - 0.081 (any problem) - decrements - 0.269 (any level 3).
@pytest.mark.parametrize(
    ("state", "index"),
    [
        ("11111", 1.0),
        ("11112", 0.848),  # 1 - 0.081 - 0.071
        ("21111", 0.850),  # 1 - 0.081 - 0.069
        ("11211", 0.883),  # 1 - 0.081 - 0.036
        ("11113", 0.414),  # 1 - 0.081 - 0.236 - 0.269
        ("22222", 0.516),  # 1 - 0.081 - 0.069 - 0.104 - 0.036 - 0.123 - 0.071
        ("32211", 0.196),  # 1 - 0.081 - 0.314 - 0.104 - 0.036 - 0.269
        ("33333", -0.594),  # 1 - 0.081 - 0.314 - 0.214 - 0.094 - 0.386 - 0.236 - 0.269
    ],
)
def test_eq5d3l_uk_value_set(state, index):
    values = [int(c) for c in state]
    result = score(instrument("eq5d3l"), answers("eq5d3l", [*values, 70]))
    assert result.total == pytest.approx(index, abs=1e-9)


def test_eq5d3l_any_missing_dimension_means_no_index_but_the_scale_is_optional():
    assert score(instrument("eq5d3l"), answers("eq5d3l", [1, 1, None, 1, 1, 80])).total is None
    assert score(instrument("eq5d3l"), answers("eq5d3l", [1, 1, 2, 1, 1, None])).total == 0.883


def test_out_of_range_answers_are_refused_naming_every_item():
    with pytest.raises(AnswerError) as caught:
        score(instrument("qpr15"), {"q1": 5, "q2": -1, "q3": 2})
    assert caught.value.problems == [
        "qpr15.q1 (Feels better about self): 5 is outside 0 to 4",
        "qpr15.q2 (Feels able to take chances in life): -1 is outside 0 to 4",
    ]
    with pytest.raises(AnswerError, match=r"eq5d3l.vas .*: 101 is outside 0 to 100"):
        score(instrument("eq5d3l"), answers("eq5d3l", [1, 1, 1, 1, 1, 101]))
    with pytest.raises(AnswerError, match="has no item 'q9'"):
        score(instrument("csq8"), {"q9": 1})
    with pytest.raises(AnswerError, match=r"uls8.q1 .*: 2.5 is not a whole number"):
        score(instrument("uls8"), {"q1": 2.5})  # type: ignore[dict-item]


def test_a_malformed_instrument_file_names_the_key():
    with pytest.raises(InstrumentFileError, match=r"x.yaml: items\[2\]: missing key 'label'"):
        parse_instrument(
            {
                "code": "x",
                "name": "X",
                "version": "1",
                "responses": {"minimum": 0, "maximum": 1},
                "scoring": {"method": "sum", "max_missing": 0, "missing_rule": "none"},
                "items": [{"code": "a", "label": "A"}, {"code": "b"}],
            },
            "x.yaml",
        )


@st.composite
def partial_answers(draw, code):
    inst = instrument(code)
    return inst, {i.code: draw(st.none() | st.integers(i.minimum, i.maximum)) for i in inst.items}


@given(st.sampled_from(["csq8", "qpr15", "uls8", "lsns6"]).flatmap(partial_answers))
def test_summed_totals_stay_in_range_and_follow_the_missing_rule(case):
    inst, given_answers = case
    result = score(inst, given_answers)
    scored = inst.scored_items
    n_missing = sum(given_answers[i.code] is None for i in scored)
    if n_missing > inst.max_missing or n_missing == len(scored):
        assert result.total is None
    else:
        low = sum(i.minimum for i in scored)
        high = sum(i.maximum for i in scored)
        assert low - 1e-9 <= result.total <= high + 1e-9
        if n_missing == 0:
            assert result.total == sum(
                (i.minimum + i.maximum - given_answers[i.code]) if i.reverse else given_answers[i.code]
                for i in scored
            )


@given(st.lists(st.integers(1, 3), min_size=5, max_size=5))
def test_eq5d3l_index_is_monotone_in_every_dimension(levels):
    eq = instrument("eq5d3l")
    base = score(eq, answers("eq5d3l", levels)).total
    assert -0.594 - 1e-9 <= base <= 1.0
    for k in range(5):
        if levels[k] < 3:
            worse = [*levels]
            worse[k] += 1
            assert score(eq, answers("eq5d3l", worse)).total < base


def test_options_carry_their_wording_or_at_least_anchored_ends():
    """Wording that may be shipped is shown with each value; licensed options show which end is which."""
    from aftercrisis.followup.instruments import instrument

    assert instrument("lsns6").item("family_contact").choices()[3] == (3, "3 Three or four")
    assert instrument("uls8").item("q1").choices()[0] == (1, "1 Never")
    assert instrument("csq8").item("q2").choices() == [
        (1, "1 (least favourable)"),
        (2, "2"),
        (3, "3"),
        (4, "4 (most favourable)"),
    ]
    assert instrument("csq8").item("q1").choices()[0] == (4, "4 (most favourable)")  # as printed, 4 first
    assert instrument("eq5d3l").item("vas").choices()[0] == (0, "0")  # its own range, no options
