"""What the audit trail costs: the same run with ``--ledger full`` and with ``--ledger none``.

Run from the repository root::

    python benchmarks/ledger_cost.py                  # press, 1,000,000 x 365, 7 pairs
    python benchmarks/ledger_cost.py --smoke          # 20,000 x 60, 2 pairs

Each run is a fresh ``credsim run`` process; full and none alternate (full, none, full, ...)
so that a drift in the machine's speed falls on both, and every ratio is taken pair by pair.
Three figures per run: the whole process (wall and CPU seconds, from the operating system),
and the engine (the day loop: the sum of the phase timings in the run's manifest, which
include handing ledger parts to the writer thread but not start-up, population synthesis
or the final tables). Ledger size: rows, bytes on disk, bytes per row and per citizen-year.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def one_run(regime: str, n: int, days: int, ledger: str, folder: Path) -> dict:
    """One ``credsim run`` in its own process; its figures."""
    if folder.exists():
        shutil.rmtree(folder)
    cmd = [sys.executable, "-m", "credsim", "run", regime, "-n", str(n), "-d", str(days)]
    cmd += ["--ledger", ledger, "--no-report", "--workers", "1", "-o", str(folder)]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"credsim run failed: {err.strip().splitlines()[-1:]}")
    m = json.loads((folder / "manifest.json").read_text())
    return {
        "ledger": ledger,
        "wall_seconds": wall,
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
        "peak_rss_mb": usage.ru_maxrss / 1024,
        "engine_seconds": sum(m["phase_seconds"].values()),
        "phase_seconds": m["phase_seconds"],
        "ledger_rows": m["ledger_rows"],
        "ledger_bytes": m["ledger_bytes"],
        "ledger_write_seconds": m.get("ledger_write_seconds", 0.0),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--regime", default="press")
    p.add_argument("-n", "--population", type=int, default=1_000_000)
    p.add_argument("-d", "--days", type=int, default=365)
    p.add_argument("--pairs", type=int, default=7)
    p.add_argument("--smoke", action="store_true", help="20,000 citizens, 60 days, 2 pairs")
    p.add_argument("--json", type=Path, default=None, help="write the figures here")
    a = p.parse_args()
    if a.smoke:
        a.population, a.days, a.pairs = 20_000, 60, 2
    runs: dict[str, list[dict]] = {"full": [], "none": []}
    with tempfile.TemporaryDirectory(prefix="credsim-ledger-cost-") as tmp:
        one_run(a.regime, min(a.population, 20_000), 10, "full", Path(tmp) / "warm")
        for i in range(a.pairs):
            for mode in ("full", "none"):
                r = one_run(a.regime, a.population, a.days, mode, Path(tmp) / mode)
                runs[mode].append(r)
                print(
                    f"pair {i + 1} {mode:4s}: wall {r['wall_seconds']:.2f} s, "
                    f"cpu {r['cpu_seconds']:.2f} s, engine {r['engine_seconds']:.2f} s",
                    flush=True,
                )
    med = statistics.median
    ratios = {}
    for key in ("wall_seconds", "cpu_seconds", "engine_seconds"):
        pairs = [f[key] / z[key] for f, z in zip(runs["full"], runs["none"])]
        ratios[key] = {"median": med(pairs), "min": min(pairs), "max": max(pairs)}
    full = runs["full"][0]
    rows, size = full["ledger_rows"], full["ledger_bytes"]
    citizen_years = a.population * a.days / 365
    summary = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "load_average": os.getloadavg()[0],
        "command": " ".join(["python benchmarks/ledger_cost.py", *sys.argv[1:]]),
        "regime": a.regime,
        "population": a.population,
        "days": a.days,
        "pairs": a.pairs,
        "median": {
            mode: {
                k: med(r[k] for r in runs[mode])
                for k in ("wall_seconds", "cpu_seconds", "engine_seconds", "peak_rss_mb")
            }
            for mode in runs
        },
        "ratio_full_to_none": ratios,
        "ledger_rows": rows,
        "ledger_bytes": size,
        "bytes_per_row": size / rows if rows else None,
        "bytes_per_citizen_year": size / citizen_years,
        "ledger_write_seconds": med(r["ledger_write_seconds"] for r in runs["full"]),
        "runs": runs,
    }
    print(f"\n{a.regime}, {a.population:,} citizens x {a.days} days, {a.pairs} pairs (medians)")
    for key, label in (
        ("wall_seconds", "whole process, wall"),
        ("cpu_seconds", "whole process, CPU"),
        ("engine_seconds", "engine (day loop)"),
    ):
        f, z, r = summary["median"]["full"][key], summary["median"]["none"][key], ratios[key]
        print(
            f"  {label:20s}: full {f:6.2f} s, none {z:6.2f} s, full/none {r['median']:.3f} "
            f"(pairs {r['min']:.3f}-{r['max']:.3f})"
        )
    print(
        f"  ledger: {rows:,} rows, {size / 2**20:.1f} MiB, {summary['bytes_per_row']:.2f} B/row, "
        f"{summary['bytes_per_citizen_year']:.1f} B per citizen-year; parts encoded in "
        f"{summary['ledger_write_seconds']:.2f} s (writer thread)"
    )
    if a.json:
        a.json.write_text(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
