"""Where a whole-process run's time goes: `credsim run ref1 -n N --ledger none --no-report`.

Each configuration (population x workers x how workers start) runs as its own process, as a
user runs it, from a temporary folder. For each run it reports the process's wall time, its
CPU time (user + system, its workers included: they are its children) and its peak resident
memory (the largest single process), and, from the run folder's manifest (`stage_seconds`,
`plan_seconds`), how the time splits:

- outside the run: the interpreter, imports and the command line (the process's CPU time less
  every stage below), measured apart as well: `python -c "import credsim.cli, credsim.sim"`;
- worker start: from the start of the shards to the first shard starting in a worker (wall);
- per shard, summed over shards (wall and CPU): setup (regime, census), population
  synthesis, state (the columns and the components built), the day loop (by component, from
  the plan), the citizens table and the metrics part written;
- in the running process after the shards: metrics merged, metrics tables written,
  citizens merged.

Ratios (2 workers against 1, forked against spawned workers, credsim against Starsim) are
taken within one round of this script: the machine is shared, so only figures measured side by
side are compared. Peak memory per citizen is the peak RSS at N less the peak RSS of a
1,000-citizen run (the interpreter and its libraries), over N - 1,000.

    python benchmarks/profile_run.py                      # 1M and 10M, two rounds; 100M once
    python benchmarks/profile_run.py --sizes 1M,10M --rounds 3 --large none
    python benchmarks/profile_run.py --starsim            # and Starsim's REF-1 at 1M, whole process
    python benchmarks/profile_run.py --json benchmarks/profile_run.json
    python benchmarks/profile_run.py --smoke              # 20,000 citizens, 30 days (CI)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SIZES = {"1k": 1_000, "20k": 20_000, "1M": 1_000_000, "10M": 10_000_000, "100M": 100_000_000}


def run_process(argv: list[str], env: dict | None = None, cwd: str | None = None) -> dict:
    """Wall, CPU (user + system, children included) and peak RSS (bytes) of one process."""
    t = time.perf_counter()
    p = subprocess.Popen(
        argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=cwd, text=True
    )
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t
    err = p.stderr.read() if p.stderr else ""
    p.stderr.close()
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited with {p.returncode}: {err[-2000:]}")
    return {
        "wall": round(wall, 3),
        "cpu": round(ru.ru_utime + ru.ru_stime, 3),
        "peak_rss": int(ru.ru_maxrss) * 1024,
    }


def credsim_run(n: int, workers: int, start: str, days: int, work: Path) -> dict:
    """One whole-process run and its manifest's stages."""
    out = work / f"run-{n}-{workers}-{start}"
    argv = [sys.executable, "-m", "credsim.cli", "run", "ref1", "-n", str(n), "-d", str(days)]
    argv += ["--ledger", "none", "--no-report", "--workers", str(workers), "--out", str(out)]
    argv += ["--force"]
    env = dict(os.environ, CREDSIM_START_METHOD=start)
    row = run_process(argv, env, cwd=str(work))
    m = json.loads((out / "manifest.json").read_text())
    st = m["stage_seconds"]
    shard = st["shards"]
    own = st["run"]
    # the run's own stages; with workers, the shards' CPU time is theirs, not this process's
    inside = sum(v[1] for v in own.values())
    if m["shards"] > 1 and workers > 1:
        inside += sum(v[1] for v in shard.values())
    plan: dict[str, float] = {}
    for phase, comp, method, _calls, sec in m["plan_seconds"]:
        key = comp if method == phase else f"{comp} ({method})"
        plan[key] = round(plan.get(key, 0.0) + sec, 3)
    row.update(
        n=n,
        workers=workers,
        start=start,
        shards=m["shards"],
        outside_cpu=round(row["cpu"] - inside, 3),
        worker_start=st.get("first_shard_start"),
        shard_stages=shard,
        run_stages=own,
        plan=plan,
    )
    import shutil

    shutil.rmtree(out, ignore_errors=True)
    return row


def imports_alone(work: Path) -> dict:
    """The interpreter with the run's modules imported, nothing run."""
    code = "import credsim.cli, credsim.sim, credsim.scale.shards, credsim.engine.shard"
    return run_process([sys.executable, "-c", code], cwd=str(work))


def starsim_run(n: int, days: int, work: Path) -> dict:
    """Starsim's REF-1 (benchmarks/peers/starsim_ref1.py), whole process."""
    argv = [sys.executable, "-m", "benchmarks.peers.starsim_ref1", "--n", str(n)]
    argv += ["--days", str(days), "--seed", "1"]
    env = dict(os.environ, PYTHONPATH=str(HERE.parent), STARSIM_INSTALL_FONTS="0")
    return run_process(argv, env, cwd=str(HERE.parent))


def table(rows: list[dict]) -> str:
    """The runs as Markdown: totals, then the split."""
    lines = [
        "| citizens | workers | start | shards | wall s | CPU s | peak RSS MiB | outside the run"
        " CPU s | worker start s | synthesis CPU s | state CPU s | days CPU s | citizens"
        " CPU s | merge+tables CPU s |",
        "| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
        " ---: | ---: |",
    ]
    for r in rows:
        s, o = r["shard_stages"], r["run_stages"]
        merge = sum(o.get(k, [0, 0])[1] for k in ("merge metrics", "metrics tables"))
        merge += o.get("merge citizens", [0, 0])[1]
        lines.append(
            f"| {r['n']:,} | {r['workers']} | {r['start']} | {r['shards']} | {r['wall']:.2f} "
            f"| {r['cpu']:.2f} | {r['peak_rss'] / 2**20:.0f} | {r['outside_cpu']:.2f} "
            f"| {r['worker_start'] or 0:.2f} | {s.get('synthesis', [0, 0])[1]:.2f} "
            f"| {s.get('state', [0, 0])[1]:.2f} | {s.get('days', [0, 0])[1]:.2f} "
            f"| {s.get('citizens', [0, 0])[1]:.2f} | {merge:.2f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--sizes", default="1M,10M", help="sizes run every round")
    ap.add_argument("--large", default="100M", help="sizes run once, last ('none': skip)")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--starsim", action="store_true", help="Starsim's REF-1 at 1M each round")
    ap.add_argument("--smoke", action="store_true", help="20,000 citizens, 30 days, one round")
    ap.add_argument("--json", type=Path, help="write every run's figures here")
    args = ap.parse_args(argv)
    if args.smoke:
        args.sizes, args.large, args.rounds, args.days = "20k", "none", 1, 30
    sizes = [SIZES[s] for s in args.sizes.split(",") if s]
    large = [] if args.large == "none" else [SIZES[s] for s in args.large.split(",") if s]
    work = Path(tempfile.mkdtemp(prefix="credsim-profile-"))
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    load = os.getloadavg()
    rows: list[dict] = []
    rounds: list[dict] = []

    def save(extra: dict | None = None) -> None:  # after every run: a cut-off script keeps them
        if args.json:
            done = {"started": started, "load": load, "runs": rows, "rounds": rounds}
            args.json.write_text(json.dumps({**done, **(extra or {})}, indent=1))

    def show(r: dict) -> None:
        keys = ("n", "workers", "start", "wall", "cpu", "peak_rss")
        print(json.dumps({key: r[key] for key in keys if key in r}), flush=True)

    # warm-up: the kernels compiled or loaded from the cache, files in the page cache
    credsim_run(1_000, 1, "fork", min(args.days, 30), work)
    for k in range(args.rounds):
        got: dict = {"imports": imports_alone(work)}
        got["baseline"] = credsim_run(1_000, 1, "fork", args.days, work)
        rounds.append(got)
        for n in sizes:
            for workers, start in ((1, "fork"), (2, "fork"), (2, "spawn")):
                if n < 2_000_000 and workers == 2:
                    continue  # one shard: a second worker has nothing to run
                r = credsim_run(n, workers, start, args.days, work)
                r["round"] = k
                rows.append(r)
                got[f"{n}/{workers}/{start}"] = r
                show(r)
                save()
        if args.starsim:
            got["starsim"] = starsim_run(1_000_000, args.days, work)
            show({"n": "starsim 1,000,000", **got["starsim"]})
            save()
    for n in large:
        for workers in (1, 2):
            r = credsim_run(n, workers, "fork", args.days, work)
            r["round"] = "large"
            rows.append(r)
            show(r)
            save()
    print()
    print(f"machine: {platform.node()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"started {started}; load average at the start {load[0]:.1f} (shared machine)")
    print(table(rows))
    print()
    ratios = []
    for k, got in enumerate(rounds):
        line = [f"round {k}: imports alone {got['imports']['cpu']:.2f} CPU s"]
        base = got["baseline"]
        for n in sizes:
            one, two, spawn = (
                got.get(f"{n}/{w}/{s}") for w, s in ((1, "fork"), (2, "fork"), (2, "spawn"))
            )
            if two:
                line.append(
                    f"{n:,}: 1 worker / 2 workers wall {one['wall'] / two['wall']:.2f}x, "
                    f"spawned / forked CPU {spawn['cpu'] / two['cpu']:.2f}x"
                )
            if one and n >= 1_000_000:
                per = (one["peak_rss"] - base["peak_rss"]) / (n - 1_000)
                line.append(f"{n:,}: peak memory per citizen {per:.1f} B")
        if "starsim" in got and got.get(f"{1_000_000}/1/fork"):
            me = got[f"{1_000_000}/1/fork"]
            line.append(
                f"Starsim / credsim at 1,000,000: wall {got['starsim']['wall'] / me['wall']:.1f}x, "
                f"CPU {got['starsim']['cpu'] / me['cpu']:.1f}x"
            )
        ratios.append(line)
        print("; ".join(line))
    save({"ratios": ratios})
    import shutil

    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
