"""How well a randomisation scheme behaves, by simulating many trials under it (pure).

Two figures per scheme: the worst final imbalance in each stratum, and how often a recruiter
who guesses the next allocation by the convergence strategy (the arm with fewest so far in their
stratum, ratio-adjusted; a coin toss on ties) is right. 1/len(arms) is the ideal; blocks raise it.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from aftercrisis.protocol.models import Protocol
from aftercrisis.randomisation.engine import Minimiser, permuted_blocks, simple

Progress = Callable[[int], None]


@dataclass(frozen=True)
class SchemeAssessment:
    method: str
    trials: int
    participants: int
    strata: tuple[str, ...]
    worst_imbalance: dict[str, float]  # stratum -> largest final imbalance seen in any trial
    mean_imbalance: dict[str, float]  # stratum -> mean final imbalance
    guess_right: float  # share of allocations a convergence-strategy recruiter guesses right
    chance: float  # the share a recruiter with no information would guess right


def imbalance(counts: dict[str, int], arms: Sequence[tuple[str, int]]) -> float:
    """Largest minus smallest ratio-adjusted arm size, in participants of the smallest ratio."""
    smallest = min(r for _, r in arms)
    adjusted = [counts.get(a, 0) * smallest / r for a, r in arms]
    return max(adjusted) - min(adjusted)


def _levels(protocol: Protocol, rng: random.Random) -> dict[str, str]:
    """A plausible participant's level of each minimisation factor."""
    raw: dict[str, float | str] = {
        "sex": rng.choice(["female", "male"]),
        "age_at_entry": rng.randint(18, 75),
        "prior_admissions": min(int(rng.expovariate(0.7)), 8),
        "ethnicity": rng.choices(["white", "black", "asian", "mixed", "other"], [70, 12, 10, 5, 3])[0],
    }
    levels: dict[str, str] = {}
    for factor in protocol.randomisation.factors:
        if factor.code == "site":
            continue
        value = raw[factor.code]
        if factor.cutpoints and not isinstance(value, str):
            value = str(sum(value >= c for c in factor.cutpoints))
        levels[factor.code] = str(value)
    return levels


def assess_scheme(
    protocol: Protocol,
    *,
    trials: int,
    participants: int,
    seed: int,
    progress: Progress | None = None,
) -> SchemeAssessment:
    scheme = protocol.randomisation
    arms = [(a.code, a.ratio) for a in protocol.arms]
    sites = [s.code for s in protocol.sites]
    stratified = "site" in scheme.stratify_by
    strata = tuple(sites) if stratified else ("all",)
    rng = random.Random(seed)
    worst = dict.fromkeys(strata, 0.0)
    total = dict.fromkeys(strata, 0.0)
    right = guesses = 0
    for trial in range(trials):
        counts: dict[str, dict[str, int]] = {s: {} for s in strata}
        sequences: dict[str, list[str]] = {}
        minimisers: dict[str, Minimiser] = {}
        for i, stratum in enumerate(strata):
            trial_seed = rng.getrandbits(64) + i
            if scheme.method == "stratified_blocks":
                sequences[stratum] = [
                    s.arm for s in permuted_blocks(arms, scheme.block_sizes, participants, trial_seed)
                ]
            elif scheme.method == "simple":
                sequences[stratum] = [s.arm for s in simple(arms, participants, trial_seed)]
            else:
                weights: dict[str, float] = {f.code: f.weight for f in scheme.factors}
                minimisers[stratum] = Minimiser(
                    arms, weights, scheme.imbalance, scheme.preferred_probability, trial_seed
                )
        for _ in range(participants):
            site = rng.choice(sites)
            stratum = site if stratified else "all"
            seen = counts[stratum]
            smallest = min(seen.get(a, 0) / r for a, r in arms)
            guess = rng.choice([a for a, r in arms if seen.get(a, 0) / r == smallest])
            if scheme.method == "minimisation":
                levels = {**_levels(protocol, rng), "site": site}
                arm = minimisers[stratum].allocate(levels)
            else:
                arm = sequences[stratum][sum(seen.values())]
            right += guess == arm
            guesses += 1
            seen[arm] = seen.get(arm, 0) + 1
        for stratum in strata:
            value = imbalance(counts[stratum], arms)
            worst[stratum] = max(worst[stratum], value)
            total[stratum] += value
        if progress:
            progress(trial + 1)
    chance = max(r for _, r in arms) / sum(r for _, r in arms)
    return SchemeAssessment(
        method=scheme.method,
        trials=trials,
        participants=participants,
        strata=strata,
        worst_imbalance=worst,
        mean_imbalance={s: total[s] / trials for s in strata},
        guess_right=right / guesses if guesses else 0.0,
        chance=chance,
    )
