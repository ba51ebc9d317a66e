"""Two writers on one folder, dashboard runs started at once, and workers of a killed run.

Real processes: two ``credsim run -o SAME`` at once (one runs, the other is refused by the
folder's lock or finds the finished run and is refused); a ``--workers 2`` run killed with
SIGKILL or stopped with SIGTERM leaves no worker process behind, and SIGTERM prints the resume
hint, after which ``--resume`` finishes the run.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path

import pytest
from test_reliability_faults import FaultLog, scrub

from credsim.run import Run

LOG = FaultLog("concurrency")
SMALL = ["run", "press", "-n", "20000", "-d", "20", "--no-report", "--workers", "1"]
WORKERS = ["run", "press", "-n", "40000", "-d", "60", "--shard-size", "5000", "--workers", "2"]


def credsim(args: list[str], cwd: Path, **kw) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "credsim", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kw,
    )


def children(pid: int) -> list[int]:
    """Processes whose parent is ``pid`` (from /proc)."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            out.append(int(entry))
    return out


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_two_writers_on_one_folder(tmp_path):
    out = tmp_path / "shared"
    procs = [credsim([*SMALL, "-o", str(out)], tmp_path) for _ in range(2)]
    results = [(p.wait(300), *p.communicate()) for p in procs]
    codes = sorted(r[0] for r in results)
    assert codes == [0, 2], results
    refused = next(r for r in results if r[0] == 2)
    lines = [x for x in refused[2].splitlines() if not x.startswith("estimate: ")]
    assert len(lines) == 1 and "Traceback" not in refused[2], refused
    assert "another credsim run (process" in lines[0] or "holds an earlier run" in lines[0], lines
    run = Run(out)
    assert run.complete and run.problems() == []
    assert run.manifest["population"] == 20_000
    LOG.add(
        "writers/two-at-once",
        "two `credsim run -o DIR` started at the same moment",
        "two processes",
        "one run completes the folder (checked against its manifest); the other exits 2 with "
        "one line: `error: DIR: another credsim run (process N) is writing this folder; ...` "
        "(or, if the first had finished already, `error: DIR: holds an earlier run; ...`)",
    )


def test_dashboard_runs_started_at_once_get_their_own_folders(tmp_path):
    pytest.importorskip("fastapi")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    from credsim.web.app import create_app

    base = "http://127.0.0.1"
    runs = tmp_path / "runs"
    body = {"preset": "ref1", "population": 100, "days": 1, "seed": 1}
    with TestClient(create_app(runs), base_url=base, headers={"origin": base}) as client:
        answers: list = []
        threads = [
            threading.Thread(target=lambda: answers.append(client.post("/api/runs", json=body)))
            for _ in range(6)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert sorted(a.status_code for a in answers) == [202] * 6
        names = [a.json()["name"] for a in answers]
        assert len(set(names)) == 6
        deadline = time.time() + 120
        while time.time() < deadline:
            states = [client.get(f"/api/runs/{n}/status").json()["state"] for n in names]
            if all(s == "done" for s in states):
                break
            time.sleep(0.2)
        assert all(s == "done" for s in states), states
    for n in names:
        run = Run(runs / n)
        assert run.complete and run.problems() == []
    LOG.add(
        "dashboard/six-at-once",
        "six `POST /api/runs` without a name, in the same second",
        "six threads, TestClient",
        "six names, six folders, six complete runs, each checked against its manifest",
    )


def test_cancel_during_the_merge_means_cancelled(tmp_path):
    from credsim.web.jobs import Job, Runner

    class MergingSim:
        """A run whose cancel request arrives after its last day, while it merges."""

        progress = None
        out = None

        def __init__(self):
            self.job = None

        def run(self):
            self.progress(1, 1)  # the last day: no cancel asked yet
            self.job.cancel.set()  # asked now, during the merge
            return None

    runner = Runner()
    try:
        sim = MergingSim()
        job = Job("merge", tmp_path / "merge", "press", 100, 1, 1, {}, sim)
        (tmp_path / "merge").mkdir()
        sim.job = job
        runner.submit(job)
        deadline = time.time() + 30
        while job.state in ("queued", "running") and time.time() < deadline:
            time.sleep(0.05)
        assert job.state == "cancelled"
    finally:
        runner.close()
    LOG.add(
        "dashboard/cancel-during-merge",
        "cancel asked after the last day, while the run merges its shards",
        "`POST /api/runs/NAME/cancel` (the runner, directly)",
        "the run ends cancelled, not done",
    )


def _start_with_workers(tmp_path: Path, out: Path) -> tuple[subprocess.Popen, list[int]]:
    p = credsim([*WORKERS, "-o", str(out)], tmp_path)
    deadline = time.time() + 120
    workers: list[int] = []
    while time.time() < deadline:
        workers = children(p.pid)
        if len(workers) >= 2 and (out / "parts").exists():
            return p, workers
        if p.poll() is not None:
            break
        time.sleep(0.1)
    p.kill()
    raise AssertionError(f"no workers seen: {p.communicate()}")


@pytest.mark.parametrize("sig", ["SIGKILL", "SIGTERM"])
def test_workers_exit_when_their_run_is_killed(tmp_path, sig):
    out = tmp_path / "run"
    p, workers = _start_with_workers(tmp_path, out)
    p.send_signal(getattr(signal, sig))
    code = p.wait(60)
    _, err = p.communicate()
    deadline = time.time() + 20
    while time.time() < deadline and any(alive(w) for w in workers):
        time.sleep(0.1)
    left = [w for w in workers if alive(w)]
    for w in left:
        os.kill(w, signal.SIGKILL)
    assert not left, f"workers {left} outlived their run"
    m = json.loads((out / "manifest.json").read_text())
    assert m["status"] == "incomplete"
    if sig == "SIGTERM":
        assert code == 143, err
        lines = [x for x in err.splitlines() if x.startswith("error: ")]
        assert lines == [f"error: terminated; continue with: credsim run --resume {out}"], err
        assert "Traceback" not in err
        r = subprocess.run(
            [sys.executable, "-m", "credsim", "run", "--resume", str(out), "--no-report"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert r.returncode == 0, r.stderr
        assert Run(out).complete and Run(out).problems() == []
        outcome = f"exit 143, `{scrub(lines[0], DIR=out)}`; no worker left; --resume finishes"
    else:
        assert code == -signal.SIGKILL
        outcome = "no worker left within 20 s (they die with their parent); folder incomplete"
    LOG.add(
        f"workers/{sig.lower()}",
        f"{sig} to a `--workers 2` run while its workers run shards",
        "signal to the run's process",
        outcome,
    )


def test_faults_doc():
    LOG.check()
