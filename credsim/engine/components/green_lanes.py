"""Green lanes: rewards for the well-behaved. Citizens in a tier at or above a lane's tier
use it at its yearly rate; their uses are drawn in aggregate (keyed by lane, shard, day). A lane
serves only where and from when it has rolled out (its ``rollout``)."""

from __future__ import annotations

import numpy as np

from credsim.engine.loop import Component, Figure, Headline


class GreenLanes(Component):
    """Counts green-lane uses by citizens in a rewarded tier."""

    name = "green_lanes"
    config = "green_lanes (schema.GreenLane): tier, uses_per_year, rollout"
    phases = ("attempt",)
    figures = (
        Figure(
            "benefits",
            "green-lane uses",
            "uses",
            "flow",
            "uses of green lanes by citizens in a rewarded tier today",
            (14, 1),
        ),
    )

    headlines = (
        Headline(
            "benefits",
            "Green-lane benefits used",
            "whole_run",
            "uses",
            "Green-lane benefits used by top-tier citizens.",
            (12, 0),
            how="sum",
            of="benefits",
        ),
    )

    @classmethod
    def keys(cls, c) -> list[str]:
        return ["green"]

    def active(self) -> bool:
        # counted only in regimes with privileges, as the attempt phase has always done
        return bool(self.c.green) and bool(self.c.privileges)

    def attempt(self, day: int) -> None:
        from credsim.engine.keyed import binomial

        key, shard = self.shard.keys["green"], self.shard.shard
        for (lane, t, rate), (rural, urban) in zip(self.c.green, self.c.green_rollout.tolist()):
            if day >= max(rural, urban):
                n = int(self.m.tier_at_or_above(t))
                self.m.add("benefits", binomial(key, n, rate, lane, shard, day))
            elif day >= min(rural, urban):
                # rolled out in one region only: count its citizens in the rewarded tiers
                u = int(day >= urban)
                s = self.s
                where = s.bits(np.arange(s.n), "urban") == u
                n = int(np.count_nonzero(self.c.tier_of(s.score[where]) <= t))
                self.m.add("benefits", binomial(key, n, rate, lane, shard, day, u))
