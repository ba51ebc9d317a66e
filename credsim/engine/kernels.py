"""Compiled loops (Numba) for the steps whose order matters record by record."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def apply_delta(score, flags, ids, delta, lo, hi, marked_bit, ceiling):  # pragma: no cover
    """Apply ``delta`` to ``score[ids[i]]`` in order, clamped; return before and after.

    Records of the same citizen apply one after another, each clamped to [lo, hi] (or to the
    lifetime ceiling for citizens whose flags carry ``marked_bit``).
    """
    n = ids.size
    before = np.empty(n, np.int64)
    after = np.empty(n, np.int64)
    for i in range(n):
        c = ids[i]
        b = np.int64(score[c])
        top = hi
        if flags[c] & marked_bit and ceiling < hi:
            top = ceiling
        a = b + delta
        if a < lo:
            a = lo
        if a > top:
            a = top
        score[c] = a
        before[i] = b
        after[i] = a
    return before, after
