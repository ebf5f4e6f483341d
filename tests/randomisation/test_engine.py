from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aftercrisis.randomisation.engine import new_seed, permuted_blocks

ratios = st.sampled_from([[("a", 1), ("b", 1)], [("a", 2), ("b", 1)], [("a", 1), ("b", 1), ("c", 1)]])


@given(ratios, st.integers(1, 300), st.integers(0, 2**128))
def test_every_block_holds_each_arm_in_ratio(arms, length, seed):
    total = sum(r for _, r in arms)
    sizes = [total, 2 * total, 3 * total]
    slots = permuted_blocks(arms, sizes, length, seed)
    assert len(slots) >= length
    assert [s.position for s in slots] == list(range(1, len(slots) + 1))
    for block in {s.block for s in slots}:
        members = [s for s in slots if s.block == block]
        assert len(members) == members[0].block_size
        counts = Counter(s.arm for s in members)
        assert counts == {arm: ratio * len(members) // total for arm, ratio in arms}


@given(st.integers(0, 2**128))
def test_same_seed_same_sequence(seed):
    arms = [("intervention", 1), ("control", 1)]
    assert permuted_blocks(arms, [2, 4, 6], 100, seed) == permuted_blocks(arms, [2, 4, 6], 100, seed)


def test_different_seeds_differ_and_ratio_holds_in_the_long_run():
    arms = [("a", 2), ("b", 1)]
    one, two = permuted_blocks(arms, [3, 6], 3000, 1), permuted_blocks(arms, [3, 6], 3000, 2)
    assert [s.arm for s in one] != [s.arm for s in two]
    share = Counter(s.arm for s in one)["a"] / len(one)
    assert share == pytest.approx(2 / 3, abs=1e-9)  # whole blocks: exact


def test_block_sizes_vary():
    sizes = Counter(s.block_size for s in permuted_blocks([("a", 1), ("b", 1)], [2, 4, 6], 600, 7))
    assert set(sizes) == {2, 4, 6}


def test_bad_block_size_is_refused():
    with pytest.raises(ValueError, match="multiples of the ratio total 2"):
        permuted_blocks([("a", 1), ("b", 1)], [3], 10, 1)


def test_seeds_are_fresh_128_bit_values():
    seeds = {new_seed() for _ in range(50)}
    assert len(seeds) == 50 and all(0 <= s < 2**128 for s in seeds)
