"""The benchmark harness end to end: ``benchmarks/bench.py --smoke`` in a subprocess.

The smoke mode runs REF-1 at tiny sizes (credsim 2,000 citizens, the peers 500, 30 days),
each measurement in its own process, and must exit 0 and write a JSON with the expected keys.
The peer parts are checked only when the peer is installed.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks" / "bench.py"
PEERS = [p for p in ("mesa", "starsim") if importlib.util.find_spec(p) is not None]

MEASUREMENT_KEYS = {
    "status",
    "repeats",
    "wall_seconds",
    "wall_seconds_all",
    "process_wall_seconds",
    "cpu_seconds",
    "agent_days_per_second",
    "agent_days_per_cpu_second",
    "sim_cpu_seconds",
    "load_average",
    "peak_rss_mb",
    "rss_before_run_mb",
    "bytes_per_citizen",
    "processes",
    "result",
}


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("bench") / "smoke.json"
    cmd = [sys.executable, str(BENCH), "--smoke", "--out", str(out)]
    cmd += ["--peers", ",".join(PEERS) or "none"]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "| tool | n |" in proc.stdout  # the markdown table is printed
    return json.loads(out.read_text())


def row(data: dict[str, Any], tool: str) -> dict[str, Any]:
    rows = [r for r in data["ref1"] if r["tool"] == tool]
    assert len(rows) == 1, rows
    return rows[0]


def test_top_level_keys(smoke: dict[str, Any]) -> None:
    for key in ("machine", "date", "command", "versions", "settings", "check", "ref1"):
        assert key in smoke
    for key in ("ratios", "scenarios", "failures"):
        assert key in smoke
    assert {"platform", "cpu_count"} <= set(smoke["machine"])
    assert {"credsim", "mesa", "starsim", "numpy"} <= set(smoke["versions"])
    assert smoke["versions"]["credsim"]
    assert "--smoke" in smoke["command"]
    assert smoke["failures"] == []


def test_credsim_measurement(smoke: dict[str, Any]) -> None:
    r = row(smoke, "credsim")
    assert r["status"] == "ok", r
    assert MEASUREMENT_KEYS <= set(r)
    assert (r["n"], r["days"]) == (2_000, 30)
    assert r["wall_seconds"] > 0
    assert r["process_wall_seconds"] > r["wall_seconds"]
    assert r["agent_days_per_second"] == pytest.approx(2_000 * 30 / r["wall_seconds"])
    assert r["peak_rss_mb"] > r["rss_before_run_mb"] > 0
    assert r["core_bytes_per_citizen"] > 0
    assert "phase_seconds" in r
    assert 990 < r["result"]["mean_score"] <= 1001


def test_check_credsim(smoke: dict[str, Any]) -> None:
    check = smoke["check"]
    assert check["expected_mean_score"] == pytest.approx(1000 - check["days"] * 0.014)
    assert len(check["runs"]["credsim"]) == len(check["seeds"]) >= 2
    assert check["verdicts"]["credsim"]["agrees"] is True


@pytest.mark.parametrize("peer", ["mesa", "starsim"])
def test_peer_parts(smoke: dict[str, Any], peer: str) -> None:
    pytest.importorskip(peer)
    verdict = smoke["check"]["verdicts"][peer]
    assert verdict["agrees"] is True, verdict
    assert {"test", "value", "expected", "se", "z", "ok"} <= set(verdict["tests"][0])
    r = row(smoke, peer)
    assert r["status"] == "ok", r
    assert MEASUREMENT_KEYS <= set(r)
    assert (r["n"], r["days"]) == (500, 30)
