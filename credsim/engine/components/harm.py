"""Harm: whether each listing is wrongful, who is restricted through a relative's wrongful
listing, and who escaped a listing because their own records were put on others.

A listing is wrongful when, without the misattributed records on that citizen, it would not
have started or would not have been renewed. The score without camera errors is
``score - mis_points + escape_points`` (``State``): without the misattributed records on the
citizen, and with the citizen's own records that were put on lookalikes (in the world
without errors those would have been theirs). A tier's listing stands if that score is in
the tier; a rule's listing stands if a record of the rule that was not misattributed started
it. A listing is judged when it starts and when it is renewed on review, and again whenever
a record of that citizen arrives, one of their records is put on a lookalike, or points are
refunded: a wrongful listing becomes rightful once the citizen's own records alone would
hold it. Between reviews a rightful listing stays rightful: it started, or was renewed, on
the citizen's own records. Every change is a ledger row (``judged``, ``misattributed`` its
new state).

A citizen escaped when they were never listed while their own records, put on lookalikes,
would have listed them: their score without camera errors reached a listing tier, or a
misattributed record of a listing rule was theirs.
"""

from __future__ import annotations

import numpy as np

from credsim.engine.context import Judged
from credsim.engine.layout import EVER, EVER_WRONGFUL, PERMANENT
from credsim.engine.loop import Component, Figure, Headline, LedgerKind


def _level(name: str, label: str, explain: str, pos: int, color: str | None, chart=("wrongful",)):
    return Figure(name, label, "citizens", "level", explain, (3, 5 + pos), None, chart, color)


class Harm(Component):
    """The Harm component (see the module's docstring)."""

    name = "harm"
    config = "sanctions (schema.Sanction): tier, renewal; rules.sanction; sources.false_match"
    columns = ("flags: EVER_WRONGFUL", "wrong", "spill_wrong", "escape_points", "would_list")
    phases = ("sanction",)
    events = ("scored", "listing", "renewed", "refunded", "delisted")
    figures = (
        _level(
            "wrongful",
            "wrongfully restricted",
            "restricted citizens every one of whose own listings is wrongful (they would be "
            "free of their own listings without misattributed records), at the end of the day",
            -3,
            "#c92a2a",
            ("restricted", "wrongful"),
        ),
        Figure(
            "wrongful_listings",
            "wrongful listings",
            "listings",
            "level",
            "listings that would not have started, or not been renewed, without the "
            "misattributed records on their citizen, at the end of the day",
            (3, 5),
            None,
            None,
            "#862e9c",
        ),
        _level(
            "ever_wrongful",
            "ever wrongfully listed",
            "citizens under a listing judged wrongful at least once since day 0",
            1,
            "#f03e3e",
        ),
        _level(
            "wrongful_spillover",
            "restricted only through a relative's wrongful listing",
            "citizens with no sanction of their own whom only relatives' wrongful listings "
            "restrict, at the end of the day",
            2,
            "#ae3ec9",
        ),
        _level(
            "ever_wrongful_spillover",
            "ever restricted only through a relative's wrongful listing",
            "citizens restricted only through relatives' wrongful listings at least once "
            "since day 0",
            3,
            None,
            None,
        ),
        _level(
            "escaped",
            "escaped their own listing",
            "citizens never listed whose own records, put on lookalikes by misattribution, "
            "would have listed them (since day 0)",
            4,
            "#1098ad",
        ),
        Figure(
            "listings_judged_wrongful",
            "listings judged wrongful",
            "listings",
            "flow",
            "listings that became wrongful today on review (renewed on misattributed records)",
            (14, 8),
        ),
        Figure(
            "listings_judged_rightful",
            "listings judged rightful",
            "listings",
            "flow",
            "wrongful listings that became rightful today: the citizen's own records alone "
            "would now hold them",
            (14, 9),
        ),
    )
    headlines = (
        Headline(
            "wrongful",
            "Wrongfully restricted now",
            "last_day",
            "citizens",
            "Restricted citizens every one of whose listings would not stand without records "
            "put on them by mistake (misattributed), on the last day.",
            (6, 0),
            of="wrongful",
        ),
        Headline(
            "wrongful_listings",
            "Wrongful listings now",
            "last_day",
            "listings",
            "Listings that would not have started, or not been renewed, without misattributed "
            "records, on the last day.",
            (6, 1),
            of="wrongful_listings",
        ),
        Headline(
            "ever_wrongful",
            "Ever wrongfully listed",
            "whole_run",
            "citizens",
            "Citizens under a wrongful listing at least once during the run.",
            (6, 2),
            of="ever_wrongful",
        ),
        Headline(
            "wrongful_spillover",
            "Restricted via a relative's wrongful listing now",
            "last_day",
            "citizens",
            "Family members restricted only because a relative's listing, itself wrongful, "
            "spills over to them, on the last day.",
            (6, 3),
            of="wrongful_spillover",
        ),
        Headline(
            "ever_wrongful_spillover",
            "Ever restricted via a relative's wrongful listing",
            "whole_run",
            "citizens",
            "Family members restricted only through a relative's wrongful listing at least "
            "once during the run.",
            (6, 4),
            of="ever_wrongful_spillover",
        ),
        Headline(
            "escaped",
            "Escaped their own listing",
            "whole_run",
            "citizens",
            "Citizens never listed whose own records, put on lookalikes by mistake, would "
            "have listed them.",
            (6, 5),
            of="escaped",
        ),
    )
    ledger = (LedgerKind("judged", "{day}: {sanction} judged {judged}{cause}"),)

    def __init__(self, shard):
        super().__init__(shard)
        self._keys = np.empty(0, dtype=np.int64)  # sorted keys of State.escape_points

    def active(self) -> bool:
        return bool(self.c.sanctions)

    # --- the score without errors -----------------------------------------------------
    def _cf_score(self, ids: np.ndarray) -> np.ndarray:
        """The score without camera errors: without the misattributed records on these
        citizens, and with their own records that were put on lookalikes."""
        s = self.s
        out = s.score[ids].astype(np.int64) - s.mask_of(s.mis_points, ids, np.int64)
        out += s.mask_of(s.escape_points, ids, np.int64)
        return np.clip(out, self.c.score_min, self.c.score_max)

    def _tier_holds(
        self, ids: np.ndarray, k: np.ndarray, marked: np.ndarray | None = None
    ) -> np.ndarray:
        """Whether the score without camera errors keeps each (citizen, sanction) in the
        sanction's tier, or, for a citizen marked for life, below the sanction's relisting
        bar (False for a sanction without either)."""
        c = self.c
        tier = c.sanction_tier[k]
        cf = self._cf_score(ids)
        holds = (tier >= 0) & (c.tier_of(cf) >= tier)
        if marked is None:
            marked = (self.s.flags[ids] & PERMANENT) != 0
        bar = c.relist_below[k]
        return holds | (marked & (bar > 0) & (cf < bar))

    def _wrong_bits(self, ids: np.ndarray, k: np.ndarray) -> np.ndarray:
        w = self.s.mask_of(self.s.wrong, ids, self.s.sanction.dtype)
        return ((w >> k.astype(w.dtype)) & 1).astype(bool)

    # --- judging ----------------------------------------------------------------------
    def _set(
        self,
        day: int,
        ids: np.ndarray,
        k: np.ndarray,
        wrongful: np.ndarray,
        cause: np.ndarray | None = None,
        start: bool = False,
        bracket: bool = True,
    ) -> None:
        """Record the judgement of listings (ids, k); changes of a listing already on are
        ledger rows and ``judged`` events (starts are in their own ledger row)."""
        s, m = self.s, self.m
        old = np.zeros(ids.size, dtype=bool) if start else self._wrong_bits(ids, k)
        changed = old != wrongful
        if not changed.any():
            return
        ids, k, wrongful = ids[changed], k[changed], wrongful[changed]
        before = s.status(ids) if bracket else None
        for i, kk, w in zip(ids.tolist(), k.tolist(), wrongful.tolist()):
            v = s.wrong.get(i, 0)
            v = v | (1 << kk) if w else v & ~(1 << kk)
            if v:
                s.wrong[i] = v
            else:
                s.wrong.pop(i, None)
        s.flags[ids[wrongful]] |= EVER_WRONGFUL
        m.add("wrongful_listings", int(wrongful.sum()) - int((~wrongful).sum()))
        if bracket:
            m.status_change(ids, before, s.status(ids))
        if start:
            return
        m.add("listings_judged_wrongful", int(wrongful.sum()))
        m.add("listings_judged_rightful", int((~wrongful).sum()))
        s.log(
            "judged",
            day,
            ids,
            sanction=k,
            misattributed=wrongful,
            cause=-1 if cause is None else cause[changed],
        )
        self.shard.loop.emit("judged", day, Judged(ids, k, wrongful))

    def _rejudge(self, day: int, ids: np.ndarray, cause: np.ndarray | None = None) -> None:
        """Wrongful listings of these citizens that their own records alone now hold become
        rightful."""
        s = self.s
        if not s.wrong or ids.size == 0:
            return
        listed = s.sanction[ids] != 0
        if not listed.any():
            return
        ids, cause = ids[listed], None if cause is None else cause[listed]
        w = s.mask_of(s.wrong, ids, s.sanction.dtype)
        hit = (w & s.sanction[ids]) != 0
        if not hit.any():
            return
        ids, w = ids[hit], w[hit]
        cause = None if cause is None else cause[hit]
        for k in range(len(self.c.sanctions)):
            on = ((w >> w.dtype.type(k)) & 1).astype(bool)
            if not on.any() or self.c.sanction_tier[k] < 0:
                continue
            kk = np.full(int(on.sum()), k)
            holds = self._tier_holds(ids[on], kk)
            if holds.any():
                self._set(
                    day,
                    ids[on][holds],
                    kk[holds],
                    np.zeros(int(holds.sum()), dtype=bool),
                    None if cause is None else cause[on][holds],
                )

    def on_listing(self, day: int, lst) -> None:
        """A listing starts: it is wrongful unless the citizen's own records hold it. Runs
        inside the sanction component's count of the citizens' status."""
        ids, k = lst.citizen, lst.sanction
        by_rule = lst.by_rule if lst.by_rule is not None else np.zeros(ids.size, dtype=bool)
        stands = self._tier_holds(ids, k, lst.marked) | (by_rule & ~lst.mis)
        lst.mis = ~stands
        self._set(day, ids, k, ~stands, start=True, bracket=False)

    def on_renewed(self, day: int, lst) -> None:
        """A renewal on review is judged again where the review looks at the score; a renewal
        that is automatic keeps the listing's judgement."""
        c = self.c
        ids, k = lst.citizen, lst.sanction
        old = self._wrong_bits(ids, k)
        review = np.array(
            [c.renewal[kk] == "if_still_in_tier" and not c.permanent[kk] for kk in k.tolist()],
            dtype=bool,
        ) & (c.sanction_tier[k] >= 0)
        new = np.where(review, ~self._tier_holds(ids, k), old)
        lst.mis = new
        self._set(day, ids, k, new)

    def on_scored(self, day: int, sc) -> None:
        """A record arrived: listings it makes rightful, and whose own records it was."""
        s = self.s
        if s.wrong:
            self._rejudge(day, sc.citizen, sc.rows)
        if sc.actor is not None and sc.mis.any():
            self._credit(day, sc.rule, sc.actor[sc.mis])
        if s.escape_points:  # true records move the score without errors of those who escape
            keys = self._escape_keys()
            at = np.minimum(np.searchsorted(keys, sc.citizen), keys.size - 1)
            keep = keys[at] == sc.citizen
            if keep.any():
                self._escape(day, sc.citizen[keep])

    def _credit(self, day: int, rule: int, actors: np.ndarray) -> None:
        """Records of ``rule`` put on lookalikes count for those who acted, where the rule
        applies to them (its rollout where the actor lives)."""
        c, s = self.c, self.s
        ro = c.rule_rollout[rule] if c.rule_rollout.size else None
        if ro is not None and int(ro.max()) > day:
            actors = actors[day >= ro[s.bits(actors, "urban")]]
        if not actors.size:
            return
        d = int(c.rule_delta[rule])
        for a in actors.tolist():
            s.escape_points[a] = s.escape_points.get(a, 0) + d
        self._escape(day, actors)
        self._rejudge(day, np.unique(actors))  # their score without errors moved

    def _escape_keys(self) -> np.ndarray:
        """The citizens with points on others, sorted (rebuilt only when one is added)."""
        d = self.s.escape_points
        if self._keys.size != len(d):
            self._keys = np.sort(np.fromiter(d.keys(), dtype=np.int64, count=len(d)))
        return self._keys

    def on_refunded(self, day: int, ids: np.ndarray) -> None:
        self._rejudge(day, np.unique(ids))

    def on_delisted(self, day: int, lst) -> None:
        """An ended listing is no longer counted (its citizen's status is already counted)."""
        s = self.s
        if not s.wrong:
            return
        was = self._wrong_bits(lst.citizen, lst.sanction)
        if not was.any():
            return
        for i, kk in zip(lst.citizen[was].tolist(), lst.sanction[was].tolist()):
            v = s.wrong.get(i, 0) & ~(1 << kk)
            if v:
                s.wrong[i] = v
            else:
                s.wrong.pop(i, None)
        self.m.add("wrongful_listings", -int(was.sum()))

    def sanction(self, day: int) -> None:
        """A rule's true record holds a wrongful listing of that rule's sanction; a rule's
        misattributed record would have listed the citizen who acted."""
        s = self.s
        for rule, actors in self.ctx.withheld:  # held back where they landed, not for the actor
            self._credit(day, rule, actors)
        for lst in self.ctx.rule_listings:
            true = ~lst.mis
            if true.any() and s.wrong:
                ids, k = lst.citizen[true], lst.sanction[true]
                on = s.has(ids, k) & self._wrong_bits(ids, k)
                if on.any():
                    self._set(
                        day,
                        ids[on],
                        k[on],
                        np.zeros(int(on.sum()), dtype=bool),
                        lst.cause[true][on],
                    )
            if lst.actor is not None and lst.mis.any():
                self._would_list(lst.actor[lst.mis])

    def _escape(self, day: int, ids: np.ndarray) -> None:
        """Citizens whose score without errors reaches a listing tier where and when that
        sanction has rolled out would have been listed."""
        c = self.c
        ks = np.flatnonzero(c.sanction_tier >= 0)
        if not ks.size:
            return
        ids = np.unique(ids)
        tier = c.tier_of(self._cf_score(ids))
        low = np.zeros(ids.size, dtype=bool)
        ro = c.sanction_rollout
        urban = self.s.bits(ids, "urban") if ro.size and int(ro.max()) > day else None
        for k in ks.tolist():
            hit = tier >= c.sanction_tier[k]
            if urban is not None:
                hit &= day >= ro[k, urban]
            low |= hit
        if low.any():
            self._would_list(ids[low])

    def _would_list(self, ids: np.ndarray) -> None:
        s = self.s
        ids = np.unique(ids)
        fresh = np.fromiter(
            (i not in s.would_list for i in ids.tolist()), dtype=bool, count=ids.size
        )
        if not fresh.any():
            return
        ids = ids[fresh]
        before = s.status(ids)
        s.would_list.update(ids.tolist())
        self.m.status_change(ids, before, s.status(ids))

    @staticmethod
    def escaped(flags: np.ndarray, ids: np.ndarray, would_list: set[int]) -> np.ndarray:
        """Whether each citizen ``ids`` (with ``flags``) escaped their own listing."""
        if not would_list:
            return np.zeros(ids.size, dtype=bool)
        return np.isin(ids, np.fromiter(would_list, dtype=np.int64)) & ((flags & EVER) == 0)
