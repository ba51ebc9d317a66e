"""Limits: rates of 0 and 1, no detection, unreachable tiers, one citizen, one day."""

from __future__ import annotations

import tempfile

import numpy as np
import pytest

import credsim

N, DAYS = 3_000, 200


def sim(folder, regime="ref1", overrides=(), population=N, days=DAYS, seed=3):
    """Run into a new folder under ``folder``."""
    out = tempfile.mkdtemp(dir=folder)
    return credsim.Sim(
        regime, population=population, days=days, seed=seed, overrides=overrides, out=out
    ).run()


def no_detection(regime: str) -> tuple[str, ...]:
    """Overrides that set every source's probability of recording every behaviour to 0."""
    r = credsim.load_regime(regime)
    return tuple(f"sources.{s.name}.observes.{b}=0" for s in r.sources for b in sorted(s.observes))


@pytest.mark.parametrize(
    "override", ["behaviours[0].rate=0", "behaviours.jaywalking.rate=0"], ids=["index", "name"]
)
def test_rate_zero_gives_no_acts(tmp_path, override):
    m = sim(tmp_path, overrides=(override,)).metrics
    for col in ("acts_jaywalking", "baseline_acts_jaywalking", "records_jaywalking"):
        assert m[col].sum() == 0, col
    # the other behaviours still happen (about N * DAYS * 0.01 = 6,000 purchases)
    assert m["acts_buy_domestic"].sum() > 0
    assert m["acts_smoking_in_nonsmoking_area"].sum() > 0


def test_index_and_name_address_the_same_item():
    by_index = credsim.load_regime("ref1", ("behaviours[0].rate=0",))
    by_name = credsim.load_regime("ref1", ("behaviours.jaywalking.rate=0",))
    assert by_index == by_name
    assert by_index.behaviours[0].rate == 0
    rules_by_behaviour = credsim.load_regime("ref1", ("rules.critical_post.delta=-7",))
    assert rules_by_behaviour.rules[2].delta == -7


@pytest.mark.parametrize("regime", ["ref1", "press"])
def test_no_detection_leaves_every_score_unchanged(tmp_path, regime):
    overrides = no_detection(regime)
    assert len(overrides) >= 4
    r = sim(tmp_path, regime, overrides)
    initial = credsim.load_regime(regime).score.initial
    m, citizens = r.metrics, r.citizens
    assert m[[c for c in m if c.startswith("acts_")]].to_numpy().sum() > 0  # acts happen...
    assert m[[c for c in m if c.startswith("records")]].to_numpy().sum() == 0  # ...unseen
    assert (citizens["score"] == initial).all()
    assert (m["score_mean"] == initial).all()
    assert m["restricted"].sum() == 0
    assert m["sanctions_started"].sum() == 0
    assert not citizens["ever_sanctioned"].any()


def test_tier_below_the_score_minimum_bans_nobody(tmp_path):
    # Critical posts 400 times more often (about 32 detected in 200 days, -50 each), so that
    # most scores reach the minimum of 0.
    # The tier starts at the score minimum itself (a tier below it is refused): scores clamp
    # at 0, so none is ever below the tier.
    r = sim(tmp_path, overrides=("tiers[0].min=0", "behaviours.critical_post.rate=0.2"))
    m, citizens = r.metrics, r.citizens
    assert citizens["score"].min() == 0  # scores as low as they go...
    assert (citizens["score"] == 0).mean() > 0.5
    assert m["restricted"].sum() == 0  # ...and nobody is below the tier
    assert m["sanctions_started"].sum() == 0
    assert m["tier_blacklisted"].sum() == 0
    assert (m["tier_normal"] == N).all()


def test_the_same_run_with_the_ref1_tier_bans(tmp_path):
    # The same run as above with the REF-1 tier: the low scores do lead to bans.
    r = sim(tmp_path, overrides=("behaviours.critical_post.rate=0.2",))
    assert r.metrics["restricted"].iloc[-1] > N / 2


ONLY_PURCHASES = (
    "behaviours.jaywalking.rate=0",
    "behaviours.smoking_in_nonsmoking_area.rate=0",
    "behaviours.critical_post.rate=0",
    "behaviours.buy_domestic.rate=1",
)


def test_rate_one_means_every_adult_every_day(tmp_path):
    # Purchases by adults only, at rate 1: each day every adult buys (+1), no child does.
    n, days = 500, 400
    r = sim(
        tmp_path,
        overrides=ONLY_PURCHASES + ("behaviours.buy_domestic.who=adults",),
        population=n,
        days=days,
    )
    m, citizens = r.metrics, r.citizens
    adult = citizens["age_band"] != "0-14"
    assert 0 < adult.sum() < n
    assert (m["acts_buy_domestic"] == adult.sum()).all()
    assert (m["records_buy_domestic"] == adult.sum()).all()  # detected with probability 1
    # +1 a day from 1000, clamped at the maximum of 1300; children stay at 1000
    assert (citizens.loc[adult, "score"] == 1300).all()
    assert (citizens.loc[~adult, "score"] == 1000).all()


def test_rate_one_means_every_citizen_every_day(tmp_path):
    n, days = 500, 400
    r = sim(tmp_path, overrides=ONLY_PURCHASES, population=n, days=days)
    m = r.metrics
    assert (m["acts_buy_domestic"] == n).all()
    # +1 a day from 1000, clamped at the maximum of 1300
    expected = np.minimum(1001 + np.arange(days), 1300)
    assert (m["score_mean"].to_numpy() == expected).all()
    assert (r.citizens["score"] == 1300).all()


@pytest.mark.parametrize("regime", ["ref1", "press"])
@pytest.mark.parametrize("days", [1, 30])
def test_population_of_one_runs(tmp_path, regime, days):
    r = sim(tmp_path, regime, population=1, days=days)
    assert len(r.metrics) == days
    assert (r.metrics["citizens"] == 1).all()
    assert len(r.citizens) == 1
    assert bool(r.citizens["head"].iloc[0])
    assert r.citizens["age_band"].iloc[0] != "0-14"
    assert r.manifest["status"] == "complete"


def test_population_of_one_runs_for_years(tmp_path):
    # With one citizen, any act is every citizen acting. 400 days at 0.01 a day expect 4
    # purchases; seed 1 has some (seed 3 has none, which happens with probability e^-4).
    r = sim(tmp_path, "ref1", population=1, days=400, seed=1)
    assert len(r.metrics) == 400
    assert r.metrics["acts_buy_domestic"].sum() > 0


@pytest.mark.parametrize("regime", ["ref1", "press"])
def test_one_day_runs(tmp_path, regime):
    r = sim(tmp_path, regime, days=1)
    m = r.metrics
    assert len(m) == 1
    assert m["day"].tolist() == [0]
    assert int(m["citizens"].iloc[0]) == N
    assert len(r.citizens) == N
    assert r.summary["days"] == 1


@pytest.mark.parametrize(
    "kwargs", [{"population": 0}, {"days": 0}, {"days": 32_001}], ids=lambda k: str(k)
)
def test_impossible_sizes_are_refused(kwargs):
    with pytest.raises(ValueError):
        credsim.Sim("ref1", **{"population": 10, "days": 10, **kwargs})
