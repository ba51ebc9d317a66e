"""Every parameter of every preset is live or declared inert with a reason.

The whole sweep is ``benchmarks/liveness.py`` (recorded in benchmarks/liveness.json); here the
record is checked against the presets as they are now, every inert parameter it holds against
the reasons of docs/inert.toml, and the sweep itself runs on a reduced set at small sizes.
"""

from __future__ import annotations

import fnmatch
import json

import pytest

from credsim.experiments.liveness import (
    RECORD,
    inert_table,
    parameters,
    reason_of,
    reasons,
    sweep,
)
from credsim.regime.load import load_regime, presets

PRESETS = sorted(presets())


@pytest.fixture(scope="module")
def record():
    return json.loads(RECORD.read_text("utf-8"))


@pytest.mark.parametrize("preset", PRESETS)
def test_the_record_covers_every_parameter_of_every_preset(record, preset):
    result = record["presets"][preset]
    measured = set(result["live"]) | set(result["inert"])
    missing = [p for p in parameters(preset) if p not in measured]
    assert not missing, f"run python benchmarks/liveness.py --presets {preset}: {missing}"
    # the largest stage is where a parameter is called inert
    assert record["stages"][-1][0] >= 100_000


@pytest.mark.parametrize("preset", PRESETS)
def test_every_inert_parameter_has_a_reason_and_every_reason_is_used(record, preset):
    inert = record["presets"][preset]["inert"]
    assert all(reason_of(preset, p) for p in inert)
    for entry in reasons().get(preset, []):
        used = [p for p in inert if any(fnmatch.fnmatchcase(p, q) for q in entry["parameters"])]
        assert used, f"docs/inert.toml: {preset}: no inert parameter matches {entry['parameters']}"
    table = inert_table(preset)
    assert all(f"`{p}`" in table for p in inert)


def test_a_parameter_without_a_reason_is_refused(tmp_path):
    fake = {"stages": [[20000, 730]], "seed": 1, "presets": {"ref1": {"live": {}, "inert": ["x"]}}}
    (tmp_path / "r.json").write_text(json.dumps(fake))
    with pytest.raises(KeyError, match="no reason given for ref1 x"):
        inert_table("ref1", tmp_path / "r.json")


@pytest.mark.parametrize("preset", PRESETS)
def test_a_reduced_sweep_finds_rates_live_and_zero_multipliers_inert(preset):
    # the commonest behaviour's rate moves its acts; a false-match multiplier of a source that
    # never misidentifies multiplies 0 (where the preset has one)
    regime = load_regime(preset).model_dump()
    common = max(regime["behaviours"], key=lambda b: b["rate"])
    paths = [f"behaviours.{common['name']}.rate"]
    zero = [s["name"] for s in regime["sources"] if s["false_match"] == 0]
    paths += [f"sources.{zero[0]}.false_match_female"] if zero else []
    result = sweep(preset, [(2_000, 60)], paths=paths)
    assert list(result["live"]) == paths[:1]
    assert result["inert"] == paths[1:]


def test_a_parameter_inert_on_a_short_horizon_is_tried_on_the_next_stage():
    # the countryside's cameras start on day 180: moving that day changes nothing in 60 days,
    # and changes the records of days 180-269 in a run of 300
    path = "sources.camera.rollout.1.day"
    result = sweep("press", [(2_000, 60), (2_000, 300)], paths=[path])
    assert result["inert"] == []
    assert result["live"][path][1:] == [2_000, 300]
