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
    python benchmarks/startup.py --parts    # and where a 1,000-citizen press year's CPU goes
    python benchmarks/startup.py --per-day  # and the day loop's cost per day (in-process)
    python benchmarks/startup.py --default  # and the default `credsim run` (press, 1M)

``--parts`` splits a 1,000-citizen press year (``--ledger none --no-report``) into its parts,
in CPU seconds (user + system of the process, ``time.process_time``), each part's own time
(the kernels loaded from Numba's cache inside another part are counted as kernel loading),
median over fresh processes: the interpreter's start, the command line's imports, NumPy,
the regime schema, Numba's import, the engine's modules, pyarrow, loading the regime,
loading the compiled kernels, synthesising the population, the day loop, writing the run
folder and the summary table.

``--per-day`` times the day loop alone in this process (the shard built first; CPU seconds
of the loop): press at 1,000 and 10,000 citizens for 365 and 3,650 days. The cost per day
at n citizens is a + b n; the per-day overhead a (what a day costs whatever the population)
is the intercept through the two populations, for each length.
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


# Run in a fresh process: each part's own CPU seconds, printed as JSON on the last line.
PARTS = r"""
import json, sys, time
clock = time.process_time
start = clock()  # the interpreter's own start, before this line
own = {"interpreter start": start}
stack = []
def part(name, fn):
    def timed(*a, **k):
        stack.append(0.0)
        t = clock()
        try:
            return fn(*a, **k)
        finally:
            spent = clock() - t
            inner = stack.pop()
            own[name] = own.get(name, 0.0) + spent - inner
            if stack:
                stack[-1] += spent
    return timed
def imported(name, modules):
    t = clock()
    for m in modules:
        __import__(m)
    own[name] = clock() - t
imported("imports: command line (typer, rich)", ["credsim.cli"])
imported("imports: numpy", ["numpy"])
imported("imports: regime schema (pydantic)", ["credsim.regime.load"])
imported("imports: numba", ["credsim.compiled_cache"])
imported("imports: engine modules", ["credsim.sim", "credsim.engine.shard"])
imported("imports: pyarrow", ["pyarrow", "pyarrow.parquet"])
from numba.core import caching
import credsim.population, credsim.engine.shard
from credsim import cli
from credsim.sim import Sim
caching.Cache.load_overload = part("compiled kernels loaded", caching.Cache.load_overload)
credsim.population.synthesize = part("population", credsim.population.synthesize)
Shard = credsim.engine.shard.Shard
Shard.__init__ = part("shard state and components", Shard.__init__)
Shard.run_day = part("day loop", Shard.run_day)
sim = part("regime loaded, run checked", Sim)("press", 1000, 365, 1, out=sys.argv[1], ledger="none")
run = part("writing the run folder (and the rest of the run)", sim.run)()
part("summary table", cli.summary_table)(run)
own["whole process"] = clock()
print(json.dumps(own))
"""


def parts(runs: int, folder: str) -> dict[str, float]:
    """Median CPU seconds of each part of a 1,000-citizen press year, over fresh processes."""
    seen: dict[str, list[float]] = {}
    for k in range(runs + 1):  # the first one warms the cache
        out = subprocess.run(
            [sys.executable, "-c", PARTS, f"{folder}/parts-{k}"],
            capture_output=True,
            text=True,
            check=True,
            cwd=RUN_FROM[0],
        ).stdout
        if k:
            for name, sec in json.loads(out.splitlines()[-1]).items():
                seen.setdefault(name, []).append(sec)
    med = {name: statistics.median(v) for name, v in seen.items()}
    total = med.pop("whole process")
    print("\nCPU seconds of a 1,000-citizen press year (--ledger none --no-report) by part,")
    print(f"median of {runs} fresh processes (each part's own time)")
    for name, sec in med.items():
        print(f"  {name:52} {sec:6.3f}")
    print(f"  {'sum of the parts':52} {sum(med.values()):6.3f}")
    print(f"  {'whole process (process_time at exit)':52} {total:6.3f}")
    return {**med, "whole process": total}


SIZES = (1000, 10_000)


def per_day() -> dict[str, float]:
    """CPU seconds per day of press's day loop at two populations and two lengths, and the
    per-day overhead (the intercept in citizens)."""
    from credsim.engine.compiled import Compiled
    from credsim.engine.sampling import stream
    from credsim.engine.shard import Shard
    from credsim.ledger import Ledger
    from credsim.population import Census, synthesize
    from credsim.regime.load import load_regime

    regime = load_regime("press")
    census = Census.from_facts()
    c = Compiled(regime, census.provinces, census.groups)
    names = {"sources": c.sources, "rules": c.rules, "sanctions": c.sanctions}
    names["privileges"] = c.privileges

    def loop(n: int, days: int) -> float:
        pop = synthesize(n, stream(1, 0, "population"), census)
        shard = Shard(c, pop, 1, 0, 0, days, Ledger(0.0, 0, range(n), None, names))
        t = time.process_time()
        for day in range(days):
            shard.run_day(day)
        return time.process_time() - t

    loop(1000, 30)  # kernels loaded
    out: dict[str, float] = {}
    print("\nday loop of press, in this process, CPU ms per day (median of 3)")
    for days in (365, 3650):
        cost = {n: statistics.median([loop(n, days) for _ in range(3)]) / days for n in SIZES}
        slope = (cost[10_000] - cost[1000]) / 9000
        overhead = cost[1000] - 1000 * slope
        for n in (1000, 10_000):
            out[f"{n} citizens x {days} days, ms per day"] = 1e3 * cost[n]
        out[f"per-day overhead over {days} days, ms"] = 1e3 * overhead
        print(
            f"  {days:5} days: 1,000 citizens {1e3 * cost[1000]:.3f}, 10,000 citizens "
            f"{1e3 * cost[10_000]:.3f}; per citizen-day {1e6 * slope:.2f} us; "
            f"per-day overhead (intercept) {1e3 * overhead:.3f}"
        )
    return out


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
    ap.add_argument("--parts", action="store_true", help="split a 1,000-citizen year's CPU")
    ap.add_argument("--per-day", action="store_true", help="the day loop's cost per day")
    ap.add_argument("--default", action="store_true", help="also the default credsim run")
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
                *(
                    "run",
                    "ref1",
                    "-n",
                    "1000",
                    "-d",
                    "365",
                    "--no-report",
                    "-o",
                    f"{d}/r",
                ),
            ],
            "credsim run press -n 1000 -d 365 --ledger none --no-report": [
                *CREDSIM,
                *("run", "press", "-n", "1000", "-d", "365", "--ledger", "none"),
                *("--no-report", "-o", f"{d}/pn"),
            ],
        }
        if args.default:
            # the default run: press, 1,000,000 citizens, 365 days, ledger and report
            cases["credsim run (press, 1M, ledger, report)"] = [
                *CREDSIM,
                "run",
                "-o",
                f"{d}/def",
            ]
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
        if args.parts:
            figures["parts"] = parts(runs, d)
        if args.per_day:
            figures["per_day"] = per_day()
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
