"""Sanctions and renewal: listings start from a tier or a rule, run for their duration, are
renewed or end, and lift early when redress is accepted. A listing is wrongful if it would
not stand without misattributed records."""

from __future__ import annotations

import numpy as np

from credsim.engine.context import Delistings, Listings
from credsim.engine.layout import WRONGFUL
from credsim.engine.loop import Component, Figure, Headline, LedgerKind


def _flow(name: str, label: str, explain: str, order: tuple[int, int], per=None) -> Figure:
    return Figure(name, label, "listings", "flow", explain, order, per, "sanctions")


class Sanctions(Component):
    """Reviews expiries, lifts listings, starts new ones, and judges them wrongful."""

    name = "sanctions"
    config = "sanctions (schema.Sanction): tier, duration, renewal, privileges"
    columns = ("sanction", "flags: WRONGFUL")
    phases = ("sanction",)
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
        ),
        Figure(
            "wrongful",
            "wrongfully restricted",
            "citizens",
            "level",
            "restricted citizens whose listing would not stand without misattributed records",
            (3, 2),
            None,
            "restricted",
        ),
        _flow("sanctions_started", "listings started", "listings that started today", (14, 5)),
        _flow("sanctions_renewed", "listings renewed", "listings renewed on expiry", (14, 6)),
        _flow("sanctions_ended", "listings ended", "listings that ended today", (14, 7)),
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
            "wrongful",
            "Wrongfully restricted",
            "last_day",
            "citizens",
            "Restricted citizens whose listing would not stand without records put on them "
            "by mistake (misattributed).",
            (6, 0),
            of="wrongful",
        ),
    )
    ledger = (
        LedgerKind("sanction_start", "{day}: put on {sanction} at score {after}{cause}{mis_cause}"),
        LedgerKind("sanction_renew", "{day}: {sanction} renewed at review (score {after})"),
        LedgerKind("sanction_end", "{day}: {sanction} ended (score {after})"),
    )

    def active(self) -> bool:
        return bool(self.c.sanctions)

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
            elif rule == "if_still_in_tier" and c.sanction_tier[kk] >= 0:
                renew[sel] = c.tier_of(s.score[ids[sel]]) >= c.sanction_tier[kk]
        if renew.any():
            self._schedule(day, ids[renew], k[renew])
            s.ledger.add(
                "sanction_renew",
                day,
                s.gid(ids[renew]),
                sanction=k[renew],
                before=s.score[ids[renew]],
            )
            self.m.add("sanctions_renewed", int(renew.sum()))
            self._set_wrongful(ids[renew], k[renew])
        if (~renew).any():
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
                    starts.append((ids[new], np.full(n, k), cause[new], np.zeros(n, dtype=bool)))
        for lst in ctx.rule_listings:
            new = ~s.has(lst.citizen, lst.sanction)
            if new.any():
                starts.append((lst.citizen[new], lst.sanction[new], lst.cause[new], lst.mis[new]))
        if starts:
            ids = np.concatenate([x[0] for x in starts])
            k = np.concatenate([x[1] for x in starts]).astype(np.int64)
            cause = np.concatenate([x[2] for x in starts])
            mis = np.concatenate([x[3] for x in starts])
            _, first = np.unique(s.key(ids, k), return_index=True)
            self._start(day, Listings(ids[first], k[first], cause[first], mis[first]))

    def _cause(self, targets: np.ndarray) -> np.ndarray:
        """Ledger id of the last record today of each (sorted, unique) target citizen."""
        out = np.full(targets.size, -1, dtype=np.int64)
        for ids, rows in self.ctx.last_row:
            hit = np.isin(ids, targets)
            if hit.any():
                out[np.searchsorted(targets, ids[hit])] = rows[hit]
        return out

    def _schedule(self, day: int, ids: np.ndarray, k: np.ndarray) -> None:
        s = self.s
        end = day + self.c.duration[k]
        keys = s.key(ids, k)
        s.until.update(zip(keys.tolist(), end.tolist()))
        for e in np.unique(end):
            if e < s.days:
                s.expiries[int(e)].append(keys[end == e])

    def _set_wrongful(
        self, ids: np.ndarray, k: np.ndarray, mis_cause: np.ndarray | None = None
    ) -> None:
        """A listing is wrongful if it would not stand without misattributed records."""
        c, s = self.c, self.s
        th = c.sanction_threshold[k]
        mp = np.array([s.mis_points.get(i, 0) for i in ids.tolist()], dtype=np.int64)
        by_tier = (c.sanction_tier[k] >= 0) & (s.score[ids].astype(np.int64) - mp >= th)
        wrong = by_tier if mis_cause is None else by_tier | mis_cause
        before = s.status(ids)
        if mis_cause is None:  # a review: a tier listing is judged again on today's score
            s.flags[ids[(c.sanction_tier[k] >= 0) & ~wrong]] &= ~np.uint8(WRONGFUL)
        s.flags[ids[wrong]] |= WRONGFUL
        self.m.status_change(ids, before, s.status(ids))

    def _start(self, day: int, lst: Listings) -> None:
        s, m = self.s, self.m
        ids, k = lst.citizen, lst.sanction
        before = s.status(ids)
        np.bitwise_or.at(s.sanction, ids, s.bit(k))  # ids may repeat
        self.shard.loop.emit("listing", day, lst)
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
        self._set_wrongful(ids, k, lst.mis)
        s.add_restricted(ids)
        self.shard.loop.emit("listed", day, lst)

    def _end(self, day: int, ids: np.ndarray, k: np.ndarray) -> None:
        s, m = self.s, self.m
        before = s.status(ids)
        np.bitwise_and.at(s.sanction, ids, ~s.bit(k))  # ids may repeat
        for key in s.key(ids, k).tolist():
            s.until.pop(key, None)
        still = s.sanction[ids] != 0
        s.flags[ids[~still]] &= ~np.uint8(WRONGFUL)
        m.status_change(ids, before, s.status(ids))
        m.sanctioned(k, -1)
        m.add("sanctions_ended", ids.size)
        m.per_sanction("ended", k)
        s.ledger.add("sanction_end", day, s.gid(ids), sanction=k, before=s.score[ids])
        self.shard.loop.emit("delisted", day, Delistings(ids, k))
