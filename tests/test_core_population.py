"""The synthetic population reproduces the census figures it is drawn from.

Each figure is checked on the pooled citizens of a few seeded populations of 20,000, with a
tolerance of Z standard deviations of the figure, derived in a comment. Attributes drawn per
household (province, urban/rural) vary with the sum of squared household sizes, not with the
number of citizens.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import credsim
from credsim.population import Census, synthesize, unpack

N = 20_000
SEEDS = (1, 2, 3, 4, 5)
Z = 4.0  # two-sided false alarm ~6e-5 per check


@pytest.fixture(scope="module")
def census() -> Census:
    return Census.from_facts()


@pytest.fixture(scope="module")
def pops(census):
    return [synthesize(N, np.random.default_rng(seed), census) for seed in SEEDS]


def household_sizes(pop) -> np.ndarray:
    starts = np.flatnonzero(pop.head)
    return np.diff(np.append(starts, pop.n))


def pooled(pops, what: str) -> np.ndarray:
    return np.concatenate([unpack(p.demo, what) for p in pops])


def total(pops) -> int:
    return sum(p.n for p in pops)


def test_census_figures(census):
    # The figures the population is drawn from, as published (2020 census).
    assert census.household_mean == 2.62
    assert census.child_share == pytest.approx(0.1795)
    assert census.urban_share == pytest.approx(0.6389)
    assert census.male_share == pytest.approx(0.5124)
    assert len(census.provinces) == 31
    assert census.province_weights.sum() == pytest.approx(1.0)
    assert (census.province_weights > 0).all()


def test_sizes_and_types(pops):
    for p in pops:
        assert p.n == N
        assert p.demo.shape == p.head.shape == p.propensity.shape == (N,)
        assert household_sizes(p).sum() == N


def test_mean_household_size(pops, census):
    sizes = np.concatenate([household_sizes(p) for p in pops])
    # Sizes are 1 with the one-person share s, otherwise 2 + Poisson(lam), with lam chosen so
    # that the mean is 2.62. The mean of H sizes has sd sqrt(Var(size) / H), about 0.007.
    s = census.single_share
    lam = (census.household_mean - s) / (1 - s) - 2
    mean = s + (1 - s) * (2 + lam)
    var = s + (1 - s) * ((2 + lam) ** 2 + lam) - mean**2
    assert mean == pytest.approx(2.62)
    got = total(pops) / sizes.size  # citizens per household
    assert abs(got - 2.62) <= Z * math.sqrt(var / sizes.size), got
    # one-person households: binomial share of households, sd sqrt(s (1 - s) / H)
    single = np.mean(sizes == 1)
    assert abs(single - s) <= Z * math.sqrt(s * (1 - s) / sizes.size), single


def test_children_share(pops, census):
    # Children are drawn among non-heads with the probability that makes the expected share
    # exactly 17.95%; the count is binomial over the non-heads: sd <= sqrt(n p (1 - p)).
    age = pooled(pops, "age")
    n = age.size
    p = census.child_share
    got = np.mean(age == 0)
    assert abs(got - p) <= Z * math.sqrt(p * (1 - p) / n), got  # 4 sd = 0.49 points


def test_adult_age_bands(pops):
    # 15-59: 63.35%, 60-64: 18.70 - 13.50 = 5.20%, 65+: 13.50% of everyone (census). Each
    # citizen's band is independent given whether they are a child, which makes the count
    # binomial over all citizens: sd sqrt(p (1 - p) / n).
    age = pooled(pops, "age")
    n = age.size
    for band, p in ((1, 0.6335), (2, 0.0520), (3, 0.1350)):
        got = np.mean(age == band)
        assert abs(got - p) <= Z * math.sqrt(p * (1 - p) / n), (band, got, p)


def test_male_share(pops, census):
    # Sex is drawn per citizen: binomial sd sqrt(p (1 - p) / n), 4 sd = 0.45 points.
    sex = pooled(pops, "sex")
    p = census.male_share
    got = np.mean(sex == 0)  # 0 is male
    assert abs(got - p) <= Z * math.sqrt(p * (1 - p) / sex.size), got


def test_urban_share(pops, census):
    # Urban/rural is drawn per household, so the citizens' share has
    # sd sqrt(p (1 - p) * sum(size^2)) / n (households of s members move s citizens at once).
    urban = pooled(pops, "urban")
    sizes = np.concatenate([household_sizes(p) for p in pops])
    p = census.urban_share
    sd = math.sqrt(p * (1 - p) * np.sum(sizes.astype(float) ** 2)) / urban.size
    got = np.mean(urban == 1)
    assert abs(got - p) <= Z * sd, (got, p, sd)


def test_province_shares(pops, census):
    w = census.province_weights
    k = len(w)
    # Households pick their province from the census weights: the household counts are
    # multinomial, tested with Pearson's chi-square (30 degrees of freedom; the smallest
    # expected count, Tibet's, is about 100). Refused below a p-value of 1e-4.
    heads = np.concatenate([unpack(p.demo, "province")[p.head] for p in pops])
    observed = np.bincount(heads, minlength=k)
    expected = heads.size * w
    chi2 = float(np.sum((observed - expected) ** 2 / expected))
    assert stats.chi2.sf(chi2, k - 1) > 1e-4, chi2
    # Citizens' shares: per province, sd sqrt(w (1 - w) sum(size^2)) / n as for urban;
    # 4.5 sd so that 31 checks together still false-alarm less than once in 4,000.
    prov = pooled(pops, "province")
    sizes = np.concatenate([household_sizes(p) for p in pops])
    share = np.bincount(prov, minlength=k) / prov.size
    sd = np.sqrt(w * (1 - w) * np.sum(sizes.astype(float) ** 2)) / prov.size
    worst = np.max(np.abs(share - w) / sd)
    assert worst <= 4.5, (worst, census.provinces[int(np.argmax(np.abs(share - w) / sd))])


def test_group_shares(pops, census):
    # Group (Han/minority) is drawn per household like urban/rural.
    group = pooled(pops, "group")
    sizes = np.concatenate([household_sizes(p) for p in pops])
    p = census.group_shares[1]
    sd = math.sqrt(p * (1 - p) * np.sum(sizes.astype(float) ** 2)) / group.size
    assert abs(np.mean(group == 1) - p) <= Z * sd


def test_propensity(pops):
    m = np.concatenate([p.propensity.astype(np.float64) for p in pops])
    assert np.isfinite(m).all() and (m > 0).all()
    # Lognormal with sigma 0.5 scaled to mean 1: Var(m) = exp(0.25) - 1 = 0.284, so the mean
    # of n draws has sd sqrt(0.284 / n) = 0.0017 (float16 storage rounds each value by at
    # most 2^-11 relative, without bias).
    var_m = math.exp(0.25) - 1
    assert abs(m.mean() - 1.0) <= Z * math.sqrt(var_m / m.size), m.mean()
    # log m ~ Normal(-0.125, 0.5): sd of the sample mean 0.5 / sqrt(n), of the sample sd
    # 0.5 / sqrt(2 n); float16 adds at most ~5e-4 in log terms.
    logm = np.log(m)
    assert abs(logm.mean() + 0.125) <= Z * 0.5 / math.sqrt(m.size) + 5e-4
    assert abs(logm.std() - 0.5) <= Z * 0.5 / math.sqrt(2 * m.size) + 5e-4


def test_households_are_contiguous_with_an_adult_head(pops):
    for p in pops:
        assert p.head[0]
        hh = p.household_ids()
        assert (np.diff(hh) >= 0).all() and hh[-1] == p.households - 1
        heads = np.flatnonzero(p.head)
        age = unpack(p.demo, "age")
        assert (age[heads] != 0).all()  # every head is an adult (15+)
        # household attributes are the head's for every member
        for what in ("province", "urban", "group"):
            a = unpack(p.demo, what)
            assert (a == a[heads][hh]).all(), what
        assert household_sizes(p).min() >= 1


def test_provinces_are_contiguous_cities_first(pops, census):
    for p in pops:
        prov = unpack(p.demo, "province").astype(np.int64)
        assert (np.diff(prov) >= 0).all()
        counts = np.bincount(prov, minlength=len(census.provinces))
        assert (np.diff(p.province_start) == counts).all()
        assert p.province_start[0] == 0 and p.province_start[-1] == p.n
        urban = unpack(p.demo, "urban").astype(np.int64)
        for k in range(len(census.provinces)):
            lo, hi = p.province_start[k], p.province_start[k + 1]
            assert (np.diff(urban[lo:hi]) <= 0).all()  # urban (1) first, then rural (0)


def test_same_seed_same_population(census):
    a = synthesize(N, np.random.default_rng(42), census)
    b = synthesize(N, np.random.default_rng(42), census)
    for field in ("demo", "head", "propensity", "province_start"):
        assert np.array_equal(getattr(a, field), getattr(b, field)), field
    c = synthesize(N, np.random.default_rng(43), census)
    assert not np.array_equal(a.demo, c.demo)
    assert not np.array_equal(a.propensity, c.propensity)


@pytest.mark.parametrize("n", [1, 2, 3, 17])
def test_tiny_populations(census, n):
    p = synthesize(n, np.random.default_rng(0), census)
    assert p.n == n and p.head[0]
    assert household_sizes(p).sum() == n
    assert (unpack(p.demo, "age")[p.head] != 0).all()


def test_zero_citizens_is_refused():
    with pytest.raises(ValueError):
        synthesize(0, np.random.default_rng(0))


def test_run_citizens_table_keeps_households(tmp_path):
    r = credsim.Sim("ref1", population=5_000, days=1, seed=9, out=tmp_path / "run").run()
    c = r.citizens
    assert c["citizen"].tolist() == list(range(5_000))
    # a household is named after its head, who comes first and is an adult
    heads = c[c["head"]]
    assert (heads["household"] == heads["citizen"]).all()
    assert (heads["age_band"] != "0-14").all()
    assert (c["household"] <= c["citizen"]).all()
    assert c["household"].is_monotonic_increasing
    assert set(c["household"]) == set(heads["citizen"])
    assert (c.groupby("household")["province"].nunique() == 1).all()


def test_citizens_written_in_small_tables_are_the_same(tmp_path, monkeypatch):
    def run(name):
        out = tmp_path / name
        return credsim.Sim("press", population=30_000, days=60, seed=2, out=out).run()

    whole = run("whole").citizens
    monkeypatch.setattr("credsim.engine.shard.CITIZEN_ROWS", 999)
    pieces = run("pieces")
    pd.testing.assert_frame_equal(whole, pieces.citizens)
    import pyarrow.parquet as pq

    assert pq.ParquetFile(pieces.path / "citizens.parquet").num_row_groups >= 30
