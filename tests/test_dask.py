"""Dask backend: same results as in-process and local processes, survives a killed worker.

Clusters here are loopback-only (127.0.0.1). Skipped when dask.distributed is not installed.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("distributed")

import dask  # noqa: E402
from distributed import Client, LocalCluster  # noqa: E402
from pandas.testing import assert_frame_equal  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

import credsim  # noqa: E402
from credsim.scale.cluster import cluster_app, job_script  # noqa: E402
from credsim.scale.dask import WORKER_CONFIG, DaskExecutor, require_dask  # noqa: E402

PROFILE = "distributed.worker.profile.enabled"
# four shards of 10,000 citizens; "press" exercises every mechanism
POPULATION, SHARD, DAYS, SEED = 40_000, 10_000, 60, 7


def sim(folder: Path, **kw) -> credsim.Sim:
    return credsim.Sim(
        "press", POPULATION, DAYS, SEED, shard_size=SHARD, out=folder, ledger="full", **kw
    )


def tables(run: credsim.Run) -> dict:
    """Every table of a run folder, in a fixed order."""
    return {
        "metrics": run.metrics.sort_values("day").reset_index(drop=True),
        "groups": run.groups.sort_values(["day", "dimension", "group"]).reset_index(drop=True),
        "citizens": run.citizens.sort_values("citizen").reset_index(drop=True),
        "ledger": run.ledger().sort_values("id").reset_index(drop=True),
    }


def assert_same_run(a: credsim.Run, b: credsim.Run) -> None:
    ta, tb = tables(a), tables(b)
    for name in ta:
        assert_frame_equal(ta[name], tb[name], check_exact=True, obj=name)
    assert a.summary == b.summary
    assert a.manifest["shards"] == b.manifest["shards"] == POPULATION // SHARD


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> credsim.Run:
    """The run done shard after shard in this process."""
    run = sim(tmp_path_factory.mktemp("inprocess") / "run", workers=1).run()
    assert len(run.ledger()) > 0 and (run.citizens["score"] != 1000).any()
    return run


def test_dask_matches_inprocess_and_local_processes(tmp_path, reference):
    scratch = Path.cwd() / "dask-scratch-space"
    scratch_before = scratch.exists()
    local = sim(tmp_path / "local", workers=2, backend="local").run()
    on_dask = sim(tmp_path / "dask", workers=2, backend="dask").run()
    assert_same_run(reference, local)
    assert_same_run(reference, on_dask)
    assert scratch.exists() == scratch_before  # Dask's scratch went to a temporary folder


def executing(dask_worker) -> int:
    """Tasks a worker is running right now (called through ``Client.run``)."""
    return len(dask_worker.state.executing)


def test_run_survives_a_killed_worker(tmp_path, reference):
    with dask.config.set(WORKER_CONFIG):
        cluster = LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",
            local_directory=str(tmp_path / "scratch"),
            silence_logs=logging.CRITICAL,
        )
    client = Client(cluster, set_as_default=False)
    try:
        before = set(client.run(os.getpid).values())
        result: dict = {}

        def go() -> None:
            try:
                options = {"scheduler": cluster.scheduler_address}
                result["run"] = sim(tmp_path / "run", backend="dask", backend_options=options).run()
            except BaseException as e:  # noqa: BLE001 - reported by the main thread
                result["error"] = e

        runner = threading.Thread(target=go, daemon=True)
        runner.start()
        victim = None
        deadline = time.monotonic() + 60
        while victim is None and time.monotonic() < deadline and runner.is_alive():
            busy = [w for w, n in client.run(executing).items() if n]
            if busy:  # a worker is in the middle of a shard: kill its process
                victim = client.run(os.getpid, workers=[busy[0]])[busy[0]]
                os.kill(victim, signal.SIGKILL)
            else:
                time.sleep(0.02)
        assert victim is not None, "no shard was seen running"
        runner.join(120)
        assert not runner.is_alive(), "the run did not finish after a worker was killed"
        assert "error" not in result, result.get("error")
        assert_same_run(reference, result["run"])
        client.wait_for_workers(2, timeout=30)
        after = set(client.run(os.getpid).values())
        assert victim in before and victim not in after  # the nanny started a new worker
    finally:
        client.close()
        cluster.close()


def boom(task: int) -> int:
    raise RuntimeError(f"shard {task} failed")


def test_executor_environment_errors_and_cleanup(tmp_path, monkeypatch):
    # as left in this process's environment by the nanny of a plain LocalCluster
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "65536")
    with DaskExecutor(workers=1) as ex:
        assert ex.address.startswith("tcp://127.0.0.1:")
        # the nanny's MALLOC_TRIM_THRESHOLD_ is not set in the workers
        assert set(ex.client.run(os.getenv, "MALLOC_TRIM_THRESHOLD_").values()) == {None}
        assert set(ex.client.run(dask.config.get, PROFILE).values()) == {False}
        assert sorted(r for _, r in ex.map_unordered(abs, [-3, 1, -2])) == [1, 2, 3]
        with pytest.raises(RuntimeError, match="shard 5 failed"):
            list(ex.map_unordered(boom, [5]))

        class Task:
            shard, folder = 0, str(tmp_path / "not-shared")

        with pytest.raises(FileNotFoundError, match="shared"):
            list(ex.map_unordered(str, [Task()]))
        scratch = Path(ex._scratch)
        assert scratch.is_dir()
        # a second client, through a scheduler file; closing it leaves the cluster up
        (tmp_path / "scheduler.json").write_text(json.dumps({"address": ex.address}))
        with DaskExecutor(scheduler=str(tmp_path / "scheduler.json")) as remote:
            assert remote.workers == 1 and remote.cluster is None
            assert [r for _, r in remote.map_unordered(abs, [-4])] == [4]
        assert [r for _, r in ex.map_unordered(abs, [-5])] == [5]
    assert not scratch.exists()
    assert os.environ["MALLOC_TRIM_THRESHOLD_"] == "65536"  # put back as it was


def test_unreachable_scheduler_is_a_clear_error():
    with pytest.raises(OSError, match="tcp://127.0.0.1:9: cannot reach the Dask scheduler within"):
        DaskExecutor(scheduler="tcp://127.0.0.1:9", timeout=1)


def test_missing_dask_is_one_clear_line(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(ImportError, match=r"pip install 'credsim\[dask\]'"):
        require_dask()


@pytest.mark.parametrize(
    ("kind", "expect"),
    [
        ("slurm", ["#SBATCH --cpus-per-task=8", "#SBATCH --mem=16G", "#SBATCH -p long"]),
        ("pbs", ["#PBS -l select=1:ncpus=8:mem=16GB", "#PBS -q long"]),
    ],
)
def test_cluster_dry_run_prints_the_job_script(kind, expect):
    args = [kind, "--jobs", "3", "--cores", "8", "--memory", "16GiB", "--queue", "long"]
    args += ["--walltime", "02:30:00", "--prologue", "source /shared/env/bin/activate"]
    out = CliRunner().invoke(cluster_app, [*args, "--dry-run"])
    assert out.exit_code == 0, out.output
    script = out.stdout
    for line in expect:
        assert line in script
    assert "02:30:00" in script
    assert "--nworkers 8" in script and "--nthreads 1" in script
    assert "source /shared/env/bin/activate" in script
    assert "MALLOC_TRIM_THRESHOLD_': None" in script
    assert 'DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED="False"' in script
    assert script == job_script(
        kind,
        cores=8,
        memory="16GiB",
        queue="long",
        walltime="02:30:00",
        prologue=["source /shared/env/bin/activate"],
    )


FAKE_SBATCH = """#!/bin/sh
# stands in for SLURM's sbatch: runs the job script on this machine, in its own session
job="$(dirname "$0")/job-$$.sh"
cp "$1" "$job"
setsid sh "$job" </dev/null >"$job.log" 2>&1 &
echo "Submitted batch job $!"
"""
FAKE_SCANCEL = """#!/bin/sh
for id in "$@"; do kill -TERM -- "-$id" 2>/dev/null; done
exit 0
"""


def test_slurm_cluster_runs_shards(tmp_path, monkeypatch, reference):
    """start_cluster through stand-ins for sbatch/scancel that start the job on loopback."""
    from credsim.scale.cluster import start_cluster

    bin_ = tmp_path / "bin"
    bin_.mkdir()
    for name, text in (("sbatch", FAKE_SBATCH), ("scancel", FAKE_SCANCEL)):
        (bin_ / name).write_text(text)
        (bin_ / name).chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_}{os.pathsep}{os.environ['PATH']}")
    cluster, address = start_cluster(
        "slurm",
        jobs=1,
        cores=2,
        memory="4GiB",
        interface="lo",
        local_directory=str(tmp_path),
        dashboard_address="127.0.0.1:0",
    )
    try:
        assert address.startswith("tcp://127.0.0.1:")
        with Client(address, set_as_default=False) as client:
            client.wait_for_workers(2, timeout=60)
            assert set(client.run(os.getenv, "MALLOC_TRIM_THRESHOLD_").values()) == {None}
            assert set(client.run(dask.config.get, PROFILE).values()) == {False}
        options = {"scheduler": address}
        run = sim(tmp_path / "run", backend="dask", backend_options=options).run()
        assert_same_run(reference, run)
    finally:
        cluster.close()
    assert list(bin_.glob("job-*.sh")), "sbatch was not called"


def test_cluster_rejects_an_unknown_batch_system():
    with pytest.raises(ValueError, match="slurm or pbs"):
        job_script("lsf", cores=1, memory="1GiB")
