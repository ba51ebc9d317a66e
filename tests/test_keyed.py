"""Keyed random numbers: a change that cannot reach a figure leaves it byte-identical.

Every random decision is a function of (seed, component, key), so two regimes run on one
seed differ only where their rules differ. Each test runs the press preset twice on the same
seed, changed in one place, and compares every figure the change cannot reach: the daily
metrics, the ledger and the final state of every citizen. Two seeds each.
"""

from __future__ import annotations

import copy
import tomllib
from importlib import resources

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from credsim.engine.compiled import Compiled
from credsim.engine.shard import Shard
from credsim.ledger import Ledger
from credsim.population import Census, synthesize
from credsim.regime.load import load_regime
from credsim.sim import Sim

N, DAYS = 20_000, 365
SEEDS = [3, 17]


def press() -> dict:
    entry = resources.files("credsim.regime.presets").joinpath("press.toml")
    return tomllib.loads(entry.read_text("utf-8"))


def outputs(data: dict, seed: int, tmp_path, name: str):
    run = Sim(data, N, DAYS, seed, out=tmp_path / name, workers=1, ledger="full").run()
    ledger = run.query("SELECT * FROM ledger ORDER BY id")
    citizens = run.query("SELECT * FROM citizens ORDER BY citizen")
    return run.metrics, ledger, citizens


def same_where_shared(a: pd.DataFrame, b: pd.DataFrame, skip=()):
    shared = [c for c in a.columns if c in b.columns and c not in skip]
    assert len(shared) > 10
    assert_frame_equal(a[shared], b[shared])


@pytest.mark.parametrize("seed", SEEDS)
def test_removing_green_lanes_changes_nothing_else(seed, tmp_path):
    base = press()
    without = copy.deepcopy(base)
    without["green_lanes"] = []
    m1, l1, c1 = outputs(base, seed, tmp_path, "with")
    m2, l2, c2 = outputs(without, seed, tmp_path, "without")
    assert m1["benefits"].sum() > 0 and m2["benefits"].sum() == 0
    same_where_shared(m1, m2, skip=("benefits",))
    assert_frame_equal(l1, l2)
    assert_frame_equal(c1, c2)


@pytest.mark.parametrize("seed", SEEDS)
def test_a_privilege_nobody_attempts_changes_nothing_else(seed, tmp_path):
    base = press()
    more = copy.deepcopy(base)
    more["privileges"].insert(0, {"name": "museum", "attempts_urban": 0, "attempts_rural": 0})
    more["sanctions"][0]["privileges"].insert(0, "museum")
    m1, l1, c1 = outputs(base, seed, tmp_path, "base")
    m2, l2, c2 = outputs(more, seed, tmp_path, "more")
    assert m2["attempts_museum"].sum() == 0
    assert m1["denied_rail"].sum() > 0
    same_where_shared(m1, m2)
    assert_frame_equal(l1, l2)
    same_where_shared(c1, c2)


@pytest.mark.parametrize("seed", SEEDS)
def test_a_sanction_on_a_tier_nobody_reaches_changes_nothing_else(seed, tmp_path):
    base = press()
    deeper = copy.deepcopy(base)
    deeper["tiers"][-1]["min"] = -30_000 + 1  # below the score's floor: nobody gets there
    deeper["score"] = {**deeper.get("score", {}), "min": -30_000}
    deeper["tiers"].append({"name": "abyss"})
    deeper["sanctions"].append({"name": "exile", "tier": "abyss", "privileges": ["flight"]})
    m1, l1, c1 = outputs(base, seed, tmp_path, "base")
    m2, l2, c2 = outputs(deeper, seed, tmp_path, "deeper")
    assert m2["tier_abyss"].max() == 0
    # the score's floor moved, so its histogram's bins did: compare everything but those
    skip = [c for c in m1.columns if c.startswith("score_")]
    same_where_shared(m1, m2, skip=skip)
    assert_frame_equal(l1, l2)
    same_where_shared(c1, c2)


@pytest.mark.parametrize("seed", SEEDS)
def test_another_redress_acceptance_changes_only_what_it_reaches(seed, tmp_path):
    base = press()
    base["adaptation"]["enabled"] = False  # so behaviour cannot answer the change
    other = copy.deepcopy(base)
    other["sanctions"][0]["redress"]["accept"] = 0.6
    m1, l1, _ = outputs(base, seed, tmp_path, "a")
    m2, l2, _ = outputs(other, seed, tmp_path, "b")
    # acts, records and misattributions are the same; redress and what follows are not
    reached = ("acts_", "baseline_acts_", "records_", "misattributed")
    cols = [c for c in m1.columns if c.startswith(reached)]
    assert len(cols) > 20
    assert_frame_equal(m1[cols], m2[cols])
    assert m1["redress_accepted"].sum() < m2["redress_accepted"].sum()
    r1 = l1[l1["kind"] == "record"].drop(columns=["id", "score_before", "score_after"])
    r2 = l2[l2["kind"] == "record"].drop(columns=["id", "score_before", "score_after"])
    assert_frame_equal(r1.reset_index(drop=True), r2.reset_index(drop=True))


def shard(seed: int, data: dict, n: int = 50_000) -> Shard:
    r = load_regime(data)
    census = Census.from_facts()
    c = Compiled(r, census.provinces, census.groups)
    from credsim.engine.sampling import stream

    pop = synthesize(n, stream(seed, 0, "population"), census)
    names = {
        "sources": c.sources,
        "rules": c.rules,
        "sanctions": c.sanctions,
        "privileges": c.privileges,
    }
    return Shard(c, pop, seed, 0, 0, 365, Ledger(0.0, 0, range(n), None, names))


@pytest.mark.parametrize("seed", SEEDS)
def test_a_higher_rate_keeps_every_act_of_the_lower(seed):
    data = press()
    data["adaptation"]["enabled"] = False
    low = shard(seed, data)
    data_high = copy.deepcopy(data)
    for b in data_high["behaviours"]:
        b["rate"] = b["rate"] * 1.7
    high = shard(seed, data_high)
    added = 0
    for day in range(60):
        for a, b in zip(low.acts(day), high.acts(day), strict=True):
            sa, sb = set(a.tolist()), set(b.tolist())
            assert sa <= sb
            added += len(sb - sa)
    assert added > 0


def test_act_counts_match_their_probabilities():
    # Over 200 days of 50,000 citizens the acts of each behaviour are a sum of Bernoulli
    # draws with known probabilities: the count is within 5 standard deviations of its mean.
    data = press()
    data["adaptation"]["enabled"] = False
    s = shard(5, data)
    counts = np.zeros(len(s.c.regime.behaviours))
    for day in range(200):
        counts += [a.size for a in s.acts(day)]
    prop = np.zeros(s.state.n)
    from credsim.engine.kernels import unpack_propensity

    half = np.empty(s.state.n, dtype=np.uint16)
    unpack_propensity(s.state.words, half)
    prop = half.view(np.float16).astype(np.float64)
    from credsim.engine.state import bits

    urban = bits(s.state.demo, "urban", s.c.layout)
    child = bits(s.state.demo, "age", s.c.layout) == 0
    for b, beh in enumerate(s.c.regime.behaviours):
        place = s.c.place_factor[b][urban, np.where(child, 1, 0)]
        p = beh.rate * place * (prop if beh.propensity else 1.0)
        p = np.minimum(p, 1.0)
        mean = 200 * p.sum()
        sd = np.sqrt(200 * (p * (1 - p)).sum())
        assert abs(counts[b] - mean) <= 5 * sd + 1, (beh.name, counts[b], mean, sd)
