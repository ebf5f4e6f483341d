"""1:1 allocation by permuted blocks of randomly varying size, stratified by site."""

from __future__ import annotations

import numpy as np


def block_sequence(length: int, block_sizes: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """A sequence of at least `length` allocations (True = intervention) in balanced blocks."""
    parts: list[np.ndarray] = []
    total = 0
    while total < length:
        size = int(rng.choice(block_sizes))
        block = np.zeros(size, dtype=bool)
        block[: size // 2] = True
        parts.append(rng.permutation(block))
        total += size
    return np.concatenate(parts)[:length] if parts else np.zeros(0, dtype=bool)


def stratified_block_allocation(
    site: np.ndarray, n_sites: int, block_sizes: tuple[int, ...], rng: np.random.Generator
) -> np.ndarray:
    """Allocate participants in recruitment order; `site` holds each one's site index."""
    intervention = np.zeros(site.size, dtype=bool)
    for s in range(n_sites):
        where = np.flatnonzero(site == s)
        intervention[where] = block_sequence(where.size, block_sizes, rng)
    return intervention


def intervention_counts(
    site_counts: np.ndarray, block_sizes: tuple[int, ...], rng: np.random.Generator
) -> np.ndarray:
    """Number allocated to the intervention in each stratum of `site_counts` (any shape).

    Equivalent in distribution to running `block_sequence` per stratum and counting: every
    complete block is balanced, so only the block left open at the end of recruitment adds
    chance; its intervention count is hypergeometric. Vectorised for many trials at once.
    """
    counts = np.asarray(site_counts, dtype=np.int64)
    flat = counts.reshape(-1)
    n_blocks = int(flat.max(initial=0)) // min(block_sizes) + 1
    sizes = rng.choice(np.asarray(block_sizes, dtype=np.int64), size=(flat.size, n_blocks))
    ends = np.cumsum(sizes, axis=1)
    closed = (ends <= flat[:, None]).sum(axis=1)  # complete blocks before the open one
    start = np.where(closed > 0, np.take_along_axis(ends, np.maximum(closed - 1, 0)[:, None], 1)[:, 0], 0)
    open_size = np.take_along_axis(sizes, np.minimum(closed, n_blocks - 1)[:, None], 1)[:, 0]
    left = flat - start
    extra = np.zeros_like(left)
    has_open = left > 0
    extra[has_open] = rng.hypergeometric(open_size[has_open] // 2, open_size[has_open] // 2, left[has_open])
    return ((start // 2) + extra).reshape(counts.shape)
