"""One shard of citizens run day by day: state as columns, phases as a list.

The day is ``behave -> sense -> share -> score -> tier -> sanction -> attempt -> redress ->
adapt`` (``PHASES``). Each phase touches only the citizens involved in that day's events:
acts are sampled by geometric skips within propensity buckets and thinned, records and
sanction expiries wait in day buckets, and the per-day metrics are kept up to date
incrementally, so a citizen with no event costs nothing that day.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from credsim.engine.compiled import Compiled, max_factor
from credsim.engine.kernels import (
    apply_records,
    empty_chances,
    sample_acts,
    sense_acts,
    unpack_propensity,
)
from credsim.engine.keyed import binomial, component_key, uniforms
from credsim.engine.sampling import propensity_buckets
from credsim.ledger import Ledger
from credsim.metrics import DayMetrics
from credsim.population import DEMO_BITS, Population

PHASES = ("behave", "sense", "share", "score", "tier", "sanction", "attempt", "redress", "adapt")

# flags bits
HEAD, EVER, PERMANENT, WRONGFUL, CEILING = 1, 2, 4, 8, 16
LEVEL_SHIFT = 5  # flags bits 5-6: adaptation level
CITIZEN_ROWS = 1 << 16  # citizens a table (a row group) when the final state is written
_EMPTY = np.empty(0, dtype=np.int64)
_LOWBIT = np.array([(b & -b).bit_length() - 1 for b in range(256)], dtype=np.int64)


def _bits(demo: np.ndarray, what: str) -> np.ndarray:
    shift, width = DEMO_BITS[what]
    return ((demo >> shift) & ((1 << width) - 1)).astype(np.int64)


@dataclass
class Records:
    """Records of one behaviour by one source, as parallel columns."""

    citizen: np.ndarray
    actor: np.ndarray
    behaviour: int
    source: int
    mis: np.ndarray


class Shard:
    """The state of one shard and its day loop."""

    def __init__(
        self,
        c: Compiled,
        pop: Population,
        seed: int,
        shard: int,
        offset: int,
        days: int,
        ledger: Ledger,
    ):
        self.c, self.pop, self.seed, self.shard, self.offset = c, pop, seed, shard, offset
        self.days, self.ledger = days, ledger
        n = self.n = pop.n
        # --- core state: 16 bytes per citizen -------------------------------------------
        self.score = np.full(n, c.score_initial, dtype=np.int16)  # 2
        self.sanction = np.zeros(n, dtype=np.uint8)  # 1, bit k: under sanction k
        self.spill = np.zeros(n, dtype=np.uint8)  # 1, bit k: a relative's sanction k applies
        self.flags = np.where(pop.head, HEAD, 0).astype(np.uint8)  # 1
        # (flags bits 5-6 hold the adaptation level: 0 none, 1 household, 2 own)
        self.denied_ever = np.zeros(n, dtype=np.uint8)  # 1, bit p: ever denied privilege p
        self.demo = pop.demo  # 2
        # 8: each citizen as one word (index, propensity, demographics) in propensity order
        self.words, self.bounds, self.top = propensity_buckets(pop.propensity, pop.demo)
        pop.head = pop.propensity = None  # the flags and the words hold them now
        # --- sparse state ---------------------------------------------------------------
        self.mis_points: dict[int, int] = {}  # citizen -> score points from misattributed records
        self.until: dict[int, int] = {}  # citizen * 8 + sanction -> expiry day
        self.expiries: dict[int, list[np.ndarray]] = defaultdict(list)
        self.lifts: dict[int, list[np.ndarray]] = defaultdict(list)
        self.pending: dict[int, list[Records]] = defaultdict(list)
        self.redress_due: dict[int, list[tuple]] = defaultdict(list)
        self.restricted_ids = _EMPTY
        self.prov_factor = np.ones((len(c.province_sensitivity), len(c.provinces)))
        self.keys = {name: component_key(seed, name) for name in self._key_names()}
        # scratch of sample_acts, all zero between calls: one bit a citizen, in whole words
        self._mark = np.zeros(8 * ((n + 63) // 64), dtype=np.uint8)
        self._empty = empty_chances(np.append(np.diff(self.bounds), n))
        self.m = DayMetrics(c, pop, days)
        self.m.start(n, c.score_initial)
        self.timings = dict.fromkeys(PHASES, 0.0)
        self._buffers()
        self.day = 0
        self._today_records: list[Records] = []
        self._batches: list[Records] = []
        self._touched: list[np.ndarray] = []
        self._last_row: list[tuple[np.ndarray, np.ndarray]] = []
        self._rule_starts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []

    def _key_names(self) -> list[str]:
        """The components whose decisions are keyed (see credsim.engine.keyed)."""
        c = self.c
        names = [f"behave/{b}" for b in c.behaviours]
        names += [
            f"sense/{c.sources[si]}/{b}"
            for b in c.behaviours
            for si, _ in c.observers[c.behaviours.index(b)]
        ]
        names += ["attempt", "attempt/allowed", "green"]
        names += ["redress/comply", "redress/wait", "redress/accept"]
        return names

    # ------------------------------------------------------------------ helpers
    def _log(self, kind: str, day: int, ids: np.ndarray, **columns) -> np.ndarray:
        """Ledger rows that do not change the score (their score is today's)."""
        if not self.ledger.active:
            return np.full(ids.size, -1, dtype=np.int64)
        score = self.score[ids]
        columns.setdefault("before", score)
        return self.ledger.add(kind, day, self.gid(ids), **columns)

    def _add_restricted(self, ids: np.ndarray) -> None:
        """Merge ids into ``restricted_ids`` (kept sorted and unique)."""
        r, ids = self.restricted_ids, np.unique(ids)
        pos = np.searchsorted(r, ids)
        fresh = r[np.minimum(pos, r.size - 1)] != ids if r.size else np.ones(ids.size, bool)
        self.restricted_ids = np.insert(r, pos[fresh], ids[fresh])

    def level(self, ids: np.ndarray) -> np.ndarray:
        """Adaptation level (0 none, 1 household, 2 own) of these citizens."""
        return (self.flags[ids] >> LEVEL_SHIFT) & 3

    def _set_level(self, ids: np.ndarray, level: np.ndarray) -> None:
        self.m.level_change(self.level(ids), level)
        self.flags[ids] = (self.flags[ids] & ~np.uint8(3 << LEVEL_SHIFT)) | (
            level.astype(np.uint8) << LEVEL_SHIFT
        )

    def gid(self, local: np.ndarray) -> np.ndarray:
        """Global citizen ids of local indices."""
        return local.astype(np.int64) + self.offset

    def child(self, ids: np.ndarray) -> np.ndarray:
        return _bits(self.demo[ids], "age") == 0

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

    # ------------------------------------------------------------------ the day
    def run_day(self, day: int) -> None:
        self.day = day
        self.m.begin_day()
        for name in PHASES:
            t = time.perf_counter()
            getattr(self, f"phase_{name}")(day)
            self.timings[name] += time.perf_counter() - t
        self.m.end_day(day)

    def _buffers(self) -> None:
        """Scratch buffers for each behaviour's acts, sized far above any day's count."""
        c = self.c
        self._acts_buf, self._acts = [], []
        for b, beh in enumerate(c.regime.behaviours):
            kind = c.kind[b]
            fmax = c.place_factor[b].max() * c.adapt_max[kind] * max_factor(beh.schedule)
            if beh.propensity:
                q = np.minimum(1.0, beh.rate * self.top * fmax)
                mean = float((np.diff(self.bounds) * q).sum())
            else:
                mean = self.n * min(1.0, beh.rate * fmax)
            size = int(min(self.n, mean + 12.0 * np.sqrt(mean) + 64)) + 1  # acts <= n
            self._acts_buf.append(np.empty(size, dtype=np.uint64))
        self._fmax = [
            max_factor(beh.schedule) * c.place_factor[b].max() * c.adapt_max[c.kind[b]]
            for b, beh in enumerate(c.regime.behaviours)
        ]

    def phase_behave(self, day: int) -> None:
        """Sample each behaviour's acts exactly: geometric skips within buckets, then thinning."""
        c, self._acts = self.c, []
        for b, beh in enumerate(c.regime.behaviours):
            kind = c.kind[b]
            buf = self._acts_buf[b]
            k, base = sample_acts(
                self.keys[f"behave/{beh.name}"],
                day,
                self.offset,
                self.words,
                self.bounds,
                self.top,
                self.demo,
                self.flags,
                self.prov_factor[kind],
                c.place_factor[b],
                c.adapt[kind],
                beh.rate * c.behaviour_factor(b, day),
                beh.rate * self._fmax[b],
                beh.propensity,
                c.adaptation,
                buf,
                self._mark,
                self._empty,
            )
            if k > buf.size:  # 12 standard deviations above the mean: never in practice
                raise RuntimeError(f"acts of {beh.name} overflowed their buffer on day {day}")
            self._acts.append(buf[:k])
            self.m.add(f"acts_{beh.name}", k)
            self.m.add(f"baseline_acts_{beh.name}", base)

    def phase_sense(self, day: int) -> None:
        """Sources record acts where they cover the citizen; cameras sometimes misidentify."""
        c, out = self.c, []
        for b, acts in enumerate(self._acts):
            for si, p in c.observers[b]:
                if acts.size == 0:
                    continue
                src = c.regime.sources[si]
                cit = np.empty(acts.size, dtype=np.int64)
                actor = np.empty(acts.size, dtype=np.int64)
                mis = np.empty(acts.size, dtype=np.bool_)
                k = sense_acts(
                    self.keys[f"sense/{src.name}/{c.behaviours[b]}"],
                    day,
                    self.offset,
                    acts,
                    self.demo,
                    c.coverage[si],
                    c.source_rollout[si],
                    p,
                    c.false_match[si],
                    c.false_match_any[si],
                    self.pop.province_start,
                    cit,
                    actor,
                    mis,
                )
                if k == 0:
                    continue
                self.m.add(f"records_source_{src.name}", k)
                if not src.shares:
                    continue
                r = Records(cit[:k], actor[:k], b, si, mis[:k])
                if src.delay:
                    self.pending[day + src.delay].append(r)
                else:
                    out.append(r)
        self._today_records = out

    def phase_share(self, day: int) -> None:
        """Records reach the score from sharing sources, delayed ones on the day they arrive."""
        batches = self._today_records + self.pending.pop(day, [])
        batches.sort(key=lambda r: (r.behaviour, r.source))
        self._batches = batches
        for r in batches:
            self.m.add(f"records_{self.c.behaviours[r.behaviour]}", r.citizen.size)
            if r.mis.any():
                self.m.add("misattributed", int(r.mis.sum()))
                self.m.group_flow("misattributed", r.citizen[r.mis])

    def phase_score(self, day: int) -> None:
        """Apply each rule to its records, one record at a time, clamped."""
        c = self.c
        self._touched, self._last_row, self._rule_starts = [], [], []
        for r in self._batches:
            for ri in c.rules_of[r.behaviour]:
                take = r
                if c.rule_rollout[ri].max() > day:
                    urban = _bits(self.demo[r.citizen], "urban")
                    keep = day >= c.rule_rollout[ri, urban]
                    take = Records(
                        r.citizen[keep], r.actor[keep], r.behaviour, r.source, r.mis[keep]
                    )
                if take.citizen.size:
                    self._apply_rule(day, ri, take)

    def _apply_rule(self, day: int, ri: int, r: Records) -> None:
        c, m = self.c, self.m
        delta = int(c.rule_delta[ri])
        ids = r.citizen
        before = np.empty(ids.size, dtype=np.int64)
        after = np.empty(ids.size, dtype=np.int64)
        if delta:
            nt = len(c.tier_bounds)
            t0 = m.col[f"tier_{c.tiers[0]}"]
            total = apply_records(
                self.score,
                self.flags,
                ids,
                delta,
                c.score_min,
                c.score_max,
                CEILING,
                c.lifetime_ceiling,
                m.hist_cur,
                c.score_min,
                m.width,
                c.tier_bounds,
                m.cur[t0 : t0 + nt + 1],
                before,
                after,
            )
            m.cur[m.col["score_sum"]] += total
            if r.mis.any():
                for cid, d in zip(ids[r.mis].tolist(), (after - before)[r.mis].tolist()):
                    self.mis_points[cid] = self.mis_points.get(cid, 0) + d
            self._touched.append((ids, after))
        else:
            before[:] = self.score[ids]
            after[:] = before
        if self.ledger.active:
            any_mis = bool(r.mis.any())  # usually none: then two constant columns
            rows = self.ledger.add(
                "record",
                day,
                self.gid(ids),
                source=r.source,
                rule=ri,
                delta=after - before,
                before=before,
                misattributed=r.mis if any_mis else False,
                other=np.where(r.mis, self.gid(r.actor), -1) if any_mis else -1,
            )
        else:
            rows = np.full(ids.size, -1, dtype=np.int64)
        self._last_row.append((ids, rows))
        if c.rule_sanction[ri] >= 0:
            self._rule_starts.append((ids, np.full(ids.size, c.rule_sanction[ri]), rows, r.mis))
        if c.regime.rules[ri].redress is not None and delta:
            self._demand(day, ids, ("rule", ri), rows, after - before)

    def phase_tier(self, day: int) -> None:
        """Tiers of the citizens whose score fell today into a tier that may start a sanction."""
        self._tier_ids, self._tier_of = _EMPTY, _EMPTY
        c = self.c
        if not self._touched or c.lowest_trigger >= c.n_tiers:
            return
        below = c.trigger_below  # scores below this are in a tier that triggers a sanction
        low = [ids[after < below] for ids, after in self._touched]
        low = np.concatenate(low) if low else _EMPTY
        if low.size:
            self._tier_ids = np.unique(low)
            self._tier_of = c.tier_of(self.score[self._tier_ids])
            keep = self._tier_of >= c.lowest_trigger
            self._tier_ids, self._tier_of = self._tier_ids[keep], self._tier_of[keep]

    # ------------------------------------------------------------------ sanctions
    def phase_sanction(self, day: int) -> None:
        """Expiries are reviewed, accepted redress lifts, then new listings start."""
        c = self.c
        due = self.expiries.pop(day, [])
        if due:
            keys = np.unique(np.concatenate(due))
            keys = keys[np.array([self.until.get(k) == day for k in keys.tolist()], dtype=bool)]
            if keys.size:
                ids, k = keys // 8, keys % 8
                renew = np.zeros(keys.size, dtype=bool)
                for kk in np.unique(k):
                    sel = k == kk
                    rule = c.renewal[kk]
                    if rule == "always" or c.permanent[kk]:
                        renew[sel] = True
                    elif rule == "if_still_in_tier" and c.sanction_tier[kk] >= 0:
                        renew[sel] = c.tier_of(self.score[ids[sel]]) >= c.sanction_tier[kk]
                if renew.any():
                    self._schedule(day, ids[renew], k[renew])
                    self.ledger.add(
                        "sanction_renew",
                        day,
                        self.gid(ids[renew]),
                        sanction=k[renew],
                        before=self.score[ids[renew]],
                    )
                    self.m.add("sanctions_renewed", int(renew.sum()))
                    self._set_wrongful(ids[renew], k[renew])
                if (~renew).any():
                    self._end(day, ids[~renew], k[~renew])
        lifts = self.lifts.pop(day, [])
        if lifts:
            keys = np.unique(np.concatenate(lifts))
            keys = keys[np.array([k in self.until for k in keys.tolist()], dtype=bool)]
            keys = keys[~self.c.permanent[keys % 8]]  # a permanent listing is never lifted
            if keys.size:
                ids, k = keys // 8, keys % 8
                # accepted redress restores a tier-triggered citizen to the tier's threshold
                th = c.sanction_threshold[k]
                raise_to = (c.sanction_tier[k] >= 0) & (self.score[ids] < th)
                if raise_to.any():
                    rid = ids[raise_to]
                    before = self.score[rid].astype(np.int64)
                    after = th[raise_to]
                    self.score[rid] = after
                    self.m.score_change(before, after)
                    self.ledger.add(
                        "refund",
                        day,
                        self.gid(rid),
                        sanction=k[raise_to],
                        delta=after - before,
                        before=before,
                    )
                self._end(day, ids, k)
        # new listings: tier-triggered for citizens whose score changed, and rule-triggered
        starts: list[tuple] = []
        tier_k = np.flatnonzero(c.sanction_tier >= 0)
        if tier_k.size and self._tier_ids.size:
            # tiers again: an accepted redress may have lifted a score since the tier phase
            ids = self._tier_ids
            tiers = c.tier_of(self.score[ids])
            new_any = (tiers[:, None] >= c.sanction_tier[tier_k][None, :]).any(axis=1)
            cause = np.full(ids.size, -1, dtype=np.int64)
            if new_any.any() and self.ledger.active:
                cause = self._cause(ids)
            for k in tier_k:
                new = (tiers >= c.sanction_tier[k]) & ((self.sanction[ids] >> k) & 1 == 0)
                if new.any():
                    starts.append(
                        (
                            ids[new],
                            np.full(int(new.sum()), k),
                            cause[new],
                            np.zeros(int(new.sum()), dtype=bool),
                        )
                    )
        for ids, k, rows, mis in self._rule_starts:
            new = (self.sanction[ids] >> k.astype(np.uint8)) & 1 == 0
            if new.any():
                starts.append((ids[new], k[new], rows[new], mis[new]))
        if starts:
            ids = np.concatenate([s[0] for s in starts])
            k = np.concatenate([s[1] for s in starts]).astype(np.int64)
            cause = np.concatenate([s[2] for s in starts])
            mis = np.concatenate([s[3] for s in starts])
            _, first = np.unique(ids * 8 + k, return_index=True)
            self._start(day, ids[first], k[first], cause[first], mis[first])

    def _cause(self, targets: np.ndarray) -> np.ndarray:
        """Ledger id of the last record today of each (sorted, unique) target citizen."""
        out = np.full(targets.size, -1, dtype=np.int64)
        for ids, rows in self._last_row:
            hit = np.isin(ids, targets)
            if hit.any():
                out[np.searchsorted(targets, ids[hit])] = rows[hit]
        return out

    def _schedule(self, day: int, ids: np.ndarray, k: np.ndarray) -> None:
        end = day + self.c.duration[k]
        keys = ids.astype(np.int64) * 8 + k
        self.until.update(zip(keys.tolist(), end.tolist()))
        for e in np.unique(end):
            if e < self.days:
                self.expiries[int(e)].append(keys[end == e])

    def _status(self, ids: np.ndarray) -> np.ndarray:
        """[restricted, spillover_only, wrongful] of each citizen, as 0/1 columns."""
        own = self.sanction[ids] != 0
        return np.stack(
            [
                own,
                ~own & (self.spill[ids] != 0),
                own & ((self.flags[ids] & WRONGFUL) != 0),
            ],
            axis=1,
        ).astype(np.int64)

    def _set_wrongful(
        self, ids: np.ndarray, k: np.ndarray, mis_cause: np.ndarray | None = None
    ) -> None:
        """A listing is wrongful if it would not stand without misattributed records."""
        c = self.c
        th = c.sanction_threshold[k]
        mp = np.array([self.mis_points.get(i, 0) for i in ids.tolist()], dtype=np.int64)
        by_tier = (c.sanction_tier[k] >= 0) & (self.score[ids].astype(np.int64) - mp >= th)
        wrong = by_tier if mis_cause is None else by_tier | mis_cause
        before = self._status(ids)
        if mis_cause is None:  # a review: a tier listing is judged again on today's score
            self.flags[ids[(c.sanction_tier[k] >= 0) & ~wrong]] &= ~np.uint8(WRONGFUL)
        self.flags[ids[wrong]] |= WRONGFUL
        self.m.status_change(ids, before, self._status(ids))

    def _start(
        self, day: int, ids: np.ndarray, k: np.ndarray, cause: np.ndarray, mis: np.ndarray
    ) -> None:
        c = self.c
        before = self._status(ids)
        np.bitwise_or.at(self.sanction, ids, (1 << k).astype(np.uint8))  # ids may repeat
        new_ever = (self.flags[ids] & EVER) == 0
        self.m.add("ever_sanctioned", int(np.unique(ids[new_ever]).size))
        self.flags[ids] |= EVER
        perm = c.marks[k]
        if perm.any():
            pid = ids[perm]
            fresh = pid[(self.flags[pid] & PERMANENT) == 0]
            self.m.add("permanent", int(np.unique(fresh).size))
            self.flags[pid] |= PERMANENT
            capped = c.ceiling[k[perm]] < c.score_max
            self.flags[pid[capped]] |= CEILING
            cap = c.ceiling[k[perm]]
            over = self.score[pid] > cap
            if over.any():
                oid = pid[over]
                b = self.score[oid].astype(np.int64)
                a = np.minimum(b, cap[over])
                self.score[oid] = a
                self.m.score_change(b, a)
                self.ledger.add(
                    "ceiling",
                    day,
                    self.gid(oid),
                    sanction=k[perm][over],
                    delta=a - b,
                    before=b,
                )
        self.m.status_change(ids, before, self._status(ids))
        self._schedule(day, ids, k)
        rows = self.ledger.add(
            "sanction_start",
            day,
            self.gid(ids),
            sanction=k,
            before=self.score[ids],
            misattributed=mis,
            cause=cause,
        )
        self.m.add("sanctions_started", ids.size)
        self.m.per_sanction("started", k)
        self.m.sanctioned(k, +1)
        self._set_wrongful(ids, k, mis)
        self._add_restricted(ids)
        # adaptation: the citizen, and the household that saw it
        if c.adaptation:
            fam = self.members(ids)
            self._set_level(fam, np.maximum(self.level(fam), 1))
            self._set_level(ids, np.full(ids.size, 2, dtype=np.uint8))
        if c.has_spillover:
            self._spillover(day, ids)
        for kk in np.unique(k):
            red = c.regime.sanctions[kk].redress
            if red is not None:
                sel = k == kk
                self._demand(day, ids[sel], ("sanction", int(kk)), rows[sel], None)

    def _end(self, day: int, ids: np.ndarray, k: np.ndarray) -> None:
        before = self._status(ids)
        np.bitwise_and.at(self.sanction, ids, ~(1 << k).astype(np.uint8))  # ids may repeat
        for key in (ids.astype(np.int64) * 8 + k).tolist():
            self.until.pop(key, None)
        still = self.sanction[ids] != 0
        self.flags[ids[~still]] &= ~np.uint8(WRONGFUL)
        self.m.status_change(ids, before, self._status(ids))
        self.m.sanctioned(k, -1)
        self.m.add("sanctions_ended", ids.size)
        self.m.per_sanction("ended", k)
        self.ledger.add(
            "sanction_end",
            day,
            self.gid(ids),
            sanction=k,
            before=self.score[ids],
        )
        if self.c.has_spillover:
            self._spillover(day, ids)

    def _spillover(self, day: int, ids: np.ndarray) -> None:
        """Recompute which relatives' sanctions apply to each member of these households."""
        c = self.c
        fam = self.members(ids)
        if fam.size == 0:
            return
        start, _ = self.household_ranges(fam)
        # per-bit counts of sanctions held in each household, minus the member's own
        house_bits = np.zeros(fam.size, dtype=np.uint8)
        hh, inv = np.unique(start, return_inverse=True)
        for k in range(len(c.sanctions)):
            has = ((self.sanction[fam] >> k) & 1).astype(np.int64)
            total = np.bincount(inv, weights=has, minlength=hh.size)[inv]
            others = (total - has) > 0
            child = self.child(fam)
            applies = (c.spill_house[k] > 0) | (child & (c.spill_child[k] > 0))
            house_bits |= (others & applies).astype(np.uint8) << k
        before = self._status(fam)
        old = self.spill[fam]
        self.spill[fam] = house_bits
        self.m.status_change(fam, before, self._status(fam))
        began = (old == 0) & (house_bits != 0)
        ended = (old != 0) & (house_bits == 0)
        if began.any():
            self._log("spillover_start", day, fam[began], sanction=_LOWBIT[house_bits[began]])
            self._add_restricted(fam[began])
        if ended.any():
            self._log("spillover_end", day, fam[ended])

    # ------------------------------------------------------------------ attempts
    def phase_attempt(self, day: int) -> None:
        """Restricted citizens try their privileges; every denied attempt is counted."""
        c = self.c
        if not c.privileges:
            return
        rates = c.attempt_rates(day)  # [privilege, rural/urban], daily probabilities
        ids = self.restricted_ids
        if ids.size:
            ids = ids[(self.sanction[ids] | self.spill[ids]) != 0]
            self.restricted_ids = ids
        denied_total = np.zeros(len(c.privileges), dtype=np.int64)
        if ids.size:
            demo = self.demo[ids]
            urban = _bits(demo, "urban")
            child = (_bits(demo, "age") == 0).astype(np.int64)
            own = c.own_mask[self.sanction[ids]]
            mask = own | c.spill_mask[self.spill[ids], child]
            gids = self.gid(ids)
            u = np.stack(
                [uniforms(self.keys["attempt"], gids, day, code) for code in c.privilege_codes]
            )
            # [privilege, citizen]: denied to them, of an age that attempts it, and attempted
            hit = ((mask[None, :] >> c.privilege_bits[:, None]) & 1).astype(bool)
            hit &= c.who_allows[:, child]
            hit &= u < rates[:, urban]
            for p in np.flatnonzero(hit.any(axis=1)):
                name = c.privileges[p]
                who_ids = ids[hit[p]]
                denied_total[p] = who_ids.size
                self.m.add(f"denied_{name}", who_ids.size)
                by_spill = ((own[hit[p]] >> p) & 1) == 0
                self.m.add("denied_spillover", int(by_spill.sum()))
                self.m.group_flow("denied", who_ids)
                fresh = ((self.denied_ever[who_ids] >> p) & 1) == 0
                self.m.add(f"denied_citizens_{name}", int(fresh.sum()))
                self.denied_ever[who_ids] |= np.uint8(1 << p)
                if self.ledger.active:
                    score = self.score[who_ids]
                    self.ledger.add(
                        "denied",
                        day,
                        self.gid(who_ids),
                        privilege=int(p),
                        before=score,
                    )
        # attempts by everyone else succeed; their number is drawn in aggregate
        restricted = np.bincount(_bits(self.demo[ids], "urban"), minlength=2) if ids.size else 0
        allowed = np.maximum(self.m.eligible_matrix - restricted, 0)
        key = self.keys["attempt/allowed"]
        for p, name in enumerate(c.privileges):
            code = c.privilege_codes[p]
            n_ok = sum(
                binomial(key, int(allowed[p, u]), float(rates[p, u]), code, self.shard, day, u)
                for u in (0, 1)
            )
            self.m.add(f"attempts_{name}", n_ok + int(denied_total[p]))
        for lane, t, rate in c.green:
            n = int(self.m.tier_at_or_above(t))
            self.m.add("benefits", binomial(self.keys["green"], n, rate, lane, self.shard, day))

    # ------------------------------------------------------------------ redress
    def _demand(
        self, day: int, ids: np.ndarray, target: tuple, rows: np.ndarray, delta: np.ndarray | None
    ) -> None:
        """Make a redress demand; compliers are scheduled for the day they comply."""
        c = self.c
        red = (
            c.regime.sanctions[target[1]].redress
            if target[0] == "sanction"
            else c.regime.rules[target[1]].redress
        )
        code = c.redress_codes[target]
        self.m.add("redress_demands", ids.size)
        self._log(
            "redress_demand",
            day,
            ids,
            sanction=target[1] if target[0] == "sanction" else -1,
            rule=target[1] if target[0] == "rule" else -1,
            cause=rows,
        )
        gids = self.gid(ids)
        comply = uniforms(self.keys["redress/comply"], gids, day, code) < red.comply
        if not comply.any():
            return
        # days until the citizen complies: geometric (at least 1), by inversion of a keyed
        # uniform
        q = min(1.0, 1.0 / red.respond_days)
        u = uniforms(self.keys["redress/wait"], gids[comply], day, code)
        if q >= 1.0:
            wait = np.ones(u.size, dtype=np.int64)
        else:
            wait = 1 + np.floor(np.log1p(-u) / np.log1p(-q)).astype(np.int64)
        due = day + wait
        order = np.argsort(due, kind="stable")  # by day due, in the order of the demands
        due, ids, rows = due[order], ids[comply][order], rows[comply][order]
        d = None if delta is None else np.asarray(delta)[comply][order]
        days, first = np.unique(due, return_index=True)
        last = np.append(first[1:], due.size)
        for w, a, b in zip(days.tolist(), first.tolist(), last.tolist()):
            if w < self.days:
                part = None if d is None else d[a:b]
                self.redress_due[w].append((target, ids[a:b], rows[a:b], part))

    def phase_redress(self, day: int) -> None:
        """Compliance arrives; it is accepted or judged insincere (opaque), then takes effect."""
        c = self.c
        batches: dict[tuple, list] = {}
        for target, ids, rows, delta in self.redress_due.pop(day, []):
            batches.setdefault(target, []).append((ids, rows, delta))
        for target, parts in sorted(batches.items()):
            ids = np.concatenate([p[0] for p in parts])
            rows = np.concatenate([p[1] for p in parts])
            delta = None if parts[0][2] is None else np.concatenate([p[2] for p in parts])
            kind, x = target
            if kind == "sanction":
                live = np.array([(i * 8 + x) in self.until for i in ids.tolist()], dtype=bool)
                ids, rows = ids[live], rows[live]
            if ids.size == 0:
                continue
            red = c.regime.sanctions[x].redress if kind == "sanction" else c.regime.rules[x].redress
            self.m.add("redress_complied", ids.size)
            sk, rk = (x, -1) if kind == "sanction" else (-1, x)
            self._log("redress_complied", day, ids, sanction=sk, rule=rk, cause=rows)
            code = c.redress_codes[target]
            ok = uniforms(self.keys["redress/accept"], self.gid(ids), day, code) < red.accept
            if (~ok).any():
                self._log(
                    "redress_rejected",
                    day,
                    ids[~ok],
                    sanction=sk,
                    rule=rk,
                    cause=rows[~ok],
                )
            if not ok.any():
                continue
            self.m.add("redress_accepted", int(ok.sum()))
            self._log("redress_accepted", day, ids[ok], sanction=sk, rule=rk, cause=rows[ok])
            if kind == "sanction":
                when = day + red.delay
                keys = ids[ok].astype(np.int64) * 8 + x
                if red.delay == 0:
                    self.lifts[day + 1].append(keys)
                elif when < self.days:
                    self.lifts[when].append(keys)
            else:
                rid, d = ids[ok], delta[ok]
                b = self.score[rid].astype(np.int64)
                cap = np.where(self.flags[rid] & CEILING, c.lifetime_ceiling, c.score_max)
                a = np.clip(b - d, c.score_min, np.minimum(cap, c.score_max))
                self.score[rid] = a
                self.m.score_change(b, a)
                self.ledger.add(
                    "refund",
                    day,
                    self.gid(rid),
                    rule=x,
                    delta=a - b,
                    before=b,
                    cause=rows[ok],
                )

    def phase_adapt(self, day: int) -> None:
        """General deterrence: the share of one's province under sanction lowers rates."""
        c = self.c
        if not c.adaptation or not c.province_sensitivity.any():
            return
        share = self.m.province_restricted_share()
        self.prov_factor = np.exp(-np.outer(c.province_sensitivity, share))

    # ------------------------------------------------------------------ output
    def _mis_points_of(self, idx: np.ndarray) -> np.ndarray:
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

    def propensity(self) -> np.ndarray:
        """Every citizen's propensity multiplier (float16), read back from the words."""
        out = np.empty(self.n, dtype=np.uint16)
        unpack_propensity(self.words, out)
        return out.view(np.float16)

    def citizens_tables(self, fraction: float = 1.0, rows: int | None = None):
        """The final state of (a sample of) the shard's citizens, as Arrow tables of at most
        ``rows`` citizens each (written one after another, so memory stays small)."""
        from credsim.ledger import citizen_hash

        rows = rows or CITIZEN_ROWS
        propensity = self.propensity()
        if fraction >= 1.0:
            for start in range(0, self.n, rows):
                idx = np.arange(start, min(start + rows, self.n))
                yield self.citizens_table(idx, propensity)
            return
        idx = np.flatnonzero(citizen_hash(self.gid(np.arange(self.n))) < fraction)
        for start in range(0, max(idx.size, 1), rows):
            yield self.citizens_table(idx[start : start + rows], propensity)

    def citizens_table(self, idx: np.ndarray, propensity: np.ndarray):
        """The final state of citizens ``idx`` (sorted local indices) as an Arrow table;
        ``propensity``: every citizen's (``self.propensity()``)."""
        import pyarrow as pa

        from credsim.regime.schema import AGE_BANDS, SEX

        c = self.c
        head = (self.flags[idx] & HEAD) != 0
        if idx.size and idx[-1] - idx[0] == idx.size - 1:  # a run of citizens: carry the head
            house = np.where(head, idx, -1)
            house[0] = self.household_ranges(idx[:1])[0][0]
            house = np.maximum.accumulate(house)
        else:  # the head: walk back to it
            house = self.household_ranges(idx)[0]

        def cat(codes: np.ndarray, names) -> pa.Array:
            return pa.DictionaryArray.from_arrays(
                pa.array(codes.astype(np.int8)), pa.array(list(names))
            )

        demo = self.demo[idx]
        score = self.score[idx]
        cols = {
            "citizen": self.gid(idx),
            "household": self.gid(house),
            "head": head,
            "sex": cat(_bits(demo, "sex"), SEX),
            "age_band": cat(_bits(demo, "age"), AGE_BANDS),
            "region": cat(_bits(demo, "urban"), ("rural", "urban")),
            "province": cat(_bits(demo, "province"), c.provinces),
            "group": cat(_bits(demo, "group"), c.groups),
            "propensity": propensity[idx].astype(np.float32),
            "score": score,
            "tier": cat(c.tier_of(score), c.tiers),
            "misattributed_points": self._mis_points_of(idx),
        }
        for k, name in enumerate(c.sanctions):
            cols[f"sanction_{name}"] = ((self.sanction[idx] >> k) & 1).astype(bool)
        cols["restricted"] = self.sanction[idx] != 0
        cols["spillover"] = self.spill[idx] != 0
        cols["wrongful"] = cols["restricted"] & ((self.flags[idx] & WRONGFUL) != 0)
        cols["ever_sanctioned"] = (self.flags[idx] & EVER) != 0
        cols["permanent"] = (self.flags[idx] & PERMANENT) != 0
        cols["adaptation"] = cat(self.level(idx), ("none", "household", "own"))
        for p, name in enumerate(c.privileges):
            cols[f"denied_{name}"] = ((self.denied_ever[idx] >> p) & 1).astype(bool)
        return pa.table(cols)

    def core_bytes(self) -> int:
        """Bytes of the dense state the day loop keeps (16 per citizen)."""
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
