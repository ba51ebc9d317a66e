"""Start-up cost of the command line, whole process as a user runs it.

Times `credsim --version`, `credsim --help` and a 1,000-citizen year of REF-1 and of the press
preset (with its report), each as its own process, several runs after a warm-up (the first
run also compiles or loads the kernels), and prints median, minimum and maximum wall time;
then the largest import costs of a 1,000-citizen run from `python -X importtime`.

    python benchmarks/startup.py            # 7 runs each
    python benchmarks/startup.py --smoke    # 2 runs each; exit 1 if --version takes > 1.5 s
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CREDSIM = [sys.executable, "-m", "credsim.cli"]
SMOKE_VERSION_BOUND = 1.5  # seconds; generous, CI machines are noisy


def wall(argv: list[str], runs: int) -> list[float]:
    out = []
    subprocess.run(argv, capture_output=True, check=True)  # warm-up
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(argv, capture_output=True, check=True)
        out.append(time.perf_counter() - t)
    return out


def import_costs(argv: list[str], top: int = 12) -> list[tuple[str, float]]:
    err = subprocess.run(
        [sys.executable, "-X", "importtime", *argv[1:]], capture_output=True, text=True
    ).stderr
    rows = []
    for line in err.splitlines():
        m = re.match(r"import time:\s+\d+ \|\s+(\d+) \|( *)(\S+)", line)
        if m and len(m.group(2)) == 1:  # top-level imports only
            rows.append((m.group(3), int(m.group(1)) / 1e6))
    return sorted(rows, key=lambda r: -r[1])[:top]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--json", type=Path, help="write the figures here")
    args = ap.parse_args()
    runs = 2 if args.smoke else args.runs
    with tempfile.TemporaryDirectory(prefix="credsim-startup-") as d:
        cases = {
            "credsim --version": [*CREDSIM, "--version"],
            "credsim --help": [*CREDSIM, "--help"],
            "credsim run ref1 -n 1000 -d 365 (with report)": [
                *CREDSIM,
                "run",
                "ref1",
                "-n",
                "1000",
                "-d",
                "365",
                "-o",
                f"{d}/ref1",
            ],
            "credsim run press -n 1000 -d 365 (with report)": [
                *CREDSIM,
                "run",
                "press",
                "-n",
                "1000",
                "-d",
                "365",
                "-o",
                f"{d}/press",
            ],
        }
        if args.smoke:
            cases = dict(list(cases.items())[:2])
        figures = {}
        print(f"whole process, wall seconds over {runs} runs after a warm-up")
        print(f"{'command':50} {'median':>8} {'min':>8} {'max':>8}")
        for name, argv in cases.items():
            t = wall(argv, runs)
            figures[name] = {"median": statistics.median(t), "min": min(t), "max": max(t)}
            f = figures[name]
            print(f"{name:50} {f['median']:8.3f} {f['min']:8.3f} {f['max']:8.3f}")
        if not args.smoke:
            print("\nlargest top-level imports of a 1,000-citizen press run (seconds, cumulative)")
            for mod, sec in import_costs(cases["credsim run press -n 1000 -d 365 (with report)"]):
                print(f"  {mod:40} {sec:.3f}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    if args.smoke and figures["credsim --version"]["median"] > SMOKE_VERSION_BOUND:
        print(f"credsim --version took more than {SMOKE_VERSION_BOUND} s", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
