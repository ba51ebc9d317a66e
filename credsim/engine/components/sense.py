"""Sensing and misattribution: sources record acts where they cover the citizen, and
cameras sometimes put a record on the wrong citizen (keyed by citizen, day, behaviour)."""

from __future__ import annotations

import numpy as np

from credsim.engine.context import Records
from credsim.engine.loop import Component, Figure


class Sense(Component):
    """Turns acts into sources' records, some put on the wrong citizen."""

    name = "sense"
    config = "sources (schema.Source): observes, coverage, false_match, delay, shares"
    phases = ("sense",)
    figures = (
        Figure(
            "records_source_{item}",
            "records",
            "records",
            "flow",
            "records this source made today, shared or not",
            (11, 0),
            "sources",
            "records",
        ),
    )

    @classmethod
    def keys(cls, c) -> list[str]:
        return [
            f"sense/{c.sources[si]}/{b}"
            for b in c.behaviours
            for si, _ in c.observers[c.behaviours.index(b)]
        ]

    def sense(self, day: int) -> None:
        """Sources record acts where they cover the citizen; cameras sometimes misidentify."""
        from credsim.engine.kernels import sense_acts

        c, s, ctx = self.c, self.s, self.ctx
        for b, acts in enumerate(ctx.acts):
            for si, p in c.observers[b]:
                if acts.size == 0:
                    continue
                src = c.regime.sources[si]
                cit = np.empty(acts.size, dtype=np.int64)
                actor = np.empty(acts.size, dtype=np.int64)
                mis = np.empty(acts.size, dtype=np.bool_)
                k = sense_acts(
                    self.shard.keys[f"sense/{src.name}/{c.behaviours[b]}"],
                    day,
                    s.offset,
                    acts,
                    s.demo,
                    c.coverage[si],
                    c.source_rollout[si],
                    p,
                    c.false_match[si],
                    c.false_match_any[si],
                    s.pop.province_start,
                    c.layout_array,
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
                    ctx.pending[day + src.delay].append(r)
                else:
                    ctx.records.append(r)
