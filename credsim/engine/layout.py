"""Layout constants of the engine's state, in one place: flag bits and mask widths.

A sanction, spillover or privilege mask holds one bit per sanction or privilege, in the
smallest unsigned integer that holds them (one byte up to 8, two up to 16, and so on to 64);
beyond 64 the column holds Python integers, as wide as the regime needs, so the count is
bounded by memory only: the defaults keep one byte a citizen, and a regime pays for width only
when it has that many. The demographic bit
layout is ``credsim.population.demo_layout``.
"""

from __future__ import annotations

import numpy as np

# flags bits
HEAD, EVER, PERMANENT, CEILING = 1, 2, 4, 16
GONE = 8  # flags bit 3: not yet born, or dead (credsim.engine.components.life)
LEVEL_SHIFT = 5  # flags bits 5-6: adaptation level (0 none, 1 household, 2 own)
EVER_WRONGFUL = 128  # flags bit 7: ever under a listing judged wrongful
WIDE = np.dtype(object)  # a mask of more than 64 bits: one Python integer a citizen


def mask_dtype(count: int) -> np.dtype:
    """The smallest unsigned integer with one bit for each of ``count`` things (``WIDE``
    beyond 64)."""
    for dt in (np.uint8, np.uint16, np.uint32, np.uint64):
        if count <= np.iinfo(dt).bits:
            return np.dtype(dt)
    return WIDE


def lowest_bit(mask: np.ndarray) -> np.ndarray:
    """Index of the lowest set bit of each (non-zero) mask."""
    if mask.dtype == WIDE:
        return np.fromiter(
            ((int(x) & -int(x)).bit_length() - 1 for x in mask), dtype=np.int64, count=mask.size
        )
    m = mask.astype(np.uint64)
    return np.log2((m & (~m + np.uint64(1))).astype(np.float64)).astype(np.int64)


def bits(demo: np.ndarray, what: str, layout: dict[str, tuple[int, int]]) -> np.ndarray:
    """One demographic attribute of packed demographics (``population.demo_layout``), as
    int64."""
    shift, width = layout[what]
    return ((demo >> shift) & ((1 << width) - 1)).astype(np.int64)
