"""Ties beyond the household: a synthetic graph of friends, colleagues and neighbours, the
chilling and deterrence of citizens who see a tie listed, and an optional associates rule.

The graph is built shard by shard and stored as CSR arrays (``Graph``). Every shard holds
its own sample of citizens of every province (``credsim.population``), so ties are drawn
among the shard's citizens of the same locality (province and urban/rural): no tie crosses
a shard, and none crosses a locality. What that costs is measured (``Graph.cut``: the share
of drawn ties lost where a friendship circle or a team runs past the end of its locality).

* Friends: citizens of a locality in age order (age-assortative mixing, as contact surveys
  report) are cut into circles of geometric sizes; a circle's members are all friends. Half
  of the friend ties are loose instead: pairs a short way apart in the same age order, in
  no circle (this share sets the clustering).
* Colleagues: workers (an employment share of the 15-59 band) and schoolchildren (0-14) of a
  locality, in a random order, are cut into teams of geometric sizes. Where a population
  carries employers (``Population.employer``, an id per citizen, -1 for none), the workers
  are the citizens of 15 and over with an employer, and teams are cut within each employer.
* Neighbours: the heads of neighbouring households of a locality (households are in a
  random order within it) know each other.

Mean degrees come from the Guangdong contact surveys (``credsim/facts/china.toml``
``[ties]``); the share of ties that see a listing and the effects of seeing one are
assumptions, stated in the model description (docs/odd.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from credsim.engine.context import Scored
from credsim.engine.layout import GONE, HEAD
from credsim.engine.loop import Component, Figure, Headline, LedgerKind
from credsim.regime.schema import TIE_KINDS

FRIEND, COLLEAGUE, NEIGHBOUR = range(3)
TIES_LEVEL = 3  # the adaptation level of citizens who adapted after a tie's listing
MAX_GROUP = 60  # the largest friendship circle or team drawn
LOOSE_FRIENDS = 0.5  # share of friend ties outside any circle (sets the clustering)
LOOSE_WINDOW = 200  # a loose friend is at most this far in the age order of the locality
EMPLOYED_15_59 = 0.75  # share of the 15-59 band at work (an assumption; see facts [ties])


@dataclass
class Graph:
    """Ties of one shard as CSR arrays: citizen i's ties are ``indices[indptr[i]:indptr[i+1]]``
    (local indices), of kinds ``kind`` (0 friend, 1 colleague, 2 neighbour)."""

    indptr: np.ndarray  # int64 [n + 1]
    indices: np.ndarray  # int32 [ties, each counted from both ends]
    kind: np.ndarray  # uint8 [ties]
    wanted: int = 0  # ties drawn before the ends of localities cut them (both ends)
    placed: int = 0  # ties kept

    @property
    def n(self) -> int:
        return self.indptr.size - 1

    @property
    def cut(self) -> float:
        """Share of drawn ties lost at the ends of localities."""
        return 1.0 - self.placed / self.wanted if self.wanted else 0.0

    def nbytes(self) -> int:
        """Bytes held, the buffers' unused ends included."""
        held = (x.base if x.base is not None else x for x in (self.indices, self.kind))
        return self.indptr.nbytes + sum(x.nbytes for x in held)

    def of(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(whose, tie, kind) of every tie of citizens ``ids``: ``whose`` indexes ``ids``."""
        ids = np.asarray(ids, dtype=np.int64)
        start, end = self.indptr[ids], self.indptr[ids + 1]
        lens = end - start
        whose = np.repeat(np.arange(ids.size), lens)
        at = np.repeat(start - np.cumsum(lens) + lens, lens) + np.arange(int(lens.sum()))
        return whose, self.indices[at].astype(np.int64), self.kind[at]

    def degree(self, kind: int | None = None) -> np.ndarray:
        """Ties of each citizen (of one kind, or all)."""
        if kind is None:
            return np.diff(self.indptr)
        src = np.repeat(np.arange(self.n), np.diff(self.indptr))
        return np.bincount(src[self.kind == kind], minlength=self.n)

    def clustering(self, ids: np.ndarray) -> np.ndarray:
        """Local clustering of citizens ``ids``: the share of pairs of a citizen's ties who are
        tied to each other (NaN below two ties)."""
        out = np.full(len(ids), np.nan)
        for j, v in enumerate(np.asarray(ids).tolist()):
            nb = np.unique(self.indices[self.indptr[v] : self.indptr[v + 1]])
            nb = nb[nb != v]
            k = nb.size
            if k < 2:
                continue
            whose, tie, _ = self.of(nb)
            links = np.isin(tie, nb) & (tie != nb[whose])
            # each tie among the neighbours once (ties of two kinds count once)
            a, b = nb[whose[links]], tie[links]
            pairs = np.unique(np.minimum(a, b) * (self.n + 1) + np.maximum(a, b))
            out[j] = pairs.size / (k * (k - 1) / 2)
        return out


def _geometric_sizes(rng: np.random.Generator, m: int, mean_degree: float) -> np.ndarray:
    """Group sizes (at least 1, at most ``MAX_GROUP``) covering ``m`` members, geometric with
    p = 2 / (2 + d): a member's mean number of others in its group is then d."""
    if m == 0:
        return np.zeros(0, dtype=np.int64)
    p = 2.0 / (2.0 + mean_degree)
    est = int(m * p * 1.2) + 16
    sizes = np.minimum(rng.geometric(p, est), MAX_GROUP)
    while sizes.sum() < m:
        sizes = np.concatenate([sizes, np.minimum(rng.geometric(p, est), MAX_GROUP)])
    return sizes


def _cliques(members: np.ndarray, sizes: np.ndarray, segment: np.ndarray | None):
    """Every ordered pair within consecutive groups of ``members`` (sizes ``sizes``), groups
    cut where ``segment`` changes (an employer, or pupils and workers); returns (src, dst,
    wanted): ``wanted`` adds the pairs the last group lost at the end of the members."""
    m = members.size
    if m < 2:
        return members[:0], members[:0], 0
    ends = np.cumsum(sizes)
    k = int(np.searchsorted(ends, m)) + 1
    sizes = sizes[:k].copy()
    full = int(sizes[-1])
    sizes[-1] -= int(ends[k - 1] - m)
    lost = full * (full - 1) - int(sizes[-1]) * (int(sizes[-1]) - 1)
    group = np.repeat(np.arange(k), sizes)
    if segment is not None:  # a new group wherever the segment changes inside one
        cut = np.flatnonzero(np.diff(segment) != 0) + 1
        brk = np.zeros(m, dtype=bool)
        brk[cut] = True
        group = np.cumsum(brk | np.concatenate([[True], np.diff(group) != 0])) - 1
    start = np.flatnonzero(np.concatenate([[True], np.diff(group) != 0]))
    size = np.diff(np.append(start, m))
    gs = np.repeat(start, size)  # each member's group start
    gz = np.repeat(size, size)  # and size
    rep = np.repeat(np.arange(m), gz)
    off = np.arange(int(gz.sum())) - np.repeat(np.cumsum(gz) - gz, gz)
    partner = gs[rep] + off
    keep = partner != rep
    return members[rep[keep]], members[partner[keep]], int(keep.sum()) + lost


def build(
    demo: np.ndarray,
    flags: np.ndarray,
    layout: dict[str, tuple[int, int]],
    degree: dict[str, float],
    rng: np.random.Generator,
    employer: np.ndarray | None = None,
) -> Graph:
    """The ties of one shard's citizens (packed demographics, flags), locality by locality."""
    n = demo.size

    def field(what: str, ids: slice) -> np.ndarray:
        shift, width = layout[what]
        return (demo[ids].astype(np.int64) >> shift) & ((1 << width) - 1)

    # localities are contiguous: they start where the province or urban bits change
    mask = sum(((1 << w) - 1) << sh for sh, w in (layout["province"], layout["urban"]))
    cell = demo & demo.dtype.type(mask)
    bounds = np.concatenate([[0], np.flatnonzero(cell[1:] != cell[:-1]) + 1, [n]])
    del cell
    indptr = np.zeros(n + 1, dtype=np.int64)
    # the tie ends go straight into buffers sized a little above the expected count (grown
    # if a shard draws more), so the build never holds the graph twice
    cap = int(n * sum(degree.values()) * 1.05) + 1024
    indices, kinds = np.empty(cap, dtype=np.int32), np.empty(cap, dtype=np.uint8)
    wanted = placed = 0
    for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
        m = b - a
        age = field("age", slice(a, b))
        src, dst, kind = [], [], []
        # friends: circles in age order (a random order within each age band)
        order = np.lexsort((rng.random(m), age))
        circle = degree["friend"] * (1 - LOOSE_FRIENDS)
        s, d, w = _cliques(order, _geometric_sizes(rng, m, circle), None)
        src.append(s), dst.append(d), kind.append(np.full(s.size, FRIEND, np.uint8))
        wanted += w
        # and loose friends: pairs a short way apart in the same age order (no circle)
        loose = int(rng.poisson(m * degree["friend"] * LOOSE_FRIENDS / 2)) if m > 1 else 0
        i = rng.integers(0, m, loose)
        j = (i + rng.integers(1, min(LOOSE_WINDOW, m - 1) + 1, loose)) % max(m, 1)
        wanted += 2 * loose
        s, d = order[i], order[j]
        src += [s, d]
        dst += [d, s]
        kind.append(np.full(2 * s.size, FRIEND, np.uint8))
        # colleagues and schoolmates: teams of pupils (every child) and of workers (75% of
        # the 15-59 band drawn, or whoever has an employer) in a random order
        if employer is not None:
            team = np.where(age == 0, -2, np.where(age >= 1, employer[a:b], -1))
        else:
            team = np.where(
                age == 0, -2, np.where((age == 1) & (rng.random(m) < EMPLOYED_15_59), 0, -1)
            )
        pool = np.flatnonzero(team != -1)
        order = np.lexsort((rng.random(pool.size), team[pool]))
        pool = pool[order]
        segment = team[pool].astype(np.int64)  # pupils, and each employer, apart
        share = max(pool.size / m, 1e-9) if m else 1.0
        s, d, w = _cliques(
            pool, _geometric_sizes(rng, pool.size, degree["colleague"] / share), segment
        )
        src.append(s), dst.append(d), kind.append(np.full(s.size, COLLEAGUE, np.uint8))
        wanted += w
        # neighbours: heads of the next household, and of the one after with a probability
        heads = np.flatnonzero((flags[a:b] & HEAD) != 0)
        h = heads.size
        per_head = degree["neighbour"] * m / max(h, 1) / 2  # ties to later heads, per head
        for step in (1, 2, 3):
            p = min(1.0, max(0.0, per_head - (step - 1)))
            if p <= 0 or h <= step:
                wanted += int(2 * round(h * p)) if p > 0 else 0
                continue
            take = np.flatnonzero(rng.random(h - step) < p)
            wanted += 2 * int(round(h * p))
            s, d = heads[take], heads[take + step]
            src += [s, d]
            dst += [d, s]
            kind += [np.full(2 * s.size, NEIGHBOUR, np.uint8)]
        s, d = np.concatenate(src), np.concatenate(dst)
        k = np.concatenate(kind)
        by = np.argsort(s, kind="stable")
        indptr[a + 1 : b + 1] = np.bincount(s, minlength=m)
        if placed + s.size > indices.size:
            cap = int((placed + s.size) * 1.25)
            indices, kinds = np.resize(indices, cap), np.resize(kinds, cap)
        indices[placed : placed + s.size] = d[by] + a
        kinds[placed : placed + s.size] = k[by]
        placed += s.size
    np.cumsum(indptr, out=indptr)
    return Graph(indptr, indices[:placed], kinds[:placed], wanted, placed)


class Ties(Component):
    """Shows each new listing to the citizen's ties; those who see it adapt (chilling and
    deterrence); the associates rule moves the scores of a listed citizen's associates."""

    name = "ties"
    config = "ties (schema.Ties), regime.transparency"
    columns = ("flags: adaptation level 3 (through ties)",)
    phases = ("score",)
    events = ("listed",)
    figures = (
        Figure(
            "adapted_{item}",
            "adapted (a friend, colleague or neighbour was listed)",
            "citizens",
            "level",
            "citizens who changed behaviour after seeing a tie listed, with nobody of their "
            "household listed",
            (3, 7),
            "ties",
            "adaptation",
        ),
        Figure(
            "reach_{item}",
            "saw a listing through this kind of tie",
            "citizens",
            "flow",
            "ties of this kind who saw a citizen listed today (one count per listing seen)",
            (17, 0),
            "tie_kinds",
            "ties",
        ),
        Figure(
            "reach_{item}",
            "saw a listing through ties",
            "citizens",
            "flow",
            "friends, colleagues and neighbours who saw a citizen listed today (one count per "
            "listing seen)",
            (17, 4),
            "ties",
            "ties",
        ),
        Figure(
            "chilled_{item}",
            "adapted through this kind of tie",
            "citizens",
            "flow",
            "citizens who began to adapt today after seeing a tie of this kind listed",
            (17, 1),
            "tie_kinds",
            "ties",
        ),
        Figure(
            "associated_{item}",
            "penalised by association",
            "citizens",
            "flow",
            "citizens whose score the associates rule moved today (an associate was listed)",
            (17, 2),
            "ties",
            "ties",
        ),
        Figure(
            "associated_ever_{item}",
            "ever penalised by association",
            "citizens",
            "level",
            "citizens whose score the associates rule has moved at least once",
            (17, 3),
            "ties",
            "ties",
        ),
    )
    headlines = (
        Headline(
            "adapted_{item}",
            "Chilled through ties",
            "last_day",
            "citizens",
            "Citizens who changed behaviour after seeing a friend, colleague or neighbour "
            "listed (nobody of their household listed).",
            (13, 0),
            of="adapted_{item}",
            per="ties",
        ),
        Headline(
            "reach_{item}_per_listing",
            "Reach of one listing",
            "whole_run",
            "citizens per listing",
            "Friends, colleagues and neighbours who saw a listing, per listing started.",
            (13, 1),
            how="per",
            of="reach_{item}",
            over="sanctions_started",
            per="ties",
            digits=3,
        ),
        Headline(
            "associated_ever_{item}",
            "Penalised by association",
            "last_day",
            "citizens",
            "Citizens whose score moved because an associate was listed (the associates rule).",
            (13, 2),
            of="associated_ever_{item}",
            per="ties",
        ),
    )
    ledger = (
        LedgerKind(
            "tie_seen", "{day}: saw citizen {other} (a tie) listed and changed behaviour{listing}"
        ),
        LedgerKind(
            "association",
            "{day}: associate {other} was listed, {delta:+d} -> {after} (associates rule){listing}",
        ),
    )

    @classmethod
    def keys(cls, c) -> list[str]:
        return ["ties/see", "ties/graph"]

    def __init__(self, shard):
        super().__init__(shard)
        t = self.c.regime.ties
        self.t = t if t is not None and t.enabled else None
        self.graph: Graph | None = None
        self.pending: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.ever: np.ndarray | None = None
        if self.t is None:
            return
        key = int(shard.keys["ties/graph"])
        rng = np.random.default_rng([key, int(shard.shard)])
        employer = getattr(self.s.pop, "employer", None)  # organisations, where present
        self.graph = build(
            self.s.demo, self.s.flags, self.c.layout, self.t.degree.model_dump(), rng, employer
        )
        self.see = np.array([getattr(self.t.see, k) for k in TIE_KINDS])
        self.assoc = np.array([k in self.t.associates for k in TIE_KINDS])
        if self.t.associates_delta:
            self.ever = np.zeros(self.s.n, dtype=bool)

    def active(self) -> bool:
        return self.t is not None

    def nbytes(self) -> int:
        """Bytes the component keeps per shard (the graph, and the associates' marks)."""
        extra = self.ever.nbytes if self.ever is not None else 0
        return (self.graph.nbytes() if self.graph is not None else 0) + extra

    def on_listed(self, day: int, lst) -> None:
        """Every tie of a newly listed citizen sees it with its kind's probability; those who
        see it and have not adapted adapt; associates are queued for the next day's score."""
        c, s, m, g = self.c, self.s, self.m, self.graph
        ids = lst.citizen
        whose, tie, kind = g.of(ids)
        alive = (s.flags[tie] & GONE) == 0  # the not yet born and the dead see nothing
        whose, tie, kind = whose[alive], tie[alive], kind[alive]
        if tie.size == 0:
            return
        listed_gid = s.gid(ids)
        u = self._uniforms(s.gid(tie), day, listed_gid[whose])
        seen = u < self.see[kind]
        # one count per (listing, viewer): a friend who is also a colleague sees it once
        pair = whose[seen] * (s.n + 1) + tie[seen]
        _, first = np.unique(pair, return_index=True)
        w, v, k = whose[seen][first], tie[seen][first], kind[seen][first]
        for j, name in enumerate(TIE_KINDS):
            m.add(f"reach_{name}", int(np.count_nonzero(k == j)))
        m.add("reach_ties", v.size)
        m.group_flow("tie_reached", v)
        if c.adaptation:
            fresh = s.level(v) == 0
            if fresh.any():
                # the first listing seen today chills: one row per citizen
                vv, at = np.unique(v[fresh], return_index=True)
                ww, kk = w[fresh][at], k[fresh][at]
                s.set_level(vv, np.full(vv.size, TIES_LEVEL, dtype=np.uint8))
                for j, name in enumerate(TIE_KINDS):
                    m.add(f"chilled_{name}", int(np.count_nonzero(kk == j)))
                m.group_flow("tie_chilled", vv)
                cause = lst.rows[ww] if lst.rows is not None else -1
                s.log("tie_seen", day, vv, other=listed_gid[ww], cause=cause)
        if self.ever is not None:
            a = self.assoc[kind]
            if a.any():
                rows = lst.rows[whose[a]] if lst.rows is not None else np.full(a.sum(), -1)
                self.pending.append((tie[a], listed_gid[whose[a]], rows))

    def _uniforms(self, a: np.ndarray, day: int, c: np.ndarray) -> np.ndarray:
        from credsim.engine.keyed import uniforms

        key = self.shard.keys["ties/see"]
        # uniforms keys (a, day, c) one pair at a time: the listed citizen enters the first key
        return uniforms(key, a * np.int64(1_000_003) ^ c, day, 0)

    def score(self, day: int) -> None:
        """The associates rule: yesterday's listings move their associates' scores."""
        if not self.pending:
            return
        from credsim.engine.components.score import apply_points

        c, m, s, ctx = self.c, self.m, self.s, self.ctx
        ids = np.concatenate([p[0] for p in self.pending])
        other = np.concatenate([p[1] for p in self.pending])
        cause = np.concatenate([p[2] for p in self.pending])
        self.pending = []
        before = np.empty(ids.size, dtype=np.int64)
        after = np.empty(ids.size, dtype=np.int64)
        apply_points(c, m, s, ids, int(self.t.associates_delta), before, after)
        ctx.touched.append((ids, after))
        rows = s.log(
            "association", day, ids, delta=after - before, before=before, other=other, cause=cause
        )
        ctx.last_row.append((ids, rows))
        # the scores moved: harm judges the listings again (rule -1: no rule of the regime),
        # once a citizen, with the citizen's last row and the points of the day
        hit, last = np.unique(ids[::-1], return_index=True)
        last = ids.size - 1 - last
        moved = np.bincount(np.searchsorted(hit, ids), weights=after - before, minlength=hit.size)
        mis = np.zeros(hit.size, dtype=bool)
        sc = Scored(hit, -1, rows[last], moved.astype(np.int64), mis)
        self.shard.loop.emit("scored", day, sc)
        m.add("associated_ties", hit.size)
        m.group_flow("associated", hit)
        new = hit[~self.ever[hit]]
        self.ever[new] = True
        m.add("associated_ever_ties", new.size)
