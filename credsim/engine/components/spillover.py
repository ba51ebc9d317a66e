"""Spillover: a member's sanction denies privileges to the rest of the household, or to its
children; recomputed for a household whenever a member's listing starts or ends."""

from __future__ import annotations

import numpy as np

from credsim.engine.layout import lowest_bit
from credsim.engine.loop import Component, Figure, Headline, LedgerKind
from credsim.metrics import GROUP_LEVELS


class Spillover(Component):
    """Recomputes which relatives' sanctions restrict each member of a household."""

    name = "spillover"
    config = "sanctions.spillover (schema.Sanction)"
    columns = ("spill",)
    events = ("listed", "delisted", "judged")
    figures = (
        Figure(
            "spillover_only",
            "restricted only through family",
            "citizens",
            "level",
            "citizens with no sanction of their own whom a relative's sanction restricts",
            (3, 1),
            None,
            ("restricted", "wrongful"),
            "#7048e8",
        ),
    )
    headlines = (
        Headline(
            "spillover_only",
            "Restricted only through family",
            "last_day",
            "citizens",
            "Citizens restricted only because a family member was sanctioned.",
            (7, 0),
            of="spillover_only",
        ),
    )
    ledger = (
        LedgerKind("spillover_start", "{day}: restricted because a family member is on {sanction}"),
        LedgerKind("spillover_end", "{day}: no longer restricted through family"),
    )

    def active(self) -> bool:
        return self.c.has_spillover

    def on_listed(self, day: int, lst) -> None:
        self._recompute(day, lst.citizen)

    def on_delisted(self, day: int, lst) -> None:
        self._recompute(day, lst.citizen)

    def on_judged(self, day: int, j) -> None:
        self._recompute(day, j.citizen)

    def recompute(self, day: int, ids: np.ndarray) -> None:
        """Recompute spillover in the households of ``ids`` (after births, deaths and
        birthdays: credsim.engine.components.life)."""
        self._recompute(day, ids)

    def _recompute(self, day: int, ids: np.ndarray) -> None:
        """Recompute which relatives' sanctions apply to each member of these households."""
        c, s = self.c, self.s
        fam = s.members(ids)
        if fam.size == 0:
            return
        start, _ = s.household_ranges(fam)
        # per-bit counts of sanctions held in each household, minus the member's own
        dt = s.spill.dtype
        house_bits = np.zeros(fam.size, dtype=dt)
        wrong_bits = np.zeros(fam.size, dtype=dt)  # bits that only wrongful listings cause
        hh, inv = np.unique(start, return_inverse=True)
        child = s.spill_child(fam)
        alive = ~s.gone(fam)  # nobody not yet born or dead is restricted
        wrong = s.mask_of(s.wrong, fam, dt)
        for k in range(len(c.sanctions)):
            has = s.has(fam, k).astype(np.int64)
            right = has * (((wrong >> dt.type(k)) & 1) == 0)
            total = np.bincount(inv, weights=has, minlength=hh.size)[inv]
            rightful = np.bincount(inv, weights=right, minlength=hh.size)[inv]
            others = (total - has) > 0
            only_wrong = others & ((rightful - right) == 0)
            applies = (c.spill_house[k] > 0) | (child & (c.spill_child[k] > 0))
            applies &= alive
            house_bits |= (others & applies).astype(dt) << dt.type(k)
            wrong_bits |= (only_wrong & applies).astype(dt) << dt.type(k)
        before = s.status(fam)
        old = s.spill[fam]
        s.spill[fam] = house_bits
        if s.spill_wrong:
            for i in fam[wrong_bits == 0].tolist():
                s.spill_wrong.pop(i, None)
        hit = wrong_bits != 0
        s.spill_wrong.update(zip(fam[hit].tolist(), wrong_bits[hit].tolist()))
        after = s.status(fam)
        self.m.status_change(fam, before, after)
        harmed = fam[after[:, GROUP_LEVELS.index("wrongful_spillover")] != 0]
        fresh = [i for i in harmed.tolist() if i not in s.family_harmed]
        if fresh:
            s.family_harmed.update(fresh)
            self.m.add("ever_wrongful_spillover", len(fresh))
        began = (old == 0) & (house_bits != 0)
        ended = (old != 0) & (house_bits == 0)
        if began.any():
            s.log("spillover_start", day, fam[began], sanction=lowest_bit(house_bits[began]))
            s.add_restricted(fam[began])
        if ended.any():
            s.log("spillover_end", day, fam[ended])
