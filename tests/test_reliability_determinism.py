"""The determinism matrix: one seed gives one result, whatever runs the shards.

A three-shard run of the press preset is repeated; run with two local worker processes; run
through the in-process executor; run on a Dask local cluster (skipped without
``distributed``); and stopped in its second shard, then resumed. Every variant's metrics,
groups, citizens and ledger (sorted by id) must equal the first run's exactly.
"""

from __future__ import annotations

import importlib.util

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal
from test_reliability_faults import FaultLog

import credsim

LOG = FaultLog("determinism")
POPULATION, SHARD, DAYS, SEED = 12_000, 4_000, 30, 5
SIZE = f"{POPULATION:,} citizens in {POPULATION // SHARD} shards, {DAYS} days, seed {SEED}"


def sim(folder, **kw) -> credsim.Sim:
    return credsim.Sim(
        "press", POPULATION, DAYS, SEED, shard_size=SHARD, out=folder, ledger="full", **kw
    )


def tables(run: credsim.Run) -> dict[str, pd.DataFrame]:
    return {
        "metrics": run.metrics,
        "groups": run.groups,
        "citizens": run.citizens,
        "ledger": ledger(run),
    }


def ledger(run: credsim.Run) -> pd.DataFrame:
    """The ledger parts of a run, concatenated and sorted by row id."""
    parts = sorted((run.path / "ledger").glob("*.parquet"))
    df = pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True)
    return df.sort_values("id").reset_index(drop=True)


def assert_same_run(a: credsim.Run, b: credsim.Run) -> None:
    ta, tb = tables(a), tables(b)
    for name in ta:
        assert_frame_equal(ta[name], tb[name], check_exact=True, obj=name)
    assert a.summary == b.summary
    assert a.manifest["regime_hash"] == b.manifest["regime_hash"]
    assert b.manifest["shards"] == POPULATION // SHARD and b.complete


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> credsim.Run:
    run = sim(tmp_path_factory.mktemp("det") / "reference", workers=1).run()
    assert len(ledger(run)) > 0 and (run.citizens["score"] != 1000).any()
    return run


def record(key: str, variant: str, how: str) -> None:
    LOG.add(
        f"determinism/{key}",
        f"{variant} ({SIZE})",
        how,
        "metrics, groups, citizens and ledger (by id) identical to the first run's",
    )


def test_repeated_run(tmp_path, reference):
    assert_same_run(reference, sim(tmp_path / "again", workers=1).run())
    record("repeat", "the same run again", "`Sim(...).run()` twice, shards one after another")


def test_two_local_worker_processes(tmp_path, reference):
    assert_same_run(reference, sim(tmp_path / "local", workers=2, backend="local").run())
    record("local-2", "two local worker processes", "`backend='local', workers=2`")


@pytest.mark.parametrize("start", ["fork", "forkserver", "spawn"])
def test_worker_start_methods(tmp_path, reference, monkeypatch, start):
    """Forked workers inherit this process's modules; the result is the same however a
    worker started."""
    import multiprocessing

    from credsim.scale.executors import LocalProcesses, start_method

    if start not in multiprocessing.get_all_start_methods():
        pytest.skip(f"{start} is not available here")
    monkeypatch.setenv("CREDSIM_START_METHOD", start)
    assert start_method() == start
    assert_same_run(reference, sim(tmp_path / start, workers=2, backend="local").run())
    pool = LocalProcesses(2)
    assert pool.start == start
    pool.close()


def test_default_start_method(monkeypatch):
    """Forked where this process runs no other thread; never forked beside a thread."""
    import threading

    from credsim.scale.executors import start_method

    monkeypatch.delenv("CREDSIM_START_METHOD", raising=False)
    if threading.active_count() == 1:
        assert start_method() == "fork"
    stop = threading.Event()
    t = threading.Thread(target=stop.wait)
    t.start()
    try:
        assert start_method() in ("forkserver", "spawn")
    finally:
        stop.set()
        t.join()


def test_in_process_executor(tmp_path, reference):
    assert_same_run(reference, sim(tmp_path / "inproc", workers=2, backend="inprocess").run())
    record("inprocess", "the in-process executor", "`backend='inprocess', workers=2`")


@pytest.mark.skipif(
    importlib.util.find_spec("distributed") is None, reason="dask.distributed not installed"
)
def test_dask_local_cluster(tmp_path, reference):
    assert_same_run(reference, sim(tmp_path / "dask", workers=2, backend="dask").run())
    record("dask", "a Dask local cluster of two workers", "`backend='dask', workers=2`")


def test_resumed_run(tmp_path, reference):
    folder = tmp_path / "resumed"
    s = sim(folder, workers=1)
    stop_at = DAYS + DAYS // 2  # in the middle of the second shard (in shard-days)

    def progress(done: int, total: int) -> None:
        if done >= stop_at:
            raise KeyboardInterrupt

    s.progress = progress
    with pytest.raises(KeyboardInterrupt):
        s.run()
    stopped = credsim.Run(folder)
    assert stopped.manifest["status"] == "incomplete"
    assert len(list((folder / "parts").glob("done-*.json"))) == 1
    resumed = sim(folder, workers=1).run(resume=True)
    assert resumed.manifest["resumed"] is True
    assert_same_run(reference, resumed)
    record(
        "resumed",
        "a run stopped in its second shard, then resumed",
        "`KeyboardInterrupt` from the progress callback, then `Sim(...).run(resume=True)`",
    )


def test_faults_doc():
    LOG.check()
