"""Layout constants of the engine's state, in one place: flag bits and mask widths.

(The demographic bit layout is ``credsim.population.demo_layout``.)
"""

from __future__ import annotations

import numpy as np

# flags bits
HEAD, EVER, PERMANENT, CEILING = 1, 2, 4, 16
GONE = 8  # flags bit 3: not yet born, or dead (credsim.engine.components.life)
LEVEL_SHIFT = 5  # flags bits 5-6: adaptation level (0 none, 1 household, 2 own)
EVER_WRONGFUL = 128  # flags bit 7: ever under a listing judged wrongful
MAX_MASK_BITS = 64  # sanctions or privileges a regime may have (one bit each in a mask)


def mask_dtype(count: int) -> np.dtype:
    """The smallest unsigned integer with one bit for each of ``count`` things."""
    for dt in (np.uint8, np.uint16, np.uint32, np.uint64):
        if count <= np.iinfo(dt).bits:
            return np.dtype(dt)
    raise ValueError(f"{count} is more than {MAX_MASK_BITS} sanctions or privileges")


def lowest_bit(mask: np.ndarray) -> np.ndarray:
    """Index of the lowest set bit of each (non-zero) mask."""
    m = mask.astype(np.uint64)
    return np.log2((m & (~m + np.uint64(1))).astype(np.float64)).astype(np.int64)


def bits(demo: np.ndarray, what: str, layout: dict[str, tuple[int, int]]) -> np.ndarray:
    """One demographic attribute of packed demographics (``population.demo_layout``), as
    int64."""
    shift, width = layout[what]
    return ((demo >> shift) & ((1 << width) - 1)).astype(np.int64)
