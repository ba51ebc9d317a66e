"""Runs kept in memory (``Sim.simulate``) give the figures a run folder holds, and write nothing."""

from __future__ import annotations

import tempfile

import numpy as np
import pytest

from credsim.sim import Sim


@pytest.mark.parametrize("shard_size", [None, 700])
def test_simulate_gives_what_run_writes(tmp_path, shard_size):
    kept = Sim("press", 2000, 90, 4, ledger="none", workers=1, shard_size=shard_size).simulate()
    run = Sim(
        "press", 2000, 90, 4, out=tmp_path / "run", ledger="none", workers=1, shard_size=shard_size
    ).run()
    assert kept.summary == run.summary
    metrics = run.metrics
    assert list(kept.columns) == list(metrics.columns)
    for name, values in kept.columns.items():
        assert values.dtype == metrics[name].dtype, name
        np.testing.assert_array_equal(values, metrics[name].to_numpy(), err_msg=name)


def test_simulate_writes_no_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    kept = Sim("ref1", 500, 30, 1, workers=1).simulate()
    assert kept.summary["citizens"] == 500
    assert list(tmp_path.iterdir()) == []


def test_simulate_refuses_replicates():
    with pytest.raises(ValueError, match="one seed"):
        Sim("ref1", 100, 5, 1, replicates=2).simulate()
