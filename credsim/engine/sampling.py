"""Exact sampling of rare events: geometric skips, thinning, and random streams per mechanism."""

from __future__ import annotations

import zlib

import numpy as np

from credsim.compiled_cache import njit

_S32, _S48 = np.uint64(32), np.uint64(48)


def stream(seed: int, shard: int, name: str) -> np.random.Generator:
    """The random stream of one mechanism in one shard, keyed by the mechanism's name.

    Keying by name (not by position) keeps common random numbers: adding a rule or changing
    a sanction does not reshuffle the draws of any behaviour.
    """
    key = (int(shard), zlib.crc32(name.encode()))
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=key)))


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

    A propensity is a half-precision float, so its bucket is looked up in a table over the
    65,536 possible values, and the words are placed by a stable counting sort: no
    temporary array per citizen beyond the words themselves.
    """
    if propensity.size >= 1 << 32:
        raise ValueError("a shard holds at most 2**32 - 1 citizens")
    bits = np.ascontiguousarray(propensity, dtype=np.float16).view(np.uint16)
    count = np.zeros(1 << 16, dtype=np.int64)
    _count_values(bits, count)
    value = np.arange(1 << 16, dtype=np.uint16).view(np.float16).astype(np.float64)
    present = count > 0
    lo = max(float(value[present].min()), 1e-6)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        b = np.floor(np.log(np.maximum(value, lo) / lo) / np.log(ratio))
    b = np.where(present, b, 0).astype(np.int64)
    nb = int(b[present].max()) + 1
    sizes = np.bincount(b[present], weights=count[present], minlength=nb).astype(np.int64)
    top_all = np.full(nb, -np.inf)
    np.maximum.at(top_all, b[present], value[present])
    keep = sizes > 0
    bounds = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    words = np.empty(propensity.size, dtype=np.uint64)
    _place_words(bits, demo, b.astype(np.int16), bounds[:-1].copy(), words)
    starts, ends = bounds[:-1][keep], bounds[1:][keep]
    return words, np.concatenate([starts, ends[-1:]]), top_all[keep]


@njit(cache=True, nogil=True)
def _count_values(bits, count):  # pragma: no cover
    for i in range(bits.size):
        count[bits[i]] += 1


@njit(cache=True, nogil=True)
def _place_words(bits, demo, bucket_of, at, words):  # pragma: no cover
    """Stable counting sort of the citizens by bucket, writing each citizen's word."""
    for i in range(bits.size):
        h = bits[i]
        b = bucket_of[h]
        words[at[b]] = np.uint64(i) | (np.uint64(h) << _S32) | (np.uint64(demo[i]) << _S48)
        at[b] += 1
