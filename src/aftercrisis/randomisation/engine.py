"""Allocation sequences (pure): permuted blocks of randomly varying size.

A sequence is reproducible from its seed, and the seed comes from the operating system's
CSPRNG, so nobody can predict the next allocation from the code or from history.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Slot:
    position: int  # 1-based within the stratum
    block: int | None  # 1-based block number; None in an imported list that does not say
    block_size: int | None
    arm: str


def new_seed() -> int:
    return secrets.randbits(128)


def permuted_blocks(
    arms: Sequence[tuple[str, int]], block_sizes: Sequence[int], length: int, seed: int
) -> list[Slot]:
    """At least `length` slots in whole blocks; each block holds every arm in proportion to its ratio."""
    total = sum(ratio for _, ratio in arms)
    if not arms or total <= 0:
        raise ValueError("at least one arm with a positive ratio is needed")
    bad = [size for size in block_sizes if size <= 0 or size % total]
    if not block_sizes or bad:
        raise ValueError(
            f"block sizes must be positive multiples of the ratio total {total}: {list(block_sizes)}"
        )
    rng = random.Random(seed)
    slots: list[Slot] = []
    block = 0
    while len(slots) < length:
        block += 1
        size = rng.choice(list(block_sizes))
        contents = [arm for arm, ratio in arms for _ in range(ratio * size // total)]
        rng.shuffle(contents)
        start = len(slots)
        slots.extend(Slot(start + i + 1, block, size, arm) for i, arm in enumerate(contents))
    return slots
