"""Start-up cost of the command line, whole process as a user runs it.

Times `credsim --version`, `credsim --help` and a 1,000-citizen year of REF-1 and of the press
preset with the default options (ledger and report; and REF-1 once more without the report),
each as its own process, several runs after a warm-up (the first run also compiles or loads
the kernels), and prints median, minimum and maximum wall time and the median CPU time (user
and system: on a loaded machine it moves far less than the wall time); then, from
`python -X importtime`, the import time of a 1,000-citizen press run by package (the modules'
own times summed, so the packages add up to the whole import time).

    python benchmarks/startup.py            # 7 runs each
    python benchmarks/startup.py --against /tmp/old   # and paired against another version
    python benchmarks/startup.py --smoke    # 2 runs of --version, --help and the REF-1 year;
                                            # exit 1 above generous bounds (CI is noisy)
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CREDSIM = [sys.executable, "-m", "credsim.cli"]
RUN_FROM = [tempfile.gettempdir()]  # the folder commands run from (main sets an empty one)
# CPU seconds (user + system), whole process; generous: they catch a heavy import at start-up
# or a run path several times slower, not a few per cent. CPU time, not wall time: on a loaded
# machine (CI, or other jobs on the same two cores) the wall time of a 2 s run reached 10 s.
SMOKE_BOUNDS = {
    "credsim --version": 1.0,
    "credsim --help": 1.5,
    "credsim run ref1 -n 1000 -d 365 (ledger, report)": 6.0,
}


def one(argv: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system, the process and its children) of a run."""
    if "-o" in argv:  # credsim never replaces an earlier run: each timed run starts afresh
        shutil.rmtree(argv[argv.index("-o") + 1], ignore_errors=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    # from a folder outside any checkout, so that `python -m` imports the installed credsim
    # (or the one on PYTHONPATH), never a credsim/ folder of the current directory
    subprocess.run(argv, capture_output=True, check=True, env=env, cwd=RUN_FROM[0])
    elapsed = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return elapsed, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def wall(argv: list[str], runs: int) -> tuple[list[float], list[float]]:
    """Wall and CPU seconds of each run after a warm-up. On a loaded machine the CPU time
    moves far less than the wall time."""
    one(argv)  # warm-up
    walls, cpus = zip(*(one(argv) for _ in range(runs)), strict=True)
    return list(walls), list(cpus)


def paired(argv: list[str], runs: int, against: Path) -> dict[str, float]:
    """This checkout (A) against another source checkout (B, on PYTHONPATH), run in turn
    A B A B ...: the medians of the ratios A/B, pair by pair, hold when the load drifts."""
    env_b = {**os.environ, "PYTHONPATH": str(against)}
    one(argv), one(argv, env_b)  # warm-up (B may compile its own kernels)
    a, b = [], []
    for _ in range(runs):
        a.append(one(argv))
        b.append(one(argv, env_b))
    return {
        "a_cpu_median": statistics.median(x[1] for x in a),
        "b_cpu_median": statistics.median(x[1] for x in b),
        "cpu_ratio_median": statistics.median(x[1] / y[1] for x, y in zip(a, b, strict=True)),
        "wall_ratio_median": statistics.median(x[0] / y[0] for x, y in zip(a, b, strict=True)),
    }


def import_costs(argv: list[str], top: int = 14) -> tuple[list[tuple[str, float]], float]:
    """Seconds of import by top-level package (each module's own time, summed), and the total."""
    if "-o" in argv:
        shutil.rmtree(argv[argv.index("-o") + 1], ignore_errors=True)
    done = subprocess.run(
        [sys.executable, "-X", "importtime", *argv[1:]],
        capture_output=True,
        text=True,
        cwd=RUN_FROM[0],
    )
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed: {done.stderr.splitlines()[-1:]}")
    err = done.stderr
    by_package: dict[str, float] = {}
    for line in err.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+\d+ \| *(\S+)", line)
        if m:
            package = m.group(2).split(".")[0]
            by_package[package] = by_package.get(package, 0.0) + int(m.group(1)) / 1e6
    rows = sorted(by_package.items(), key=lambda r: -r[1])
    return rows[:top], sum(by_package.values())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--json", type=Path, help="write the figures here")
    ap.add_argument(
        "--against",
        type=Path,
        help="a source checkout of another credsim version (for example from `git archive "
        "COMMIT | tar -x -C DIR`): each run command is also run paired against it",
    )
    args = ap.parse_args()
    runs = 2 if args.smoke else args.runs
    with tempfile.TemporaryDirectory(prefix="credsim-startup-") as d:
        RUN_FROM[0] = d
        cases = {
            "credsim --version": [*CREDSIM, "--version"],
            "credsim --help": [*CREDSIM, "--help"],
            "credsim run ref1 -n 1000 -d 365 (ledger, report)": [
                *CREDSIM,
                *("run", "ref1", "-n", "1000", "-d", "365", "-o", f"{d}/ref1"),
            ],
            "credsim run press -n 1000 -d 365 (ledger, report)": [
                *CREDSIM,
                *("run", "press", "-n", "1000", "-d", "365", "-o", f"{d}/press"),
            ],
            "credsim run ref1 -n 1000 -d 365 --no-report": [
                *CREDSIM,
                *("run", "ref1", "-n", "1000", "-d", "365", "--no-report", "-o", f"{d}/r"),
            ],
        }
        if args.smoke:
            cases = {k: v for k, v in cases.items() if k in SMOKE_BOUNDS}
        figures = {}
        load = os.getloadavg()[0]
        print(f"whole process, seconds over {runs} runs after a warm-up; load average {load:.1f}")
        print(f"{'command':52} {'wall median':>11} {'min':>6} {'max':>6} {'cpu median':>11}")
        for name, argv in cases.items():
            t, cpu = wall(argv, runs)
            figures[name] = {
                "median": statistics.median(t),
                "min": min(t),
                "max": max(t),
                "cpu_median": statistics.median(cpu),
            }
            f = figures[name]
            print(
                f"{name:52} {f['median']:11.3f} {f['min']:6.2f} {f['max']:6.2f} "
                f"{f['cpu_median']:11.3f}"
            )
        if args.against:
            print(f"\npaired against {args.against} (A = this checkout, B = that one)")
            print(f"{'command':52} {'A cpu':>7} {'B cpu':>7} {'A/B cpu':>8} {'A/B wall':>9}")
            for name, argv in cases.items():
                if " run " not in f" {' '.join(argv)} ":
                    continue
                f = paired(argv, runs, args.against.resolve())
                figures[f"{name} against"] = f
                print(
                    f"{name:52} {f['a_cpu_median']:7.3f} {f['b_cpu_median']:7.3f} "
                    f"{f['cpu_ratio_median']:8.3f} {f['wall_ratio_median']:9.3f}"
                )
        figures["load_average"] = [load, os.getloadavg()[0]]  # before and after
        if not args.smoke:
            press = cases["credsim run press -n 1000 -d 365 (ledger, report)"]
            rows, total = import_costs(press)
            print(f"\nimport time of a 1,000-citizen press run by package: {total:.3f} s in all")
            for package, sec in rows:
                print(f"  {package:24} {sec:.3f}")
            figures["imports"] = {"total": total, **dict(rows)}
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    slow = [
        f"{name} took {figures[name]['cpu_median']:.2f} CPU seconds (bound {bound} s)"
        for name, bound in SMOKE_BOUNDS.items()
        if args.smoke and figures[name]["cpu_median"] > bound
    ]
    for line in slow:
        print(line, file=sys.stderr)
    if slow:
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
