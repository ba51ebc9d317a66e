"""The life course: citizens age day by day, are born into their mothers' households and die,
at the death and fertility rates of credsim's facts; children come of age at 15.

Every life event of a shard is drawn once, when the shard is made (``expand``), as exact
inhomogeneous Poisson processes: each citizen's day of death from the cumulative hazard of
its sex and age, each woman's births from the cumulative fertility of her age while she
lives, and again for the daughters born during the run. So the shard's arrays are allocated
once with a row for every citizen who will be born (the headroom is the births drawn, not an
estimate), each newborn's row placed in its mother's household, after its members. Rows not
yet born and rows of the dead carry the ``GONE`` flag: they never act, no record reaches
them, spillover skips them and the population figures leave them out. Dead citizens keep
their rows (and their history) as inactive rows.

Citizens younger than 6 (``ACT_AGE``, an assumption: school age) commit no acts: the
propensity in their words is 0 until then, and the acts of behaviours without propensity
that fall on them are dropped before they are sensed (and from the day's counts of acts,
with and without adaptation: the latter exactly where adaptation does not raise a rate).

Ages at the start are drawn within each citizen's census age band (uniform in 0-14, 15-59
and 60-64; in 65+ in proportion to survival, as in a stationary population): the census
gives bands only, so this is an assumption.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache

import numpy as np

from credsim.engine.layout import GONE
from credsim.engine.loop import Component, Figure, Headline, LedgerKind

YEAR = 365.25  # days
MAX_AGE = 120  # years: the cumulative rates are tabulated daily up to this age
BANDS = (15, 60, 65)  # the ages at which the census age band changes (AGE_BANDS)
ADULT = 15  # the age a child comes of age (the end of band 0-14)
ACT_AGE = 6  # assumption: a citizen's own acts start at school age (propensity 0 before)
_PROPENSITY = np.uint64(0xFFFF) << np.uint64(32)  # the propensity bits of a word
COHORT_AGES = (18, 30)  # the ages of the lifetime figures
DEFAULT_START = "2014-01-01"  # day 0 of a regime that names no start date
NEVER = np.iinfo(np.int32).max


@dataclass(frozen=True)
class Rates:
    """Cumulative death hazard by sex and cumulative fertility, one value per day of age."""

    hazard: np.ndarray  # [sex, day of age]: cumulative hazard from birth
    fertility: np.ndarray  # [day of age]: expected births per woman from birth
    male_at_birth: float
    life_expectancy: tuple[float, float]  # (male, female) years, from these rates

    def survival(self, sex: int, years: np.ndarray) -> np.ndarray:
        """Probability of surviving from birth to each age (years)."""
        at = np.minimum((np.asarray(years) * YEAR).astype(np.int64), self.hazard.shape[1] - 1)
        return np.exp(-self.hazard[sex, at])


def _hazard(b: float, q0: float, slope: float, makeham: float, x: np.ndarray) -> np.ndarray:
    """Cumulative hazard at ages ``x`` (years): constant in the first year (infant
    mortality ``q0``), then Gompertz-Makeham ``makeham + b exp(slope x)``."""
    h0 = -np.log1p(-q0)
    after = np.maximum(x - 1.0, 0.0)
    gomp = b / slope * (np.exp(slope * np.maximum(x, 1.0)) - np.exp(slope))
    return h0 * np.minimum(x, 1.0) + makeham * after + gomp


def _expectancy(b: float, q0: float, slope: float, makeham: float) -> float:
    x = np.arange(0, MAX_AGE * 12 + 1) / 12.0
    s = np.exp(-_hazard(b, q0, slope, makeham, x))
    return float(np.trapezoid(s, x))


@cache
def rates(fertility: float = 1.0, mortality: float = 1.0) -> Rates:
    """The rates of the facts (``[life]`` of china.toml), death rates times ``mortality``
    and fertility times ``fertility``."""
    from credsim.facts import china

    f = china()
    life, pop = f["life"], f["population"]
    q0 = life["infant_mortality_per_1000"] / 1000
    slope, makeham = life["gompertz_slope"], life["makeham"]
    x = np.arange(int(MAX_AGE * YEAR) + 1) / YEAR
    hazard = np.empty((2, x.size))
    for sex, e0 in enumerate((life["life_expectancy_male"], life["life_expectancy_female"])):
        lo, hi = 1e-9, 1e-1  # b: life expectancy falls as b rises
        for _ in range(80):
            mid = np.sqrt(lo * hi)
            lo, hi = (mid, hi) if _expectancy(mid, q0, slope, makeham) > e0 else (lo, mid)
        hazard[sex] = _hazard(np.sqrt(lo * hi), q0, slope, makeham, x) * mortality
    shape = np.asarray(life["fertility_shape"], dtype=np.float64)
    ages = np.asarray(life["fertility_ages"], dtype=np.float64)
    per_year = shape / shape.sum() * pop["total_fertility_rate"] / 5.0 * fertility
    band = np.searchsorted(ages, x, side="right") - 1
    inside = (band >= 0) & (x < ages[-1] + 5)
    rate = np.where(inside, per_year[np.clip(band, 0, ages.size - 1)], 0.0) / YEAR  # per day
    fert = np.concatenate([[0.0], np.cumsum(rate[:-1])])
    srb = pop["sex_ratio_at_birth"]
    e = tuple(float(np.exp(-hazard[s]).sum() / YEAR) for s in (0, 1))
    return Rates(hazard, fert, srb / (100.0 + srb), e)


def headroom(n: int, days: int, fertility: float = 1.0) -> int:
    """Rows a shard of ``n`` citizens may need for its births over ``days`` (an upper
    bound: the global ids a shard spans are ``n + headroom``)."""
    r = rates(fertility)
    women_share = 0.5
    per_woman_day = float(r.fertility[-1]) / (50 - 15) / YEAR  # mean fertile-age rate
    fertile_share = (50 - 15) / 80.0
    expected = n * women_share * fertile_share * per_woman_day * days
    expected *= 1.0 + days / (30 * YEAR)  # daughters born during the run have children too
    return int(np.ceil(2.0 * expected + 10.0 * np.sqrt(expected) + 64))


@dataclass
class LifePlan:
    """A shard's life events, drawn when it is made: day of birth and of death of each row
    (days from day 0; born < 0 for the living at the start, death ``NEVER`` beyond it)."""

    born: np.ndarray  # int32
    died: np.ndarray  # int32
    births: int  # rows added for the citizens born during the run


def _start_ages(pop, rng: np.random.Generator, r: Rates) -> np.ndarray:
    """Age in days at day 0 of each citizen, drawn within its census age band."""
    band = pop.attribute("age").astype(np.int64)
    sex = pop.attribute("sex").astype(np.int64)
    lo = np.array([0, 15, 60, 65])[band]
    hi = np.array([15, 60, 65, 65])[band]
    u = rng.random(pop.n)
    age = lo + u * (hi - lo)
    old = band == 3  # 65+: in proportion to survival (a stationary population)
    for s in (0, 1):
        sel = old & (sex == s)
        x = np.arange(int(65 * YEAR), int(MAX_AGE * YEAR))
        w = np.exp(-r.hazard[s, x])
        cdf = np.cumsum(w) / w.sum()
        age[sel] = x[np.minimum(np.searchsorted(cdf, u[sel]), x.size - 1)] / YEAR
    return np.floor(age * YEAR).astype(np.int64)


def _death_age(r: Rates, sex: np.ndarray, age: np.ndarray, rng: np.random.Generator):
    """Age at death (days) of citizens of ``sex`` alive at ``age`` (days)."""
    target = r.hazard[sex, age] - np.log(rng.random(age.size))
    out = np.empty(age.size, dtype=np.int64)
    for s in (0, 1):
        sel = sex == s
        out[sel] = np.searchsorted(r.hazard[s], target[sel], side="left")
    out[out >= r.hazard.shape[1]] = 10**12  # past the table (or no deaths): never
    return np.maximum(out, age)


def _births(r: Rates, age0: np.ndarray, start: np.ndarray, end: np.ndarray, rng):
    """Births of women aged ``age0`` (days) at day 0, alive over days [start, end): the
    mother (index into the arguments) and the day of each birth."""
    top = r.fertility.size - 1
    a = np.clip(age0 + start, 0, top)
    b = np.clip(age0 + end, 0, top)
    lo, hi = r.fertility[a], r.fertility[b]
    k = rng.poisson(np.maximum(hi - lo, 0.0))
    mother = np.repeat(np.arange(age0.size), k)
    u = lo[mother] + rng.random(mother.size) * (hi - lo)[mother]
    age = np.searchsorted(r.fertility, u, side="left")
    day = np.clip(age - age0[mother], start[mother], end[mother] - 1)
    return mother, day


def expand(c, pop, days: int, rng: np.random.Generator, capacity: int):
    """The shard's population with a row for every citizen born during the run (in its
    mother's household, after its members), and the life events of every row."""
    from credsim.population import Population

    life = c.regime.life
    r = rates(life.fertility, life.mortality)
    lay = pop.census.layout
    n0 = pop.n
    age0 = _start_ages(pop, rng, r)
    sex0 = pop.attribute("sex").astype(np.int64)
    died0 = _death_age(r, sex0, age0, rng) - age0
    house0 = pop.household_ids()
    # generations: the women alive at the start, then the daughters born in the run
    born = [-age0]
    died = [died0]
    sex = [sex0]
    house = [house0]
    mothers = [np.zeros(0, dtype=np.int64)]
    total = n0
    girls = np.flatnonzero(sex0 == 1)
    g_age0, g_start = age0[girls], np.zeros(girls.size, dtype=np.int64)
    g_end = np.minimum(died0[girls] + 1, days)
    g_rows = girls
    while girls.size:
        mother, day = _births(r, g_age0, g_start, g_end, rng)
        m = mother.size
        if m == 0:
            break
        nsex = (rng.random(m) >= r.male_at_birth).astype(np.int64)  # 1 female
        dage = _death_age(r, nsex, np.zeros(m, dtype=np.int64), rng)
        rows = g_rows[mother]  # the mothers' rows among all rows so far
        all_house = np.concatenate(house)
        born.append(day)
        died.append(np.where(day + dage < NEVER, day + dage, NEVER))
        sex.append(nsex)
        house.append(all_house[rows])
        mothers.append(rows)
        new_rows = total + np.arange(m)
        total += m
        girls = np.flatnonzero(nsex == 1)
        g_rows = new_rows[girls]
        g_age0 = -day[girls]  # "age at day 0" of a newborn: minus its day of birth
        g_start = day[girls]
        g_end = np.minimum(day[girls] + dage[girls] + 1, days)
        keep = g_start < g_end
        girls, g_rows, g_age0, g_start, g_end = (
            girls[keep],
            g_rows[keep],
            g_age0[keep],
            g_start[keep],
            g_end[keep],
        )
    births = total - n0
    if births > capacity:
        raise RuntimeError(
            f"{births} births drawn in a shard of {n0} citizens, more than its headroom of "
            f"{capacity}: lower life.fertility or the shard size"
        )
    born_all = np.concatenate(born)
    died_all = np.concatenate(died)
    sex_all = np.concatenate(sex)
    house_all = np.concatenate(house)
    mother_all = np.concatenate([np.full(n0, -1, dtype=np.int64)] + mothers[1:])
    # rows: each household's members as drawn, then its newborns in order of birth
    newborn = np.arange(total) >= n0
    order = np.lexsort((np.where(newborn, born_all, 0), newborn, house_all))
    demo0 = pop.demo
    keep_bits = ~np.uint16(
        ((1 << lay["sex"][1]) - 1) << lay["sex"][0] | ((1 << lay["age"][1]) - 1) << lay["age"][0]
    )
    demo = np.empty(total, dtype=np.uint16)
    demo[:n0] = demo0
    head = np.zeros(total, dtype=bool)
    head[:n0] = pop.head
    prop = np.empty(total, dtype=np.float16)
    prop[:n0] = pop.propensity
    if births:
        # a newborn takes its household's place (province, urban, group) from its mother
        src = mother_all[n0:]
        for _ in range(64):  # a mother born in the run: her demographics are set first
            if np.all(src < n0):
                break
            src = np.where(src >= n0, mother_all[np.maximum(src, 0)], src)
        demo[n0:] = (demo0[src] & keep_bits) | (sex_all[n0:] << lay["sex"][0]).astype(np.uint16)
        z = rng.standard_normal(births).astype(np.float32)
        prop[n0:] = np.exp(-0.125 + 0.5 * z)  # as population.synthesize (sigma 0.5)
    province = ((demo >> lay["province"][0]) & ((1 << lay["province"][1]) - 1)).astype(np.int64)
    demo, head, prop = demo[order], head[order], prop[order]
    counts = np.bincount(province, minlength=len(pop.census.provinces))
    province_start = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    out = Population(total, demo, head, prop, province_start, pop.census)
    plan = LifePlan(
        born_all[order].astype(np.int32),
        np.minimum(died_all[order], NEVER).astype(np.int32),
        births,
    )
    return out, plan


def start_date(c) -> dt.date:
    """The calendar date of day 0 (``regime.start_date``, else 2014-01-01)."""
    return dt.date.fromisoformat(c.regime.regime.start_date or DEFAULT_START)


class Life(Component):
    """Births, deaths and ageing, at the start of each day; first restrictions, for the
    lifetime figures."""

    name = "life"
    config = "life (schema.Life): enabled, family_marks_follow, fertility, mortality"
    columns = ("flags", "demo", "words", "born", "died")
    phases = ("behave", "sense", "share", "adapt")
    events = ("listed",)
    figures = (
        Figure(
            "children",
            "children (aged 0-14)",
            "citizens",
            "level",
            "living citizens aged 0 to 14 at the end of the day",
            (0, 2),
            "life_course",
            "population",
        ),
        Figure(
            "aged_15_59",
            "aged 15-59",
            "citizens",
            "level",
            "living citizens aged 15 to 59 at the end of the day",
            (0, 3),
            "life_course",
            "population",
        ),
        Figure(
            "aged_60_64",
            "aged 60-64",
            "citizens",
            "level",
            "living citizens aged 60 to 64 at the end of the day",
            (0, 4),
            "life_course",
            "population",
        ),
        Figure(
            "aged_65_plus",
            "aged 65 and over",
            "citizens",
            "level",
            "living citizens aged 65 or more at the end of the day",
            (0, 5),
            "life_course",
            "population",
        ),
        Figure(
            "births",
            "births",
            "citizens",
            "flow",
            "citizens born today (into their mothers' households)",
            (0, 6),
            "life_course",
            "population",
        ),
        Figure(
            "deaths",
            "deaths",
            "citizens",
            "flow",
            "citizens who died today (their listings end)",
            (0, 7),
            "life_course",
            "population",
        ),
        Figure(
            "came_of_age",
            "came of age",
            "citizens",
            "flow",
            "children who turned 15 today",
            (0, 8),
            "life_course",
            "population",
        ),
    )
    headlines = (
        Headline(
            "children",
            "Children (aged 0-14)",
            "last_day",
            "citizens",
            "Living citizens aged 0 to 14 on the last day.",
            (0, 5),
            of="children",
            per="life_course",
        ),
        Headline(
            "births",
            "Births",
            "whole_run",
            "citizens",
            "Citizens born during the run.",
            (0, 6),
            how="sum",
            of="births",
            per="life_course",
        ),
        Headline(
            "deaths",
            "Deaths",
            "whole_run",
            "citizens",
            "Citizens who died during the run.",
            (0, 7),
            how="sum",
            of="deaths",
            per="life_course",
        ),
    )
    ledger = (
        LedgerKind("born", "{day}: born"),
        LedgerKind("died", "{day}: died (every listing ended)"),
        LedgerKind("came_of_age", "{day}: turned 15, an adult in the regime's eyes"),
    )

    @classmethod
    def keys(cls, c) -> list[str]:
        return []

    def active(self) -> bool:
        return bool(self.c.life_course)

    def __init__(self, shard):
        super().__init__(shard)
        if not self.active():
            return
        s = self.s
        plan: LifePlan = shard.life_plan
        self.born, self.died = plan.born, plan.died
        s.born = self.born
        days = shard.days
        n = s.n
        self.follow = self.c.regime.life.family_marks_follow
        s.gone_on = True
        unborn = np.flatnonzero(self.born >= 0)
        s.flags[unborn] |= np.uint8(GONE)
        self._leave(unborn)  # the population figures count the living only

        def bucket(day: np.ndarray, ids: np.ndarray):
            sel = (day >= 0) & (day < days)
            day, ids = day[sel], ids[sel]
            order = np.argsort(day, kind="stable")
            day, ids = day[order], ids[order]
            return ids, np.searchsorted(day, np.arange(days + 1))

        rows = np.arange(n, dtype=np.int64)
        self._birth = bucket(self.born.astype(np.int64), rows)
        self._death = bucket(self.died.astype(np.int64), rows)
        # band changes: a row crosses 15, 60 and 65 on these days (if still alive)
        days_at, ids_at = [], []
        for years in BANDS:
            d = self.born.astype(np.int64) + int(np.ceil(years * YEAR))
            ok = d < self.died
            days_at.append(d[ok])
            ids_at.append(rows[ok])
        self._band = bucket(np.concatenate(days_at), np.concatenate(ids_at))
        # where each citizen's word is (band changes rewrite its demographics there)
        self._where = np.empty(n, dtype=np.uint32)
        self._where[(s.words & np.uint64(0xFFFFFFFF)).astype(np.int64)] = np.arange(
            n, dtype=np.uint32
        )
        # too young to act: the propensity in their words is 0 until ACT_AGE
        act_day = self.born.astype(np.int64) + int(np.ceil(ACT_AGE * YEAR))
        self._young = np.flatnonzero(act_day > 0)
        w = self._where[self._young].astype(np.int64)
        self._young_bits = s.words[w] & _PROPENSITY
        s.words[w] &= ~_PROPENSITY
        self._acts = bucket(act_day[self._young], self._young)
        self.first_own: dict[int, int] = {}  # citizen -> day of its first own listing
        self.first_family: dict[int, int] = {}  # citizen -> first day restricted via family
        self._pending: list[np.ndarray] = []
        self._bands = np.zeros(4, dtype=np.int64)
        living = self.born < 0
        self._bands += np.bincount(s.bits(np.flatnonzero(living), "age"), minlength=4)

    # --- the population figures -------------------------------------------------------
    def _leave(self, ids: np.ndarray, sign: int = -1) -> None:
        """Take citizens out of (``sign`` +1: put them into) the population figures."""
        if ids.size == 0:
            return
        s, m, c = self.s, self.m, self.c
        score = s.score[ids].astype(np.int64)
        m.cur[m.col["citizens"]] += sign * ids.size
        m.cur[m.col["score_sum"]] += sign * int(score.sum())
        m.hist_cur += sign * np.bincount(m.bin(score), minlength=m.nbins)
        tiers = np.bincount(c.tier_of(score), minlength=c.n_tiers)
        for t, name in enumerate(c.tiers):
            m.cur[m.col[f"tier_{name}"]] += sign * int(tiers[t])
        m.group_population += sign * np.bincount(m.slots(ids).ravel(), minlength=m.nslots)
        child = s.child(ids)
        urban = s.bits(ids, "urban")
        for p, who in enumerate(c.attempt_who):
            sel = child if who == "children" else (~child if who == "adults" else None)
            u = urban if sel is None else urban[sel]
            m.eligible_matrix[p] += sign * np.bincount(u, minlength=2)
        if hasattr(self, "_bands"):
            self._bands += sign * np.bincount(s.bits(ids, "age"), minlength=4)

    def _spillover(self, day: int, ids: np.ndarray) -> None:
        if ids.size and self.c.has_spillover:
            self.shard.component("spillover").recompute(day, ids)

    # --- the day ----------------------------------------------------------------------
    def behave(self, day: int) -> None:
        """Deaths, births and birthdays of the day, before anyone acts."""
        s = self.s
        ids, at = self._death
        dead = ids[at[day] : at[day + 1]]
        if dead.size:
            s.flags[dead] |= np.uint8(GONE)
            listed = dead[s.sanction[dead] != 0]
            if listed.size:  # every listing ends with its citizen, permanent or not
                keys = np.fromiter(s.until, dtype=np.int64, count=len(s.until))
                keys = np.sort(keys[np.isin(s.split(keys)[0], listed)])
                lid, k = s.split(keys)
                self.shard.component("sanctions").end(day, lid, k)
            self._spillover(day, dead[s.spill[dead] != 0])
            self._leave(dead)
            s.log("died", day, dead)
            self.m.add("deaths", dead.size)
        ids, at = self._birth
        born = ids[at[day] : at[day + 1]]
        if born.size:
            s.flags[born] &= np.uint8(~GONE & 0xFF)
            self._leave(born, +1)
            s.log("born", day, born)
            self.m.add("births", born.size)
            if self.c.has_spillover:
                fam = s.members(born)
                if s.sanction[fam].any():  # born into a household with a listed member
                    self._spillover(day, born)
                    self._pending.append(born)
        ids, at = self._acts
        school = ids[at[day] : at[day + 1]]
        if school.size:  # reached the age of their own acts: their propensity returns
            w = self._where[school].astype(np.int64)
            s.words[w] |= self._young_bits[np.searchsorted(self._young, school)]
        ids, at = self._band
        older = ids[at[day] : at[day + 1]]
        if older.size:
            self._birthday(day, older)
        for b, name in enumerate(("children", "aged_15_59", "aged_60_64", "aged_65_plus")):
            self.m.cur[self.m.col[name]] = self._bands[b]

    def _birthday(self, day: int, ids: np.ndarray) -> None:
        """Citizens whose age band changes today: their figures move with them."""
        s, m, lay = self.s, self.m, self.c.layout
        status = s.status(ids)
        if not status.any():
            status = None
        else:
            m.status_change(ids, status, np.zeros_like(status))
        joint = self.shard.component("organisations") if self.c.organisations else None
        if joint is not None:
            joint.regroup(ids, -1)
        self._leave(ids)
        shift = lay["age"][0]
        band = s.bits(ids, "age")
        adult = band == 0
        new = np.minimum(band + 1, 3).astype(np.uint16)
        s.demo[ids] = (s.demo[ids] & ~np.uint16(3 << shift)) | (new << shift)
        w = self._where[ids].astype(np.int64)
        s.words[w] = (s.words[w] & np.uint64((1 << 48) - 1)) | (
            s.demo[ids].astype(np.uint64) << np.uint64(48)
        )
        self._leave(ids, +1)
        if status is not None:
            m.status_change(ids, np.zeros_like(status), status)
        if joint is not None:
            joint.regroup(ids, +1)
        grown = ids[adult]
        if grown.size:
            m.add("came_of_age", grown.size)
            s.log("came_of_age", day, grown)
            spilled = grown[s.spill[grown] != 0]
            if self.follow:  # the family's marks follow the restricted into adulthood
                s.grown.update(spilled.tolist())
            self._spillover(day, spilled)

    def sense(self, day: int) -> None:
        """Acts of behaviours without propensity by citizens under school age are dropped
        (those with propensity have none: it is 0 until then), and so are they from the
        day's counts, with and without adaptation."""
        s, ctx, m = self.s, self.ctx, self.m
        start = day - int(np.ceil(ACT_AGE * YEAR))  # born after this day: too young
        for b, beh in enumerate(self.c.regime.behaviours):
            if beh.propensity or b >= len(ctx.acts) or ctx.acts[b].size == 0:
                continue
            acts = ctx.acts[b]
            young = s.born[(acts & np.uint64(0xFFFFFFFF)).astype(np.int64)] > start
            if young.any():
                ctx.acts[b] = acts[~young]
                k = int(young.sum())
                m.add(f"acts_{beh.name}", -k)
                m.add(f"baseline_acts_{beh.name}", -k)

    def share(self, day: int) -> None:
        """No record reaches a citizen not yet born or dead (a lookalike drawn among them,
        or a delayed record arriving after a death, is dropped)."""
        s, ctx = self.s, self.ctx
        for batches in (ctx.records, ctx.pending.get(day, [])):
            for r in batches:
                keep = (s.flags[r.citizen] & GONE) == 0
                if not keep.all():
                    r.citizen, r.actor, r.mis = r.citizen[keep], r.actor[keep], r.mis[keep]

    def on_listed(self, day: int, lst) -> None:
        for i in lst.citizen.tolist():
            self.first_own.setdefault(i, day)
        self._pending.append(self.s.members(lst.citizen))

    def adapt(self, day: int) -> None:
        """First days restricted through family, once spillover is settled for the day."""
        if not self._pending:
            return
        s = self.s
        ids = np.unique(np.concatenate(self._pending))
        self._pending = []
        for i in ids[s.spill[ids] != 0].tolist():
            self.first_family.setdefault(i, day)

    # --- the final state --------------------------------------------------------------
    def columns_of(self, idx: np.ndarray) -> dict[str, np.ndarray]:
        """The life-course columns of citizens ``idx`` in the final state table."""
        import pyarrow as pa

        s, days = self.s, self.shard.days
        born, died = self.born[idx], self.died[idx]
        end = np.minimum(died.astype(np.int64), days)
        mask = lambda a: pa.array(a, mask=a < -(10**8))  # noqa: E731

        def first(d: dict[int, int]) -> np.ndarray:
            return s.mask_of(d, idx, np.int64) - np.where(
                np.isin(idx, np.fromiter(d, dtype=np.int64, count=len(d))), 0, 10**9
            )

        own, fam = first(self.first_own), first(self.first_family)
        return {
            "born_day": born,
            "died_day": pa.array(died, mask=died >= days),
            "age_years": np.round((end - born) / YEAR, 2).astype(np.float32),
            "first_listed_day": mask(own),
            "first_family_day": mask(fam),
        }


def cohorts(citizens, c=None, start: str | None = None, days: int | None = None):
    """Share of each birth cohort (calendar year of birth, born during the run) ever
    restricted, and restricted through family, by each age of ``COHORT_AGES``.

    ``citizens`` is the final state table (a DataFrame with ``born_day``,
    ``first_listed_day`` and ``first_family_day``). A cohort enters the figure for an age
    only once all of it has reached that age within the run; its share carries a 95%
    Wilson interval (a sampled citizens table is a sample of the cohort)."""
    import pandas as pd

    day0 = dt.date.fromisoformat(start or DEFAULT_START)
    df = citizens[citizens["born_day"] >= 0]
    if df.empty:
        return pd.DataFrame()
    year = (np.datetime64(day0) + df["born_day"].to_numpy().astype("timedelta64[D]")).astype(
        "datetime64[Y]"
    ).astype(int) + 1970
    own = df["first_listed_day"].to_numpy(dtype=float, na_value=np.nan)
    fam = df["first_family_day"].to_numpy(dtype=float, na_value=np.nan)
    first = np.fmin(own, fam)
    born = df["born_day"].to_numpy()
    rows = []
    for y in np.unique(year):
        sel = year == y
        last_birth = int(born[sel].max())
        row = {"cohort": int(y), "born": int(sel.sum())}
        for a in COHORT_AGES:
            reached = days is not None and last_birth + int(np.ceil(a * YEAR)) <= days
            limit = born[sel] + a * YEAR
            for key, d in (("restricted", first), ("through_family", fam)):
                k = int(np.sum(d[sel] < limit))
                share, lo, hi = _wilson(k, int(sel.sum())) if reached else (np.nan,) * 3
                row[f"{key}_by_{a}"] = share
                row[f"{key}_by_{a}_low"] = lo
                row[f"{key}_by_{a}_high"] = hi
        rows.append(row)
    return pd.DataFrame(rows)


def _wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float, float]:
    """A share and its 95% Wilson score interval."""
    if n == 0:
        return (np.nan, np.nan, np.nan)
    p = k / n
    d = 1 + z * z / n
    mid = (p + z * z / (2 * n)) / d
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return (p, max(0.0, mid - half), min(1.0, mid + half))
