"""Replicates: one run folder holding runs of seeds S ... S+R-1, with means and 95% intervals.

``credsim run --replicates R`` and ``Sim(..., replicates=R).run()`` write::

    runs/<name>/
      manifest.json          seeds, replicates, headline (means), intervals (per figure)
      regime.toml            the regime every replicate ran
      metrics.parquet        per day: the mean over replicates of every figure
      metrics_groups.parquet per day and group: the mean over replicates
      report.html            mean lines with 95% bands over replicates
      replicates/seed-S/     one whole run folder per seed (ledger, citizens, ...)

An interval is Student's t over the replicates: mean ± t(0.975, R-1) · sd / √R, with the sample
standard deviation (ddof 1). One replicate gives none; replicates that all agree give an
interval of zero width. Replicates run side by side in worker processes when there are
workers for them; each runs its shards in one process then.
"""

from __future__ import annotations

import json
import math
import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "INTERVAL",
    "SUBFOLDER",
    "band",
    "mean_interval",
    "replicate_folder",
    "run_replicates",
    "seeds_of",
]

LEVEL = 0.95
INTERVAL = "95% t interval over replicates"
SUBFOLDER = "replicates"


def seeds_of(seed: int, replicates: int) -> list[int]:
    """The seeds of ``replicates`` replicates starting at ``seed``."""
    return list(range(int(seed), int(seed) + int(replicates)))


def replicate_folder(folder: Path, seed: int) -> Path:
    """Where the replicate of ``seed`` lives inside a replicated run folder."""
    return Path(folder) / SUBFOLDER / f"seed-{seed}"


def _t(replicates: int) -> float:
    from scipy import stats

    return float(stats.t.ppf((1 + LEVEL) / 2, replicates - 1))


def mean_interval(values: Sequence[float]) -> dict[str, Any]:
    """Mean of the replicates and its 95% t interval (bounds None for one replicate)."""
    x = np.asarray(values, dtype=float)
    mean = float(x.mean())
    if x.size < 2:
        return {"mean": mean, "ci_low": None, "ci_high": None, "sd": None, "replicates": 1}
    sd = float(x.std(ddof=1))
    half = _t(x.size) * sd / math.sqrt(x.size)
    return {
        "mean": mean,
        "ci_low": mean - half,
        "ci_high": mean + half,
        "sd": sd,
        "replicates": int(x.size),
    }


def band(rows: Sequence[Sequence[float]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per position (day, group): mean over replicates and its 95% t interval (low, high).

    ``rows`` holds one sequence per replicate. With one replicate, low and high are the mean.
    """
    y = np.asarray(rows, dtype=float)
    mean = y.mean(axis=0)
    if y.shape[0] < 2:
        return mean, mean, mean
    half = _t(y.shape[0]) * y.std(axis=0, ddof=1) / math.sqrt(y.shape[0])
    return mean, mean - half, mean + half


# ----------------------------------------------------------------------------- running
def _one(job: tuple) -> str:
    """Run one replicate in this process (also the worker function); returns its folder."""
    regime, population, days, seed, out, ledger, shard_size = job
    from credsim.sim import Sim

    Sim(
        regime,
        population,
        days,
        seed,
        out=out,
        ledger=ledger,
        shard_size=shard_size,
        workers=1,
    ).run()
    return str(out)


def run_replicates(sim, replicates: int, progress: Callable[[int, int], None] | None = None):
    """Run ``replicates`` seeds of ``sim`` (a ``credsim.sim.Sim``) into one run folder.

    Returns the replicated ``Run``. A replicate's own folder is a whole run folder.
    """
    from credsim.run import Run, now, start_manifest, write_atomic

    folder = sim.out
    if folder is None:
        folder = Path(tempfile.mkdtemp(prefix="credsim-run-"))
    folder = Path(folder)
    seeds = seeds_of(sim.seed, replicates)
    if sim.replicates == replicates:  # the whole run fits the machine, or is refused now
        from credsim.scale.budget import check
        from credsim.scale.shards import DEFAULT_SHARD_SIZE

        size = sim.shard_size or DEFAULT_SHARD_SIZE
        check(sim.estimate(), folder, size, sim.workers, sim.ledger_mode)
    folder.mkdir(parents=True, exist_ok=True)
    for sub in (SUBFOLDER, "parts", "ledger"):  # a run written here before
        if (folder / sub).is_dir():
            shutil.rmtree(folder / sub)
    if (folder / "citizens.parquet").exists():
        (folder / "citizens.parquet").unlink()
    fields = {
        "seed": seeds[0],
        "seeds": seeds,
        "replicates": replicates,
        "replicate_folders": [f"{SUBFOLDER}/seed-{s}" for s in seeds],
        "interval": INTERVAL,
        "population": sim.population,
        "days": sim.days,
        "ledger": sim.ledger_mode,
    }
    manifest = start_manifest(folder, sim.regime, fields)
    regime = sim.regime.model_dump(mode="json", exclude_none=True)
    jobs = [
        (
            regime,
            sim.population,
            sim.days,
            s,
            replicate_folder(folder, s),
            sim.ledger_mode,
            sim.shard_size,
        )
        for s in seeds
    ]
    parallel = sim.replicates_at_once() if sim.replicates == replicates else 1
    _run_each(sim, regime, jobs, parallel, progress)
    runs = [Run(replicate_folder(folder, s)) for s in seeds]
    _write_means(folder, runs)
    summaries = [r.summary for r in runs]
    keys = list(dict.fromkeys(k for s in summaries for k in s))
    intervals = {
        k: mean_interval([s[k] for s in summaries])
        for k in keys
        if all(isinstance(s.get(k), int | float) for s in summaries)
    }
    manifest.update(
        status="complete",
        finished=now(),
        wall_seconds=round(sum(float(r.manifest.get("wall_seconds", 0.0)) for r in runs), 3),
        shards=runs[0].manifest.get("shards"),
        shard_size=runs[0].manifest.get("shard_size"),
        headline={k: _plain(v["mean"], summaries, k) for k, v in intervals.items()},
        intervals=intervals,
    )
    write_atomic(folder / "manifest.json", json.dumps(manifest, indent=2))
    return Run(folder)


def _run_each(sim, regime: dict, jobs: list[tuple], parallel: int, progress) -> None:
    """Run every replicate's job: one after another with the workers asked for, or
    ``parallel`` at once in local processes; progress adds up over the replicates."""
    from credsim.sim import Sim

    replicates = len(jobs)
    if parallel <= 1:
        for i, job in enumerate(jobs):
            sub = Sim(
                regime,
                sim.population,
                sim.days,
                job[3],
                out=job[4],
                ledger=sim.ledger_mode,
                shard_size=sim.shard_size,
                workers=sim.workers,
                backend=sim.backend,
                backend_options=sim.backend_options,
            )
            if progress is not None:
                sub.progress = lambda done, total, i=i: progress(
                    i * total + done, replicates * total
                )
            sub.run()
    else:
        from credsim.scale.executors import make_executor

        ex = make_executor("local", parallel)
        try:
            done = 0
            for _ in ex.map_unordered(_one, jobs):
                done += 1
                if progress is not None:
                    progress(done * sim.days, replicates * sim.days)
        finally:
            ex.close()


def _plain(mean: float, summaries: list[dict[str, Any]], key: str) -> int | float:
    """An int where every replicate agrees on one (citizens, days), else the mean."""
    values = {s[key] for s in summaries}
    if len(values) == 1 and isinstance(next(iter(values)), int):
        return int(next(iter(values)))
    return round(mean, 4)


def _write_means(folder: Path, runs: list) -> None:
    """metrics.parquet and metrics_groups.parquet: the mean of every figure over replicates."""
    import pandas as pd
    import pyarrow as pa

    from credsim.run import write_table

    frames = [r.metrics for r in runs]
    mean = pd.concat(frames).groupby("day", sort=True).mean().reset_index()
    write_table(pa.Table.from_pandas(mean, preserve_index=False), folder / "metrics.parquet")
    groups = [r.groups for r in runs]
    keys = ["day", "dimension", "group"]
    g = pd.concat(groups).groupby(keys, sort=False).mean(numeric_only=True).reset_index()
    g = g[groups[0].columns]
    write_table(pa.Table.from_pandas(g, preserve_index=False), folder / "metrics_groups.parquet")
