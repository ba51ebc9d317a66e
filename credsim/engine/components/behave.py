"""Behaviour sampling: each day's acts, exactly, by geometric skips within propensity
buckets and keyed thinning (a higher rate keeps every act of a lower one)."""

from __future__ import annotations

import numpy as np

from credsim.engine.loop import Component, Figure, Headline


class Behave(Component):
    """Samples each day's acts of each behaviour."""

    name = "behave"
    config = "behaviours (schema.Behaviour)"
    columns = ("words", "demo")
    phases = ("behave",)
    figures = (
        Figure(
            "acts_{item}",
            "acts",
            "acts",
            "flow",
            "acts of this behaviour citizens committed today",
            (10, 0),
            "behaviours",
            "acts",
        ),
        Figure(
            "baseline_acts_{item}",
            "acts without adaptation",
            "acts",
            "flow",
            "acts of this behaviour citizens would have committed today had nobody adapted",
            (10, 1),
            "behaviours",
            "acts",
        ),
    )

    headlines = (
        Headline(
            "posts_vs_baseline",
            "Critical posts vs. normal",
            "whole_run",
            "ratio",
            "Critical posts written, relative to how many would have been written without "
            "adaptation (1 = no chilling; 0.8 = 20% fewer).",
            (10, 0),
            how="ratio",
            when="speech",
            digits=4,
        ),
        Headline(
            "infractions_vs_baseline",
            "Infractions vs. normal",
            "whole_run",
            "ratio",
            "Infractions committed, relative to how many without adaptation (below 1 = deterred).",
            (11, 0),
            how="ratio",
            when="infraction",
            digits=4,
        ),
    )

    @classmethod
    def keys(cls, c) -> list[str]:
        return [f"behave/{b}" for b in c.behaviours]

    def __init__(self, shard):
        from credsim.engine.compiled import max_factor
        from credsim.engine.kernels import empty_chances

        super().__init__(shard)
        s, c = self.s, self.c
        n = s.n
        # scratch of sample_acts, all zero between calls: one bit a citizen, in whole words
        self._mark = np.zeros(8 * ((n + 63) // 64), dtype=np.uint8)
        self._empty = empty_chances(np.append(np.diff(s.bounds), n))
        # scratch buffers for each behaviour's acts, sized far above any day's count
        self._buf, self._fmax = [], []
        for b, beh in enumerate(c.regime.behaviours):
            fmax = c.place_factor[b].max() * c.adapt_max[c.kind[b]] * max_factor(beh.schedule)
            if beh.propensity:
                q = np.minimum(1.0, beh.rate * s.top * fmax)
                mean = float((np.diff(s.bounds) * q).sum())
            else:
                mean = n * min(1.0, beh.rate * fmax)
            size = int(min(n, mean + 12.0 * np.sqrt(mean) + 64)) + 1  # acts <= n
            self._buf.append(np.empty(size, dtype=np.uint64))
            self._fmax.append(
                max_factor(beh.schedule) * c.place_factor[b].max() * c.adapt_max[c.kind[b]]
            )

    def behave(self, day: int) -> None:
        """Sample each behaviour's acts exactly: geometric skips within buckets, then thinning."""
        from credsim.engine.kernels import sample_acts

        c, s, keys = self.c, self.s, self.shard.keys
        for b, beh in enumerate(c.regime.behaviours):
            kind = c.kind[b]
            buf = self._buf[b]
            k, base = sample_acts(
                keys[f"behave/{beh.name}"],
                day,
                s.offset,
                s.words,
                s.bounds,
                s.top,
                s.demo,
                s.flags,
                s.prov_factor[kind],
                c.place_factor[b],
                c.adapt[kind],
                beh.rate * c.behaviour_factor(b, day),
                beh.rate * self._fmax[b],
                beh.propensity,
                c.adaptation,
                c.layout_array,
                buf,
                self._mark,
                self._empty,
                s.gone_on,
            )
            if k > buf.size:  # 12 standard deviations above the mean: never in practice
                raise RuntimeError(f"acts of {beh.name} overflowed their buffer on day {day}")
            self.ctx.acts.append(buf[:k])
            self.m.add(f"acts_{beh.name}", k)
            self.m.add(f"baseline_acts_{beh.name}", base)
