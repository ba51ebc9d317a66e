"""Adaptation: a listed citizen and the household that saw it lower their infraction and
posting rates (and raise purchases); the share of one's province under sanction deters
everybody there (general deterrence)."""

from __future__ import annotations

import numpy as np

from credsim.engine.loop import Component, Figure, Series


class Adaptation(Component):
    """Raises the adaptation level of listed citizens and their households; deters provinces."""

    name = "adaptation"
    config = "adaptation (schema.Adaptation), regime.transparency"
    columns = ("flags: adaptation level",)
    phases = ("adapt",)
    events = ("listed",)
    figures = (
        Figure(
            "adapted_household",
            "adapted (a relative was listed)",
            "citizens",
            "level",
            "citizens who changed behaviour after a member of their household was listed",
            (3, 5),
            None,
            "adaptation",
        ),
        Figure(
            "adapted_own",
            "adapted (listed themselves)",
            "citizens",
            "level",
            "citizens who changed behaviour after being listed themselves",
            (3, 6),
            None,
            "adaptation",
        ),
    )
    series = (
        Series("posts_vs_baseline", "critical posts / without adaptation", "#3451c6"),
        Series("no_effect", "no effect", "#adb5bd"),
    )

    def active(self) -> bool:
        return self.c.adaptation

    def on_listed(self, day: int, lst) -> None:
        """The citizen adapts, and the household that saw it."""
        s, ids = self.s, lst.citizen
        fam = s.members(ids)
        s.set_level(fam, np.maximum(s.level(fam), 1))
        s.set_level(ids, np.full(ids.size, 2, dtype=np.uint8))

    def adapt(self, day: int) -> None:
        """General deterrence: the share of one's province under sanction lowers rates."""
        c = self.c
        if not c.province_sensitivity.any():
            return
        share = self.m.province_restricted_share()
        self.s.prov_factor = np.exp(-np.outer(c.province_sensitivity, share))
