"""Throughput of experiments: runs a minute of `credsim sweep` and `credsim compare --replicates`.

Each command runs as its own process, as a user runs it, with its worker processes (2, the
cores of this machine); its wall time and its CPU seconds (user + system of the process and
its workers) are measured, several times after a warm-up, and the medians reported:

- `credsim sweep press --vary sources.camera.false_match=... (5 values) --replicates 4
  --population 100000 --days 365 --workers 2`: 20 runs of press at 100,000 citizens x 365
  days, kept in memory (versions before 2026-12-07 wrote each as a run folder);
- `credsim compare press national --replicates 5 --population 100000 --days 365 --workers 2`:
  10 runs kept in memory (only their headline figures are used).

Runs a minute = runs x 60 / wall seconds. On a loaded machine the wall time says little; the
CPU seconds do: runs x 60 x 2 / CPU seconds is what the same work gives on 2 idle cores with
both busy all the time (an upper bound: the parent's own work and the workers' start are in
the CPU seconds, but waiting for the last run is not).

Then, in this process, one press run at 100,000 citizens x 365 days, split in CPU seconds into
the day loop and the rest (building the population and state, writing the run folder and
reading its metrics back as a sweep does; or kept in memory, as compare does).

    python benchmarks/throughput.py                   # 3 runs of each command
    python benchmarks/throughput.py --against /tmp/old   # and paired against another version
    python benchmarks/throughput.py --json benchmarks/throughput.json
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CREDSIM = [sys.executable, "-m", "credsim.cli"]
VALUES = "0.001,0.002,0.005,0.01,0.02"


def one(argv: list[str], folder: str, env: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall and CPU seconds (the process and its children) of one command, from ``folder``."""
    for p in Path(folder).iterdir():
        shutil.rmtree(p) if p.is_dir() else p.unlink()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run(argv, capture_output=True, check=True, env=env, cwd=folder)
    elapsed = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return elapsed, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def split(n: int = 100_000, days: int = 365) -> dict[str, float]:
    """CPU seconds of one press run in this process: the day loop, and the rest."""
    import credsim.engine.shard as shard
    from credsim.sim import Sim

    loop = [0.0]
    run_day = shard.Shard.run_day

    def timed(self, day):
        t = time.process_time()
        run_day(self, day)
        loop[0] += time.process_time() - t

    shard.Shard.run_day = timed
    out: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="credsim-throughput-") as d:
        Sim("press", 1000, 10, 1, ledger="none", workers=1).simulate()  # kernels loaded
        for how in ("run folder", "in memory"):
            seen = []
            for k in range(3):
                loop[0] = 0.0
                t = time.process_time()
                sim = Sim("press", n, days, 1, out=f"{d}/{k}", ledger="none", workers=1)
                if how == "run folder":
                    sim.run().metrics  # noqa: B018 (read back, as a sweep's run does)
                else:
                    sim.simulate()
                seen.append((time.process_time() - t, loop[0]))
            total = statistics.median(s[0] for s in seen)
            day_loop = statistics.median(s[1] for s in seen)
            out[f"{how}: whole run"] = total
            out[f"{how}: day loop"] = day_loop
            print(
                f"  press {n:,} x {days}, {how}: {total:.3f} CPU s, of which the day loop "
                f"{day_loop:.3f} and the rest {total - day_loop:.3f}"
            )
    shard.Shard.run_day = run_day
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--population", type=int, default=100_000)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--against", type=Path, help="a source checkout of another credsim version")
    args = ap.parse_args()
    n = str(args.population)
    cases = {
        "sweep (20 runs)": (
            20,
            [*CREDSIM, "sweep", "press", "--vary", f"sources.camera.false_match={VALUES}"]
            + ["--replicates", "4", "--population", n, "--days", "365", "--workers", "2"]
            + ["-o", "sweep"],
        ),
        "compare --replicates 5 (10 runs, in memory)": (
            10,
            [*CREDSIM, "compare", "press", "national", "--replicates", "5"]
            + ["--population", n, "--days", "365", "--workers", "2"],
        ),
    }
    versions = {"this checkout": None}
    if args.against:
        versions["against"] = {**os.environ, "PYTHONPATH": str(args.against.resolve())}
    figures: dict = {"load_average": [os.getloadavg()[0]]}
    print(f"whole process, {args.runs} runs after a warm-up; load average {os.getloadavg()[0]:.1f}")
    print(f"{'command':46} {'version':14} {'wall s':>7} {'cpu s':>7} {'runs/min':>9} {'2 idle':>7}")
    with tempfile.TemporaryDirectory(prefix="credsim-throughput-") as d:
        for name, (count, argv) in cases.items():
            for env in versions.values():
                one(argv, d, env)  # warm-up
            seen: dict[str, list] = {v: [] for v in versions}
            for _ in range(args.runs):  # alternately, so a drift in load hits both
                for version, env in versions.items():
                    seen[version].append(one(argv, d, env))
            for version, pairs in seen.items():
                w = statistics.median(p[0] for p in pairs)
                c = statistics.median(p[1] for p in pairs)
                f = {"runs": count, "wall": w, "cpu": c, "per_minute": count * 60 / w}
                f["per_minute_2_idle_cores"] = count * 60 * 2 / c
                figures[f"{name}, {version}"] = f
                print(
                    f"{name:46} {version:14} {w:7.2f} {c:7.2f} {f['per_minute']:9.0f} "
                    f"{f['per_minute_2_idle_cores']:7.0f}"
                )
    print("\none run in this process (CPU seconds, median of 3)")
    figures["split"] = split(args.population)
    figures["load_average"].append(os.getloadavg()[0])
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
