"""Allocation sequences (pure): simple, permuted blocks of randomly varying size, and minimisation.

A sequence is reproducible from its seed, and the seed comes from the operating system's
CSPRNG, so nobody can predict the next allocation from the code or from history.
"""

from __future__ import annotations

import math
import random
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal


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


def simple(arms: Sequence[tuple[str, int]], length: int, seed: int) -> list[Slot]:
    """Independent draws with probability in proportion to each arm's ratio (no blocks)."""
    if not arms or any(ratio <= 0 for _, ratio in arms):
        raise ValueError("at least one arm, each with a positive ratio, is needed")
    rng = random.Random(seed)
    codes = [arm for arm, _ in arms]
    weights = [ratio for _, ratio in arms]
    return [Slot(i + 1, None, None, rng.choices(codes, weights)[0]) for i in range(length)]


Imbalance = Literal["range", "variance"]


@dataclass
class Minimiser:
    """Pocock-Simon minimisation within one stratum.

    For each candidate arm, the imbalance it would leave is scored per factor on the participant's
    own level (counts divided by the arm's ratio, so unequal ratios are honoured), weighted and
    summed. The arm with the least total is preferred and given with `preferred_probability`;
    otherwise another arm is drawn in proportion to the ratios. Ties are broken at random by ratio.
    """

    arms: Sequence[tuple[str, int]]
    weights: Mapping[str, float]
    imbalance: Imbalance = "range"
    preferred_probability: float = 0.8
    seed: int = 0
    counts: dict[tuple[str, str, str], int] = field(default_factory=dict)  # (factor, level, arm) -> n
    _rng: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not self.arms or any(ratio <= 0 for _, ratio in self.arms):
            raise ValueError("at least one arm, each with a positive ratio, is needed")
        if not 0.5 <= self.preferred_probability <= 1:
            raise ValueError("preferred_probability must be between 0.5 and 1")
        if any(w <= 0 for w in self.weights.values()):
            raise ValueError("factor weights must be positive")
        self._rng = random.Random(self.seed)

    def scores(self, levels: Mapping[str, str]) -> dict[str, float]:
        """The weighted imbalance each arm would leave if the participant were given it."""
        missing = sorted(set(self.weights) - set(levels))
        if missing:
            raise ValueError(f"{missing[0]}: the participant's level of this factor is needed")
        out: dict[str, float] = {}
        for candidate, _ in self.arms:
            total = 0.0
            for factor, weight in self.weights.items():
                level = levels[factor]
                adjusted = [
                    (self.counts.get((factor, level, arm), 0) + (arm == candidate)) / ratio
                    for arm, ratio in self.arms
                ]
                total += weight * _spread(adjusted, self.imbalance)
            out[candidate] = total
        return out

    def allocate(self, levels: Mapping[str, str]) -> str:
        scores = self.scores(levels)
        best = min(scores.values())
        preferred = [(a, r) for a, r in self.arms if math.isclose(scores[a], best, abs_tol=1e-12)]
        others = [(a, r) for a, r in self.arms if (a, r) not in preferred]
        pool = preferred if not others or self._rng.random() < self.preferred_probability else others
        arm = self._rng.choices([a for a, _ in pool], [r for _, r in pool])[0]
        self.record(levels, arm)
        return arm

    def record(self, levels: Mapping[str, str], arm: str) -> None:
        for factor in self.weights:
            key = (factor, levels[factor], arm)
            self.counts[key] = self.counts.get(key, 0) + 1


def _spread(values: Sequence[float], how: Imbalance) -> float:
    if how == "range":
        return max(values) - min(values)
    mean = sum(values) / len(values)
    return sum((v - mean) ** 2 for v in values) / (len(values) - 1) if len(values) > 1 else 0.0
