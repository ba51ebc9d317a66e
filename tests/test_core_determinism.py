"""One seed, one result: runs repeat exactly, and the CLI and the API agree."""

from __future__ import annotations

import pandas as pd
import pyarrow.parquet as pq
import pytest
from pandas.testing import assert_frame_equal
from typer.testing import CliRunner

import credsim
from credsim.cli import app

# "press" exercises every mechanism (delays, false matches, spillover, redress, adaptation,
# green lanes); "ref1" is the benchmark model.
PRESETS = ("ref1", "press")
N, DAYS = 4_000, 90


def run(tmp_path, name, regime="ref1", **kw):
    kw.setdefault("population", N)
    kw.setdefault("days", DAYS)
    kw.setdefault("seed", 11)
    return credsim.Sim(regime, out=tmp_path / name, **kw).run()


@pytest.mark.parametrize("regime", PRESETS)
def test_same_seed_same_run(tmp_path, regime):
    a = run(tmp_path, "a", regime)
    b = run(tmp_path, "b", regime)
    assert_frame_equal(a.metrics, b.metrics, check_exact=True)
    assert_frame_equal(a.citizens, b.citizens, check_exact=True)
    assert_frame_equal(a.groups, b.groups, check_exact=True)
    assert a.summary == b.summary
    assert a.manifest["regime_hash"] == b.manifest["regime_hash"]
    # the run did something worth repeating
    acts = [c for c in a.metrics if c.startswith("acts_")]
    assert a.metrics[acts].to_numpy().sum() > 0
    assert (a.citizens["score"] != 1000).any()


@pytest.mark.parametrize("regime", PRESETS)
def test_different_seed_different_run(tmp_path, regime):
    a = run(tmp_path, "a", regime, seed=11)
    b = run(tmp_path, "b", regime, seed=12)
    acts = [c for c in a.metrics if c.startswith("acts_")]
    assert not a.metrics[acts].equals(b.metrics[acts])
    assert not a.citizens["score"].equals(b.citizens["score"])
    # the population is drawn from the seed too
    assert not a.citizens["household"].equals(b.citizens["household"])


def test_ledger_mode_does_not_change_the_run(tmp_path):
    full = run(tmp_path, "full", "press", ledger="full")
    none = run(tmp_path, "none", "press", ledger="none")
    sample = run(tmp_path, "sample", "press", ledger="sample=0.1")
    assert_frame_equal(full.metrics, none.metrics, check_exact=True)
    assert_frame_equal(full.metrics, sample.metrics, check_exact=True)
    assert_frame_equal(full.citizens, none.citizens, check_exact=True)


def test_shorter_run_is_a_prefix_of_a_longer_one(tmp_path):
    short = run(tmp_path, "short", "press", days=50)
    long = run(tmp_path, "long", "press", days=DAYS)
    assert_frame_equal(
        short.metrics,
        long.metrics.iloc[:50].reset_index(drop=True),
        check_exact=True,
        # cumulative columns and quantiles are per day too, so every column must agree
    )


def test_sharded_run_repeats(tmp_path):
    a = run(tmp_path, "a", "press", shard_size=1_500, workers=1)
    b = run(tmp_path, "b", "press", shard_size=1_500, workers=1)
    assert a.manifest["shards"] == 3
    assert_frame_equal(a.metrics, b.metrics, check_exact=True)
    assert_frame_equal(a.citizens, b.citizens, check_exact=True)
    assert a.citizens["citizen"].tolist() == list(range(N))


def test_cli_and_api_write_the_same_metrics(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    override = "sanctions[0].duration=30"
    api = credsim.Sim(
        "ref1", population=N, days=DAYS, seed=5, overrides=(override,), out=tmp_path / "api"
    ).run()
    args = ["run", "ref1", "-n", str(N), "-d", str(DAYS), "-s", "5"]
    args += ["-o", str(tmp_path / "cli"), "--set", override, "--no-report"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    cli = credsim.Run(tmp_path / "cli")
    assert cli.complete
    a = pq.read_table(tmp_path / "api" / "metrics.parquet")
    b = pq.read_table(tmp_path / "cli" / "metrics.parquet")
    assert a.equals(b)
    assert_frame_equal(api.metrics, cli.metrics, check_exact=True)
    assert_frame_equal(api.citizens, cli.citizens, check_exact=True)
    assert (tmp_path / "api" / "regime.toml").read_text() == (
        tmp_path / "cli" / "regime.toml"
    ).read_text()
    for key in ("regime_hash", "seed", "population", "days", "headline"):
        assert api.manifest[key] == cli.manifest[key], key


def test_metrics_have_one_row_per_day(tmp_path):
    r = run(tmp_path, "a", "ref1")
    m = r.metrics
    assert isinstance(m, pd.DataFrame)
    assert m["day"].tolist() == list(range(DAYS))
    assert (m["citizens"] == N).all()
    assert len(r.citizens) == N
