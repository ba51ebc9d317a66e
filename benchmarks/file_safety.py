"""What credsim's file safety costs, and whether its disk estimate covers what a run writes.

Runs ``credsim run press`` (each run its own process) and reports, per run: the wall time of
the whole process; the time SHA-256 checksums take over the files its manifest lists (the
ledger parts and the merged tables; the shards' own parts, checksummed the same way as they
finish, are removed by then); the disk estimate printed before the run; and the peak bytes
on disk, sampled every 50 ms while the run goes (parts and merged files together). Medians
over ``--runs`` runs.

    python benchmarks/file_safety.py                  # 1,000,000 citizens x 365 days, 5 runs
    python benchmarks/file_safety.py --smoke          # 20,000 citizens x 60 days, 2 runs
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path


def folder_bytes(folder: Path) -> int:
    total = 0
    for p in folder.rglob("*"):
        try:
            if p.is_file():
                total += p.stat().st_size
        except OSError:  # removed while we looked
            pass
    return total


def one_run(population: int, days: int, shard_size: int) -> dict:
    from credsim.files import checksum

    with tempfile.TemporaryDirectory(prefix="credsim-bench-") as d:
        out = Path(d) / "run"
        peak = [0]
        stop = threading.Event()

        def watch() -> None:
            while not stop.is_set():
                if out.exists():
                    peak[0] = max(peak[0], folder_bytes(out))
                time.sleep(0.05)

        t = threading.Thread(target=watch, daemon=True)
        t.start()
        argv = [sys.executable, "-m", "credsim", "run", "press", "-n", str(population)]
        argv += ["-d", str(days), "--shard-size", str(shard_size), "--no-report", "-o", str(out)]
        t0 = time.perf_counter()
        p = subprocess.run(argv, capture_output=True, text=True, check=True)
        wall = time.perf_counter() - t0
        stop.set()
        t.join()
        m = re.search(r"disk ([0-9.]+) (GiB|MiB)", p.stderr)
        unit = {"GiB": 2**30, "MiB": 2**20}
        estimate = float(m.group(1)) * unit[m.group(2)] if m else float("nan")
        manifest = json.loads((out / "manifest.json").read_text())
        files = [out / k for k in manifest["files"]]
        t0 = time.perf_counter()
        for f in files:
            checksum(f)
        sums = time.perf_counter() - t0
        return {
            "wall_seconds": wall,
            "checksum_seconds": sums,
            "checksummed_bytes": sum(f.stat().st_size for f in files),
            "estimate_bytes": estimate,
            "peak_bytes": peak[0],
            "final_bytes": folder_bytes(out),
        }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--population", type=int, default=1_000_000)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--shard-size", type=int, default=250_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--smoke", action="store_true")
    a = ap.parse_args()
    if a.smoke:
        a.population, a.days, a.shard_size, a.runs = 20_000, 60, 5_000, 2
    rows = [one_run(a.population, a.days, a.shard_size) for _ in range(a.runs)]
    med = {k: statistics.median(r[k] for r in rows) for k in rows[0]}
    print(
        f"credsim run press -n {a.population:,} -d {a.days} --shard-size {a.shard_size:,}: "
        f"medians of {a.runs} runs"
    )
    print(f"  wall time of the run           {med['wall_seconds']:8.2f} s")
    print(
        f"  SHA-256 of the files listed    {med['checksum_seconds']:8.3f} s "
        f"({100 * med['checksum_seconds'] / med['wall_seconds']:.1f}% of the wall time; "
        f"{med['checksummed_bytes'] / 2**20:.1f} MiB)"
    )
    print(f"  disk estimate before the run   {med['estimate_bytes'] / 2**20:8.1f} MiB")
    print(f"  peak bytes on disk (sampled)   {med['peak_bytes'] / 2**20:8.1f} MiB")
    print(f"  left after the run             {med['final_bytes'] / 2**20:8.1f} MiB")
    covered = all(r["estimate_bytes"] >= r["peak_bytes"] for r in rows)
    print(f"  estimate >= peak in every run: {covered}")


if __name__ == "__main__":
    main()
