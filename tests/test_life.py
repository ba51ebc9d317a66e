"""The life course: rates as the facts give them, the population pyramid after ten years
against its expectation from the rates, a cohort followed from birth, the family's marks
into adulthood, and no change at all while the life course is off."""

from __future__ import annotations

import copy
import subprocess
import sys
import tomllib
from importlib import resources

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from credsim.engine.compiled import Compiled
from credsim.engine.components import life as L
from credsim.engine.sampling import stream
from credsim.facts import china
from credsim.population import Census, synthesize
from credsim.regime.schema import Regime
from credsim.sim import Sim

PYRAMID_N, YEARS, SEED = 100_000, 10, 1
GROUP = 5  # years: the pyramid's age groups (0-4, 5-9, ..., 100+)


def press() -> dict:
    entry = resources.files("credsim.regime.presets").joinpath("press.toml")
    return tomllib.loads(entry.read_text("utf-8"))


def with_life(data: dict, **life) -> dict:
    out = copy.deepcopy(data)
    out["life"] = {"enabled": True, **life}
    return out


# --- the rates --------------------------------------------------------------------------
def test_the_rates_give_the_published_life_expectancy_and_fertility():
    f = china()
    r = L.rates()
    # life expectancy at birth of the tabulated daily hazards, to 0.02 years
    assert abs(r.life_expectancy[0] - f["life"]["life_expectancy_male"]) < 0.02
    assert abs(r.life_expectancy[1] - f["life"]["life_expectancy_female"]) < 0.02
    # infant mortality: the probability of dying in the first year
    q0 = 1 - r.survival(0, np.array([1.0]))[0]
    assert abs(q0 - f["life"]["infant_mortality_per_1000"] / 1000) < 1e-4
    # the total fertility rate is the cumulative fertility at 50
    assert abs(r.fertility[-1] - f["population"]["total_fertility_rate"]) < 1e-3
    assert abs(r.male_at_birth - 111.3 / 211.3) < 1e-9
    # limit cases: no deaths, no births
    assert not L.rates(mortality=0.0).hazard.any()
    assert not L.rates(fertility=0.0).fertility.any()


# --- the pyramid ------------------------------------------------------------------------
def draw(n: int, days: int, seed: int, **life):
    census = Census.from_facts()
    regime = Regime.model_validate(with_life(press(), **life))
    c = Compiled(regime, census.provinces, census.groups)
    pop = synthesize(n, stream(seed, 0, "population"), census)
    room = L.headroom(n, days, regime.life.fertility)
    return pop, *L.expand(c, pop, days, stream(seed, 0, "life"), room)


def pyramid_of(born: np.ndarray, died: np.ndarray, sex: np.ndarray, day: int) -> np.ndarray:
    """[sex, age group] counts of the living at the end of ``day``."""
    alive = (born <= day) & (died > day)
    group = np.minimum((day - born[alive]) / L.YEAR // GROUP, 20).astype(np.int64)
    out = np.zeros((2, 21))
    np.add.at(out, (sex[alive], group), 1)
    return out


def expected_pyramid(age0: np.ndarray, sex0: np.ndarray, day: int, step: int = 30):
    """The expected [sex, age group] counts at the end of ``day`` from the rates alone, given
    the ages (days) and sexes at day 0: survivors of the start, and the children of the
    women of the start born on each ``step`` days and surviving (grandchildren cannot be
    born within ten years)."""
    r = L.rates()
    h = r.hazard
    out = np.zeros((2, 21))
    for s in (0, 1):
        a = age0[sex0 == s]
        alive = np.exp(-(h[s, np.minimum(a + day, h.shape[1] - 1)] - h[s, a]))
        group = np.minimum((a + day) / L.YEAR // GROUP, 20).astype(np.int64)
        np.add.at(out[s], group, alive)
    women = age0[sex0 == 1]
    for t in range(0, day + 1, step):
        width = min(step, day + 1 - t)
        mother = np.exp(-(h[1, np.minimum(women + t, h.shape[1] - 1)] - h[1, women]))
        top = r.fertility.size - 1
        rate = (
            r.fertility[np.minimum(women + t + width, top)]
            - r.fertility[np.minimum(women + t, top)]
        )
        births = float((mother * rate).sum())
        age = day - (t + width / 2)  # a child born mid-step, its age at the end of ``day``
        g = int(min(age / L.YEAR // GROUP, 20))
        for s, share in ((0, r.male_at_birth), (1, 1 - r.male_at_birth)):
            survive = np.exp(-h[s, int(age)])
            out[s, g] += births * share * survive
    return out


def pyramid_check(seed: int, n: int = PYRAMID_N, years: int = YEARS) -> dict:
    days = int(years * L.YEAR)
    pop, grown, plan = draw(n, days + 1, seed)
    sex = grown.attribute("sex").astype(np.int64)
    start = plan.born < 0
    observed = pyramid_of(plan.born, plan.died, sex, days)
    expected = expected_pyramid(-plan.born[start].astype(np.int64), sex[start], days)
    big = expected >= 20
    z = (observed - expected)[big] / np.sqrt(expected[big])
    return {
        "observed": observed,
        "expected": expected,
        "max_z": float(np.abs(z).max()),
        "chi2_per_cell": float((z * z).mean()),
        "cells": int(big.sum()),
        "births": plan.births,
    }


def test_the_pyramid_after_ten_years_is_the_expectation_of_the_rates():
    """Tolerance: every [sex, 5-year group] cell of at least 20 expected citizens within
    4.5 standard deviations (Poisson) of its expectation, and the mean squared z-score
    below 1.6; benchmarks/life_seeds.py checks both on 20 seeds."""
    out = pyramid_check(SEED)
    assert out["cells"] >= 36
    assert out["max_z"] < 4.5, out
    assert out["chi2_per_cell"] < 1.6, out
    # the children of ten years of births are there: groups 0-4 and 5-9
    assert out["observed"][:, :2].sum() > 0.5 * out["expected"][:, :2].sum()


def test_ages_at_the_start_stay_in_their_census_band():
    pop, grown, plan = draw(20_000, 10, SEED)
    start = plan.born < 0
    age = -plan.born[start] / L.YEAR
    band = grown.attribute("age")[start]
    lo, hi = np.array([0, 15, 60, 65])[band], np.array([15, 60, 65, 121])[band]
    assert ((age >= lo) & (age < hi)).all()


def test_newborns_join_their_mothers_households_after_their_members():
    pop, grown, plan = draw(20_000, 3650, SEED)
    house = grown.household_ids()
    newborn = plan.born >= 0
    assert newborn.sum() == plan.births > 0
    # within a household, the newborns come after the members drawn at the start and in
    # order of birth; every household still starts with its first member (an adult)
    for h in np.unique(house[newborn])[:200]:
        rows = np.flatnonzero(house == h)
        nb = newborn[rows]
        assert not nb[0]
        assert (np.diff(nb.astype(int)) >= 0).all()
        assert (np.diff(plan.born[rows][nb]) >= 0).all()
    # a newborn keeps its household's province: provinces stay contiguous
    prov = grown.attribute("province")
    assert (np.diff(prov.astype(int)) >= 0).all()
    assert grown.province_start[-1] == grown.n


def test_zero_rates_are_a_frozen_population():
    pop, grown, plan = draw(5_000, 3650, SEED, fertility=0.0, mortality=0.0)
    assert plan.births == 0 and grown.n == pop.n
    assert (plan.died == L.NEVER).all()


# --- runs -------------------------------------------------------------------------------
N, DAYS = 4_000, 800


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("life")
    base = press()

    def run(data, name, **kw):
        return Sim(data, N, DAYS, SEED, out=tmp / name, workers=1, ledger="full", **kw).run()

    return {
        "off": run(base, "off"),
        "disabled": run({**copy.deepcopy(base), "life": {"enabled": False}}, "disabled"),
        "on": run(with_life(base), "on"),
        "follow": run(with_life(base, family_marks_follow=True), "follow"),
    }


def test_life_course_off_changes_nothing(runs):
    """A regime whose life course is disabled is a placebo: every figure, ledger row and
    citizen is as without the section (the golden baseline holds the presets)."""
    off, disabled = runs["off"], runs["disabled"]
    assert_frame_equal(off.metrics, disabled.metrics)
    q = "SELECT * FROM {} ORDER BY 1"
    for table in ("ledger", "citizens"):
        assert_frame_equal(off.query(q.format(table)), disabled.query(q.format(table)))
    assert "children" not in off.metrics.columns


def test_the_population_figures_follow_births_deaths_and_birthdays(runs):
    on = runs["on"]
    m, cit = on.metrics, on.query("SELECT * FROM citizens ORDER BY citizen")
    born = cit["born_day"].to_numpy()
    died = cit["died_day"].fillna(L.NEVER).to_numpy().astype(np.int64)
    for day in (0, 200, DAYS - 1):
        alive = (born <= day) & (died > day)
        assert int(m["citizens"].iloc[day]) == int(alive.sum())
        age = (day - born[alive]) / L.YEAR
        assert int(m["children"].iloc[day]) == int((age < L.ADULT).sum())
        assert int(m["aged_65_plus"].iloc[day]) == int((age >= 65).sum())
    assert int(m["births"].sum()) == int(((born >= 0) & (born < DAYS)).sum())
    assert int(m["deaths"].sum()) == int((died < DAYS).sum())
    # the census band of the final state is the age reached
    last = (died >= DAYS) & (born < DAYS)
    band = cit["age_band"].astype(str).to_numpy()[last]
    age = (DAYS - 1 - born[last]) / L.YEAR
    assert (band[age < 15] == "0-14").all() and (band[age >= 65] == "65+").all()


def test_a_cohort_followed_from_birth(runs):
    """The citizens born in the run's first year: born on their day, into their mothers'
    households, never acting before school age, restricted only after birth, and gone from
    the ledger after death."""
    on = runs["on"]
    cit = on.query("SELECT * FROM citizens ORDER BY citizen")
    cohort = cit[(cit["born_day"] >= 0) & (cit["born_day"] < 366)]
    assert len(cohort) > 10
    ledger = on.query(
        "SELECT citizen, day, kind FROM ledger WHERE citizen IN "
        f"({','.join(map(str, cohort['citizen']))}) ORDER BY id"
    )
    first = ledger.groupby("citizen").first()
    assert (first["kind"] == "born").all()  # a newborn's story starts with its birth
    born = cohort.set_index("citizen")["born_day"]
    assert (first["day"] == born.loc[first.index]).all()
    # no record of their own: under 6 nobody acts (and the regime's records need acts)
    assert not (ledger["kind"] == "record").any()
    # restricted (through family) only after birth
    fam = cohort["first_family_day"].dropna()
    assert (fam.to_numpy() >= cohort.loc[fam.index, "born_day"].to_numpy()).all()
    # the dead: nothing after their death
    dead = cit[cit["died_day"].notna()]
    rows = on.query("SELECT citizen, day, kind FROM ledger WHERE kind = 'died'")
    assert len(rows) == len(dead) > 0
    after = on.query(
        "SELECT l.citizen FROM ledger l JOIN citizens c USING (citizen) "
        "WHERE c.died_day IS NOT NULL AND l.day > c.died_day"
    )
    assert after.empty
    # a dead citizen is under no sanction and restricted by none
    assert not dead["restricted"].any() and not dead["spillover"].any()


def busy(follow: bool) -> dict:
    """A small regime of many long listings of adults that spill over to their children, so
    that many children are restricted through family when they turn 15."""
    return {
        "regime": {"name": "busy"},
        "behaviours": [{"name": "default", "kind": "debt", "rate": 0.002, "who": "adults"}],
        "sources": [{"name": "court", "kind": "court", "observes": {"default": 1.0}}],
        "rules": [{"behaviour": "default", "delta": 0, "sanction": "ban"}],
        "privileges": [{"name": "private_school", "who": "children"}],
        "sanctions": [
            {
                "name": "ban",
                "duration": 2000,
                "renewal": "never",
                "spillover": {"children": ["private_school"]},
            }
        ],
        "life": {"enabled": True, "family_marks_follow": follow},
    }


@pytest.fixture(scope="module")
def busy_runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("life-busy")
    return {
        f: Sim(busy(f), 3_000, 500, SEED, out=tmp / str(f), workers=1, ledger="full").run()
        for f in (False, True)
    }


def came_of_age_restricted(run) -> tuple[int, int]:
    """Of the children restricted through family when they turned 15: how many stayed
    restricted that day, how many were freed."""
    rows = run.query(
        "SELECT id, citizen, day, kind FROM ledger WHERE kind IN "
        "('came_of_age', 'spillover_start', 'spillover_end') ORDER BY id"
    )
    kept = freed = 0
    for _, mine in rows.groupby("citizen"):
        for i in np.flatnonzero(mine["kind"].to_numpy() == "came_of_age"):
            before = mine.iloc[:i]
            if before.empty or before["kind"].iloc[-1] != "spillover_start":
                continue  # not restricted through family when coming of age
            day = mine["day"].iloc[i]
            after = mine.iloc[i + 1 :]
            freed_now = ((after["day"] == day) & (after["kind"] == "spillover_end")).any()
            freed += bool(freed_now)
            kept += not freed_now
    return kept, freed


def test_family_marks_follow_a_child_into_adulthood_only_when_the_regime_says_so(busy_runs):
    kept, freed = came_of_age_restricted(busy_runs[False])
    assert kept == 0 and freed > 0  # press spills to children only: it ends at 15
    kept, freed = came_of_age_restricted(busy_runs[True])
    assert freed == 0 and kept > 0  # the marks follow them


def test_shards_keep_their_newborns_ids_apart(tmp_path):
    run = Sim(with_life(press()), 3_000, 400, SEED, out=tmp_path / "r", workers=1, shard_size=1000)
    cit = run.run().query("SELECT citizen FROM citizens")
    assert cit["citizen"].is_unique


def test_cohort_shares_wait_for_the_whole_cohort_to_reach_the_age():
    df = pd.DataFrame(
        {
            "born_day": [0, 10, 400, 500],
            "first_listed_day": [100.0, None, None, None],
            "first_family_day": [None, 20.0, None, None],
        }
    )
    out = L.cohorts(df, start="2014-01-01", days=int(19 * L.YEAR)).set_index("cohort")
    assert out.loc[2014, "born"] == 2
    assert out.loc[2014, "restricted_by_18"] == 1.0
    assert out.loc[2014, "through_family_by_18"] == 0.5
    assert out.loc[2014, "restricted_by_18_low"] < 1.0
    assert np.isnan(out.loc[2014, "restricted_by_30"])  # nobody has reached 30
    assert np.isnan(out.loc[2015, "restricted_by_18"])  # born in 2015: 18 in 2033, too late


def test_a_bad_life_setting_is_one_line():
    p = subprocess.run(
        [sys.executable, "-m", "credsim", "run", "press", "--population", "100", "--days", "2"]
        + ["--set", "life.fertility=-1", "--out", "/nonexistent/x"],
        capture_output=True,
        text=True,
    )
    assert p.returncode == 2
    lines = [x for x in p.stderr.strip().splitlines() if x]
    assert len(lines) == 1 and "life.fertility" in lines[0], p.stderr


def test_calibration_matches_the_real_population_on_the_census_day():
    """With the life course on, the real population of the targets is matched to the
    simulated citizens on the census day (2020-11-01), not at the start."""
    from credsim.calibration import Targets, simulated_values

    t = Targets.model_validate(
        {
            "meta": {"name": "t", "start_date": "2020-10-01", "population": 1000},
            "targets": [
                {
                    "name": "x",
                    "metric": "restricted",
                    "kind": "level",
                    "date": "2020-12",
                    "value": 1.0,
                    "tolerance": 0.1,
                    "source": "a test",
                }
            ],
        }
    )
    days = 120
    frozen = pd.DataFrame({"restricted": np.full(days, 10), "citizens": np.full(days, 100)})
    shrinking = frozen.assign(citizens=np.linspace(100, 50, days), births=0)
    at_census = float(shrinking["citizens"].iloc[31])
    assert simulated_values(frozen, t, 10.0)[0] == 100.0
    assert simulated_values(shrinking, t, 10.0)[0] == pytest.approx(100.0 * 100 / at_census)


def test_the_report_and_the_dashboard_show_the_lifetime_figures(tmp_path):
    pytest.importorskip("fastapi")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    from credsim.web.app import create_app

    runs = tmp_path / "runs"
    run = Sim(with_life(press()), 1_500, 1_200, SEED, out=runs / "life-1", workers=1).run()
    from credsim.report import write_report

    page = write_report(run).read_text("utf-8")
    assert 'id="lifetime"' in page and "ever restricted by 18" in page
    base = "http://127.0.0.1"
    with TestClient(create_app(runs), base_url=base, headers={"origin": base}) as client:
        d = client.get("/api/runs/life-1/lifetime").json()
    assert [r["cohort"] for r in d["cohorts"]] == [2014, 2015, 2016, 2017]
    born = run.query("SELECT count(*) AS n FROM citizens WHERE born_day >= 0")["n"].iloc[0]
    assert sum(r["born"] for r in d["cohorts"]) == born
    assert all(r["restricted_by_18"] is None for r in d["cohorts"])  # nobody is 18 yet
