"""Common random numbers: changing one mechanism leaves the draws of the others alone.

Each mechanism has its own random stream keyed by its name, so two regimes run on the same
seed differ only by what their differences cause. That is what makes a comparison of two
regimes on one seed meaningful.
"""

from __future__ import annotations

import copy
import tempfile
import tomllib
from importlib import resources

import pytest
from pandas.testing import assert_frame_equal

import credsim

N, DAYS, SEED = 5_000, 200, 7
# Twenty times the REF-1 rate of critical posts, so that hundreds of citizens are banned and
# a change of sanction shows in the counts whatever the seed.
POSTS = ("behaviours.critical_post.rate=0.01",)


def ref1_data() -> dict:
    text = resources.files("credsim.regime.presets").joinpath("ref1.toml").read_text("utf-8")
    return tomllib.loads(text)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("crn")


def run(folder, regime="ref1", overrides=(), days=DAYS, posts=POSTS):
    """Run into a new folder under ``folder``."""
    return credsim.Sim(
        regime,
        population=N,
        days=days,
        seed=SEED,
        overrides=posts + tuple(overrides),
        ledger="none",
        out=tempfile.mkdtemp(dir=folder),
    ).run()


def columns(metrics, *prefixes):
    return [c for c in metrics if c.startswith(prefixes)]


@pytest.fixture(scope="module")
def base(folder):
    return run(folder)


@pytest.mark.parametrize(
    "overrides",
    [
        ("sanctions.flight_ban.duration=30",),
        ("sanctions.flight_ban.duration=30", "sanctions.flight_ban.renewal='never'"),
    ],
    ids=["duration", "duration+renewal"],
)
def test_sanction_change_keeps_acts_and_records(folder, base, overrides):
    other = run(folder, overrides=overrides)
    same = columns(base.metrics, "acts_", "baseline_acts_", "records_")
    assert len(same) == 4 * 3 + 3
    assert_frame_equal(base.metrics[same], other.metrics[same], check_exact=True)
    # REF-1 scores do not depend on sanctions, so they are the same too
    assert (base.citizens["score"] == other.citizens["score"]).all()
    assert (base.metrics["score_mean"] == other.metrics["score_mean"]).all()
    # ...while the regime did change
    assert base.manifest["regime_hash"] != other.manifest["regime_hash"]
    assert base.metrics["restricted"].iloc[-1] > 100
    assert base.metrics["sanctions_ended"].sum() == 0  # no ban reaches its 365 days
    if "never" in overrides[-1]:
        # bans end after 30 days and are not renewed: fewer citizens are restricted
        assert other.metrics["sanctions_ended"].sum() > 0
        assert (other.metrics["restricted"] <= base.metrics["restricted"]).all()
        assert (other.metrics["restricted"] < base.metrics["restricted"]).any()


def test_sanction_change_keeps_the_population(folder, base):
    other = run(folder, overrides=("sanctions.flight_ban.duration=30",))
    who = ["citizen", "household", "head", "sex", "age_band", "region", "province", "group"]
    assert_frame_equal(base.citizens[who + ["propensity"]], other.citizens[who + ["propensity"]])


def test_extra_behaviour_keeps_the_acts_of_the_others(folder, base):
    data = ref1_data()
    data["behaviours"].append({"name": "littering", "kind": "infraction", "rate": 0.003})
    data["sources"].append({"name": "patrol", "observes": {"littering": 0.5}})
    data["rules"].append({"behaviour": "littering", "delta": -20})
    other = run(folder, data)
    assert other.metrics["acts_littering"].sum() > 0
    assert other.metrics["records_littering"].sum() > 0
    same = columns(base.metrics, "acts_", "baseline_acts_", "records_")
    assert_frame_equal(base.metrics[same], other.metrics[same], check_exact=True)
    # the extra records do move scores
    assert (base.citizens["score"] != other.citizens["score"]).any()


def test_extra_behaviour_listed_first_keeps_the_acts_of_the_others(folder, base):
    # Streams are keyed by name, not by position in the list.
    data = ref1_data()
    data["behaviours"].insert(0, {"name": "littering", "rate": 0.003})
    other = run(folder, data)
    same = columns(base.metrics, "acts_", "baseline_acts_", "records_")
    assert_frame_equal(base.metrics[same], other.metrics[same], check_exact=True)


def test_rate_change_of_one_behaviour_keeps_the_others(folder, base):
    other = run(folder, overrides=("behaviours.jaywalking.rate=0.004",))
    assert other.metrics["acts_jaywalking"].sum() > base.metrics["acts_jaywalking"].sum()
    same = columns(base.metrics, "acts_", "baseline_acts_", "records_")
    # records of smoking come from the camera's stream, which also draws jaywalking's
    # records, so they are not expected to be common; acts are
    camera = ("jaywalking", "smoking_in_nonsmoking_area", "camera")
    same = [c for c in same if not (c.startswith("records") and c.endswith(camera))]
    same = [c for c in same if "jaywalking" not in c]
    assert_frame_equal(base.metrics[same], other.metrics[same], check_exact=True)


def test_detection_change_keeps_the_acts(folder, base):
    other = run(folder, overrides=("sources.camera.observes.jaywalking=0.6",))
    acts = columns(base.metrics, "acts_", "baseline_acts_")
    assert_frame_equal(base.metrics[acts], other.metrics[acts], check_exact=True)
    assert other.metrics["records_jaywalking"].sum() > base.metrics["records_jaywalking"].sum()
    # records of behaviours seen by other sources come from other streams (smoking's records
    # share the camera's stream with jaywalking's and are not compared)
    for b in ("critical_post", "buy_domestic"):
        assert (base.metrics[f"records_{b}"] == other.metrics[f"records_{b}"]).all()


def test_baseline_acts_are_common_under_adaptation(folder):
    # In "press" citizens adapt to sanctions, so a regime that sanctions far more people
    # changes what they do; the baseline (what they would have done) must stay the same.
    data = copy.deepcopy(credsim.load_regime("press").model_dump(mode="json", exclude_none=True))
    harsh = copy.deepcopy(data)
    harsh["tiers"][1]["min"] = 999  # any lost point means the bottom tier
    a = run(folder, data, posts=())
    b = run(folder, harsh, posts=())
    assert b.metrics["restricted"].iloc[-1] > 10 * max(1, a.metrics["restricted"].iloc[-1])
    baseline = columns(a.metrics, "baseline_acts_")
    assert_frame_equal(a.metrics[baseline], b.metrics[baseline], check_exact=True)
    acts = columns(a.metrics, "acts_")
    assert not a.metrics[acts].equals(b.metrics[acts])  # deterred and chilled
