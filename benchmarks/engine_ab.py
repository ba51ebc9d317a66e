"""Two source trees of credsim, A and B, timed in turn on the same commands (A B A B ...).

    git archive <commit> | tar -x -C /tmp/credsim-before        # the tree to compare with
    python benchmarks/engine_ab.py --before /tmp/credsim-before --sizes 1M,10M

Each measurement is one whole process, ``python -m credsim run PRESET -n N --ledger none
--no-report`` with the tree first on ``PYTHONPATH``, timed from start to exit: wall seconds,
CPU seconds (user + system, the process and the workers it waited for) and the peak resident
memory of its largest process. Each tree first runs once at 10,000 citizens to fill its
compiled-kernel cache. The rounds alternate the trees, so that a change in the machine's
load falls on both; the ratios B / A are taken within each round, and their median is
reported with the range over rounds. Writes a Markdown table to stdout and JSON to
``--json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SIZES = {"10k": 10_000, "100k": 100_000, "1M": 1_000_000, "10M": 10_000_000}


def measure(tree: Path, preset: str, n: int) -> dict:
    """Run one whole process; its wall and CPU seconds and peak RSS (MB)."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    with tempfile.TemporaryDirectory(prefix="credsim-ab-") as d:
        cmd = [sys.executable, "-m", "credsim", "run", preset, "-n", str(n)]
        cmd += ["--ledger", "none", "--no-report", "--out", str(Path(d) / "run")]
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, cwd=d, stdout=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        if status != 0:
            raise SystemExit(f"{' '.join(cmd)} (PYTHONPATH={tree}) failed: status {status}")
    return {
        "wall": wall,
        "cpu": usage.ru_utime + usage.ru_stime,
        "rss_mb": usage.ru_maxrss / 1024,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", type=Path, required=True, help="tree A (the baseline)")
    ap.add_argument("--after", type=Path, default=ROOT, help="tree B (default: this one)")
    ap.add_argument("--presets", default="ref1,press")
    ap.add_argument("--sizes", default="1M,10M")
    ap.add_argument("--rounds", type=int, default=2, help="A B pairs per measurement")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    trees = {"A": args.before.resolve(), "B": args.after.resolve()}
    for tree in trees.values():
        measure(tree, "ref1", 10_000)
        measure(tree, "press", 10_000)
    rows = []
    for size in args.sizes.split(","):
        for preset in args.presets.split(","):
            runs: dict[str, list[dict]] = {"A": [], "B": []}
            for _ in range(args.rounds):
                for name, tree in trees.items():
                    runs[name].append(measure(tree, preset, SIZES[size]))
                    print(f"{preset} {size} {name}: {runs[name][-1]}", file=sys.stderr)
            ratio = {
                k: [b[k] / a[k] for a, b in zip(runs["A"], runs["B"], strict=True)]
                for k in ("wall", "cpu", "rss_mb")
            }
            rows.append({"preset": preset, "size": size, "runs": runs, "ratio": ratio})
    load = os.getloadavg()
    print(
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()}, {os.cpu_count()} cores, "
        f"load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1 / 5 / 15 min) at the end"
    )
    print("\n| preset | n | rounds | A wall s | B wall s | B/A wall | B/A CPU | B/A peak RSS |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        med = {k: statistics.median(v) for k, v in r["ratio"].items()}
        span = {k: f"{min(v):.2f}-{max(v):.2f}" for k, v in r["ratio"].items()}
        wa = statistics.median(x["wall"] for x in r["runs"]["A"])
        wb = statistics.median(x["wall"] for x in r["runs"]["B"])
        print(
            f"| {r['preset']} | {r['size']} | {len(r['runs']['A'])} | {wa:.1f} | {wb:.1f} | "
            f"{med['wall']:.2f} ({span['wall']}) | {med['cpu']:.2f} ({span['cpu']}) | "
            f"{med['rss_mb']:.2f} ({span['rss_mb']}) |"
        )
    if args.json:
        args.json.write_text(json.dumps({"load": load, "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
