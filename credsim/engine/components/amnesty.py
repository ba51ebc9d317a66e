"""Amnesty: a credit-repair campaign lifts, on its day, every listing of its sanctions (a
permanent listing excepted), as accepted redress would: the sanction phase ends them and
restores a tier-listed citizen's score to the tier's threshold."""

from __future__ import annotations

import numpy as np

from credsim.engine.loop import Component, Figure, LedgerKind


class Amnesty(Component):
    """Lifts the listings of each amnesty's sanctions on its day."""

    name = "amnesty"
    config = "amnesties (schema.Amnesty): name, day, sanctions"
    phases = ("tier",)  # before the sanction phase, which lifts them the same day
    figures = (
        Figure(
            "amnestied_{item}",
            "listings lifted by the amnesty",
            "listings",
            "flow",
            "listings this amnesty lifted today",
            (16, 0),
            "amnesties",
            "sanctions",
        ),
    )
    ledger = (LedgerKind("amnesty", "{day}: {sanction} lifted by an amnesty"),)

    def active(self) -> bool:
        return bool(self.c.regime.amnesties)

    def tier(self, day: int) -> None:
        c, s = self.c, self.s
        for a in self.c.regime.amnesties:
            if a.day != day:
                continue
            names = a.sanctions or c.sanctions
            lifted = [c.sanctions.index(x) for x in names if not c.permanent[c.sanctions.index(x)]]
            keys = np.fromiter(s.until, dtype=np.int64, count=len(s.until))
            keys = np.sort(keys[np.isin(s.split(keys)[1], lifted)])
            self.m.add(f"amnestied_{a.name}", keys.size)
            if keys.size:
                ids, k = s.split(keys)
                s.log("amnesty", day, ids, sanction=k)
                s.lifts[day].append(keys)
