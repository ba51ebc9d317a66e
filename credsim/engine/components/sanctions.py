"""Sanctions and renewal: listings start from a tier or a rule where and once the sanction has
rolled out, run for their term, are renewed or end, and lift early when redress is accepted.

A term is ``duration`` days, or drawn uniformly from ``duration_min`` to ``duration`` (keyed by
citizen, sanction and start day: "for up to a year"). At term, ``if_new_record`` renews only a
listing that a new qualifying record reached during the term: a deduction that left the score
in the sanction's tier, or another record of a rule that starts it. A citizen marked for life
by a sanction with ``relist_below`` is listed again on any deduction that leaves the score
below that bar. Whether a listing is wrongful is judged by
``credsim.engine.components.harm`` on the events this component emits."""

from __future__ import annotations

import numpy as np

from credsim.engine.context import Delistings, Listings
from credsim.engine.keyed import uniforms
from credsim.engine.layout import PERMANENT
from credsim.engine.loop import Component, Figure, Headline, LedgerKind


def _flow(name: str, label: str, explain: str, order: tuple[int, int], per=None) -> Figure:
    return Figure(name, label, "listings", "flow", explain, order, per, "sanctions")


class Sanctions(Component):
    """Reviews expiries, lifts listings, starts new ones, and judges them wrongful."""

    name = "sanctions"
    config = (
        "sanctions (schema.Sanction): tier, duration, duration_min, renewal, relist_below, "
        "rollout, privileges"
    )
    columns = ("sanction",)
    phases = ("sanction",)
    events = ("scored",)
    figures = (
        Figure(
            "sanctioned_{item}",
            "under the sanction",
            "citizens",
            "level",
            "citizens listed under this sanction at the end of the day",
            (2, 0),
            "sanctions",
            "sanctions",
        ),
        Figure(
            "restricted",
            "restricted (own sanction)",
            "citizens",
            "level",
            "citizens under at least one sanction of their own at the end of the day",
            (3, 0),
            None,
            "restricted",
            "#e8590c",
        ),
        _flow("sanctions_started", "listings started", "listings that started today", (14, 5)),
        _flow("sanctions_renewed", "listings renewed", "listings renewed on expiry", (14, 6)),
        _flow("sanctions_ended", "listings ended", "listings that ended today", (14, 7)),
        _flow(
            "sanctions_expired",
            "listings ended at term",
            "listings that reached the end of their term today and were not renewed",
            (14, 10),
        ),
        _flow(
            "started_{item}", "started", "listings of this sanction started", (15, 0), "sanctions"
        ),
        _flow("ended_{item}", "ended", "listings of this sanction ended", (15, 1), "sanctions"),
    )
    headlines = (
        Headline(
            "restricted",
            "Restricted now",
            "last_day",
            "citizens",
            "Citizens under at least one sanction of their own.",
            (3, 0),
            of="restricted",
        ),
        Headline(
            "restricted_pct",
            "Restricted now (%)",
            "last_day",
            "% of citizens",
            "Citizens under a sanction of their own, as a percentage of all citizens.",
            (4, 0),
            how="pct",
            of="restricted",
            digits=4,
        ),
        Headline(
            "sanctions_expired",
            "Listings ended at their term",
            "whole_run",
            "listings",
            "Listings that reached the end of their term and were not renewed (not those "
            "lifted early by redress or amnesty).",
            (5, 1),
            how="sum",
            of="sanctions_expired",
        ),
        Headline(
            "sanctions_renewed",
            "Listings renewed at their term",
            "whole_run",
            "listings",
            "Listings that reached the end of their term and were renewed for another term.",
            (5, 2),
            how="sum",
            of="sanctions_renewed",
        ),
    )
    ledger = (
        LedgerKind("sanction_start", "{day}: put on {sanction} at score {after}{cause}{rests}"),
        LedgerKind("sanction_renew", "{day}: {sanction} renewed at review (score {after}){rests}"),
        LedgerKind("sanction_end", "{day}: {sanction} ended (score {after})"),
    )

    @classmethod
    def keys(cls, c) -> list[str]:
        return ["sanctions/term"]

    def __init__(self, shard):
        super().__init__(shard)
        self.fresh: set[int] = set()  # listings a new qualifying record reached this term
        self.relist: list[Listings] = []  # today's deductions of citizens marked for life
        c = self.c
        self.watch_fresh = [k for k, r in enumerate(c.renewal) if r == "if_new_record"]
        self.watch_relist = np.flatnonzero(c.relist_below > 0)

    def active(self) -> bool:
        return bool(self.c.sanctions)

    def on_scored(self, day: int, sc) -> None:
        """Deductions: they renew tier listings under ``if_new_record`` and relist citizens
        marked for life below their sanction's ``relist_below`` bar."""
        c, s = self.c, self.s
        down = sc.delta < 0
        if not down.any() or not (self.watch_fresh or self.watch_relist.size):
            return
        ids = sc.citizen[down]
        for k in self.watch_fresh:
            if c.sanction_tier[k] >= 0:
                hit = s.has(ids, k) & (c.tier_of(s.score[ids]) >= c.sanction_tier[k])
                self.fresh.update(s.key(ids[hit], k).tolist())
        for k in self.watch_relist.tolist():
            hit = ((s.flags[ids] & PERMANENT) != 0) & (s.score[ids] < c.relist_below[k])
            hit &= ~s.has(ids, k)
            if hit.any():
                self.relist.append(
                    Listings(
                        ids[hit], np.full(int(hit.sum()), k), sc.rows[down][hit], sc.mis[down][hit]
                    )
                )

    def sanction(self, day: int) -> None:
        """Expiries are reviewed, accepted redress lifts, then new listings start."""
        self._expire(day)
        self._lift(day)
        self._list(day)

    def _expire(self, day: int) -> None:
        c, s = self.c, self.s
        due = s.expiries.pop(day, [])
        if not due:
            return
        keys = np.unique(np.concatenate(due))
        keys = keys[np.array([s.until.get(k) == day for k in keys.tolist()], dtype=bool)]
        if not keys.size:
            return
        ids, k = s.split(keys)
        renew = np.zeros(keys.size, dtype=bool)
        for kk in np.unique(k):
            sel = k == kk
            rule = c.renewal[kk]
            if rule == "always" or c.permanent[kk]:
                renew[sel] = True
            elif rule == "if_new_record":
                renew[sel] = [key in self.fresh for key in keys[sel].tolist()]
            elif rule == "if_still_in_tier" and c.sanction_tier[kk] >= 0:
                renew[sel] = c.tier_of(s.score[ids[sel]]) >= c.sanction_tier[kk]
        if self.fresh:
            self.fresh.difference_update(keys.tolist())  # a new term starts afresh
        if renew.any():
            self._schedule(day, ids[renew], k[renew])
            n = int(renew.sum())
            lst = Listings(ids[renew], k[renew], np.full(n, -1), np.zeros(n, dtype=bool))
            self.shard.loop.emit("renewed", day, lst)
            s.ledger.add(
                "sanction_renew",
                day,
                s.gid(lst.citizen),
                sanction=lst.sanction,
                before=s.score[lst.citizen],
                misattributed=lst.mis,
            )
            self.m.add("sanctions_renewed", n)
        if (~renew).any():
            self.m.add("sanctions_expired", int((~renew).sum()))
            self._end(day, ids[~renew], k[~renew])

    def _lift(self, day: int) -> None:
        c, s = self.c, self.s
        lifts = s.lifts.pop(day, [])
        if not lifts:
            return
        keys = np.unique(np.concatenate(lifts))
        keys = keys[np.array([k in s.until for k in keys.tolist()], dtype=bool)]
        keys = keys[~c.permanent[s.split(keys)[1]]]  # a permanent listing is never lifted
        if not keys.size:
            return
        ids, k = s.split(keys)
        # accepted redress restores a tier-triggered citizen to the tier's threshold
        th = c.sanction_threshold[k]
        raise_to = (c.sanction_tier[k] >= 0) & (s.score[ids] < th)
        if raise_to.any():
            rid = ids[raise_to]
            before = s.score[rid].astype(np.int64)
            after = th[raise_to]
            s.score[rid] = after
            self.m.score_change(before, after)
            s.ledger.add(
                "refund",
                day,
                s.gid(rid),
                sanction=k[raise_to],
                delta=after - before,
                before=before,
            )
            self.shard.loop.emit("refunded", day, rid)
        self._end(day, ids, k)

    def _list(self, day: int) -> None:
        """New listings: tier-triggered for citizens whose score changed, and rule-triggered."""
        c, s, ctx = self.c, self.s, self.ctx
        starts: list[tuple] = []
        tier_k = np.flatnonzero(c.sanction_tier >= 0)
        if tier_k.size and ctx.tier_ids.size:
            # tiers again: an accepted redress may have lifted a score since the tier phase
            ids = ctx.tier_ids
            tiers = c.tier_of(s.score[ids])
            new_any = (tiers[:, None] >= c.sanction_tier[tier_k][None, :]).any(axis=1)
            cause = np.full(ids.size, -1, dtype=np.int64)
            if new_any.any() and s.ledger.active:
                cause = self._cause(ids)
            for k in tier_k:
                new = (tiers >= c.sanction_tier[k]) & ~s.has(ids, k)
                if new.any():
                    n = int(new.sum())
                    no = np.zeros(n, dtype=bool)
                    starts.append((ids[new], np.full(n, k), cause[new], no, no))
        for lst in self.relist:  # still below the bar once the day's records are in
            keep = s.score[lst.citizen] < c.relist_below[lst.sanction]
            if keep.any():
                no = np.zeros(int(keep.sum()), dtype=bool)
                starts.append(
                    (lst.citizen[keep], lst.sanction[keep], lst.cause[keep], lst.mis[keep], no)
                )
        self.relist = []
        for lst in ctx.rule_listings:
            new = ~s.has(lst.citizen, lst.sanction)
            if self.watch_fresh and (~new).any():
                self.fresh.update(s.key(lst.citizen[~new], lst.sanction[~new]).tolist())
            if new.any():
                yes = np.ones(int(new.sum()), dtype=bool)
                starts.append(
                    (lst.citizen[new], lst.sanction[new], lst.cause[new], lst.mis[new], yes)
                )
        if starts:
            ids, k, cause, mis, by_rule = (np.concatenate(x) for x in zip(*starts))
            k = k.astype(np.int64)
            _, first = np.unique(s.key(ids, k), return_index=True)
            ids, k, cause, mis, by_rule = (
                ids[first],
                k[first],
                cause[first],
                mis[first],
                by_rule[first],
            )
            rolled = self._rolled_out(day, ids, k)
            if rolled.any():
                lst = Listings(ids[rolled], k[rolled], cause[rolled], mis[rolled])
                lst.by_rule = by_rule[rolled]
                self._start(day, lst)

    def _rolled_out(self, day: int, ids: np.ndarray, k: np.ndarray) -> np.ndarray:
        """Whether each sanction has rolled out where its citizen lives."""
        ro = self.c.sanction_rollout
        if not ro.size or int(ro.max()) <= day:
            return np.ones(ids.size, dtype=bool)
        return day >= ro[k, self.s.bits(ids, "urban")]

    def _cause(self, targets: np.ndarray) -> np.ndarray:
        """Ledger id of the last record today of each (sorted, unique) target citizen."""
        out = np.full(targets.size, -1, dtype=np.int64)
        for ids, rows in self.ctx.last_row:
            hit = np.isin(ids, targets)
            if hit.any():
                out[np.searchsorted(targets, ids[hit])] = rows[hit]
        return out

    def _schedule(self, day: int, ids: np.ndarray, k: np.ndarray) -> None:
        s, c = self.s, self.c
        end = day + c.duration[k]
        keys = s.key(ids, k)
        span = c.duration[k] - c.duration_min[k]
        drawn = span > 0
        if drawn.any():  # "for up to a year": a term from duration_min to duration days
            codes = np.array(c.sanction_codes, dtype=np.int64)[k[drawn]]
            u = np.empty(int(drawn.sum()))
            for code in np.unique(codes).tolist():
                at = codes == code
                u[at] = uniforms(
                    self.shard.keys["sanctions/term"], s.gid(ids[drawn][at]), day, code
                )
            end[drawn] = day + c.duration_min[k[drawn]] + (u * (span[drawn] + 1)).astype(np.int64)
        s.until.update(zip(keys.tolist(), end.tolist()))
        for e in np.unique(end):
            if e < s.days:
                s.expiries[int(e)].append(keys[end == e])

    def _start(self, day: int, lst: Listings) -> None:
        s, m = self.s, self.m
        ids, k = lst.citizen, lst.sanction
        before = s.status(ids)
        lst.marked = (s.flags[ids] & PERMANENT) != 0  # before this listing marks them
        np.bitwise_or.at(s.sanction, ids, s.bit(k))  # ids may repeat
        self.shard.loop.emit("listing", day, lst)  # marks, and whether it is wrongful
        m.status_change(ids, before, s.status(ids))
        self._schedule(day, ids, k)
        lst.rows = s.ledger.add(
            "sanction_start",
            day,
            s.gid(ids),
            sanction=k,
            before=s.score[ids],
            misattributed=lst.mis,
            cause=lst.cause,
        )
        m.add("sanctions_started", ids.size)
        m.per_sanction("started", k)
        m.sanctioned(k, +1)
        s.add_restricted(ids)
        self.shard.loop.emit("listed", day, lst)

    def end(self, day: int, ids: np.ndarray, k: np.ndarray) -> None:
        """End listings (sanction ``k`` of citizens ``ids``) today, whatever their kind: a
        citizen's death ends every listing (credsim.engine.components.life)."""
        self._end(day, ids, k)

    def _end(self, day: int, ids: np.ndarray, k: np.ndarray) -> None:
        s, m = self.s, self.m
        before = s.status(ids)
        np.bitwise_and.at(s.sanction, ids, ~s.bit(k))  # ids may repeat
        for key in s.key(ids, k).tolist():
            s.until.pop(key, None)
            self.fresh.discard(key)
        m.status_change(ids, before, s.status(ids))
        m.sanctioned(k, -1)
        m.add("sanctions_ended", ids.size)
        m.per_sanction("ended", k)
        s.ledger.add("sanction_end", day, s.gid(ids), sanction=k, before=s.score[ids])
        self.shard.loop.emit("delisted", day, Delistings(ids, k))
