"""Exact sampling of rare events: geometric skips, thinning, and random streams per mechanism."""

from __future__ import annotations

import zlib

import numpy as np

_EMPTY = np.empty(0, dtype=np.int64)


def stream(seed: int, shard: int, name: str) -> np.random.Generator:
    """The random stream of one mechanism in one shard, keyed by the mechanism's name.

    Keying by name (not by position) keeps common random numbers: adding a rule or changing
    a sanction does not reshuffle the draws of any behaviour.
    """
    key = (int(shard), zlib.crc32(name.encode()))
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=key)))


def bernoulli_positions(rng: np.random.Generator, n: int, q: float) -> np.ndarray:
    """Sorted positions in ``range(n)``, each included independently with probability ``q``.

    Geometric skips: the gaps between successes are Geometric(q), so the cost follows the
    number of successes, not ``n``.
    """
    if n <= 0 or q <= 0.0:
        return _EMPTY
    if q >= 1.0:
        return np.arange(n, dtype=np.int64)
    mean = n * q
    m = int(mean + 6.0 * np.sqrt(mean) + 16)
    pos = np.cumsum(rng.geometric(q, m)) - 1
    while pos[-1] < n:
        more = np.cumsum(rng.geometric(q, m)) + pos[-1]
        pos = np.concatenate([pos, more])
    return pos[: np.searchsorted(pos, n)]


def thin(rng: np.random.Generator, ids: np.ndarray, p: np.ndarray | float) -> np.ndarray:
    """Keep each id with probability ``p`` (scalar or one per id)."""
    if ids.size == 0:
        return ids
    if np.isscalar(p):
        if p >= 1.0:
            return ids
        if p <= 0.0:
            return ids[:0]
    return ids[rng.random(ids.size) < p]


def propensity_buckets(
    propensity: np.ndarray, demo: np.ndarray, ratio: float = 1.25
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Citizens grouped by propensity, each as one word holding what sampling needs.

    Returns ``words`` (uint64 in bucket order: bits 0-31 the citizen's index, 32-47 the
    propensity as half-precision bits, 48-63 the packed demographics), bucket ``bounds``
    (start offsets into ``words``, one more than buckets) and each bucket's maximum
    propensity. In a bucket the largest propensity is at most ``ratio`` times the smallest,
    so thinning keeps at least 1/ratio of the candidates. One word per candidate means one
    memory access: acts are rare, so each touches a different cache line.
    """
    if propensity.size >= 1 << 32:
        raise ValueError("a shard holds at most 2**32 - 1 citizens")
    m = np.asarray(propensity, dtype=np.float64)
    lo = max(float(m.min()), 1e-6)
    b = np.floor(np.log(np.maximum(m, lo) / lo) / np.log(ratio)).astype(np.int16)
    order = np.argsort(b, kind="stable")  # radix sort for small integers
    counts = np.bincount(b)
    bounds = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    keep = counts > 0
    starts, ends = bounds[:-1][keep], bounds[1:][keep]
    top = np.maximum.reduceat(m[order], starts)
    words = order.astype(np.uint64)
    words |= propensity.view(np.uint16)[order].astype(np.uint64) << np.uint64(32)
    words |= demo[order].astype(np.uint64) << np.uint64(48)
    return words, np.concatenate([starts, ends[-1:]]), top


def bucket_candidates(
    rng: np.random.Generator, bounds: np.ndarray, q: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Positions (into the bucket order) of candidates, each included with its bucket's ``q``.

    Counts then draws: the number in each bucket is Binomial(size, q); the positions are a
    uniform subset of that size (drawn with replacement, duplicates redrawn until distinct,
    which by symmetry leaves every subset equally likely). Returns positions and bucket index.
    """
    sizes = np.diff(bounds)
    k = rng.binomial(sizes, np.minimum(q, 1.0))
    total = int(k.sum())
    if total == 0:
        return _EMPTY, _EMPTY
    bucket = np.repeat(np.arange(sizes.size), k)
    pos = bounds[bucket] + (rng.random(total) * sizes[bucket]).astype(np.int64)
    pos.sort()
    dup = np.flatnonzero(pos[1:] == pos[:-1]) + 1
    while dup.size:
        b = np.searchsorted(bounds, pos[dup], side="right") - 1
        pos[dup] = bounds[b] + (rng.random(dup.size) * sizes[b]).astype(np.int64)
        pos.sort()
        dup = np.flatnonzero(pos[1:] == pos[:-1]) + 1
    return pos, np.searchsorted(bounds, pos, side="right") - 1
