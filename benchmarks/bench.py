"""Benchmark harness: credsim against Mesa and Starsim on REF-1, and credsim's presets at scale.

Run from the repository root::

    python benchmarks/bench.py                      # the default sizes (about 15 minutes)
    python benchmarks/bench.py --smoke              # tiny sizes, under 30 seconds
    python benchmarks/bench.py --sizes 10k,100M,1.41B --peers starsim

Every measurement runs in a fresh Python process started by this script (the same file, called
with the hidden ``_child`` command). The child imports the simulator, warms it up on a tiny
run, notes its resident memory, resets its peak-memory mark, builds and runs the model, and
reports the simulation's wall time and its peak resident memory. This script times the whole
child process, samples the memory of the child's own worker processes, and computes every
ratio from measurements made in this one invocation.

Before any peer is timed it must agree statistically with credsim on REF-1 (final banned count,
final mean score, detected acts per behaviour) over several seeds; a peer that disagrees is not
timed. See ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from importlib import metadata, util
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
MB = 2**20

# ---------------------------------------------------------------------------------------------
# REF-1 (shared/REF-1.md): the table, and what follows from it in expectation.

REF1_BEHAVIOURS = ("jaywalking", "smoking_in_nonsmoking_area", "critical_post", "buy_domestic")
REF1_RATE = (0.002, 0.001, 0.0005, 0.01)
REF1_USES_PROPENSITY = (True, True, True, False)
REF1_DETECTED = (0.3, 0.1, 0.8, 1.0)
REF1_DELTA = (-5, -10, -50, 1)
REF1_INITIAL_SCORE = 1000
REF1_SIGMA = 0.5  # of the normal under the lognormal propensity (mean 1)
REF1_VAR_M = math.expm1(REF1_SIGMA**2)  # variance of the propensity
# Expected score change per citizen-day: -0.003 - 0.001 - 0.020 + 0.010 = -0.014.
REF1_DRIFT = sum(r * d * x for r, d, x in zip(REF1_RATE, REF1_DETECTED, REF1_DELTA))

Z_TOLERANCE = 4.0  # agreement tolerance in standard errors (two-sided false alarm ~6e-5 each)

TOOLS = ("credsim", "starsim", "mesa")
PEERS = ("starsim", "mesa")
DEFAULT_SIZES = {
    "credsim": (10_000, 100_000, 1_000_000, 10_000_000),
    "starsim": (10_000, 100_000, 1_000_000),
    "mesa": (10_000, 100_000),
}
DEFAULT_SCENARIOS = ("press", "national")
DEFAULT_SCENARIO_SIZES = (1_000_000, 10_000_000)
LEDGER_DEFAULT_MAX = 100_000_000  # above this, scenarios run with ledger "none" only


def expected_mean_score(days: int) -> float:
    """Expected final mean score of REF-1 after ``days`` days (1000 - 0.014 days)."""
    return REF1_INITIAL_SCORE + days * REF1_DRIFT


def score_variance(days: int) -> float:
    """Variance of one citizen's final score after ``days`` days (the clamp never binds).

    Given the propensity m, behaviour b adds delta_b * Binomial(days, q_b m) with
    q_b = rate_b * detected_b; the conditional mean then varies with Var(m).
    """
    within = 0.0
    drift_m = 0.0  # the part of the drift proportional to m
    for q_rate, det, delta, uses_m in zip(
        REF1_RATE, REF1_DETECTED, REF1_DELTA, REF1_USES_PROPENSITY
    ):
        q = q_rate * det
        e_m2 = 1.0 + REF1_VAR_M if uses_m else 1.0
        within += days * delta**2 * (q - q * q * e_m2)
        if uses_m:
            drift_m += q * delta
    return within + (days * drift_m) ** 2 * REF1_VAR_M


def detected_expectation(n: int, days: int) -> dict[str, tuple[float, float]]:
    """Expected detected acts per behaviour over a run, with the standard deviation."""
    out: dict[str, tuple[float, float]] = {}
    for name, rate, det, uses_m in zip(
        REF1_BEHAVIOURS, REF1_RATE, REF1_DETECTED, REF1_USES_PROPENSITY
    ):
        q = rate * det
        var_m = REF1_VAR_M if uses_m else 0.0
        # Per citizen: Binomial(days, q m) mixed over m.
        variance = n * (days * q - days * q * q * (1.0 + var_m) + (days * q) ** 2 * var_m)
        out[name] = (n * days * q, math.sqrt(variance))
    return out


# ---------------------------------------------------------------------------------------------
# Sizes and formatting.


def parse_size(text: str) -> int:
    """``10k``, ``1M``, ``1.41B``, ``2000`` or ``1e6`` as a number of citizens."""
    t = text.strip().replace("_", "").replace(",", "")
    factor = {"k": 10**3, "m": 10**6, "b": 10**9, "g": 10**9}.get(t[-1:].lower(), 1)
    if factor != 1:
        t = t[:-1]
    value = round(float(t) * factor)
    if value < 1:
        raise argparse.ArgumentTypeError(f"size must be at least 1: {text!r}")
    return value


def parse_sizes(text: str) -> tuple[int, ...]:
    """A comma-separated list of sizes (empty or ``none`` for no sizes)."""
    if text.strip().lower() in ("", "none"):
        return ()
    return tuple(parse_size(s) for s in text.split(",") if s.strip())


def size_label(n: int) -> str:
    """10000 -> ``10k``, 1410000000 -> ``1.41B``."""
    for factor, suffix in ((10**9, "B"), (10**6, "M"), (10**3, "k")):
        if n >= factor:
            return f"{n / factor:.3g}{suffix}"
    return str(n)


def _fmt(value: float | None, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.{digits}g}"


def _rate(value: float | None) -> str:
    if value is None:
        return "-"
    if value >= 1e6:
        return f"{value / 1e6:,.1f} M"
    return f"{value / 1e3:,.1f} k"


# ---------------------------------------------------------------------------------------------
# The child: one measurement (or one set of agreement runs) in a fresh process.


def _proc_status_kib(field: str) -> int | None:
    """A ``kB`` field of /proc/self/status (VmRSS, VmHWM), or None off Linux."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _rss_bytes() -> int:
    kib = _proc_status_kib("VmRSS")
    if kib is None:  # pragma: no cover - not Linux
        import resource

        kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kib * 1024


def _peak_bytes() -> int:
    kib = _proc_status_kib("VmHWM")
    if kib is None:  # pragma: no cover - not Linux
        import resource

        kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kib * 1024


def _reset_peak() -> bool:
    """Reset this process's peak resident memory mark (Linux ``clear_refs``)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return False
    return True


def _cpu_seconds() -> float:
    """User + system CPU of this process and of its finished child processes."""
    import resource

    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


class _Tool:
    """How the child runs one simulator: ``simulate`` is timed, ``summarize`` is not."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.name = spec["tool"]
        self.tmp = Path(spec["tmp"])
        if self.name == "credsim":
            import credsim

            self.credsim = credsim
        elif self.name == "mesa":
            from benchmarks.peers import mesa_ref1

            self.peer = mesa_ref1
        elif self.name == "starsim":
            from benchmarks.peers import starsim_ref1

            self.peer = starsim_ref1
        else:
            raise ValueError(f"unknown tool {self.name!r}")

    def simulate(self, n: int, days: int, seed: int, workers: int | None = None) -> Any:
        if self.name != "credsim":
            return self.peer.run(n, days, seed)
        folder = Path(tempfile.mkdtemp(prefix="run-", dir=self.tmp))
        return self.credsim.Sim(
            self.spec.get("regime", "ref1"),
            population=n,
            days=days,
            seed=seed,
            out=folder,
            ledger=self.spec.get("ledger"),
            workers=workers or self.spec.get("workers") or 1,
        ).run()

    def summarize(self, handle: Any) -> dict[str, Any]:
        if self.name != "credsim":
            return {k: v for k, v in handle.items() if not k.endswith("_per_day")}
        try:
            m = handle.metrics
            manifest = handle.manifest
            out: dict[str, Any] = {
                "banned": int(m["restricted"].iloc[-1]),
                "mean_score": float(m["score_mean"].iloc[-1]),
                "manifest_wall_seconds": manifest.get("wall_seconds"),
                "phase_seconds": manifest.get("phase_seconds"),
                "core_bytes_per_citizen": manifest.get("core_bytes_per_citizen"),
                "shards": manifest.get("shards"),
                "ledger": manifest.get("ledger"),
            }
            if self.spec.get("regime", "ref1") == "ref1":
                out["detected"] = {
                    b: int(m[f"records_{b}"].sum())
                    for b in REF1_BEHAVIOURS
                    if f"records_{b}" in m.columns
                }
            return out
        finally:
            shutil.rmtree(handle.path, ignore_errors=True)


def child_main(spec_path: str, out_path: str) -> None:
    """Run what ``spec_path`` describes and write the result as JSON to ``out_path``."""
    started = time.perf_counter()
    spec = json.loads(Path(spec_path).read_text())
    sys.path.insert(0, str(ROOT))
    tool = _Tool(spec)
    n, days = spec["n"], spec["days"]
    result: dict[str, Any] = {"tool": tool.name, "n": n, "days": days}
    if spec["mode"] == "check":
        result["runs"] = []
        for seed in spec["seeds"]:
            t0 = time.perf_counter()
            summary = tool.summarize(tool.simulate(n, days, seed, workers=1))
            summary["seed"] = seed
            summary["wall_seconds"] = time.perf_counter() - t0
            result["runs"].append(summary)
    else:
        if spec.get("warmup", True):
            # Loads lazily imported modules and compiled kernels, so the timing below is of
            # the simulation, not of one-off start-up costs.
            tool.summarize(tool.simulate(min(n, 1_000), min(days, 5), spec["seed"] + 1000, 1))
        import gc

        gc.collect()
        result["setup_seconds"] = time.perf_counter() - started
        peak_before = _peak_bytes()
        result["peak_reset"] = _reset_peak()
        rss_before = _rss_bytes()
        cpu0 = _cpu_seconds()
        t0 = time.perf_counter()
        handle = tool.simulate(n, days, spec["seed"])
        result["wall_seconds"] = time.perf_counter() - t0
        result["sim_cpu_seconds"] = _cpu_seconds() - cpu0
        run_peak = _peak_bytes()
        result["rss_before_bytes"] = rss_before
        result["run_peak_bytes"] = run_peak
        result["process_peak_bytes"] = max(peak_before, run_peak)
        result.update(tool.summarize(handle))
    Path(out_path).write_text(json.dumps(result))


# ---------------------------------------------------------------------------------------------
# The parent: start a child, watch its process tree, collect its report.


def _children_map() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat.rpartition(")")[2].split()[1])
        kids.setdefault(ppid, []).append(int(entry.name))
    return kids


def _descendants(root: int) -> list[int]:
    kids = _children_map()
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(kids.get(pid, ()))
    return out


def _status_kib(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) of a process in KiB; zeros if it is gone."""
    rss = hwm = 0
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1])
                elif line.startswith("VmHWM:"):
                    hwm = int(line.split()[1])
    except (OSError, ValueError):
        pass
    return rss, hwm


def _load_average() -> float | None:
    """The machine's one-minute load average (runnable processes), if known."""
    try:
        return os.getloadavg()[0]
    except OSError:
        return None


class ChildError(RuntimeError):
    """A child process failed; the message holds the end of its error output."""


def run_child(spec: dict[str, Any], timeout: float | None, sample_every: float = 0.05) -> dict:
    """Run one child process for ``spec``; return its report plus what was seen from outside.

    Adds ``process_wall_seconds`` (start to exit), ``cpu_seconds`` (user + system of the child
    and its workers), ``processes`` (most processes seen in the child's tree at once),
    ``tree_peak_bytes`` (largest sampled sum of their resident memory) and
    ``tree_hwm_sum_bytes`` (sum of each process's own peak; an upper bound).
    """
    with tempfile.TemporaryDirectory(prefix="credsim-bench-", dir=spec.get("tmp_root")) as tmp:
        spec = dict(spec, tmp=tmp)
        spec_path, out_path = Path(tmp) / "spec.json", Path(tmp) / "result.json"
        spec_path.write_text(json.dumps(spec))
        stdout, stderr = open(Path(tmp) / "stdout", "wb"), open(Path(tmp) / "stderr", "wb")
        cmd = [sys.executable, str(Path(__file__).resolve()), "_child", str(spec_path)]
        cmd.append(str(out_path))
        load = _load_average()
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=stdout, stderr=stderr, cwd=ROOT, start_new_session=True)
        pids: list[int] = [proc.pid]
        hwm: dict[int, int] = {}
        tree_peak = processes = 0
        last_scan = 0.0
        status, usage = 0, None
        try:
            while True:
                pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
                if pid:
                    break
                now = time.perf_counter()
                if timeout and now - t0 > timeout:
                    os.killpg(proc.pid, 9)
                    os.wait4(proc.pid, 0)
                    raise ChildError(f"timed out after {timeout:.0f} s")
                if now - last_scan > 0.5:
                    pids, last_scan = _descendants(proc.pid), now
                total = 0
                for p in pids:
                    rss, peak = _status_kib(p)
                    total += rss
                    if peak:
                        hwm[p] = max(hwm.get(p, 0), peak)
                tree_peak = max(tree_peak, total)
                processes = max(processes, sum(1 for p in pids if p in hwm))
                time.sleep(sample_every)
        finally:
            proc.returncode = os.waitstatus_to_exitcode(status) if usage else -9
            stdout.close()
            stderr.close()
        wall = time.perf_counter() - t0
        if proc.returncode != 0 or not out_path.exists():
            err = (Path(tmp) / "stderr").read_text(errors="replace").strip().splitlines()
            raise ChildError(f"exit status {proc.returncode}: " + " | ".join(err[-6:]))
        report = json.loads(out_path.read_text())
    report["process_wall_seconds"] = wall
    report["load_average"] = load
    report["cpu_seconds"] = usage.ru_utime + usage.ru_stime
    report["processes"] = max(1, processes)
    report["tree_peak_bytes"] = tree_peak * 1024
    report["tree_hwm_sum_bytes"] = sum(hwm.values()) * 1024
    return report


# ---------------------------------------------------------------------------------------------
# The agreement check.


def _z(diff: float, se: float) -> float:
    return diff / se if se > 0 else (0.0 if diff == 0 else math.inf)


def agreement(
    reference: list[dict], peer: list[dict], n: int, days: int
) -> tuple[bool, list[dict]]:
    """Tests of a peer against credsim (and the exact expectation); all must pass."""
    k_ref, k_peer = len(reference), len(peer)
    se_one = math.sqrt(score_variance(days) / n)  # of one run's final mean score
    expected = expected_mean_score(days)
    m_ref = statistics.fmean(r["mean_score"] for r in reference)
    m_peer = statistics.fmean(r["mean_score"] for r in peer)
    tests = []
    se = se_one / math.sqrt(k_peer)
    tests.append(
        {
            "test": "mean score vs expectation",
            "value": m_peer,
            "expected": expected,
            "se": se,
            "z": _z(m_peer - expected, se),
        }
    )
    se = se_one * math.sqrt(1 / k_ref + 1 / k_peer)
    tests.append(
        {
            "test": "mean score vs credsim",
            "value": m_peer,
            "expected": m_ref,
            "se": se,
            "z": _z(m_peer - m_ref, se),
        }
    )
    # Banned counts are rare events: each total is close to Poisson, so the difference of the
    # two rates (per run) has standard error sqrt(B_peer / k_peer^2 + B_ref / k_ref^2).
    b_ref = sum(r["banned"] for r in reference)
    b_peer = sum(r["banned"] for r in peer)
    pooled = max((b_ref + b_peer) / (k_ref + k_peer), 1.0 / (k_ref + k_peer))
    se = math.sqrt(pooled / k_ref + pooled / k_peer)
    tests.append(
        {
            "test": "banned per run vs credsim",
            "value": b_peer / k_peer,
            "expected": b_ref / k_ref,
            "se": se,
            "z": _z(b_peer / k_peer - b_ref / k_ref, se),
        }
    )
    for name, (_, sd) in detected_expectation(n, days).items():
        if not all(name in r.get("detected", {}) for r in reference + peer):
            continue
        d_ref = statistics.fmean(r["detected"][name] for r in reference)
        d_peer = statistics.fmean(r["detected"][name] for r in peer)
        se = sd * math.sqrt(1 / k_ref + 1 / k_peer)
        tests.append(
            {
                "test": f"detected {name} per run vs credsim",
                "value": d_peer,
                "expected": d_ref,
                "se": se,
                "z": _z(d_peer - d_ref, se),
            }
        )
    for t in tests:
        t["ok"] = abs(t["z"]) <= Z_TOLERANCE
    return all(t["ok"] for t in tests), tests


def self_check(reference: list[dict], n: int, days: int) -> tuple[bool, list[dict]]:
    """credsim's own final mean score against the exact expectation."""
    k = len(reference)
    se = math.sqrt(score_variance(days) / n / k)
    m = statistics.fmean(r["mean_score"] for r in reference)
    expected = expected_mean_score(days)
    test = {
        "test": "mean score vs expectation",
        "value": m,
        "expected": expected,
        "se": se,
        "z": _z(m - expected, se),
    }
    test["ok"] = abs(test["z"]) <= Z_TOLERANCE
    return test["ok"], [test]


def _print_tests(name: str, tests: Iterable[dict]) -> None:
    for t in tests:
        verdict = "ok" if t["ok"] else "DISAGREES"
        print(
            f"  {name:8s} {t['test']:52s} {t['value']:10.3f} vs {t['expected']:10.3f}"
            f"  (se {t['se']:.4f}, z {t['z']:+.2f})  {verdict}"
        )


# ---------------------------------------------------------------------------------------------
# Measurements.


def _median(values: list[float]) -> float:
    return float(statistics.median(values))


def summarize_repeats(reports: list[dict], n: int, days: int) -> dict[str, Any]:
    """One row from the repeats of a measurement: medians of the timings and memory."""
    walls = [r["wall_seconds"] for r in reports]
    peaks, per_citizen = [], []
    for r in reports:
        peak = max(r["process_peak_bytes"], r["tree_peak_bytes"])
        run_peak = max(r["run_peak_bytes"], r["tree_peak_bytes"])
        peaks.append(peak)
        per_citizen.append((run_peak - r["rss_before_bytes"]) / n)
    first = reports[0]
    wall = _median(walls)
    row: dict[str, Any] = {
        "status": "ok",
        "repeats": len(reports),
        "wall_seconds": wall,
        "wall_seconds_all": [round(w, 4) for w in walls],
        "process_wall_seconds": _median([r["process_wall_seconds"] for r in reports]),
        "setup_seconds": _median([r["setup_seconds"] for r in reports]),
        "cpu_seconds": _median([r["cpu_seconds"] for r in reports]),
        "sim_cpu_seconds": _median([r["sim_cpu_seconds"] for r in reports]),
        "agent_days_per_second": n * days / wall if wall > 0 else None,
        "agent_days_per_cpu_second": None,
        "peak_rss_mb": _median(peaks) / MB,
        "rss_before_run_mb": _median([r["rss_before_bytes"] for r in reports]) / MB,
        "bytes_per_citizen": _median(per_citizen),
        "processes": max(r["processes"] for r in reports),
        "peak_reset": all(r["peak_reset"] for r in reports),
    }
    if row["sim_cpu_seconds"] > 0:
        row["agent_days_per_cpu_second"] = n * days / row["sim_cpu_seconds"]
    loads = [r["load_average"] for r in reports if r.get("load_average") is not None]
    row["load_average"] = _median(loads) if loads else None
    if row["processes"] > 1:
        row["peak_rss_sum_of_process_peaks_mb"] = (
            _median([r["tree_hwm_sum_bytes"] for r in reports]) / MB
        )
    for key in (
        "core_bytes_per_citizen",
        "manifest_wall_seconds",
        "phase_seconds",
        "shards",
        "ledger",
    ):
        if key in first:
            row[key] = first[key]
    row["result"] = {
        k: first[k] for k in ("banned", "mean_score", "detected", "peer") if k in first
    }
    return row


class Bench:
    """One benchmark invocation: settings, results, failures."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.failures: list[str] = []
        self.ref1: list[dict[str, Any]] = []
        self.scenarios: list[dict[str, Any]] = []
        self.check: dict[str, Any] = {}

    def log(self, text: str) -> None:
        print(text, flush=True)

    def map(self, fn: Any, items: list[Any], jobs: int | None = None) -> list[Any]:
        """``[fn(x) for x in items]``, ``jobs`` at a time (child processes run in parallel)."""
        jobs = jobs or self.args.jobs
        if jobs <= 1 or len(items) <= 1:
            return [fn(x) for x in items]
        with ThreadPoolExecutor(min(jobs, len(items))) as pool:
            return list(pool.map(fn, items))

    def measure(self, spec: dict[str, Any]) -> dict[str, Any]:
        """Run one measurement (with repeats when it is quick); never raises."""
        n, days = spec["n"], spec["days"]
        reports = []
        try:
            reports.append(run_child(spec, self.args.timeout))
            if reports[0]["wall_seconds"] < self.args.repeat_under:
                for _ in range(self.args.repeats - 1):
                    reports.append(run_child(spec, self.args.timeout))
        except (ChildError, OSError, ValueError, KeyError) as e:
            return {"status": "error", "reason": f"{type(e).__name__}: {e}"}
        return summarize_repeats(reports, n, days)

    def _spec(self, tool: str, n: int, days: int, **extra: Any) -> dict[str, Any]:
        return {
            "tool": tool,
            "mode": "measure",
            "n": n,
            "days": days,
            "seed": self.args.seed,
            "workers": self.args.workers,
            "warmup": not self.args.no_warmup,
            "tmp_root": self.args.tmp,
            **extra,
        }

    # -- the agreement check --------------------------------------------------------------

    def run_check(self, peers: list[str]) -> dict[str, bool]:
        """Run REF-1 under credsim and each peer over several seeds; who agrees with credsim."""
        a = self.args
        n, days, seeds = a.check_n, a.check_days, list(range(1, a.check_seeds + 1))
        self.log(
            f"\n## Agreement on REF-1: n={n:,}, {days} days, seeds {seeds[0]}..{seeds[-1]}, "
            f"tolerance {Z_TOLERANCE:g} standard errors"
        )
        self.log(
            f"expected final mean score 1000 - {days} x {-REF1_DRIFT:.3f} = "
            f"{expected_mean_score(days):.3f}; sd of one citizen's score "
            f"{math.sqrt(score_variance(days)):.2f}, se of one run's mean "
            f"{math.sqrt(score_variance(days) / n):.4f}"
        )
        tools = ["credsim", *peers]
        specs = [
            {
                "tool": tool,
                "mode": "check",
                "n": n,
                "days": days,
                "seeds": seeds,
                "regime": "ref1",
                "ledger": "none",
                "tmp_root": a.tmp,
            }
            for tool in tools
        ]

        def check_run(spec: dict[str, Any]) -> list[dict] | str:
            try:
                return run_child(spec, a.timeout)["runs"]
            except (ChildError, OSError, ValueError, KeyError) as e:
                return f"{type(e).__name__}: {e}"

        # Nothing is timed here, so the tools run side by side.
        runs: dict[str, list[dict]] = {}
        for tool, got in zip(tools, self.map(check_run, specs, len(specs))):
            if isinstance(got, str):
                self.log(f"  {tool}: check run failed: {got}")
                self.failures.append(f"check run of {tool} failed: {got}")
                got = []
            runs[tool] = got
            for r in got:
                self.log(
                    f"  {tool:8s} seed {r['seed']}: banned {r['banned']:4d}, "
                    f"mean score {r['mean_score']:.3f} ({r['wall_seconds']:.2f} s)"
                )
        self.check = {
            "n": n,
            "days": days,
            "seeds": seeds,
            "tolerance_se": Z_TOLERANCE,
            "expected_mean_score": expected_mean_score(days),
            "runs": runs,
            "verdicts": {},
        }
        agrees: dict[str, bool] = {}
        if not runs["credsim"]:
            return {p: False for p in peers}
        ok, tests = self_check(runs["credsim"], n, days)
        _print_tests("credsim", tests)
        self.check["verdicts"]["credsim"] = {"agrees": ok, "tests": tests}
        if not ok:
            self.failures.append("credsim's mean score disagrees with the REF-1 expectation")
        for peer in peers:
            if not runs[peer]:
                agrees[peer] = False
                continue
            ok, tests = agreement(runs["credsim"], runs[peer], n, days)
            _print_tests(peer, tests)
            self.check["verdicts"][peer] = {"agrees": ok, "tests": tests}
            agrees[peer] = ok
            if ok:
                self.log(f"  {peer}: agrees with credsim")
            else:
                self.log(f"  {peer}: DISAGREES with credsim: its timings are not taken")
                self.failures.append(f"{peer} disagrees with credsim on REF-1")
        return agrees

    # -- REF-1 timings --------------------------------------------------------------------

    def run_ref1(self, sizes: dict[str, tuple[int, ...]], excluded: dict[str, str]) -> None:
        """Measure REF-1 in waves: each tool's smallest size first, then its next, and so on.

        With the default sizes a wave holds one size, the tools one after another, so that
        the tools compared at equal n are measured close together in time.
        """
        a = self.args
        self.log(f"\n## REF-1 timings, {a.days} days (median of up to {a.repeats} runs)")
        previous: dict[str, tuple[int, float]] = {}
        ordered = {tool: sorted(set(sizes.get(tool, ()))) for tool in TOOLS}
        for wave in range(max(map(len, ordered.values()), default=0)):
            rows: list[dict[str, Any]] = []
            todo: list[tuple[dict[str, Any], dict[str, Any]]] = []
            for tool in TOOLS:
                if wave >= len(ordered[tool]):
                    continue
                n = ordered[tool][wave]
                row: dict[str, Any] = {"tool": tool, "n": n, "days": a.days}
                rows.append(row)
                if tool in excluded:
                    row.update(status="skipped", reason=excluded[tool])
                    continue
                if tool != "credsim" and tool in previous:
                    n0, w0 = previous[tool]
                    estimate = w0 * n / n0
                    if estimate > a.max_minutes * 60:
                        row.update(
                            status="skipped",
                            reason=(
                                f"estimated {estimate / 60:.1f} min (linear from "
                                f"{size_label(n0)}: {w0:.1f} s) exceeds {a.max_minutes:g} min"
                            ),
                        )
                        continue
                todo.append((row, self._spec(tool, n, a.days, regime="ref1", ledger="none")))
            for (row, _), result in zip(todo, self.map(self.measure, [s for _, s in todo])):
                row.update(result)
            for row in rows:
                tool, n = row["tool"], row["n"]
                if row["status"] == "ok":
                    previous[tool] = (n, row["wall_seconds"])
                    self.log(
                        f"  {tool:8s} n={size_label(n):>6s}: wall {row['wall_seconds']:.3f} s "
                        f"(x{row['repeats']}), {_rate(row['agent_days_per_second'])} "
                        f"agent-days/s, peak {row['peak_rss_mb']:.0f} MB, "
                        f"{row['bytes_per_citizen']:.1f} B/citizen"
                    )
                else:
                    self.log(f"  {tool:8s} n={size_label(n):>6s}: {row['status']}: {row['reason']}")
                    if row["status"] == "error":
                        self.failures.append(f"{tool} REF-1 at n={n}: {row['reason']}")
                self.ref1.append(row)

    # -- presets at scale -----------------------------------------------------------------

    def run_scenarios(self, regimes: tuple[str, ...], sizes: tuple[int, ...]) -> None:
        """credsim's presets, ledger default and ledger none, wall and peak memory."""
        a = self.args
        if not regimes or not sizes:
            return
        self.log(f"\n## credsim presets, {a.scenario_days} days")
        for regime in regimes:
            for n in sizes:
                ledgers: list[str | None] = [None, "none"] if n <= LEDGER_DEFAULT_MAX else ["none"]
                for ledger in ledgers:
                    spec = self._spec("credsim", n, a.scenario_days, regime=regime, ledger=ledger)
                    row: dict[str, Any] = {
                        "regime": regime,
                        "n": n,
                        "days": a.scenario_days,
                        "ledger_option": ledger or "default",
                    }
                    row.update(self.measure(spec))
                    if row["status"] == "ok":
                        self.log(
                            f"  {regime:9s} n={size_label(n):>6s} ledger "
                            f"{row.get('ledger', ledger)}: wall {row['wall_seconds']:.2f} s, "
                            f"peak {row['peak_rss_mb']:.0f} MB"
                        )
                    else:
                        self.log(f"  {regime} n={size_label(n)}: {row['status']}: {row['reason']}")
                        self.failures.append(f"{regime} at n={n}: {row['reason']}")
                    self.scenarios.append(row)

    # -- ratios ---------------------------------------------------------------------------

    def ratios(self) -> list[dict[str, Any]]:
        """credsim against each peer at equal n: speed and memory per citizen."""
        ok = {(r["tool"], r["n"]): r for r in self.ref1 if r["status"] == "ok"}
        out = []
        for (tool, n), peer in sorted(ok.items(), key=lambda kv: (kv[0][1], kv[0][0])):
            if tool == "credsim" or ("credsim", n) not in ok:
                continue
            mine = ok[("credsim", n)]
            row = {
                "n": n,
                "peer": tool,
                "speed_ratio": mine["agent_days_per_second"] / peer["agent_days_per_second"],
                "cpu_speed_ratio": (
                    mine["agent_days_per_cpu_second"] / peer["agent_days_per_cpu_second"]
                    if mine["agent_days_per_cpu_second"] and peer["agent_days_per_cpu_second"]
                    else None
                ),
                "peak_rss_ratio": mine["peak_rss_mb"] / peer["peak_rss_mb"],
                "bytes_per_citizen_ratio": (
                    mine["bytes_per_citizen"] / peer["bytes_per_citizen"]
                    if peer["bytes_per_citizen"] > 0
                    else None
                ),
            }
            out.append(row)
        return out


# ---------------------------------------------------------------------------------------------
# Output.


def _table(header: list[str], align: str, rows: list[list[str]]) -> list[str]:
    marks = {"l": "---", "r": "---:"}
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(marks[c] for c in align) + " |"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return lines


def _note(r: dict[str, Any]) -> str:
    if r["status"] != "ok":
        return f"{r['status']}: {r['reason']}"
    return f"{r['processes']} processes" if r["processes"] > 1 else ""


def _measured(r: dict[str, Any]) -> list[str]:
    """wall, runs, cpu, agent-days/s, agent-days/cpu-s, peak, bytes/citizen cells."""
    if r["status"] != "ok":
        return ["-"] * 7
    return [
        f"{r['wall_seconds']:.3f}",
        str(r["repeats"]),
        f"{r['sim_cpu_seconds']:.2f}",
        _rate(r["agent_days_per_second"]),
        _rate(r["agent_days_per_cpu_second"]),
        f"{r['peak_rss_mb']:,.0f}",
        f"{r['bytes_per_citizen']:,.1f}",
    ]


def _tail(r: dict[str, Any]) -> list[str]:
    if r["status"] != "ok":
        return ["-", "-", _note(r)]
    load = r.get("load_average")
    return [f"{r['process_wall_seconds']:.2f}", "-" if load is None else f"{load:.1f}", _note(r)]


def markdown_tables(data: dict[str, Any]) -> str:
    """The REF-1 table, the ratios and the presets as markdown."""
    measured = [
        "wall s",
        "runs",
        "cpu s",
        "agent-days/s",
        "agent-days/cpu-s",
        "peak RSS MB",
        "bytes/citizen",
    ]
    lines = [
        f"REF-1, {data['settings']['days']} days. wall: median over the runs of the simulation "
        "alone (build + run); cpu: user + system CPU of that simulation (all its processes); "
        "process wall: the whole child process, interpreter start included; load: the "
        "machine's 1-minute load average when the run started.",
        "",
    ]
    lines += _table(
        ["tool", "n", *measured, "core bytes/citizen", "process wall s", "load", "note"],
        "lr" + "r" * 7 + "rrrl",
        [
            [r["tool"], size_label(r["n"]), *_measured(r)]
            + [_fmt(r.get("core_bytes_per_citizen")) if r["status"] == "ok" else "-"]
            + _tail(r)
            for r in data["ref1"]
        ],
    )
    if data["ratios"]:
        lines.append("")
        lines += _table(
            [
                "n",
                "credsim vs",
                "speed ratio (agent-days/s)",
                "speed ratio per cpu-s",
                "bytes/citizen ratio",
                "peak RSS ratio",
            ],
            "rlrrrr",
            [
                [
                    size_label(r["n"]),
                    r["peer"],
                    f"{r['speed_ratio']:,.1f}",
                    "-" if r["cpu_speed_ratio"] is None else f"{r['cpu_speed_ratio']:,.1f}",
                    "-"
                    if r["bytes_per_citizen_ratio"] is None
                    else f"{r['bytes_per_citizen_ratio']:.2f}",
                    f"{r['peak_rss_ratio']:.2f}",
                ]
                for r in data["ratios"]
            ],
        )
    if data["scenarios"]:
        lines.append("")
        lines += _table(
            ["preset", "n", "ledger", *measured, "process wall s", "load", "note"],
            "lrl" + "r" * 7 + "rrl",
            [
                [r["regime"], size_label(r["n"]), str(r.get("ledger", r["ledger_option"]))]
                + _measured(r)
                + _tail(r)
                for r in data["scenarios"]
            ],
        )
    return "\n".join(lines)


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _memory_gib() -> float | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError, AttributeError):
        return None


# ---------------------------------------------------------------------------------------------
# Command line.


def build_parser() -> argparse.ArgumentParser:
    """The command-line options."""
    p = argparse.ArgumentParser(
        description="Benchmark credsim on REF-1 against Mesa and Starsim, and its presets.",
    )
    p.add_argument("--smoke", action="store_true", help="tiny sizes, a quick end-to-end check")
    p.add_argument(
        "--sizes",
        type=parse_sizes,
        default=None,
        help="credsim REF-1 sizes, e.g. 10k,100k,1M,10M,100M,1.41B (default 10k..10M)",
    )
    p.add_argument("--starsim-sizes", type=parse_sizes, default=None, help="default 10k,100k,1M")
    p.add_argument("--mesa-sizes", type=parse_sizes, default=None, help="default 10k,100k")
    p.add_argument(
        "--peers", default="mesa,starsim", help="comma-separated peers to compare, or 'none'"
    )
    p.add_argument(
        "--scenarios", default=",".join(DEFAULT_SCENARIOS), help="credsim presets, or 'none'"
    )
    p.add_argument(
        "--scenario-sizes", type=parse_sizes, default=None, help="default 1M,10M for the presets"
    )
    p.add_argument("--days", type=int, default=None, help="REF-1 days (default 365)")
    p.add_argument("--seed", type=int, default=1, help="seed of the timed runs")
    p.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="credsim worker processes (used when a run has several shards)",
    )
    p.add_argument("--repeats", type=int, default=None, help="runs of a quick measurement (3)")
    p.add_argument(
        "--repeat-under",
        type=float,
        default=30.0,
        help="repeat a measurement only if its first run took less than this many seconds",
    )
    p.add_argument(
        "--max-minutes",
        type=float,
        default=10.0,
        help="skip a peer's size whose time, extrapolated linearly, exceeds this",
    )
    p.add_argument("--check-n", type=int, default=None, help="agreement check size (10000)")
    p.add_argument("--check-days", type=int, default=None, help="agreement check days (365)")
    p.add_argument("--check-seeds", type=int, default=None, help="agreement check seeds (8)")
    p.add_argument(
        "--jobs", type=int, default=None, help="measurements run at once (1; --smoke: 3)"
    )
    p.add_argument("--timeout", type=float, default=None, help="per child process, seconds")
    p.add_argument("--no-warmup", action="store_true", help="time cold runs (no warm-up run)")
    p.add_argument("--tmp", default=None, help="folder for run folders (default: system temp)")
    p.add_argument(
        "--out",
        default=None,
        help="JSON results (default benchmarks/results.json; --smoke: in the temp folder)",
    )
    return p


def _apply_defaults(a: argparse.Namespace) -> None:
    smoke = a.smoke
    a.days = a.days or (30 if smoke else 365)
    a.repeats = a.repeats or (1 if smoke else 3)
    a.check_n = a.check_n or (2_000 if smoke else 10_000)
    a.check_days = a.check_days or (30 if smoke else 365)
    a.check_seeds = a.check_seeds or (2 if smoke else 8)
    a.jobs = a.jobs or (len(TOOLS) if smoke else 1)
    a.timeout = a.timeout if a.timeout is not None else (120.0 if smoke else 0.0)
    if a.sizes is None:
        a.sizes = (2_000,) if smoke else DEFAULT_SIZES["credsim"]
    if a.starsim_sizes is None:
        a.starsim_sizes = (500,) if smoke else DEFAULT_SIZES["starsim"]
    if a.mesa_sizes is None:
        a.mesa_sizes = (500,) if smoke else DEFAULT_SIZES["mesa"]
    if a.scenario_sizes is None:
        a.scenario_sizes = () if smoke else DEFAULT_SCENARIO_SIZES
    a.scenario_days = a.days if smoke else 365
    if a.out is None:
        a.out = str(
            Path(tempfile.gettempdir()) / "credsim-bench-smoke.json"
            if smoke
            else ROOT / "benchmarks" / "results.json"
        )


def _names(text: str) -> list[str]:
    return [s.strip() for s in text.split(",") if s.strip() and s.strip().lower() != "none"]


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; print the tables, write the JSON; 1 if anything failed."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["_child"]:
        child_main(argv[1], argv[2])
        return 0
    a = build_parser().parse_args(argv)
    _apply_defaults(a)
    started = time.perf_counter()
    peers = _names(a.peers)
    unknown = [p for p in peers if p not in PEERS]
    if unknown:
        print(f"unknown peer(s) {unknown}: use {', '.join(PEERS)}", file=sys.stderr)
        return 2
    bench = Bench(a)
    excluded: dict[str, str] = {}
    importable = []
    for peer in peers:
        if util.find_spec(peer) is None:
            excluded[peer] = f"{peer} is not installed (pip install {peer})"
        else:
            importable.append(peer)
    bench.log(
        f"credsim benchmark on {platform.platform()}, {os.cpu_count()} cpus; "
        f"credsim workers {a.workers}"
    )
    agrees = bench.run_check(importable)
    for peer in importable:
        if not agrees[peer]:
            excluded[peer] = "disagrees with credsim on REF-1 (see check): not timed"
    sizes = {
        "credsim": a.sizes,
        **({"starsim": a.starsim_sizes} if "starsim" in peers else {}),
        **({"mesa": a.mesa_sizes} if "mesa" in peers else {}),
    }
    bench.run_ref1(sizes, excluded)
    bench.run_scenarios(tuple(_names(a.scenarios)), a.scenario_sizes)
    data: dict[str, Any] = {
        "machine": {
            "platform": platform.platform(),
            "machine": platform.machine(),
            "processor": platform.processor(),
            "cpu_count": os.cpu_count(),
            "memory_gib": _memory_gib(),
            "python": platform.python_version(),
        },
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": shlex.join([sys.executable, *sys.argv]),
        "versions": {p: _version(p) for p in ("credsim", "mesa", "starsim", "numpy", "numba")},
        "settings": {
            "smoke": a.smoke,
            "days": a.days,
            "seed": a.seed,
            "workers": a.workers,
            "repeats": a.repeats,
            "repeat_under_seconds": a.repeat_under,
            "max_minutes": a.max_minutes,
            "warmup": not a.no_warmup,
            "jobs": a.jobs,
            "sizes": sizes,
            "scenario_sizes": list(a.scenario_sizes),
            "scenarios": _names(a.scenarios),
        },
        "check": bench.check,
        "ref1": bench.ref1,
        "ratios": bench.ratios(),
        "scenarios": bench.scenarios,
        "failures": bench.failures,
        "total_seconds": None,
    }
    data["total_seconds"] = round(time.perf_counter() - started, 1)
    print()
    print(markdown_tables(data))
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(_finite(data), indent=2, allow_nan=False) + "\n")
    print(f"\nwrote {out} ({data['total_seconds']:.0f} s)")
    if bench.failures:
        print("FAILURES:\n  " + "\n  ".join(bench.failures), file=sys.stderr)
        return 1
    return 0


def _finite(value: Any) -> Any:
    """``value`` with non-finite floats replaced by None (JSON has no infinity)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


if __name__ == "__main__":
    sys.exit(main())
