"""Lifetime marks: "once untrustworthy, always restricted". A listing marks the citizen as
ever sanctioned; a permanent sanction, or one with a ceiling, marks them for life and caps
their score ever after (the cap itself is applied by the scoring kernel)."""

from __future__ import annotations

import numpy as np

from credsim.engine.layout import CEILING, EVER, PERMANENT
from credsim.engine.loop import Component, Figure, Headline, LedgerKind


class Marks(Component):
    """Marks a listed citizen as ever sanctioned, and for life where the sanction says so."""

    name = "marks"
    config = "sanctions.permanent, sanctions.ceiling (schema.Sanction)"
    columns = ("flags: EVER, PERMANENT, CEILING",)
    events = ("listing",)
    figures = (
        Figure(
            "ever_sanctioned",
            "ever sanctioned",
            "citizens",
            "level",
            "citizens listed at least once since day 0",
            (3, 3),
        ),
        Figure(
            "permanent",
            "marked for life",
            "citizens",
            "level",
            "citizens under a permanent mark (a permanent sanction or a lifetime ceiling)",
            (3, 4),
        ),
    )
    headlines = (
        Headline(
            "ever_sanctioned",
            "Ever sanctioned",
            "whole_run",
            "citizens",
            "Citizens sanctioned at least once during the run.",
            (5, 0),
            of="ever_sanctioned",
        ),
    )
    ledger = (LedgerKind("ceiling", "{day}: lifetime ceiling applied, {delta:+d} -> {after}"),)

    def on_listing(self, day: int, lst) -> None:
        c, s, m = self.c, self.s, self.m
        ids, k = lst.citizen, lst.sanction
        new_ever = (s.flags[ids] & EVER) == 0
        m.add("ever_sanctioned", int(np.unique(ids[new_ever]).size))
        s.flags[ids] |= EVER
        perm = c.marks[k]
        if not perm.any():
            return
        pid = ids[perm]
        fresh = pid[(s.flags[pid] & PERMANENT) == 0]
        m.add("permanent", int(np.unique(fresh).size))
        s.flags[pid] |= PERMANENT
        capped = c.ceiling[k[perm]] < c.score_max
        s.flags[pid[capped]] |= CEILING
        cap = c.ceiling[k[perm]]
        over = s.score[pid] > cap
        if over.any():
            oid = pid[over]
            b = s.score[oid].astype(np.int64)
            a = np.minimum(b, cap[over])
            s.score[oid] = a
            m.score_change(b, a)
            s.ledger.add("ceiling", day, s.gid(oid), sanction=k[perm][over], delta=a - b, before=b)
