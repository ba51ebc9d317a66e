"""Per-day metrics, kept incrementally and merged across shards by addition.

Every figure is a count (or a sum) so that shards add up: the score distribution is a
histogram, from which the mean and quantiles are derived after merging. Figures are either
levels (how many are under a sanction today) or flows (how many acts today).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from credsim.population import Population

DIMENSIONS = ("sex", "age", "urban", "province", "group")
GROUP_LEVELS = (  # the columns of ``State.status``, in order
    "restricted",
    "spillover_only",
    "wrongful",
    "wrongful_spillover",
    "ever_wrongful",
    "escaped",
)
GROUP_FLOWS = ("denied", "misattributed", "wrongly_denied")
GROUP_METRICS = GROUP_LEVELS + GROUP_FLOWS
# flows by group of regimes with ties (credsim.engine.components.ties): ties who saw a
# listing, citizens who began to adapt through ties, citizens penalised by association
TIE_GROUP_FLOWS = ("tie_reached", "tie_chilled", "associated")
# levels by group of regimes with organisations (credsim.engine.components.organisations):
# citizens restricted through an organisation they represent or manage (joint punishment)
ORGANISATION_GROUP_LEVELS = ("restricted_via_organisation",)
HIST_BINS_MAX = 2048


def columns(c) -> tuple[list[str], list[str]]:
    """The level and flow column names of a compiled regime's metrics (``credsim.figures``)."""
    from credsim.figures import columns as declared

    return declared(c)


def dimension_labels(c) -> list[tuple[str, str]]:
    """(dimension, value) of each group slot, in slot order."""
    from credsim.regime.schema import AGE_BANDS, SEX

    out = [("sex", s) for s in SEX] + [("age_band", a) for a in AGE_BANDS]
    out += [("region", r) for r in ("rural", "urban")]
    out += [("province", p) for p in c.provinces] + [("group", g) for g in c.groups]
    return out


@dataclass
class ShardMetrics:
    """What a shard hands back: arrays that merge by addition."""

    rows: np.ndarray  # [days, columns]
    hist: np.ndarray  # [days, bins]
    groups: np.ndarray  # [days, metric, slot]
    group_population: np.ndarray  # [slot]

    def __add__(self, other: ShardMetrics) -> ShardMetrics:
        return ShardMetrics(
            self.rows + other.rows,
            self.hist + other.hist,
            self.groups + other.groups,
            self.group_population + other.group_population,
        )


class DayMetrics:
    """The running figures of one shard, written into per-day rows."""

    def __init__(self, c, pop: Population, days: int):
        self.c = c
        levels, flows = columns(c)
        self.names = levels + flows
        self.col = {n: i for i, n in enumerate(self.names)}
        self.flow_cols = np.array([self.col[f] for f in flows])
        self.cur = np.zeros(len(self.names), dtype=np.int64)
        self.rows = np.zeros((days, len(self.names)), dtype=np.int64)
        span = c.score_max - c.score_min + 1
        self.width = max(1, -(-span // HIST_BINS_MAX))
        self.nbins = -(-span // self.width)
        self.hist_cur = np.zeros(self.nbins, dtype=np.int64)
        self.hist = np.zeros((days, self.nbins), dtype=np.int64)
        # group slots
        self.offsets = np.cumsum([0, 2, 4, 2, len(c.provinces)])
        self.nslots = int(self.offsets[-1]) + len(c.groups)
        self.gnames = getattr(c, "group_metrics", GROUP_METRICS)
        self.gcur = np.zeros((len(self.gnames), self.nslots), dtype=np.int64)
        self.groups = np.zeros((days, len(self.gnames), self.nslots), dtype=np.int64)
        # rows of ``gcur`` that are flows, zeroed each day (the others are levels)
        self.gflows = np.array(
            [
                j
                for j, name in enumerate(self.gnames)
                if name not in GROUP_LEVELS + ORGANISATION_GROUP_LEVELS
            ],
            dtype=np.int64,
        )
        self.demo = pop.demo
        self.layout = pop.census.layout
        self.province_start = pop.province_start
        self._slot_table = self._slots_of(np.arange(1 << 16))
        # citizens per packed demographic code: every static count follows from it
        per_code = np.bincount(pop.demo, minlength=1 << 16)
        self.group_population = np.bincount(
            self._slot_table.ravel(), weights=np.repeat(per_code, 5), minlength=self.nslots
        ).astype(np.int64)[: self.nslots]
        codes = np.arange(1 << 16)
        urban = (codes >> self.layout["urban"][0]) & 1
        child = ((codes >> self.layout["age"][0]) & 3) == 0
        self.eligible = []
        for who in c.attempt_who:
            sel = child if who == "children" else (~child if who == "adults" else codes >= 0)
            self.eligible.append(
                np.bincount(urban[sel], weights=per_code[sel], minlength=2).astype(np.int64)
            )
        self.eligible_matrix = np.array(self.eligible, dtype=np.int64).reshape(-1, 2)
        self.province_population = np.diff(pop.province_start).astype(np.float64)

    # --- bookkeeping used by the engine -------------------------------------------------
    def start(self, n: int, initial: int) -> None:
        """Every citizen starts with the same score."""
        self.cur[self.col["citizens"]] = n
        self.cur[self.col["score_sum"]] = n * initial
        t = int(self.c.tier_of(np.array([initial]))[0])
        self.cur[self.col[f"tier_{self.c.tiers[t]}"]] = n
        self.hist_cur[int(self.bin(np.array([initial]))[0])] += n

    def bin(self, score: np.ndarray) -> np.ndarray:
        return (score.astype(np.int64) - self.c.score_min) // self.width

    def begin_day(self) -> None:
        self.cur[self.flow_cols] = 0
        self.gcur[self.gflows] = 0

    def end_day(self, day: int) -> None:
        self.rows[day] = self.cur
        self.hist[day] = self.hist_cur
        self.groups[day] = self.gcur

    def add(self, name: str, value: int) -> None:
        self.cur[self.col[name]] += value

    def slots(self, ids: np.ndarray) -> np.ndarray:
        return self._slot_table[self.demo[ids]]

    def _slots_of(self, d: np.ndarray) -> np.ndarray:
        d = d.astype(np.int64)
        out = np.empty((d.size, 5), dtype=np.int64)
        for j, what in enumerate(DIMENSIONS):
            shift, width = self.layout[what]
            out[:, j] = self.offsets[j] + ((d >> shift) & ((1 << width) - 1))
        return out

    def group_flow(self, metric: str, ids: np.ndarray) -> None:
        m = self.gnames.index(metric)
        self.gcur[m] += np.bincount(self.slots(ids).ravel(), minlength=self.nslots)

    def group_level(self, metric: str, ids: np.ndarray, sign: int) -> None:
        """A group level rises (``sign`` +1) or falls (-1) by one for each of these citizens."""
        m = self.gnames.index(metric)
        self.gcur[m] += sign * np.bincount(self.slots(ids).ravel(), minlength=self.nslots)

    def score_change(self, before: np.ndarray, after: np.ndarray) -> None:
        before = np.asarray(before, dtype=np.int64)
        after = np.asarray(after, dtype=np.int64)
        changed = before != after
        if not changed.any():
            return
        before, after = before[changed], after[changed]
        self.cur[self.col["score_sum"]] += int((after - before).sum())
        self.hist_cur += np.bincount(self.bin(after), minlength=self.nbins)
        self.hist_cur -= np.bincount(self.bin(before), minlength=self.nbins)
        tb, ta = self.c.tier_of(before), self.c.tier_of(after)
        moved = tb != ta
        if moved.any():
            k = self.c.n_tiers
            d = np.bincount(ta[moved], minlength=k) - np.bincount(tb[moved], minlength=k)
            for t, name in enumerate(self.c.tiers):
                self.cur[self.col[f"tier_{name}"]] += int(d[t])

    def status_change(self, ids: np.ndarray, before: np.ndarray, after: np.ndarray) -> None:
        """Restricted / spillover-only / wrongful changed for these (unique or not) citizens."""
        ids, first = np.unique(ids, return_index=True)
        d = after[first] - before[first]
        if not d.any():
            return
        for j, name in enumerate(GROUP_LEVELS):
            if d[:, j].any():
                self.cur[self.col[name]] += int(d[:, j].sum())
                sl = self.slots(ids[d[:, j] != 0])
                w = np.repeat(d[d[:, j] != 0, j], 5)
                self.gcur[j] += np.bincount(sl.ravel(), weights=w, minlength=self.nslots).astype(
                    np.int64
                )

    def sanctioned(self, k: np.ndarray, sign: int) -> None:
        counts = np.bincount(np.asarray(k, dtype=np.int64), minlength=len(self.c.sanctions))
        for kk, name in enumerate(self.c.sanctions):
            self.cur[self.col[f"sanctioned_{name}"]] += sign * int(counts[kk])

    def per_sanction(self, what: str, k: np.ndarray) -> None:
        counts = np.bincount(np.asarray(k, dtype=np.int64), minlength=len(self.c.sanctions))
        for kk, name in enumerate(self.c.sanctions):
            if counts[kk]:
                self.cur[self.col[f"{what}_{name}"]] += int(counts[kk])

    def level_change(self, old: np.ndarray, new: np.ndarray) -> None:
        levels = [(1, "adapted_household"), (2, "adapted_own")]
        if "adapted_ties" in self.col:
            levels.append((3, "adapted_ties"))
        for lvl, name in levels:
            self.cur[self.col[name]] += int(np.count_nonzero(new == lvl)) - int(
                np.count_nonzero(old == lvl)
            )

    def tier_at_or_above(self, t: int) -> int:
        return int(sum(self.cur[self.col[f"tier_{self.c.tiers[i]}"]] for i in range(t + 1)))

    def province_restricted_share(self) -> np.ndarray:
        j = GROUP_LEVELS.index("restricted")
        lo = self.offsets[3]
        counts = self.gcur[j, lo : lo + len(self.c.provinces)].astype(np.float64)
        return counts / np.maximum(self.province_population, 1.0)

    def result(self) -> ShardMetrics:
        return ShardMetrics(self.rows, self.hist, self.groups, self.group_population)
