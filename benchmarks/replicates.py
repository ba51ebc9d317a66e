"""Replicates: how often the 95% t interval over replicates covers the truth, and what
running replicates side by side saves.

    python benchmarks/replicates.py            # 20 seeds of coverage, then the timings
    python benchmarks/replicates.py --smoke    # 3 seeds, 2 timings (CI-sized)

Coverage: for each seed, 2,000 synthetic sets of R replicates (R = 3, 5, 10) drawn from a
known distribution: normal, and Poisson counts with mean 3 (small and skewed, like a rare
harm); the share of sets whose interval (``credsim.replicates.band``) holds the true mean.
The test suite asserts |coverage - 0.95| < 0.02 for normal data on 3 seeds; this script checks
that tolerance on 20 seeds and reports the Poisson case, where the t interval is only
approximate. Timings: ``Sim("press", 20_000, 365, replicates=3)`` with ``workers=1`` (one
after another) and ``workers=2`` (side by side), each in a fresh process, median of runs.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

import numpy as np

from credsim.replicates import band

SETS = 2_000
TOLERANCE = 0.02  # the test's: 4 standard errors of a coverage estimated from 2,000 sets


def coverage(seeds: int) -> list[dict]:
    rows = []
    for kind in ("normal", "poisson"):
        for r in (3, 5, 10):
            values = []
            for seed in range(1, seeds + 1):
                rng = np.random.default_rng(seed)
                if kind == "normal":
                    x, truth = rng.normal(10.0, 3.0, size=(SETS, r)), 10.0
                else:
                    x, truth = rng.poisson(3.0, size=(SETS, r)).astype(float), 3.0
                _, lo, hi = band(x.T)
                values.append(float(((lo <= truth) & (truth <= hi)).mean()))
            rows.append(
                {
                    "data": kind,
                    "replicates": r,
                    "seeds": seeds,
                    "coverage_min": min(values),
                    "coverage_median": statistics.median(values),
                    "coverage_max": max(values),
                    "within_tolerance": all(abs(v - 0.95) < TOLERANCE for v in values),
                }
            )
    return rows


RUN = """
import sys, tempfile, time
from credsim.sim import Sim
t0 = time.perf_counter()
with tempfile.TemporaryDirectory() as d:
    Sim("press", {population}, {days}, 1, out=d + "/run", workers={workers}, replicates=3,
        ledger="none").run()
print(time.perf_counter() - t0)
"""


def timings(repeats: int, population: int, days: int) -> list[dict]:
    rows = []
    for workers in (1, 2):
        wall = []
        for _ in range(repeats):
            code = RUN.format(population=population, days=days, workers=workers)
            out = subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True, check=True
            )
            wall.append(float(out.stdout.split()[-1]))
        rows.append(
            {
                "workers": workers,
                "population": population,
                "days": days,
                "replicates": 3,
                "runs": repeats,
                "median_seconds": round(statistics.median(wall), 2),
                "all_seconds": [round(w, 2) for w in wall],
            }
        )
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--json", help="also write the results here")
    args = ap.parse_args()
    t0 = time.perf_counter()
    cov = coverage(3 if args.smoke else 20)
    print("coverage of the 95% t interval over replicates (share of 2,000 sets, per seed)")
    print("| data | replicates | seeds | min | median | max | all within ±0.02 |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for r in cov:
        print(
            f"| {r['data']} | {r['replicates']} | {r['seeds']} | {r['coverage_min']:.3f} | "
            f"{r['coverage_median']:.3f} | {r['coverage_max']:.3f} | "
            f"{'yes' if r['within_tolerance'] else 'no'} |"
        )
    tim = timings(
        1 if args.smoke else 5, 2_000 if args.smoke else 20_000, 60 if args.smoke else 365
    )
    print("\nwall time of Sim(...).run() with 3 replicates, in a fresh process (seconds)")
    print("| workers | citizens | days | runs | median | all |")
    print("| --- | --- | --- | --- | --- | --- |")
    for r in tim:
        print(
            f"| {r['workers']} | {r['population']:,} | {r['days']} | {r['runs']} | "
            f"{r['median_seconds']} | {', '.join(map(str, r['all_seconds']))} |"
        )
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"coverage": cov, "timings": tim}, f, indent=2)
    print(f"\n({time.perf_counter() - t0:.0f} s)")
    normal_ok = all(r["within_tolerance"] for r in cov if r["data"] == "normal")
    return 0 if normal_ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
