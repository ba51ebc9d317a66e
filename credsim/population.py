"""Synthetic citizens and households, as columns, from census figures and one seed.

Citizens of a shard are stored household by household (members contiguous, the first member
an adult), and households are sorted by province and then by urban/rural, so that a province
or a region is a contiguous range of citizens. Demographics are packed into one ``uint16``
per citizen (see ``DEMO_BITS``). No real person's data is used, ever.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from credsim.facts import china
from credsim.regime.schema import AGE_BANDS, GROUPS

DEMO_WIDTH = 16  # bits of the packed demographics column (uint16)


def demo_layout(groups: int = 8, provinces: int = 32) -> dict[str, tuple[int, int]]:
    """Bit layout (shift, width) of the packed demographics column, in one place.

    Sex (1 bit), urban (1) and age band (2) come first; the group and province fields are
    as wide as their counts need, at least 3 and 5 bits (the layout of up to 8 groups and 32
    provinces, which every shipped regime uses). They share 16 bits: up to 4096 group x
    province combinations (e.g. 64 groups and 64 provinces, or 16 and 256).
    """
    gw = max(3, (max(groups, 1) - 1).bit_length())
    pw = max(5, (max(provinces, 1) - 1).bit_length())
    if 4 + gw + pw > DEMO_WIDTH:
        raise ValueError(
            f"{groups} groups and {provinces} provinces need {4 + gw + pw} bits of "
            f"demographics; at most {DEMO_WIDTH} are packed"
        )
    return {
        "sex": (0, 1),
        "urban": (1, 1),
        "age": (2, 2),
        "group": (4, gw),
        "province": (4 + gw, pw),
    }


DEMO_BITS = demo_layout()  # the default layout (8 groups, 32 provinces)
HEAD = np.uint8(1)  # flags bit: first member of a household


def layout_array(layout: dict[str, tuple[int, int]]) -> np.ndarray:
    """The layout as the kernels read it: urban shift, age shift, group shift and mask,
    province shift and mask."""
    g, p = layout["group"], layout["province"]
    return np.array(
        [layout["urban"][0], layout["age"][0], g[0], (1 << g[1]) - 1, p[0], (1 << p[1]) - 1],
        dtype=np.int64,
    )


def unpack(demo: np.ndarray, what: str, layout: dict | None = None) -> np.ndarray:
    """One attribute (sex, urban, age, group, province) from packed demographics."""
    shift, width = (layout or DEMO_BITS)[what]
    return ((demo >> shift) & ((1 << width) - 1)).astype(np.uint8 if width <= 8 else np.uint16)


@dataclass(frozen=True)
class Census:
    """The figures a synthetic population is drawn from, each traceable to china.toml."""

    provinces: tuple[str, ...]
    province_weights: np.ndarray
    urban_share: float
    male_share: float
    child_share: float
    adult_age_shares: np.ndarray  # 15-59, 60-64, 65+ among adults
    household_mean: float
    single_share: float
    groups: tuple[str, ...]
    group_shares: np.ndarray
    sources: dict[str, str] = field(default_factory=dict)

    @property
    def layout(self) -> dict[str, tuple[int, int]]:
        """The bit layout of these citizens' packed demographics."""
        return demo_layout(len(self.groups), len(self.provinces))

    @staticmethod
    def from_facts() -> Census:
        """The 2020 census as recorded in the shipped facts."""
        f = china()["population"]
        prov = {k: v for k, v in f["provinces"].items() if k not in ("source", "active_military")}
        w = np.array(list(prov.values()), dtype=np.float64)
        age = f["age"]
        adults = np.array(
            [
                age["age_15_59_pct"],
                age["age_60_plus_pct"] - age["age_65_plus_pct"],
                age["age_65_plus_pct"],
            ]
        )
        eth = f["ethnicity"]
        return Census(
            provinces=tuple(prov),
            province_weights=w / w.sum(),
            urban_share=f["urban_share_pct"] / 100,
            male_share=f["male_share_pct"] / 100,
            child_share=age["age_0_14_pct"] / 100,
            adult_age_shares=adults / adults.sum(),
            household_mean=f["households"]["avg_family_household_size"],
            single_share=f["households"]["one_person_household_share_pct"] / 100,
            groups=GROUPS,
            group_shares=np.array([eth["han_pct"], eth["minority_pct"]]) / 100,
            sources={
                "provinces": f["provinces"]["source"],
                "urban": f["urban_source"],
                "sex": f["sex_source"],
                "age": age["source"],
                "households": f["households"]["source"],
                "single_share": f["households"]["one_person_source"],
                "groups": eth["source"],
            },
        )


@dataclass
class Population:
    """One shard's citizens: packed demographics, household flags and propensity."""

    n: int
    demo: np.ndarray  # uint16, packed (DEMO_BITS)
    head: np.ndarray  # bool, first member of a household
    propensity: np.ndarray  # float16, lognormal, mean 1
    province_start: np.ndarray  # int64 [31 + 1], contiguous province ranges
    census: Census
    # each citizen's organisation (-1: none), set by the organisations component where a
    # regime has them; ties cut colleagues' teams within it
    employer: np.ndarray | None = None

    @property
    def households(self) -> int:
        return int(self.head.sum())

    def household_ids(self) -> np.ndarray:
        """Household index of every citizen (0-based within the shard)."""
        return np.cumsum(self.head, dtype=np.int64) - 1

    def attribute(self, what: str) -> np.ndarray:
        return unpack(self.demo, what, self.census.layout)


_CHUNK = 1 << 16  # citizens drawn at a time


def synthesize(
    n: int, rng: np.random.Generator, census: Census | None = None, sigma: float = 0.5
) -> Population:
    """Draw ``n`` synthetic citizens in households (vectorised, deterministic from ``rng``).

    Household sizes: one person with the census one-person share, otherwise 2 + Poisson(lam)
    with lam set so that the mean size is the census mean (2.62). The first member of each
    household is an adult; other members are children with the probability that makes the
    0-14 share match the census. Province, urban/rural and group are per household.
    """
    if n < 1:
        raise ValueError("population must be at least 1 citizen")
    c = census or Census.from_facts()
    lam = (c.household_mean - c.single_share) / (1 - c.single_share) - 2
    est = int(n / c.household_mean * 1.05) + 16
    sizes = np.empty(0, dtype=np.int64)
    while sizes.sum() < n:
        more = np.where(rng.random(est) < c.single_share, 1, 2 + rng.poisson(lam, est))
        sizes = np.concatenate([sizes, more])
    ends = np.cumsum(sizes)
    h = int(np.searchsorted(ends, n)) + 1
    sizes = sizes[:h]
    sizes[-1] -= int(ends[h - 1] - n)
    province = rng.choice(len(c.provinces), size=h, p=c.province_weights).astype(np.uint16)
    urban = (rng.random(h, dtype=np.float32) < c.urban_share).astype(np.uint16)
    group = rng.choice(len(c.groups), size=h, p=c.group_shares).astype(np.uint16)
    # by province, cities first within each (a stable radix sort of a small key)
    key = province * 2 + (1 - urban)
    order = np.argsort(key.astype(np.uint8) if len(c.provinces) <= 128 else key, kind="stable")
    sizes, province = sizes[order], province[order]
    lay = c.layout
    house = (
        (urban[order] << lay["urban"][0])
        | (group[order] << lay["group"][0])
        | (province << lay["province"][0])
    )
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    head = np.zeros(n, dtype=bool)
    head[starts] = True
    # Per-citizen draws come in chunks: the same numbers as one call per array (the stream
    # is consumed in the same order), without temporaries the size of the population.
    chunks = [(a, min(a + _CHUNK, n)) for a in range(0, n, _CHUNK)]
    # one uniform per citizen decides child or adult and the adult's age band
    child_p = min(1.0, c.child_share * n / max(1, n - h))
    cdf = np.cumsum(c.adult_age_shares)[:-1].astype(np.float32)
    age = np.empty(n, dtype=np.uint16)
    for a, b in chunks:
        u = rng.random(b - a, dtype=np.float32)
        adult_u = (u - np.float32(child_p)) / np.float32(max(1e-12, 1.0 - child_p))
        age[a:b] = 1 + (adult_u >= cdf[0]).astype(np.uint16) + (adult_u >= cdf[1])
        age[a:b][u < child_p] = 0
    uh = rng.random(h, dtype=np.float32)
    age[head] = 1 + (uh >= cdf[0]).astype(np.uint16) + (uh >= cdf[1])
    demo = np.repeat(house, sizes)
    for a, b in chunks:
        sex = (rng.random(b - a, dtype=np.float32) >= c.male_share).astype(np.uint16)  # 1 female
        demo[a:b] |= sex | (age[a:b] << lay["age"][0])
    del age
    mu = -sigma * sigma / 2
    propensity = np.empty(n, dtype=np.float16)
    for a, b in chunks:
        z = rng.standard_normal(b - a, dtype=np.float32)
        propensity[a:b] = np.exp(mu + sigma * z)
    counts = np.bincount(province, weights=sizes, minlength=len(c.provinces)).astype(np.int64)
    province_start = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return Population(n, demo, head, propensity, province_start, c)


AGE_LABELS = AGE_BANDS
