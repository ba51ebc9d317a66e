"""Scoring rules: each rule moves the score of the citizens its records name, one record at
a time, clamped to the score's range and to any lifetime ceiling."""

from __future__ import annotations

import numpy as np

from credsim.engine.context import Listings, Scored
from credsim.engine.layout import CEILING
from credsim.engine.loop import Component, Figure, Headline, LedgerKind, Series


class Score(Component):
    """Applies each rule to the records that reach it."""

    name = "score"
    config = "score (schema.Score), rules (schema.Rule)"
    columns = ("score",)
    phases = ("score",)
    figures = (
        Figure("citizens", "citizens", "citizens", "level", "citizens simulated", (0, 0)),
        Figure(
            "score_sum",
            "sum of scores",
            "points",
            "level",
            "the sum of every citizen's score (the mean is this over citizens)",
            (0, 1),
            None,
            "score",
        ),
    )
    series = (
        Series("score_mean", "average score", "#3451c6"),
        Series("score_median", "median score", "#0b3d91"),
        Series("score_band", "score band", "#3451c6"),
    )
    headlines = (
        Headline(
            "citizens",
            "Citizens",
            "last_day",
            "citizens",
            "Synthetic citizens in the run.",
            (0, 0),
            of="citizens",
        ),
        Headline("days", "Days", "whole_run", "days", "Days simulated.", (1, 0), how="days"),
        Headline(
            "score_mean",
            "Average score",
            "last_day",
            "points",
            "The average score of all citizens.",
            (2, 0),
            of="score_mean",
            digits=2,
        ),
    )
    ledger = (
        LedgerKind(
            "record",
            "{day}: {source} record{lookalike}, {rule}, {delta:+d} -> {after} [record {id}]",
        ),
    )

    def score(self, day: int) -> None:
        """Apply each rule to its records, one record at a time, clamped."""
        c, ctx = self.c, self.ctx
        for i, r in enumerate(ctx.batches):
            for ri in c.rules_of[r.behaviour]:
                take = ctx.gated.get((i, ri), r)
                if take.citizen.size:
                    self._apply(day, ri, take)

    def _apply(self, day: int, ri: int, r) -> None:

        c, m, s, ctx = self.c, self.m, self.s, self.ctx
        delta = int(c.rule_delta[ri])
        ids = r.citizen
        before = np.empty(ids.size, dtype=np.int64)
        after = np.empty(ids.size, dtype=np.int64)
        if delta:
            apply_points(c, m, s, ids, delta, before, after)
            if r.mis.any():
                for cid, d in zip(ids[r.mis].tolist(), (after - before)[r.mis].tolist()):
                    s.mis_points[cid] = s.mis_points.get(cid, 0) + d
            ctx.touched.append((ids, after))
        else:
            before[:] = s.score[ids]
            after[:] = before
        if s.ledger.active:
            any_mis = bool(r.mis.any())  # usually none: then two constant columns
            rows = s.ledger.add(
                "record",
                day,
                s.gid(ids),
                source=r.source,
                rule=ri,
                delta=after - before,
                before=before,
                misattributed=r.mis if any_mis else False,
                other=np.where(r.mis, s.gid(r.actor), -1) if any_mis else -1,
            )
        else:
            rows = np.full(ids.size, -1, dtype=np.int64)
        ctx.last_row.append((ids, rows))
        if c.rule_sanction[ri] >= 0:
            k = np.full(ids.size, c.rule_sanction[ri])
            ctx.rule_listings.append(Listings(ids, k, rows, r.mis, actor=r.actor))
        if delta:
            sc = Scored(ids, ri, rows, after - before, r.mis, r.actor)
            self.shard.loop.emit("scored", day, sc)


def apply_points(c, m, s, ids: np.ndarray, delta: int, before: np.ndarray, after: np.ndarray):
    """Move the scores of ``ids`` by ``delta`` points, one after another, clamped to the
    score's range and to the lifetime ceiling of marked citizens; the day's score histogram,
    tier counts and score sum follow. ``before`` and ``after`` receive each citizen's scores."""
    from credsim.engine.kernels import apply_records

    nt = len(c.tier_bounds)
    t0 = m.col[f"tier_{c.tiers[0]}"]
    total = apply_records(
        s.score,
        s.flags,
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
