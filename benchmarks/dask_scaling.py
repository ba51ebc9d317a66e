"""Dask scaling: CPU-seconds per shard and wall time, in-process vs local processes vs Dask.

Run from the repository root (needs ``pip install 'credsim[dask]'``)::

    python benchmarks/dask_scaling.py                       # press, 2,000,000 x 365 d, 4 shards
    python benchmarks/dask_scaling.py --population 400000 --shard-size 100000 --days 90

The same shards run five ways: one after another in this process; in 1 and 2 local worker
processes (``LocalProcesses``); on a loopback Dask cluster of 1 and 2 workers
(``DaskExecutor``). Two more rows run 1 Dask worker with one of dask's defaults that
``DaskExecutor`` changes put back: the nanny's ``MALLOC_TRIM_THRESHOLD_=65536``, and the
workers' statistical profiler (``--no-default-rows`` skips them).

Each process first runs a tiny warm-up shard (imports, Numba cache loading), timed apart; then
every shard's CPU time (its thread's user + system time) and wall time are measured inside the
process that runs it. Every way must give the same per-day metric arrays as in-process. The
Dask scheduler's overhead per task is measured with 200 empty tasks.

Then the first shard of a year of the whole country (1,411,778,724 citizens, with that run's
default ledger and citizen sampling) runs on a fresh 1-worker Dask cluster, at 5,000,000 and
1,000,000 citizens per shard, and its CPU time, peak memory and bytes written give an estimate
of the whole country's wall time on 8, 32 and 128 cores (``--no-country`` skips this).

Prints markdown tables and the machine, date and command; ``--json PATH`` also writes the
figures.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shlex
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
COUNTRY = 1_411_778_724  # 2020 census
COUNTRY_SHARDS = (5_000_000, 1_000_000)  # the default shard size, and a finer one
CORES = (8, 32, 128)
TRIM = "MALLOC_TRIM_THRESHOLD_"
_state: dict[str, Any] = {"warm": False}


def peak_rss() -> int:
    """This process's peak resident memory in bytes (VmHWM; ru_maxrss of a spawned process
    starts from its parent's peak on Linux)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def timed_shard(task) -> dict[str, Any]:
    """Run one shard (after a once-per-process warm-up) and measure it where it runs."""
    from credsim.scale.shards import run_shard

    warm_cpu = 0.0
    if not _state["warm"]:
        c0 = time.thread_time()
        run_shard(replace(task, shard=0, offset=0, n=2_000, days=3, folder=None))
        warm_cpu = time.thread_time() - c0
        _state["warm"] = True
    c0, p0, w0 = time.thread_time(), time.process_time(), time.perf_counter()
    result = run_shard(task)
    return {
        "shard": task.shard,
        "cpu": time.thread_time() - c0,
        "process_cpu": time.process_time() - p0,
        "wall": time.perf_counter() - w0,
        "warm_cpu": warm_cpu,
        "pid": os.getpid(),
        "max_rss": peak_rss(),
        "trim": os.getenv(TRIM),
        "metrics": result.metrics,
    }


def default_dask(workers: int, setting: str):
    """A Dask executor on a loopback cluster with one of dask's defaults put back.

    ``setting`` is ``trim`` (the nanny sets ``MALLOC_TRIM_THRESHOLD_=65536``) or ``profile``
    (the workers' statistical profiler runs); the other stays as ``DaskExecutor`` sets it.
    """
    import dask
    from distributed import LocalCluster

    from credsim.scale.dask import WORKER_CONFIG, DaskExecutor

    scratch = tempfile.mkdtemp(prefix="credsim-bench-")
    had_trim = TRIM in os.environ
    config = {k: v for k, v in WORKER_CONFIG.items() if setting not in k.lower()}
    with dask.config.set({**config, "temporary-directory": scratch}):
        cluster = LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",
            local_directory=scratch,
            silence_logs=40,
        )
    ex = DaskExecutor(scheduler=cluster.scheduler_address)
    inner_close = ex.close

    def close() -> None:
        inner_close()
        cluster.close()
        shutil.rmtree(scratch, ignore_errors=True)
        if not had_trim:  # the nanny wrote it into this process's environment
            os.environ.pop(TRIM, None)

    ex.close = close  # type: ignore[method-assign]
    return ex


def make(kind: str, workers: int):
    from credsim.scale.dask import DaskExecutor
    from credsim.scale.executors import InProcess, LocalProcesses

    if kind == "inprocess":
        return InProcess()
    if kind == "local":
        return LocalProcesses(workers)
    if kind == "dask":
        return DaskExecutor(workers=workers)
    if kind in ("dask-trim", "dask-profile"):
        return default_dask(workers, kind.split("-")[1])
    raise ValueError(kind)


def same_metrics(a, b) -> bool:
    import numpy as np

    return all(
        np.array_equal(getattr(a, k), getattr(b, k))
        for k in ("rows", "hist", "groups", "group_population")
    )


def merge_parts(paths: list[Path]):
    """Add the shards' metric parts as ``Sim.run`` does (to time the client's merge)."""
    import numpy as np

    from credsim.metrics import ShardMetrics

    merged = None
    for path in paths:
        z = np.load(path)
        m = ShardMetrics(z["rows"], z["hist"], z["groups"], z["group_population"])
        merged = m if merged is None else merged + m
    return merged


def country_shards(args: argparse.Namespace, fn, folder: Path) -> dict[int, dict[str, Any]]:
    """Run the first shard of the whole-country run (its own ledger and citizen sampling) on a
    1-worker Dask cluster, for each shard size of the estimate; median of the repetitions."""
    import credsim
    from credsim.scale.dask import DaskExecutor

    out: dict[int, dict[str, Any]] = {}
    for size in COUNTRY_SHARDS:
        sim = credsim.Sim(args.regime, COUNTRY, 365, args.seed, shard_size=size, out=folder)
        task = sim.tasks(folder)[0]
        runs = []
        for i in range(args.repeat):
            print(f"[{i + 1}/{args.repeat}] country shard of {size:,} ...", file=sys.stderr)
            for sub in ("parts", "ledger"):
                shutil.rmtree(folder / sub, ignore_errors=True)
            with DaskExecutor(workers=1) as ex:  # a fresh worker: its peak memory is this shard's
                (_, r), *_ = ex.map_unordered(fn, [task])
            r.pop("metrics")
            r["written_bytes"] = sum(
                p.stat().st_size for sub in ("parts", "ledger") for p in (folder / sub).glob("*")
            )
            runs.append(r)
        out[size] = sorted(runs, key=lambda r: r["process_cpu"])[(len(runs) - 1) // 2]
        out[size]["ledger"] = sim.ledger_mode
    return out


def country_estimate(rows: list[dict[str, Any]], shards: dict[int, dict[str, Any]]) -> str:
    """Wall time of a year of the whole country on 8, 32 and 128 cores, from measured shards."""
    overhead = max(r["task_overhead_s"] for r in rows if r["task_overhead_s"] is not None)
    merge = rows[0]["merge_s_per_shard"]
    out = [
        f"Whole country: {COUNTRY:,} citizens x 365 days, default ledger "
        f"({shards[COUNTRY_SHARDS[0]]['ledger']}). One shard measured on a Dask worker "
        "(process CPU: the shard and Dask's own threads); scheduler overhead "
        f"{1000 * overhead:.0f} ms per task; client merge {1000 * merge:.0f} ms per shard.",
        "",
        "| shard size | CPU s per shard | CPU s per 10^6 citizens | peak RSS GiB "
        "| written per shard | core-hours in all |",
        "| ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for size, r in shards.items():
        n = -(-COUNTRY // size)
        out.append(
            f"| {size:,} | {r['process_cpu']:.1f} | {r['process_cpu'] / (size / 1e6):.2f} "
            f"| {r['max_rss'] / 2**30:.2f} | {r['written_bytes'] / 2**20:.1f} MiB "
            f"| {n * r['process_cpu'] / 3600:.1f} |"
        )
    out += [
        "",
        "| cores | shard size | shards | rounds | one shard | estimate | ideal (CPU/cores) "
        "| write rate |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for cores in CORES:
        for size, r in shards.items():
            n = -(-COUNTRY // size)
            t = r["process_cpu"] + overhead
            rounds = -(-n // cores)
            wall = rounds * t + n * merge
            rate = min(cores, n) * r["written_bytes"] / t
            out.append(
                f"| {cores} | {size:,} | {n} | {rounds} | {t:.0f} s | {_hm(wall)} "
                f"| {_hm(n * r['process_cpu'] / cores)} | {rate / 2**20:.1f} MiB/s |"
            )
    return "\n".join(out)


def _hm(seconds: float) -> str:
    if seconds < 600:
        return f"{seconds:.0f} s"
    return f"{seconds / 3600:.1f} h" if seconds >= 5400 else f"{seconds / 60:.0f} min"


def measure(kind: str, workers: int, sim, folder: Path, fn) -> dict[str, Any]:
    for sub in ("parts", "ledger"):
        shutil.rmtree(folder / sub, ignore_errors=True)
    tasks = sim.tasks(folder)
    t0 = time.perf_counter()
    ex = make(kind, workers)
    t1 = time.perf_counter()
    shards = [r for _, r in ex.map_unordered(fn, tasks)]
    t2 = time.perf_counter()
    overhead = None
    if kind == "dask":
        n = 200
        t = time.perf_counter()
        list(ex.map_unordered(abs, range(n)))
        overhead = (time.perf_counter() - t) / n
    t3 = time.perf_counter()
    ex.close()
    t4 = time.perf_counter()
    written = sum(p.stat().st_size for sub in ("parts", "ledger") for p in (folder / sub).glob("*"))
    npz = sorted((folder / "parts").glob("metrics-*.npz"))
    t = time.perf_counter()
    merge_parts(npz)
    merge = (time.perf_counter() - t) / len(npz)
    cpu = [s["cpu"] for s in shards]
    return {
        "backend": kind,
        "workers": workers,
        "start_s": t1 - t0,
        "shards_wall_s": t2 - t1,
        "close_s": t4 - t3,
        "wall_s": (t2 - t0) + (t4 - t3),
        "cpu_per_shard_s": statistics.fmean(cpu),
        "cpu_min_s": min(cpu),
        "cpu_max_s": max(cpu),
        "process_cpu_per_shard_s": statistics.fmean(s["process_cpu"] for s in shards),
        "shard_wall_s": statistics.fmean(s["wall"] for s in shards),
        "warm_cpu_s": max(s["warm_cpu"] for s in shards),
        "max_rss_gib": max(s["max_rss"] for s in shards) / 2**30,
        "processes": len({s["pid"] for s in shards}),
        "trim": sorted({str(s["trim"]) for s in shards}),
        "written_bytes": written,
        "npz_bytes_per_shard": sum(p.stat().st_size for p in npz) / len(npz),
        "merge_s_per_shard": merge,
        "task_overhead_s": overhead,
        "_metrics": {s["shard"]: s["metrics"] for s in shards},
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--regime", default="press")
    ap.add_argument("--population", type=int, default=2_000_000)
    ap.add_argument("--shard-size", type=int, default=500_000)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--ledger", default=None, help="full, none or sample=F (default: Sim's)")
    ap.add_argument("--repeat", type=int, default=1, help="repetitions of every way")
    ap.add_argument(
        "--no-default-rows",
        action="store_true",
        help="skip the Dask rows with dask's default trim threshold or profiler",
    )
    ap.add_argument(
        "--no-country",
        action="store_true",
        help="skip the whole-country shards and estimate",
    )
    ap.add_argument("--json", type=Path, default=None, help="also write the figures here")
    ap.add_argument("--folder", type=Path, default=None, help="run folder (default: a temp dir)")
    args = ap.parse_args(argv)

    # workers (spawned processes and Dask workers) import this module by name
    sys.path.insert(0, str(ROOT))
    os.environ["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    )
    import credsim
    from benchmarks.dask_scaling import timed_shard as fn

    folder = args.folder or Path(tempfile.mkdtemp(prefix="credsim-dask-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    sim = credsim.Sim(
        args.regime,
        args.population,
        args.days,
        args.seed,
        shard_size=args.shard_size,
        out=folder,
        ledger=args.ledger,
        workers=1,
    )
    shards = len(sim.tasks(folder))
    ways = [("inprocess", 1), ("local", 1), ("local", 2), ("dask", 1), ("dask", 2)]
    if not args.no_default_rows:
        ways += [("dask-trim", 1), ("dask-profile", 1)]
    load_before = os.getloadavg()
    tries: dict[tuple[str, int], list[dict[str, Any]]] = {w: [] for w in ways}
    for i in range(args.repeat):
        for kind, workers in ways:
            print(
                f"[{i + 1}/{args.repeat}] {kind} with {workers} worker(s) ...",
                file=sys.stderr,
                flush=True,
            )
            r = measure(kind, workers, sim, folder, fn)
            tries[kind, workers].append(r)
            print(
                f"  wall {r['wall_s']:.1f} s (start {r['start_s']:.1f}, shards "
                f"{r['shards_wall_s']:.1f}, close {r['close_s']:.1f}), CPU/shard "
                f"{r['cpu_per_shard_s']:.2f} s",
                file=sys.stderr,
                flush=True,
            )
    country = {} if args.no_country else country_shards(args, fn, folder)
    load_after = os.getloadavg()
    if args.folder is None:
        shutil.rmtree(folder, ignore_errors=True)
    # each way is represented by its median repetition by CPU per shard; wall is the median
    rows = [
        dict(sorted(t, key=lambda r: r["cpu_per_shard_s"])[(len(t) - 1) // 2])
        for t in tries.values()
    ]
    for r, t in zip(rows, tries.values()):
        r["identical"] = all(
            same_metrics(x["_metrics"][k], tries[ways[0]][0]["_metrics"][k])
            for x in t
            for k in x["_metrics"]
        )
        r["median_wall_s"] = statistics.median(x["wall_s"] for x in t)
        r["warm_cpu_s"] = max(x["warm_cpu_s"] for x in t)  # paid once per process
        r["trims"] = sorted({v for x in t for v in x["trim"]})
        r.pop("_metrics")
        r["median_process_cpu_s"] = statistics.median(x["process_cpu_per_shard_s"] for x in t)

    base = rows[0]
    for r in rows:
        r["cpu_vs_inprocess"] = r["cpu_per_shard_s"] / base["cpu_per_shard_s"]
        r["process_cpu_vs_inprocess"] = r["median_process_cpu_s"] / base["median_process_cpu_s"]
        r["speedup"] = base["median_wall_s"] / r["median_wall_s"]
        r["cpu_per_million_s"] = r["cpu_per_shard_s"] / (args.shard_size / 1e6)
    for t in tries.values():
        for r in t:
            r.pop("_metrics", None)
    import dask
    import numba
    import numpy

    info = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.node()} {platform.machine()}, {os.cpu_count()} CPUs, "
        f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB",
        "system": platform.platform(),
        "versions": f"Python {platform.python_version()}, numpy {numpy.__version__}, "
        f"numba {numba.__version__}, dask {dask.__version__}, credsim {credsim.__version__}",
        "command": "python " + shlex.join([os.path.relpath(__file__, Path.cwd()), *sys.argv[1:]]),
        "load average (1 min) before, after": f"{load_before[0]:.1f}, {load_after[0]:.1f}",
        "repetitions": f"{args.repeat}; each figure is the median repetition's",
        "run": f"{args.regime}, {args.population:,} citizens, {args.days} days, seed {args.seed}, "
        f"{shards} shards of {args.shard_size:,}, ledger {sim.ledger_mode}",
    }
    print(report(info, rows))
    if country:
        print()
        print(country_estimate(rows, country))
    if args.json:
        every = {f"{k}-{w}": t for (k, w), t in tries.items()}
        figures = {"info": info, "rows": rows, "all": every, "country": country}
        args.json.write_text(json.dumps(figures, indent=2))
    bad = [r for r in rows if not r["identical"]]
    bad += [r for r in rows if r["backend"] != "dask-trim" and r["trims"] != ["None"]]
    dask_rows = [r for r in rows if r["backend"] == "dask"]
    within = all(abs(r["cpu_vs_inprocess"] - 1) <= 0.10 for r in dask_rows)
    figures = ", ".join(
        f"{r['workers']} worker(s): {100 * r['cpu_vs_inprocess']:.1f}% "
        f"(whole worker process {100 * r['process_cpu_vs_inprocess']:.1f}%)"
        for r in dask_rows
    )
    print(
        f"\nDask CPU-seconds per shard within 10% of in-process: {'yes' if within else 'NO'}; "
        f"{figures}"
    )
    local = {r["workers"]: r for r in rows if r["backend"] == "local"}
    same = ", ".join(
        f"{r['workers']} worker(s): "
        f"{100 * r['cpu_per_shard_s'] / local[r['workers']]['cpu_per_shard_s']:.1f}% "
        "(whole worker process "
        f"{100 * r['median_process_cpu_s'] / local[r['workers']]['median_process_cpu_s']:.1f}%)"
        for r in dask_rows
        if r["workers"] in local
    )
    print(f"Dask CPU-seconds per shard against local processes, same number of workers: {same}")
    return 1 if bad or not within else 0


def report(info: dict[str, str], rows: list[dict[str, Any]]) -> str:
    names = {
        "inprocess": "in-process",
        "local": "local processes",
        "dask": "Dask",
        "dask-trim": "Dask, MALLOC_TRIM_THRESHOLD_=65536 (dask default)",
        "dask-profile": "Dask, worker profiler on (dask default)",
    }
    out = [f"- {k}: {v}" for k, v in info.items()]
    out += [
        "",
        "| way | workers | wall s | start s | shard wall s | CPU s/shard | vs in-process "
        "| process CPU s/shard | CPU s per 10^6 citizens | warm-up CPU s | peak RSS GiB "
        "| speed-up | same result | MALLOC_TRIM_THRESHOLD_ |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
        "| --- | --- |",
    ]
    for r in rows:
        out.append(
            f"| {names[r['backend']]} | {r['workers']} | {r['median_wall_s']:.1f} "
            f"| {r['start_s']:.1f} | {r['shard_wall_s']:.1f} | {r['cpu_per_shard_s']:.2f} "
            f"({r['cpu_min_s']:.2f}-{r['cpu_max_s']:.2f}) | {100 * r['cpu_vs_inprocess']:.1f}% "
            f"| {r['median_process_cpu_s']:.2f} | {r['cpu_per_million_s']:.1f} "
            f"| {r['warm_cpu_s']:.1f} | {r['max_rss_gib']:.2f} "
            f"| {r['speedup']:.2f}x | {'yes' if r['identical'] else 'NO'} "
            f"| {', '.join(r['trims'])} |"
        )
    out.append("")
    for r in rows:
        if r["task_overhead_s"] is not None:
            out.append(
                f"Dask overhead per task, {r['workers']} worker(s): "
                f"{1000 * r['task_overhead_s']:.2f} ms (200 empty tasks)"
            )
    w = rows[0]["written_bytes"]
    out.append(f"Bytes written to the run folder by the shards: {w / 2**20:.1f} MiB")
    return "\n".join(out)


if __name__ == "__main__":
    raise SystemExit(main())
