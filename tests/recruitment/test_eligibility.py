"""Eligibility item by item against the CORE criteria (pure)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aftercrisis.recruitment.eligibility import EligibilityError, assess

INCLUSION = ["adult", "crt_caseload", "near_discharge", "capacity"]
EXCLUSION = ["risk_to_others", "outside_catchment", "english_materials"]


def test_a_person_meeting_every_criterion_is_eligible(core_protocol):
    answers = {**dict.fromkeys(INCLUSION, True), **dict.fromkeys(EXCLUSION, False)}
    assert assess(core_protocol.eligibility, answers).eligible


def test_reasons_are_the_failing_criteria_in_protocol_order(core_protocol):
    answers = {**dict.fromkeys(INCLUSION, True), **dict.fromkeys(EXCLUSION, False)}
    answers.update(capacity=False, adult=False, english_materials=True)
    result = assess(core_protocol.eligibility, answers)
    assert not result.eligible
    assert result.reasons == ("adult", "capacity", "english_materials")


@given(
    st.fixed_dictionaries({c: st.booleans() for c in INCLUSION}),
    st.fixed_dictionaries({c: st.booleans() for c in EXCLUSION}),
)
def test_eligible_exactly_when_all_inclusions_apply_and_no_exclusion(core_protocol, inc, exc):
    result = assess(core_protocol.eligibility, {**inc, **exc})
    assert result.eligible == (all(inc.values()) and not any(exc.values()))
    assert set(result.reasons) == {c for c, v in inc.items() if not v} | {c for c, v in exc.items() if v}


def test_a_missing_answer_is_an_error_naming_the_criterion(core_protocol):
    answers = dict.fromkeys(INCLUSION, True)
    with pytest.raises(EligibilityError, match=r"^risk_to_others:"):
        assess(core_protocol.eligibility, answers)


def test_an_unknown_criterion_is_an_error(core_protocol):
    answers = {**dict.fromkeys(INCLUSION, True), **dict.fromkeys(EXCLUSION, False), "over_65": True}
    with pytest.raises(EligibilityError, match=r"^over_65:"):
        assess(core_protocol.eligibility, answers)
