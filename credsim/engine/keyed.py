"""Keyed random numbers: every random decision is a function of the seed, the component and
the decision's key.

A decision's uniform is a hash (SplitMix64's finaliser, applied in a chain) of a component key
and up to three integers, such as (citizen, day, privilege). Nothing is drawn by position, so
two regimes run on one seed differ only where their rules differ: removing a mechanism that
feeds nothing back, or adding a privilege nobody attempts, leaves every other figure
identical, and one more misattributed record changes figures only where that record reaches.

``component_key(seed, name)`` names a component's keys (``"behave/jaywalking"``,
``"sense/camera/jaywalking"``, ``"attempt"``, ``"redress/accept"`` ...); ``uniform(key, a, b,
c)`` is a number in [0, 1) for one decision (compiled, for the kernels), and ``uniforms`` the
same for an array of citizens. ``binomial(key, n, p, *parts)`` is a keyed binomial count for the few
aggregate draws (successful attempts, green-lane uses), so that each is its own stream.

Act sampling stays event-driven with these keys: see ``credsim.engine.kernels.sample_acts``.
"""

from __future__ import annotations

import zlib

import numpy as np

from credsim.compiled_cache import njit

__all__ = [
    "binomial",
    "binomials",
    "component_key",
    "mix",
    "name_code",
    "subkey",
    "uniform",
    "uniform_grid",
    "uniforms",
    "unit",
]

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
_C1 = np.uint64(0x632BE59BD9B4E019)
_C2 = np.uint64(0x85157AF5B5B7E2D1)
_TO_UNIT = 1.0 / 9007199254740992.0  # 2**-53


def name_code(name: str) -> int:
    """A stable 63-bit integer for a name (a key part that does not depend on positions)."""
    return zlib.crc32(name.encode()) | ((zlib.adler32(name.encode()) & 0x7FFFFFFF) << 32)


def _mix_py(z: int) -> int:
    mask = (1 << 64) - 1
    z = (z + 0x9E3779B97F4A7C15) & mask
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
    return z ^ (z >> 31)


def component_key(seed: int, name: str) -> np.uint64:
    """The key of one component's decisions: a function of the seed and the name alone."""
    return np.uint64(_mix_py(_mix_py(int(seed) & ((1 << 64) - 1)) ^ name_code(name)))


@njit(cache=True, nogil=True, inline="always")
def mix(z):  # pragma: no cover
    """SplitMix64's finaliser of a uint64 (a bijection that scatters every bit)."""
    z = z + _GOLDEN
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@njit(cache=True, nogil=True, inline="always")
def subkey(key, a):  # pragma: no cover
    """The key of a part of a component's decisions (a day, a bucket...): ``mix(key ^ a)``."""
    return mix(key ^ (np.uint64(a) * _GOLDEN))


@njit(cache=True, nogil=True, inline="always")
def unit(key, a):  # pragma: no cover
    """A uniform number in [0, 1) for decision ``a`` (an integer) under ``key``: one mix."""
    return np.float64(mix(key + np.uint64(a) * _GOLDEN) >> _S11) * _TO_UNIT


@njit(cache=True, nogil=True, inline="always")
def uniform(key, a, b, c):  # pragma: no cover
    """A uniform number in [0, 1) for the decision (key, a, b, c); a, b, c integers."""
    z = mix(key ^ np.uint64(a))
    z = mix(z ^ (np.uint64(b) + _C1))
    z = mix(z ^ (np.uint64(c) + _C2))
    return np.float64(z >> _S11) * _TO_UNIT


@njit(cache=True, nogil=True)
def _binomial(seed32, n, p):  # pragma: no cover
    np.random.seed(seed32)
    return np.random.binomial(n, p)


def binomial(key: np.uint64, n: int, p: float, *parts: int) -> int:
    """A binomial count keyed by ``key`` and integer ``parts`` (Numba's own generator, seeded
    with a 32-bit hash of the key: cheap enough to key every day's aggregate draws)."""
    if n <= 0 or p <= 0.0:
        return 0
    z = np.uint64(key)
    for part in parts:
        z = np.uint64(_mix_py(int(z) ^ (int(part) & ((1 << 64) - 1))))
    return int(_binomial(int(z) & 0xFFFFFFFF, int(n), min(float(p), 1.0)))


@njit(cache=True, nogil=True)
def _binomials(key, n, p, parts, out):  # pragma: no cover
    for i in range(n.size):
        if n[i] <= 0 or p[i] <= 0.0:
            out[i] = 0
            continue
        z = key
        for j in range(parts.shape[1]):
            z = mix(z ^ np.uint64(parts[i, j]))
        np.random.seed(np.uint32(z & np.uint64(0xFFFFFFFF)))
        out[i] = np.random.binomial(n[i], min(p[i], 1.0))


def binomials(key: np.uint64, n: np.ndarray, p: np.ndarray, parts: np.ndarray) -> np.ndarray:
    """``binomial(key, n[i], p[i], *parts[i])`` for each row ``i``, in one compiled call (the
    same counts: the day's aggregate draws without a Python call each)."""
    n = np.ascontiguousarray(n, dtype=np.int64).ravel()
    out = np.zeros(n.size, dtype=np.int64)
    if n.size:
        p = np.ascontiguousarray(p, dtype=np.float64).ravel()
        parts = np.ascontiguousarray(parts, dtype=np.int64).reshape(n.size, -1)
        _binomials(np.uint64(key), n, p, parts, out)
    return out


@njit(cache=True, nogil=True)
def _uniforms(key, a, b, c, out):  # pragma: no cover
    for i in range(a.size):
        out[i] = uniform(key, a[i], b, c)


@njit(cache=True, nogil=True)
def _uniform_grid(key, a, b, cs, out):  # pragma: no cover
    for j in range(cs.size):
        for i in range(a.size):
            out[j, i] = uniform(key, a[i], b, cs[j])


def uniform_grid(key: np.uint64, a: np.ndarray, b: int, cs) -> np.ndarray:
    """``[j, i] = uniform(key, a[i], b, cs[j])``: ``uniforms`` for several ``c`` at once (e.g.
    citizens on day b for each privilege), in one compiled call."""
    cs = np.ascontiguousarray(cs, dtype=np.int64)
    out = np.empty((cs.size, a.size), dtype=np.float64)
    if a.size and cs.size:
        _uniform_grid(np.uint64(key), np.ascontiguousarray(a, dtype=np.int64), int(b), cs, out)
    return out


def uniforms(key: np.uint64, a: np.ndarray, b: int, c: int = 0) -> np.ndarray:
    """``uniform(key, a[i], b, c)`` for each ``a[i]`` (e.g. citizens, on day b, privilege c)."""
    out = np.empty(a.size, dtype=np.float64)
    if a.size:
        _uniforms(np.uint64(key), np.ascontiguousarray(a, dtype=np.int64), int(b), int(c), out)
    return out
