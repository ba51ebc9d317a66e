"""Redress: a listing or a rule's record demands removal and apology; citizens comply after
a while (keyed by citizen and listing), and compliance is accepted or judged insincere
(opaque). Accepted redress lifts the listing or refunds the rule's points. A demand is made
only where and from when its ``rollout`` has begun."""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from credsim.engine.layout import CEILING
from credsim.engine.loop import Component, Figure, LedgerKind


def _flow(name: str, label: str, explain: str, pos: int, color: str) -> Figure:
    return Figure(name, label, "citizens", "flow", explain, (14, pos), None, "redress", color)


class Redress(Component):
    """Makes redress demands, and accepts or rejects compliance when it arrives."""

    name = "redress"
    config = (
        "sanctions.redress, rules.redress (schema.Redress): comply, respond_days, accept, rollout"
    )
    phases = ("redress",)
    events = ("scored", "listed")
    figures = (
        _flow("redress_demands", "demanded", "redress demands made today", 2, "#1f77b4"),
        _flow("redress_complied", "complied", "demands complied with today", 3, "#ff7f0e"),
        _flow("redress_accepted", "accepted", "compliance accepted today", 4, "#2b8a3e"),
    )
    ledger = (
        LedgerKind("redress_demand", "{day}: redress ({target}): demand made"),
        LedgerKind("redress_complied", "{day}: redress ({target}): complied"),
        LedgerKind("redress_rejected", "{day}: redress ({target}): judged insincere, rejected"),
        LedgerKind("redress_accepted", "{day}: redress ({target}): accepted"),
        LedgerKind("refund", "{day}: accepted redress restored points, {delta:+d} -> {after}"),
    )

    @classmethod
    def keys(cls, c) -> list[str]:
        return ["redress/comply", "redress/wait", "redress/accept"]

    def __init__(self, shard):
        super().__init__(shard)
        self.due: dict[int, list[tuple]] = defaultdict(list)

    def active(self) -> bool:
        r = self.c.regime
        return any(x.redress is not None for x in list(r.sanctions) + list(r.rules))

    def _config(self, target: tuple):
        kind, x = target
        r = self.c.regime
        return r.sanctions[x].redress if kind == "sanction" else r.rules[x].redress

    def on_scored(self, day: int, sc) -> None:
        if self.c.regime.rules[sc.rule].redress is not None:
            # the points to give back, and whether a misattributed record moved them
            points = np.stack([sc.delta, sc.mis.astype(np.int64)], axis=1)
            self._demand(day, sc.citizen, ("rule", sc.rule), sc.rows, points)

    def on_listed(self, day: int, lst) -> None:
        k = lst.sanction
        for kk in np.unique(k):
            if self.c.regime.sanctions[kk].redress is not None:
                sel = k == kk
                self._demand(day, lst.citizen[sel], ("sanction", int(kk)), lst.rows[sel], None)

    def _demand(
        self, day: int, ids: np.ndarray, target: tuple, rows: np.ndarray, delta: np.ndarray | None
    ) -> None:
        """Make a redress demand; compliers are scheduled for the day they comply."""
        from credsim.engine.keyed import uniforms

        s, keys = self.s, self.shard.keys
        red = self._config(target)
        code = self.c.redress_codes[target]
        first = self.c.redress_rollout[target]  # [rural, urban]
        if day < first.max():  # not yet demanded where some of these citizens live
            keep = day >= first[s.bits(ids, "urban")]
            ids, rows = ids[keep], rows[keep]
            delta = None if delta is None else np.asarray(delta)[keep]
            if ids.size == 0:
                return
        self.m.add("redress_demands", ids.size)
        s.log(
            "redress_demand",
            day,
            ids,
            sanction=target[1] if target[0] == "sanction" else -1,
            rule=target[1] if target[0] == "rule" else -1,
            cause=rows,
        )
        gids = s.gid(ids)
        comply = uniforms(keys["redress/comply"], gids, day, code) < red.comply
        if not comply.any():
            return
        # days until the citizen complies: geometric (at least 1), by inversion of a keyed
        # uniform
        q = min(1.0, 1.0 / red.respond_days)
        u = uniforms(keys["redress/wait"], gids[comply], day, code)
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
            if w < s.days:
                part = None if d is None else d[a:b]
                self.due[w].append((target, ids[a:b], rows[a:b], part))

    def redress(self, day: int) -> None:
        """Compliance arrives; it is accepted or judged insincere (opaque), then takes effect."""
        from credsim.engine.keyed import uniforms

        c, s = self.c, self.s
        batches: dict[tuple, list] = {}
        for target, ids, rows, delta in self.due.pop(day, []):
            batches.setdefault(target, []).append((ids, rows, delta))
        for target, parts in sorted(batches.items()):
            ids = np.concatenate([p[0] for p in parts])
            rows = np.concatenate([p[1] for p in parts])
            delta = None if parts[0][2] is None else np.concatenate([p[2] for p in parts])
            if s.gone_on:  # the dead comply with nothing (credsim.engine.components.life)
                alive = ~s.gone(ids)
                ids, rows = ids[alive], rows[alive]
                delta = None if delta is None else delta[alive]
            kind, x = target
            if kind == "sanction":
                live = np.array([k in s.until for k in s.key(ids, x).tolist()], dtype=bool)
                ids, rows = ids[live], rows[live]
            if ids.size == 0:
                continue
            red = self._config(target)
            self.m.add("redress_complied", ids.size)
            sk, rk = (x, -1) if kind == "sanction" else (-1, x)
            s.log("redress_complied", day, ids, sanction=sk, rule=rk, cause=rows)
            code = c.redress_codes[target]
            ok = uniforms(self.shard.keys["redress/accept"], s.gid(ids), day, code) < red.accept
            if (~ok).any():
                s.log("redress_rejected", day, ids[~ok], sanction=sk, rule=rk, cause=rows[~ok])
            if not ok.any():
                continue
            self.m.add("redress_accepted", int(ok.sum()))
            s.log("redress_accepted", day, ids[ok], sanction=sk, rule=rk, cause=rows[ok])
            if kind == "sanction":
                when = day + red.delay
                keys = s.key(ids[ok], x)
                if red.delay == 0:
                    s.lifts[day + 1].append(keys)
                elif when < s.days:
                    s.lifts[when].append(keys)
            else:
                points = delta[ok]
                self._refund(day, x, ids[ok], points[:, 0], points[:, 1] != 0, rows[ok])

    def _refund(
        self, day: int, rule: int, rid: np.ndarray, d: np.ndarray, mis: np.ndarray, rows
    ) -> None:
        """Give back a rule's points; those of misattributed records leave ``mis_points``."""
        c, s = self.c, self.s
        b = s.score[rid].astype(np.int64)
        cap = np.where(s.flags[rid] & CEILING, c.lifetime_ceiling, c.score_max)
        a = np.clip(b - d, c.score_min, np.minimum(cap, c.score_max))
        s.score[rid] = a
        self.m.score_change(b, a)
        for cid, back in zip(rid[mis].tolist(), (a - b)[mis].tolist()):
            left = s.mis_points.get(cid, 0) + back
            if left:
                s.mis_points[cid] = left
            else:
                s.mis_points.pop(cid, None)
        s.ledger.add("refund", day, s.gid(rid), rule=rule, delta=a - b, before=b, cause=rows)
        self.shard.loop.emit("refunded", day, rid)
