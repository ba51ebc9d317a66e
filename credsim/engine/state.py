"""A shard's state: the citizens' columns, the sparse listings, and lookups over them.

Core state at the defaults is 16 bytes a citizen (``State.core_bytes``): score (2), the
sanction and spillover masks (1 each), flags (1), privileges ever denied (1), demographics
(2) and the sampling word (8). The masks widen with the regime (``layout.mask_dtype``): a
regime with up to 8 sanctions keeps one byte, up to 16 two, and so on to 64; beyond 64 each
holds one Python integer a citizen, as wide as the regime needs (zero for the unlisted, who
share one object), so the counts are bounded by memory only.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from credsim.engine.layout import EVER, EVER_WRONGFUL, GONE, HEAD, LEVEL_SHIFT, bits, mask_dtype
from credsim.engine.sampling import propensity_buckets
from credsim.metrics import DayMetrics
from credsim.population import Population

_EMPTY = np.empty(0, dtype=np.int64)


class State:
    """The columns of one shard's citizens and the listings they are under."""

    def __init__(self, c, pop: Population, offset: int, days: int, ledger):
        self.c, self.pop, self.offset, self.days, self.ledger = c, pop, offset, days, ledger
        n = self.n = pop.n
        sdt, pdt = mask_dtype(len(c.sanctions)), mask_dtype(len(c.privileges))
        self.score = np.full(n, c.score_initial, dtype=np.int16)
        self.sanction = np.zeros(n, dtype=sdt)  # bit k: under sanction k
        self.spill = np.zeros(n, dtype=sdt)  # bit k: a relative's sanction k applies
        self.flags = np.where(pop.head, HEAD, 0).astype(np.uint8)
        self.denied_ever = np.zeros(n, dtype=pdt)  # bit p: ever denied privilege p
        self.demo = pop.demo
        # each citizen as one word (index, propensity, demographics) in propensity order
        self.words, self.bounds, self.top = propensity_buckets(pop.propensity, pop.demo)
        pop.head = pop.propensity = None  # the flags and the words hold them now
        # sparse state: listings as keys citizen * stride + sanction
        self.stride = max(8, len(c.sanctions))
        self.until: dict[int, int] = {}  # listing -> expiry day
        self.expiries: dict[int, list[np.ndarray]] = defaultdict(list)  # day -> listings
        self.lifts: dict[int, list[np.ndarray]] = defaultdict(list)  # day -> listings
        self.mis_points: dict[int, int] = {}  # citizen -> points from misattributed records
        # harm accounting (credsim.engine.components.harm), sparse: few citizens have any
        self.wrong: dict[int, int] = {}  # citizen -> sanction bits of listings now wrongful
        self.spill_wrong: dict[int, int] = {}  # citizen -> spill bits only wrongful ones cause
        self.escape_points: dict[int, int] = {}  # actor -> points of own records put on others
        self.would_list: set[int] = set()  # own records (put on others) would have listed them
        self.cf_listed: set[int] = set()  # listed at some time in the world without errors
        self.family_harmed: set[int] = set()  # ever restricted only by relatives' wrongful ones
        self.restricted_ids = _EMPTY  # sorted; may hold citizens no longer restricted
        # the life course (credsim.engine.components.life): rows flagged GONE are not yet
        # born or dead; ``grown`` came of age restricted through family, with the family's
        # marks following them (``life.family_marks_follow``)
        self.gone_on = False
        self.born: np.ndarray | None = None
        self.grown: set[int] = set()
        # rate factors [kind, province] from general deterrence (written by adaptation)
        self.prov_factor = np.ones((len(c.province_sensitivity), len(c.provinces)))
        self.m = DayMetrics(c, pop, days)
        self.m.start(n, c.score_initial)

    def core_bytes(self) -> int:
        """Bytes of the dense state the day loop keeps."""
        arrays = (
            self.score,
            self.sanction,
            self.spill,
            self.flags,
            self.denied_ever,
            self.demo,
            self.words,
        )
        return sum(a.nbytes for a in arrays)

    # --- listings ---------------------------------------------------------------------
    def key(self, ids: np.ndarray, k: np.ndarray) -> np.ndarray:
        return ids.astype(np.int64) * self.stride + k

    def split(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return keys // self.stride, keys % self.stride

    def bit(self, k) -> np.ndarray:
        """The sanction mask of sanction(s) ``k``."""
        return np.left_shift(
            np.asarray(1, dtype=self.sanction.dtype), np.asarray(k).astype(self.sanction.dtype)
        )

    def has(self, ids: np.ndarray, k) -> np.ndarray:
        """Whether each citizen is under sanction ``k`` (one or one each)."""
        k = np.asarray(k).astype(self.sanction.dtype)
        return ((self.sanction[ids] >> k) & 1) != 0

    # --- citizens ---------------------------------------------------------------------
    def gid(self, local: np.ndarray) -> np.ndarray:
        """Global citizen ids of local indices."""
        return local.astype(np.int64) + self.offset

    def bits(self, ids: np.ndarray, what: str) -> np.ndarray:
        """One demographic attribute of these citizens, as int64."""
        return bits(self.demo[ids], what, self.c.layout)

    def child(self, ids: np.ndarray) -> np.ndarray:
        return self.bits(ids, "age") == 0

    def spill_child(self, ids: np.ndarray) -> np.ndarray:
        """Whom sanctions that spill over to a household's children reach: its children,
        and those who came of age with the family's marks following them."""
        child = self.child(ids)
        if self.grown:
            child |= np.isin(ids, np.fromiter(self.grown, dtype=np.int64, count=len(self.grown)))
        return child

    def gone(self, ids: np.ndarray) -> np.ndarray:
        """Whether each citizen is not yet born or dead (always False without the life
        course)."""
        if not self.gone_on:
            return np.zeros(ids.size, dtype=bool)
        return (self.flags[ids] & GONE) != 0

    def log(self, kind: str, day: int, ids: np.ndarray, **columns) -> np.ndarray:
        """Ledger rows that do not change the score (their score is today's)."""
        if not self.ledger.active:
            return np.full(ids.size, -1, dtype=np.int64)
        columns.setdefault("before", self.score[ids])
        return self.ledger.add(kind, day, self.gid(ids), **columns)

    def add_restricted(self, ids: np.ndarray) -> None:
        """Merge ids into ``restricted_ids`` (kept sorted and unique)."""
        r, ids = self.restricted_ids, np.unique(ids)
        pos = np.searchsorted(r, ids)
        fresh = r[np.minimum(pos, r.size - 1)] != ids if r.size else np.ones(ids.size, bool)
        self.restricted_ids = np.insert(r, pos[fresh], ids[fresh])

    def level(self, ids: np.ndarray) -> np.ndarray:
        """Adaptation level (0 none, 1 household, 2 own) of these citizens."""
        return (self.flags[ids] >> LEVEL_SHIFT) & 3

    def set_level(self, ids: np.ndarray, level: np.ndarray) -> None:
        self.m.level_change(self.level(ids), level)
        self.flags[ids] = (self.flags[ids] & ~np.uint8(3 << LEVEL_SHIFT)) | (
            level.astype(np.uint8) << LEVEL_SHIFT
        )

    def status(self, ids: np.ndarray) -> np.ndarray:
        """The 0/1 columns of ``credsim.metrics.GROUP_LEVELS`` for each citizen: restricted,
        spillover_only, wrongful (every own listing wrongful), wrongful_spillover (restricted
        only through family, and only by wrongful listings), ever_wrongful, escaped."""
        sanction, spill = self.sanction[ids], self.spill[ids]
        own = sanction != 0
        only_family = ~own & (spill != 0)
        flags = self.flags[ids]
        wrong = self.mask_of(self.wrong, ids, sanction.dtype)
        swrong = self.mask_of(self.spill_wrong, ids, spill.dtype)
        escaped = np.zeros(ids.size, dtype=bool)
        if self.would_list:
            escaped = np.isin(ids, np.fromiter(self.would_list, dtype=np.int64)) & (
                (flags & EVER) == 0
            )
        return np.stack(
            [
                own,
                only_family,
                own & ((sanction & ~wrong) == 0),
                only_family & ((spill & ~swrong) == 0),
                (flags & EVER_WRONGFUL) != 0,
                escaped,
            ],
            axis=1,
        ).astype(np.int64)

    @staticmethod
    def mask_of(d: dict[int, int], ids: np.ndarray, dtype) -> np.ndarray:
        """The values of a sparse citizen -> mask dict for ``ids`` (0 where absent)."""
        if not d or ids.size == 0:
            return np.zeros(ids.size, dtype=dtype)
        if ids.size < 64 or len(d) > 4 * ids.size:
            return np.fromiter((d.get(i, 0) for i in ids.tolist()), dtype=dtype, count=ids.size)
        keys = np.fromiter(d.keys(), dtype=np.int64, count=len(d))
        values = np.fromiter(d.values(), dtype=dtype, count=len(d))
        order = np.argsort(keys)
        keys, values = keys[order], values[order]
        at = np.minimum(np.searchsorted(keys, ids), keys.size - 1)
        return np.where(keys[at] == ids, values[at], 0).astype(dtype)

    def household_ranges(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """[start, end) of each citizen's household (members are contiguous)."""
        start = ids.astype(np.int64).copy()
        todo = (self.flags[start] & HEAD) == 0
        while todo.any():
            start[todo] -= 1
            todo = (self.flags[start] & HEAD) == 0
        end = ids.astype(np.int64) + 1
        todo = end < self.n
        todo[todo] = (self.flags[end[todo]] & HEAD) == 0
        while todo.any():
            end[todo] += 1
            more = end < self.n
            todo &= more
            todo[todo] = (self.flags[end[todo]] & HEAD) == 0
        return start, end

    def members(self, ids: np.ndarray) -> np.ndarray:
        """All members of the households of ``ids`` (unique, sorted)."""
        if ids.size == 0:
            return _EMPTY
        s, e = self.household_ranges(np.unique(ids))
        s, idx = np.unique(s, return_index=True)
        e = e[idx]
        lens = e - s
        return np.repeat(s - np.cumsum(lens) + lens, lens) + np.arange(lens.sum())

    def mis_points_of(self, idx: np.ndarray) -> np.ndarray:
        """Score points from misattributed records of citizens ``idx`` (int16)."""
        out = np.zeros(idx.size, dtype=np.int16)
        if self.mis_points:
            keys = np.fromiter(self.mis_points.keys(), dtype=np.int64)
            values = np.fromiter(self.mis_points.values(), dtype=np.int64)
            at = np.searchsorted(idx, keys)
            hit = at < idx.size
            hit[hit] = idx[at[hit]] == keys[hit]
            out[at[hit]] = values[hit]
        return out
