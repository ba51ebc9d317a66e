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
from credsim.regime.schema import AGE_BANDS

# Bit layout of the packed demographics column.
DEMO_BITS = {"sex": (0, 1), "urban": (1, 1), "age": (2, 2), "group": (4, 3), "province": (7, 5)}
HEAD = np.uint8(1)  # flags bit: first member of a household


def unpack(demo: np.ndarray, what: str) -> np.ndarray:
    """One attribute (sex, urban, age, group, province) from packed demographics."""
    shift, width = DEMO_BITS[what]
    return ((demo >> shift) & ((1 << width) - 1)).astype(np.uint8)


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
            groups=("han", "minority"),
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

    @property
    def households(self) -> int:
        return int(self.head.sum())

    def household_ids(self) -> np.ndarray:
        """Household index of every citizen (0-based within the shard)."""
        return np.cumsum(self.head, dtype=np.int64) - 1

    def attribute(self, what: str) -> np.ndarray:
        return unpack(self.demo, what)


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
    urban = (rng.random(h) < c.urban_share).astype(np.uint16)
    group = rng.choice(len(c.groups), size=h, p=c.group_shares).astype(np.uint16)
    order = np.lexsort((1 - urban, province))  # by province, cities first within each
    sizes, province, urban, group = sizes[order], province[order], urban[order], group[order]
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    head = np.zeros(n, dtype=bool)
    head[starts] = True
    child_p = min(1.0, c.child_share * n / max(1, n - h))
    age = np.where(rng.random(n) < child_p, 0, 1 + rng.choice(3, size=n, p=c.adult_age_shares))
    age[head] = 1 + rng.choice(3, size=h, p=c.adult_age_shares)
    sex = (rng.random(n) >= c.male_share).astype(np.uint16)  # 0 male, 1 female
    demo = (
        sex
        | (np.repeat(urban, sizes) << 1)
        | (age.astype(np.uint16) << 2)
        | (np.repeat(group, sizes) << 4)
        | (np.repeat(province, sizes) << 7)
    ).astype(np.uint16)
    mu = -sigma * sigma / 2
    propensity = rng.lognormal(mu, sigma, n).astype(np.float16)
    counts = np.bincount(np.repeat(province, sizes), minlength=len(c.provinces))
    province_start = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return Population(n, demo, head, propensity, province_start, c)


AGE_LABELS = AGE_BANDS
