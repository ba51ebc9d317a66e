"""Organisations: synthetic employers by province and sector, the citizens they employ, their
records and A-D rating, the corporate lists with their terms and credit repair, and joint
punishment: a listed organisation's legal representative and managers are put on a sanction
of their own, counted as their own harm.

Organisations are drawn inside a shard from the shard's own citizens, like households, so an
organisation and all its employees are always in one shard: nothing crosses shards, and the
per-day figures merge by addition. Every published figure the synthesis uses is read from
``credsim/facts/china.toml`` (section ``organisations``) by ``published()``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from functools import cache

import numpy as np

from credsim.engine.context import Listings
from credsim.engine.layout import bits
from credsim.engine.loop import Component, Figure, Headline, LedgerKind
from credsim.engine.sampling import stream

# a citizen's place in working life (the ``role`` column of citizens.parquet)
ROLE_NAMES = ("none", "not_working", "self_employed", "employee", "manager", "legal_representative")
NONE, NOT_WORKING, SELF_EMPLOYED, EMPLOYEE, MANAGER, REP = range(6)
ROLE_CODE = {"legal_representative": REP, "manager": MANAGER}
# rating bands of the tax credit measures: A 90+, B 70-89, C 40-69, D below 40
BANDS = np.array([40, 70, 90])
BAND_RANGE = ((90, 100), (70, 89), (40, 69), (0, 39))
NEVER = np.iinfo(np.int32).max
REGIONS = ("east", "central", "west")
_CHUNK = 1 << 16  # citizens drawn at a time


@dataclass(frozen=True)
class Published:
    """The published figures organisations are drawn from (china.toml, organisations)."""

    employee_share: float  # working-age citizens employed by an organisation
    self_employed_share: float  # working otherwise (self-employed, farming, informal)
    mean_size: float  # persons employed per organisation
    enterprise_share: float  # organisations that are enterprises (rated and listed)
    region_share: dict[str, float]  # organisations by region
    region_of: dict[str, str]  # province -> region
    sector_share: np.ndarray  # by credsim.regime.schema.SECTORS
    rating_share: np.ndarray  # A, B, C, D
    listed_per_year: float  # enterprises newly put on a list in 2018, per enterprise


@cache
def published() -> Published:
    """The figures of ``credsim/facts/china.toml`` the synthesis and calibration read."""
    from credsim.facts import china

    f = china()["organisations"]
    e, r, s, t = f["employment"], f["regions"], f["sectors"], f["tax_rating"]
    region_of = {p: name for name in REGIONS for p in r[name]}
    return Published(
        employee_share=e["employee_share_pct_derived"] / 100,
        self_employed_share=e["self_employed_share_pct_derived"] / 100,
        mean_size=f["legal_entity_employment"] / f["legal_entities"],
        enterprise_share=f["enterprise_share_pct"] / 100,
        region_share={name: r[f"{name}_pct"] / 100 for name in REGIONS},
        region_of=region_of,
        sector_share=np.array(
            [
                s["wholesale_retail_pct"],
                s["manufacturing_pct"],
                s["leasing_business_services_pct"],
                s["other_pct"],
            ]
        )
        / 100,
        rating_share=np.array(
            [t["a_pct"], t["b_pct_assumption"], t["c_pct_assumption"], t["d_pct"]]
        )
        / 100,
        listed_per_year=f["lists"]["enterprises_blacklisted_2018"] / f["enterprises"],
    )


def employment_rates(provinces: tuple[str, ...]) -> np.ndarray:
    """Share of working-age citizens employed by an organisation, by province: the national
    share, scaled by each region's share of organisations over its share of the census
    population (so organisations by region match the economic census)."""
    from credsim.facts import china

    pub = published()
    pop = china()["population"]["provinces"]
    people = np.array([float(pop[p]) for p in provinces])
    region = [pub.region_of[p] for p in provinces]
    out = np.empty(len(provinces))
    for name in REGIONS:
        sel = np.array([x == name for x in region])
        factor = pub.region_share[name] / (people[sel].sum() / people.sum())
        out[sel] = pub.employee_share * factor
    return np.minimum(out, 1.0 - pub.self_employed_share)


@dataclass
class Firms:
    """One shard's organisations and their people (local indices), as columns."""

    province: np.ndarray  # uint8
    sector: np.ndarray  # uint8, credsim.regime.schema.SECTORS
    enterprise: np.ndarray  # bool: rated and listed (else a public body or association)
    size: np.ndarray  # int32, employees
    score: np.ndarray  # int16, rating points 0-100 (enterprises)
    people: np.ndarray  # int32: each organisation's legal representative, then its managers
    people_start: np.ndarray  # int64 [n + 1]
    employer: np.ndarray  # int32 per citizen: its organisation (-1: none)
    role: np.ndarray  # uint8 per citizen (ROLE_NAMES)

    @property
    def n(self) -> int:
        return int(self.size.size)

    def nbytes(self) -> int:
        """Bytes these columns hold."""
        return sum(
            a.nbytes
            for a in (
                self.province,
                self.sector,
                self.enterprise,
                self.size,
                self.score,
                self.people,
                self.people_start,
                self.employer,
                self.role,
            )
        )


def rating_of(score: np.ndarray) -> np.ndarray:
    """Rating index (0 = A ... 3 = D) of rating points."""
    return (3 - np.searchsorted(BANDS, score, side="right")).astype(np.int64)


def synthesize(
    demo: np.ndarray, layout: dict, provinces: tuple[str, ...], rng, sigma: float
) -> Firms:
    """Draw a shard's organisations from its citizens (packed demographics ``demo``).

    Each working-age citizen (15-64) is employed by an organisation with the province's
    share (``employment_rates``), self-employed or otherwise working with the published
    share, or not working. A province's employees are shuffled and cut into
    round(employees / mean size) organisations whose sizes follow a lognormal spread
    ``sigma`` (an assumption) apportioned to the employees; its first employee is the legal
    representative and the next floor(log2(size)) its senior managers (an assumption).
    """
    pub = published()
    n = demo.size
    rate = employment_rates(provinces).astype(np.float32)
    self_share = np.float32(pub.self_employed_share)
    role = np.empty(n, dtype=np.uint8)
    prov = np.empty(n, dtype=np.uint16)
    for a in range(0, n, _CHUNK):  # in chunks: no temporary the size of the shard
        d = demo[a : a + _CHUNK]
        age = bits(d, "age", layout)
        prov[a : a + d.size] = bits(d, "province", layout)
        p_emp = rate[prov[a : a + d.size]]
        u = rng.random(d.size, dtype=np.float32)
        r = np.where(u < p_emp + self_share, SELF_EMPLOYED, NOT_WORKING)
        r[u < p_emp] = EMPLOYEE
        r[(age == 0) | (age == 3)] = NONE
        role[a : a + d.size] = r
    employer = np.full(n, -1, dtype=np.int32)
    emp_all = np.flatnonzero(role == EMPLOYEE)
    if (np.diff(prov[emp_all].astype(np.int64)) < 0).any():  # citizens come by province
        emp_all = emp_all[np.argsort(prov[emp_all], kind="stable")]
    bounds = np.searchsorted(prov[emp_all], np.arange(len(provinces) + 1))
    del prov
    org_prov, sizes, members = [], [], []
    for p in range(len(provinces)):
        emp = emp_all[bounds[p] : bounds[p + 1]]
        if emp.size == 0:
            continue
        k = max(1, int(np.rint(emp.size / pub.mean_size)))
        w = np.exp(sigma * rng.standard_normal(k))
        extra = emp.size - k  # each has one employee; the rest by weight
        share = w / w.sum() * extra
        size = 1 + np.floor(share).astype(np.int64)
        short = emp.size - int(size.sum())
        if short > 0:
            size[np.argsort(-(share - np.floor(share)), kind="stable")[:short]] += 1
        org_prov.append(np.full(k, p))
        sizes.append(size)
        members.append(rng.permutation(emp))
    if not sizes:
        empty = np.empty(0, dtype=np.int32)
        return Firms(
            empty.astype(np.uint8),
            empty.astype(np.uint8),
            empty.astype(bool),
            empty,
            empty.astype(np.int16),
            empty,
            np.zeros(1, dtype=np.int64),
            employer,
            role,
        )
    size = np.concatenate(sizes)
    staff = np.concatenate(members)
    m = size.size
    start = np.concatenate([[0], np.cumsum(size)[:-1]])
    employer[staff] = np.repeat(np.arange(m, dtype=np.int32), size)
    managers = np.minimum(size - 1, np.floor(np.log2(size)).astype(np.int64))
    take = 1 + managers
    people_start = np.concatenate([[0], np.cumsum(take)]).astype(np.int64)
    offs = np.arange(int(take.sum())) - np.repeat(people_start[:-1], take)
    people = staff[np.repeat(start, take) + offs].astype(np.int32)
    role[people] = MANAGER
    role[people[people_start[:-1]]] = REP
    sector = rng.choice(len(pub.sector_share), size=m, p=pub.sector_share).astype(np.uint8)
    enterprise = rng.random(m) < pub.enterprise_share
    rating = rng.choice(4, size=m, p=pub.rating_share / pub.rating_share.sum())
    lo = np.array([b[0] for b in BAND_RANGE])[rating]
    hi = np.array([b[1] for b in BAND_RANGE])[rating]
    score = (lo + np.floor(rng.random(m) * (hi - lo + 1))).astype(np.int16)
    return Firms(
        np.concatenate(org_prov).astype(np.uint8),
        sector,
        enterprise,
        size.astype(np.int32),
        score,
        people,
        people_start,
        employer,
        role,
    )


def _level(
    name: str, label: str, explain: str, order, per: str, unit="organisations", color=None
) -> Figure:
    """A level figure; drawn in the organisations chart when it has a colour."""
    return Figure(name, label, unit, "level", explain, order, per, color and "organisations", color)


class Organisations(Component):
    """Draws the shard's organisations, samples their records, rates and lists them, lifts
    them at term or on credit repair, and restricts their people (joint punishment)."""

    name = "organisations"
    config = (
        "organisations (schema.Organisations): size_sigma, behaviours (rate, points, "
        "sector_factor), lists (behaviours, duration, repair, then, sanction, roles), "
        "employer_sources"
    )
    columns = ("employer", "role")
    phases = ("share", "tier")
    events = ("listed", "delisted")
    figures = (
        _level(
            "organisations",
            "organisations",
            "organisations in the shard's synthetic economy (enterprises and other employers)",
            (17, 0),
            "organisations",
        ),
        _level(
            "enterprises",
            "enterprises",
            "organisations that are enterprises (rated, and listed by the corporate lists)",
            (17, 1),
            "organisations",
        ),
        _level(
            "organisations_ever_listed",
            "organisations ever listed",
            "organisations put on a corporate list at least once since day 0",
            (17, 2),
            "organisations",
        ),
        _level(
            "organisations_listed",
            "organisations on a list",
            "organisations on at least one corporate list at the end of the day",
            (17, 3),
            "organisations",
            color="#5c940d",
        ),
        Figure(
            "organisation_listings",
            "organisation listings started",
            "listings",
            "flow",
            "organisations put on a corporate list today",
            (17, 4),
            "organisations",
        ),
        _level(
            "restricted_via_organisation",
            "restricted through an organisation",
            "citizens under a sanction put on them because an organisation they represent or "
            "manage is listed (joint punishment), at the end of the day",
            (17, 5),
            "organisations",
            unit="citizens",
            color="#d9480f",
        ),
        _level(
            "organisations_rated_{item}",
            "enterprises rated",
            "enterprises whose rating points put them in this rating at the end of the day",
            (18, 0),
            "ratings",
        ),
        _level(
            "organisations_on_{item}",
            "organisations on the list",
            "organisations on this corporate list at the end of the day",
            (19, 0),
            "corporate_lists",
        ),
        Figure(
            "organisations_repaired_{item}",
            "taken off by credit repair",
            "listings",
            "flow",
            "organisations taken off this list today because they made good",
            (19, 1),
            "corporate_lists",
        ),
        _level(
            "restricted_via_{item}",
            "restricted through an organisation of the sector",
            "citizens restricted through a listed organisation of this sector, at the end of "
            "the day",
            (20, 0),
            "sectors",
            unit="citizens",
        ),
    )
    headlines = (
        Headline(
            "organisations_listed",
            "Organisations on a list",
            "last_day",
            "organisations",
            "Organisations on at least one corporate list on the last day.",
            (9, 0),
            of="organisations_listed",
            per="organisations",
        ),
        Headline(
            "organisation_listings",
            "Organisation listings",
            "whole_run",
            "listings",
            "Organisations put on a corporate list over the run.",
            (9, 1),
            how="sum",
            of="organisation_listings",
            per="organisations",
        ),
        Headline(
            "restricted_via_organisation",
            "Restricted through an organisation",
            "last_day",
            "citizens",
            "Citizens restricted because an organisation they represent or manage is listed.",
            (9, 2),
            of="restricted_via_organisation",
            per="organisations",
        ),
    )
    ledger = (
        LedgerKind(
            "organisation_listed",
            "{day}: organisation {organisation} put on {list} for {reason}{joint}",
        ),
        LedgerKind(
            "organisation_delisted", "{day}: organisation {organisation} off {list} ({reason})"
        ),
    )

    def __init__(self, shard):
        super().__init__(shard)
        c = self.c
        o = c.regime.organisations
        self.o = o
        if o is None:
            return
        s = self.s
        self.rng = stream(shard.seed, shard.shard, "organisations")
        self.f = synthesize(s.demo, c.layout, c.provinces, self.rng, o.size_sigma)
        f = self.f
        s.pop.employer = f.employer  # colleagues (ties) are cut within each employer
        self.lists = [x.name for x in o.lists]
        nl = len(o.lists)
        self.on = np.zeros((nl, f.n), dtype=bool)
        self.until = np.full((nl, f.n), NEVER, dtype=np.int32)
        self.repairs = np.zeros((nl, f.n), dtype=bool)  # the listing ends by credit repair
        self.due: dict[int, list[tuple[int, np.ndarray]]] = defaultdict(list)
        self.ever = np.zeros(f.n, dtype=bool)  # put on a list at least once
        self.joint = np.array(
            [c.sanctions.index(x.sanction) if x.sanction else -1 for x in o.lists], dtype=np.int64
        )
        self.joint_mask = s.sanction.dtype.type(0)
        for k in self.joint[self.joint >= 0].tolist():
            self.joint_mask |= s.bit(k)
        self.via: set[int] = set()
        self.listing_of = [
            [li for li, x in enumerate(o.lists) if b.name in x.behaviours] for b in o.behaviours
        ]
        # daily probability of each behaviour for each organisation (enterprises only)
        self.p = np.zeros((len(o.behaviours), f.n))
        for bi, b in enumerate(o.behaviours):
            factor = np.array([b.sector_factor.get(x, 1.0) for x in c.sectors])
            self.p[bi] = np.where(f.enterprise, b.rate / 365.0 * factor[f.sector], 0.0)
        self.p = self.p.astype(np.float32)
        self.employer_sources = [c.sources.index(x) for x in o.employer_sources]
        self.gid0 = shard.offset  # organisation ids: the shard's offset + local index

    def active(self) -> bool:
        return self.o is not None

    def start(self) -> None:
        """The day-0 levels: how many organisations, and enterprises by rating."""
        m, f = self.m, self.f
        m.add("organisations", f.n)
        m.add("enterprises", int(f.enterprise.sum()))
        counts = np.bincount(rating_of(f.score[f.enterprise]), minlength=4)
        for r, name in enumerate(self.c.ratings):
            m.add(f"organisations_rated_{name}", int(counts[r]))

    # --- employer sources -------------------------------------------------------------
    def share(self, day: int) -> None:
        """An employer records its own employees only: records of an employer source on a
        citizen no organisation employs are dropped."""
        if day == 0:
            self.start()
        if not self.employer_sources:
            return
        for r in self.ctx.batches:
            if r.source not in self.employer_sources:
                continue
            keep = self.f.role[r.citizen] >= EMPLOYEE
            if keep.all():
                continue
            self.m.add(f"records_{self.c.behaviours[r.behaviour]}", -int((~keep).sum()))
            r.citizen, r.actor, r.mis = r.citizen[keep], r.actor[keep], r.mis[keep]

    # --- the day ------------------------------------------------------------------------
    def tier(self, day: int) -> None:
        """Listings that end today end (or move on), then today's records are sampled."""
        self._ends(day)
        self._records(day)

    def _records(self, day: int) -> None:
        f, m, rng = self.f, self.m, self.rng
        for bi, b in enumerate(self.o.behaviours):
            p = self.p[bi]
            top = float(p.max()) if p.size else 0.0
            if top <= 0.0:
                continue
            k = int(rng.binomial(f.n, top))
            if k == 0:
                continue
            idx = rng.integers(0, f.n, size=k)
            idx = np.unique(idx[rng.random(k) < p[idx] / top])
            if idx.size == 0:
                continue
            before = rating_of(f.score[idx])
            f.score[idx] = np.maximum(0, f.score[idx].astype(np.int64) - b.points).astype(np.int16)
            after = rating_of(f.score[idx])
            moved = before != after
            if moved.any():
                d = np.bincount(after[moved], minlength=4) - np.bincount(before[moved], minlength=4)
                for r, name in enumerate(self.c.ratings):
                    if d[r]:
                        m.add(f"organisations_rated_{name}", int(d[r]))
            for li in self.listing_of[bi]:
                fresh = idx[~self.on[li, idx]]
                if fresh.size:
                    self._list(day, li, fresh, b.name)

    def _list(self, day: int, li: int, orgs: np.ndarray, reason: str) -> None:
        """Put organisations on list ``li``; restrict their people where it says so."""
        x, m, s = self.o.lists[li], self.m, self.s
        was = self.on[:, orgs].any(axis=0)
        self.on[li, orgs] = True
        n = orgs.size
        term = np.full(n, NEVER, dtype=np.int64)
        if x.duration is not None:
            term[:] = day + x.duration
        repair = np.full(n, NEVER, dtype=np.int64)
        if x.repair is not None and x.repair.rate > 0:
            q = min(1.0, x.repair.rate / 365.0)
            repair = day + x.repair.after + self.rng.geometric(q, size=n)
        end = np.minimum(term, repair)
        self.until[li, orgs] = np.minimum(end, NEVER)
        self.repairs[li, orgs] = repair < term
        for e in np.unique(end[end < s.days]).tolist():
            self.due[int(e)].append((li, orgs[end == e]))
        m.add("organisation_listings", n)
        m.add("organisations_listed", int((~was).sum()))
        first = ~self.ever[orgs]
        self.ever[orgs] = True
        m.add("organisations_ever_listed", int(first.sum()))
        m.add(f"organisations_on_{x.name}", n)
        ids, org = self._people(orgs)
        k = int(self.joint[li])
        code = self.c.ledger_rules.index(f"{x.name}/{reason}")
        rows = s.log(
            "organisation_listed",
            day,
            ids,
            rule=code,
            sanction=k,
            other=self.gid0 + org,
        )
        if k < 0:
            return
        hit = np.isin(self.f.role[ids], [ROLE_CODE[r] for r in x.roles])
        if hit.any():
            n = int(hit.sum())
            lst = Listings(ids[hit], np.full(n, k), rows[hit], np.zeros(n, dtype=bool))
            self.ctx.rule_listings.append(lst)

    def _people(self, orgs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The legal representatives and managers of ``orgs`` (local ids), and whose each is."""
        f = self.f
        a, b = f.people_start[orgs], f.people_start[orgs + 1]
        lens = b - a
        offs = np.arange(int(lens.sum())) - np.repeat(np.cumsum(lens) - lens, lens)
        return f.people[np.repeat(a, lens) + offs].astype(np.int64), np.repeat(orgs, lens)

    def _ends(self, day: int) -> None:
        """Listings at term or repaired today end; at term a list may hand them on."""
        due = self.due.pop(day, [])
        if not due:
            return
        s, m = self.s, self.m
        ended: list[np.ndarray] = []
        for li, orgs in due:
            orgs = np.unique(orgs[self.on[li, orgs] & (self.until[li, orgs] == day)])
            if not orgs.size:
                continue
            x = self.o.lists[li]
            repaired = self.repairs[li, orgs]
            self.on[li, orgs] = False
            self.until[li, orgs] = NEVER
            m.add(f"organisations_on_{x.name}", -orgs.size)
            m.add(f"organisations_repaired_{x.name}", int(repaired.sum()))
            for why, sel in (("repair", repaired), ("term", ~repaired)):
                if sel.any():
                    ids, org = self._people(orgs[sel])
                    code = self.c.ledger_rules.index(f"{x.name}/{why}")
                    s.log("organisation_delisted", day, ids, rule=code, other=self.gid0 + org)
            moved = orgs[~repaired]
            if x.then is not None and moved.size:
                then = self.lists.index(x.then)
                fresh = moved[~self.on[then, moved]]
                if fresh.size:
                    self._list(day, then, fresh, f"from_{x.name}")
            ended.append(orgs)
        if not ended:
            return
        orgs = np.unique(np.concatenate(ended))
        m.add("organisations_listed", -int((~self.on[:, orgs].any(axis=0)).sum()))
        self._lift(day, orgs)

    def _lift(self, day: int, orgs: np.ndarray) -> None:
        """Lift the joint sanctions of people whose organisation no longer holds them there."""
        s = self.s
        ids, org = self._people(orgs)
        role = self.f.role[ids]
        for k in np.unique(self.joint[self.joint >= 0]).tolist():
            held = np.zeros(ids.size, dtype=bool)
            for li, x in enumerate(self.o.lists):
                if self.joint[li] == k:
                    roles = [ROLE_CODE[r] for r in x.roles]
                    held |= self.on[li, org] & np.isin(role, roles)
            lift = ~held & s.has(ids, k)
            if lift.any():
                s.lifts[day].append(s.key(ids[lift], np.full(int(lift.sum()), k)))

    # --- who is restricted through an organisation --------------------------------------
    def on_listed(self, day: int, lst) -> None:
        joint = np.isin(lst.sanction, self.joint[self.joint >= 0])
        fresh = [i for i in np.unique(lst.citizen[joint]).tolist() if i not in self.via]
        if fresh:
            self.via.update(fresh)
            self._count(np.array(fresh, dtype=np.int64), +1)

    def on_delisted(self, day: int, d) -> None:
        ids = np.unique(d.citizen[np.isin(d.sanction, self.joint[self.joint >= 0])])
        gone = [
            i
            for i, left in zip(ids.tolist(), (self.s.sanction[ids] & self.joint_mask).tolist())
            if left == 0 and i in self.via
        ]
        if gone:
            self.via.difference_update(gone)
            self._count(np.array(gone, dtype=np.int64), -1)

    def _count(self, ids: np.ndarray, sign: int) -> None:
        m = self.m
        m.add("restricted_via_organisation", sign * ids.size)
        m.group_level("restricted_via_organisation", ids, sign)
        sector = self.f.sector[self.f.employer[ids]]
        counts = np.bincount(sector, minlength=len(self.c.sectors))
        for j, name in enumerate(self.c.sectors):
            if counts[j]:
                m.add(f"restricted_via_{name}", sign * int(counts[j]))

    def regroup(self, ids: np.ndarray, sign: int) -> None:
        """Take those of ``ids`` restricted through an organisation out of (``sign`` +1: put
        them into) the figures by group, as their age band changes
        (credsim.engine.components.life)."""
        if not self.via or ids.size == 0:
            return
        via = np.fromiter(self.via, dtype=np.int64, count=len(self.via))
        hit = ids[np.isin(ids, via)]
        if hit.size:
            self.m.group_level("restricted_via_organisation", hit, sign)

    # --- the final state ------------------------------------------------------------------
    def citizen_columns(self, idx: np.ndarray) -> dict:
        """Columns of citizens.parquet: employer (organisation id), its size, the citizen's
        role, whether restricted through an organisation now, and the employer's sector,
        rating and whether it is listed now."""
        f = self.f
        emp = f.employer[idx]
        has = emp >= 0
        org = np.where(has, emp, 0)
        via = np.zeros(idx.size, dtype=bool)
        if self.via:
            via = np.isin(idx, np.fromiter(self.via, dtype=np.int64))
        if f.n:
            rating = np.where(has & f.enterprise[org], rating_of(f.score[org]) + 1, 0)
            sector = np.where(has, f.sector[org].astype(np.int64) + 1, 0)
            listed = has & self.on[:, org].any(axis=0)
        else:
            rating = sector = np.zeros(idx.size, dtype=np.int64)
            listed = np.zeros(idx.size, dtype=bool)
        return {
            "employer": np.where(has, self.gid0 + emp.astype(np.int64), -1),
            "employer_size": np.where(has, f.size[org] if f.n else 0, 0).astype(np.int32),
            "role": (f.role[idx], ROLE_NAMES),
            "employer_sector": (sector, ("none", *self.c.sectors)),
            "employer_rating": (rating, ("none", *self.c.ratings)),
            "employer_listed": listed,
            "restricted_via_organisation": via,
        }

    def nbytes(self) -> int:
        """Bytes the organisations add to the shard's state."""
        return (
            self.f.nbytes()
            + self.on.nbytes
            + self.until.nbytes
            + self.repairs.nbytes
            + self.ever.nbytes
            + self.p.nbytes
        )
