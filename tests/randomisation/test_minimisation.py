"""Simple randomisation and Pocock-Simon minimisation (pure), and the list file format."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aftercrisis.randomisation.engine import Minimiser, permuted_blocks, simple
from aftercrisis.randomisation.lists import ListError, checksum, parse_csv, to_csv

ONE_TO_ONE = [("intervention", 1), ("control", 1)]
levels_st = st.fixed_dictionaries({"sex": st.sampled_from("FM"), "age": st.sampled_from(["<40", "40+"])})


def test_scores_match_a_hand_worked_example():
    """Counts so far (intervention / control): female 5/3, age 40+ 2/4; sex weight 2, age weight 1.

    Range method, a new woman aged 40+:
      to intervention: sex |6-3| = 3, age |3-4| = 1 -> 2*3 + 1*1 = 7
      to control:      sex |5-4| = 1, age |2-5| = 3 -> 2*1 + 1*3 = 5   (preferred)
    Variance method (sample variance of two values = d**2 / 2):
      to intervention: 2*(9/2) + 1*(1/2) = 9.5;  to control: 2*(1/2) + 1*(9/2) = 5.5
    """
    counts = {
        ("sex", "F", "intervention"): 5,
        ("sex", "F", "control"): 3,
        ("age", "40+", "intervention"): 2,
        ("age", "40+", "control"): 4,
    }
    person = {"sex": "F", "age": "40+"}
    ranged = Minimiser(ONE_TO_ONE, {"sex": 2, "age": 1}, "range", 1.0, counts=dict(counts))
    assert ranged.scores(person) == {"intervention": 7, "control": 5}
    assert ranged.allocate(person) == "control"
    varied = Minimiser(ONE_TO_ONE, {"sex": 2, "age": 1}, "variance", 1.0, counts=dict(counts))
    assert varied.scores(person) == {"intervention": 9.5, "control": 5.5}


@given(st.lists(levels_st, min_size=1, max_size=200), st.integers(0, 2**64))
def test_deterministic_minimisation_keeps_every_level_within_one(people, seed):
    """With the preferred arm always given and one factor, no level's arms ever differ by more than one."""
    m = Minimiser(ONE_TO_ONE, {"sex": 1}, "range", 1.0, seed)
    for person in people:
        m.allocate(person)
        for level in "FM":
            a, b = (m.counts.get(("sex", level, arm), 0) for arm, _ in ONE_TO_ONE)
            assert abs(a - b) <= 1


@given(st.lists(levels_st, min_size=1, max_size=100), st.integers(0, 2**64))
def test_same_seed_gives_the_same_minimised_sequence(people, seed):
    def run():
        m = Minimiser(ONE_TO_ONE, {"sex": 1, "age": 1}, "range", 0.8, seed)
        return [m.allocate(p) for p in people]

    assert run() == run()


@settings(max_examples=10, deadline=None)
@given(st.integers(0, 2**64))
def test_unequal_ratio_holds_in_the_long_run(seed):
    arms = [("a", 2), ("b", 1)]
    people = [{"sex": "FM"[i % 2]} for i in range(3000)]
    m = Minimiser(arms, {"sex": 1}, "range", 0.8, seed)
    share = Counter(m.allocate(p) for p in people)["a"] / 3000
    assert abs(share - 2 / 3) < 0.02
    simple_share = Counter(s.arm for s in simple(arms, 3000, seed))["a"] / 3000
    assert abs(simple_share - 2 / 3) < 0.04  # binomial sd 0.0086: more than 4 sd


def test_minimisation_refuses_a_missing_factor_level():
    with pytest.raises(ValueError, match=r"^age:"):
        Minimiser(ONE_TO_ONE, {"sex": 1, "age": 1}).allocate({"sex": "F"})


def test_list_file_round_trips_and_a_changed_byte_is_refused():
    lists = {
        "CAM": permuted_blocks(ONE_TO_ONE, [2, 4], 10, 1),
        "ISL": permuted_blocks(ONE_TO_ONE, [2, 4], 6, 2),
    }
    text = to_csv(lists)
    assert parse_csv(text, ["intervention", "control"], ["CAM", "ISL"], checksum(text)) == lists
    tampered = text.replace("intervention", "control", 1)
    with pytest.raises(ListError, match=r"^checksum:"):
        parse_csv(tampered, ["intervention", "control"], ["CAM", "ISL"], checksum(text))


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("CAM,1,,,placebo", "row 2, arm"),
        ("XXX,1,,,control", "row 2, stratum"),
        ("CAM,2,,,control", "row 2, position"),
        ("CAM,1,1,2,control", "CAM block 1"),
    ],
)
def test_a_bad_row_is_refused_naming_it(row, message):
    text = f"stratum,position,block,block_size,arm\n{row}\n"
    with pytest.raises(ListError, match=message):
        parse_csv(text, ["intervention", "control"], ["CAM"], checksum(text))
