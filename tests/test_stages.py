"""The run's stage timings (``stage_seconds`` in the manifest) and the profile benchmark."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import credsim

ROOT = Path(__file__).resolve().parent.parent
SHARD_STAGES = ("setup", "synthesis", "state", "days", "citizens", "metrics")
RUN_STAGES = ("shards", "merge metrics", "metrics tables", "merge citizens")


def test_stages_cover_the_run(tmp_path):
    run = credsim.Sim("ref1", 6_000, 40, 3, shard_size=3_000, workers=1, out=tmp_path / "r").run()
    st = run.manifest["stage_seconds"]
    assert set(st["shards"]) == set(SHARD_STAGES)
    assert set(st["run"]) == set(RUN_STAGES)
    for wall, cpu in [*st["shards"].values(), *st["run"].values()]:
        assert wall >= 0 and cpu >= 0
    # in one process the shards' stages lie inside the run's "shards" stage (rounding aside)
    inside = sum(wall for wall, _ in st["shards"].values())
    assert inside <= st["run"]["shards"][0] + 0.01
    assert sum(wall for wall, _ in st["run"].values()) <= run.manifest["wall_seconds"] + 0.01
    # the day loop's steps are timed inside its stage
    steps = sum(row[-1] for row in run.manifest["plan_seconds"])
    assert steps <= st["shards"]["days"][0] + 0.01
    assert st["first_shard_start"] is not None and st["first_shard_start"] >= 0


def test_profile_benchmark_smoke(tmp_path):
    out = tmp_path / "profile.json"
    cmd = [sys.executable, str(ROOT / "benchmarks" / "profile_run.py"), "--smoke"]
    proc = subprocess.run(
        [*cmd, "--json", str(out)], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    data = json.loads(out.read_text())
    (row,) = data["runs"]
    assert row["n"] == 20_000 and row["shards"] == 1
    assert set(row["shard_stages"]) == set(SHARD_STAGES)
    # what the stages do not cover (interpreter, imports, command line) is what is left
    stages = sum(cpu for _, cpu in row["run_stages"].values())
    assert abs(row["cpu"] - stages - row["outside_cpu"]) < 0.01
    assert row["outside_cpu"] > 0 and row["peak_rss"] > 0
    assert "| citizens | workers |" in proc.stdout
