"""Tiers: the score puts a citizen in a tier; the tier phase finds the citizens whose score
fell today into a tier that may start a sanction."""

from __future__ import annotations

import numpy as np

from credsim.engine.loop import Component, Figure


class Tiers(Component):
    """Finds the citizens whose score fell into a tier that starts a sanction."""

    name = "tiers"
    config = "tiers (schema.Tier)"
    phases = ("tier",)
    figures = (
        Figure(
            "tier_{item}",
            "citizens in the tier",
            "citizens",
            "level",
            "citizens whose score is in this tier at the end of the day",
            (1, 0),
            "tiers",
            "tiers",
        ),
    )

    def tier(self, day: int) -> None:
        c, ctx = self.c, self.ctx
        if not ctx.touched or c.lowest_trigger >= c.n_tiers:
            return
        below = c.trigger_below  # scores below this are in a tier that triggers a sanction
        low = np.concatenate([ids[after < below] for ids, after in ctx.touched])
        if low.size:
            ids = np.unique(low)
            tier = c.tier_of(self.s.score[ids])
            keep = tier >= c.lowest_trigger
            ctx.tier_ids, ctx.tier_of = ids[keep], tier[keep]
