"""``Sim``: a regime, a population, days and a seed; ``run()`` writes and returns a ``Run``."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from credsim import __version__
from credsim.engine.compiled import Compiled
from credsim.ledger import parse_mode
from credsim.metrics import ShardMetrics
from credsim.population import Census
from credsim.regime.load import dump_regime, load_regime, regime_hash
from credsim.regime.schema import Regime
from credsim.run import (
    Run,
    groups_frame,
    headline,
    metrics_frame,
    now,
    platform_info,
    write_atomic,
    write_table,
)
from credsim.scale.shards import DEFAULT_SHARD_SIZE, ShardResult, ShardTask, plan, run_shard

FULL_LEDGER_MAX = 2_000_000  # larger runs keep a sample of citizens' histories by default
SAMPLE_TARGET = 1_000_000  # citizens kept in the ledger and citizens.parquet of large runs


def default_fraction(population: int) -> float:
    """Share of citizens kept in the ledger and citizens table by default."""
    return 1.0 if population <= FULL_LEDGER_MAX else min(1.0, SAMPLE_TARGET / population)


class Sim:
    """A simulation: ``Sim(regime="press", population=100_000, days=365, seed=1).run()``.

    ``replicates=R`` runs seeds ``seed ... seed + R - 1`` into one run folder, whose summary
    holds the means and ``Run.intervals`` their 95% intervals (``credsim.replicates``).
    """

    def __init__(
        self,
        regime: str | Path | Regime | dict = "press",
        population: int = 100_000,
        days: int = 365,
        seed: int = 1,
        *,
        overrides: list[str] | tuple[str, ...] = (),
        out: str | Path | None = None,
        ledger: str | None = None,
        shard_size: int | None = None,
        workers: int | None = None,
        backend: str = "local",
        backend_options: dict | None = None,
        progress: Callable[[int, int], None] | None = None,
        replicates: int = 1,
    ):
        self.regime = load_regime(regime, overrides)
        if isinstance(replicates, bool) or not isinstance(replicates, int):
            raise ValueError("replicates must be a whole number")
        if not 1 <= replicates <= 1000:
            raise ValueError("replicates must be between 1 and 1000")
        self.replicates = replicates
        if population < 1:
            raise ValueError("population must be at least 1")
        if not 1 <= days <= 32_000:
            raise ValueError("days must be between 1 and 32000")
        self.population, self.days, self.seed = int(population), int(days), int(seed)
        self.out = Path(out) if out else None
        self.ledger_mode = ledger or (
            "full"
            if population <= FULL_LEDGER_MAX
            else f"sample={default_fraction(population):.6g}"
        )
        self.ledger_fraction = parse_mode(self.ledger_mode)
        self.citizens_fraction = default_fraction(population)
        self.shard_size = shard_size
        self.workers = max(1, workers or os.cpu_count() or 1)
        if backend not in ("local", "inprocess", "dask"):
            raise ValueError(f"unknown backend {backend!r}: use local, inprocess or dask")
        self.backend = backend
        self.backend_options = backend_options or {}
        self.progress = progress

    def tasks(self, folder: Path) -> list[ShardTask]:
        rj = json.dumps(self.regime.model_dump(mode="json"))
        return [
            ShardTask(
                rj,
                self.seed,
                i,
                off,
                n,
                self.days,
                self.ledger_fraction,
                self.citizens_fraction,
                str(folder),
            )
            for i, off, n in plan(self.population, self.shard_size)
        ]

    def estimate(self):
        """Expected peak memory, wall time and disk of this run (of all its replicates)."""
        from credsim.scale.budget import estimate

        size = self.shard_size or DEFAULT_SHARD_SIZE
        side_by_side = self.replicates_at_once()
        est = estimate(
            self.regime,
            self.population,
            self.days,
            size,
            1 if side_by_side > 1 else self.workers,
            self.ledger_fraction,
            self.citizens_fraction,
        )
        if self.replicates > 1:  # replicates side by side, in rounds; each keeps its folder
            est.seconds *= -(-self.replicates // side_by_side)
            est.peak_bytes *= side_by_side
            est.disk_bytes *= self.replicates
        return est

    def replicates_at_once(self) -> int:
        """How many replicates run side by side (each in its own worker process)."""
        if self.replicates <= 1 or self.backend == "dask":
            return 1
        return min(self.replicates, self.workers)

    def run(self, resume: bool = False) -> Run:
        """Run every shard not yet done, merge, and write the run folder."""
        from credsim.scale.budget import check

        if self.replicates > 1:
            if resume:
                raise ValueError("a run with replicates cannot be resumed; run it again")
            from credsim.replicates import run_replicates

            return run_replicates(self, self.replicates, self.progress)

        folder = self.out
        temporary = folder is None
        if temporary:
            folder = Path(tempfile.mkdtemp(prefix="credsim-run-"))
        est = self.estimate()
        if resume:  # the parts of finished shards are on disk already
            shards = plan(self.population, self.shard_size)
            left = [i for i, _, _ in shards if not (folder / f"parts/done-{i:05d}.json").exists()]
            est.disk_bytes *= len(left) / len(shards)
        check(
            est,
            folder,
            self.shard_size or DEFAULT_SHARD_SIZE,
            self.workers,
            self.ledger_mode,
        )
        folder.mkdir(parents=True, exist_ok=True)
        tasks = self.tasks(folder)
        manifest = {
            "credsim": __version__,
            "regime": self.regime.regime.name,
            "regime_hash": regime_hash(self.regime),
            "seed": self.seed,
            "population": self.population,
            "days": self.days,
            "shards": len(tasks),
            "shard_size": tasks[0].n
            if len(tasks) == 1 and self.shard_size is None
            else (self.shard_size or tasks[0].n),
            "ledger": self.ledger_mode,
            "citizens_fraction": self.citizens_fraction,
            "status": "incomplete",
            "started": now(),
            "platform": platform_info(),
        }
        write_atomic(folder / "regime.toml", dump_regime(self.regime))
        write_atomic(folder / "manifest.json", json.dumps(manifest, indent=2))
        done = (
            {t.shard for t in tasks if (folder / "parts" / f"done-{t.shard:05d}.json").exists()}
            if resume
            else set()
        )
        if not resume:
            for sub in ("parts", "ledger"):
                if (folder / sub).exists():
                    shutil.rmtree(folder / sub)
        t0 = time.perf_counter()
        total = len(tasks) * self.days
        steps = [len(done) * self.days]
        todo = [t for t in tasks if t.shard not in done]
        for t in todo:  # a shard that did not finish starts again from nothing
            for part in (folder / "ledger").glob(f"shard-{t.shard:05d}-*"):
                part.unlink()

        def tick(k: int) -> None:
            steps[0] += k
            if self.progress:
                self.progress(steps[0], total)

        results: list[ShardResult] = []
        if self.backend != "dask" and (len(todo) == 1 or self.workers <= 1):
            for t in todo:
                results.append(run_shard(t, tick))
        else:
            from credsim.scale.executors import make_executor

            ex = make_executor(self.backend, self.workers, **self.backend_options)
            try:
                for _, r in ex.map_unordered(run_shard, todo):
                    r.metrics = None  # merged from the parts on disk; free the copy
                    results.append(r)
                    tick(self.days)
            finally:
                ex.close()
        merged = None
        for t in tasks:
            z = np.load(folder / "parts" / f"metrics-{t.shard:05d}.npz")
            sm = ShardMetrics(z["rows"], z["hist"], z["groups"], z["group_population"])
            merged = sm if merged is None else merged + sm
        census = Census.from_facts()
        c = Compiled(self.regime, census.provinces, census.groups)
        df = metrics_frame(c, merged)
        write_table(_arrow(df), folder / "metrics.parquet")
        write_table(_arrow(groups_frame(c, merged)), folder / "metrics_groups.parquet")
        _merge_citizens(folder, tasks)
        # figures of every shard, the ones finished before a resume included
        shard_info = [
            json.loads((folder / "parts" / f"done-{t.shard:05d}.json").read_text()) for t in tasks
        ]
        timings: dict[str, float] = {}
        steps: dict[tuple, list] = {}  # (phase, component, method) -> [calls, seconds]
        for r in shard_info:
            for k, v in r["timings"].items():
                timings[k] = timings.get(k, 0.0) + v
            for phase, comp, method, calls, seconds in r.get("plan", []):
                step = steps.setdefault((phase, comp, method), [0, 0.0])
                step[0] += calls
                step[1] += seconds
        manifest.update(
            status="complete",
            finished=now(),
            wall_seconds=round(time.perf_counter() - t0, 3),
            phase_seconds={k: round(v, 3) for k, v in timings.items()},
            plan_seconds=[[*key, n, round(sec, 4)] for key, (n, sec) in steps.items()],
            core_bytes_per_citizen=max((r["core_bytes"] for r in shard_info), default=0.0),
            ledger_rows=int(sum(r["ledger_rows"] for r in shard_info)),
            ledger_bytes=int(sum(r["ledger_bytes"] for r in shard_info)),
            ledger_write_seconds=round(sum(r.get("ledger_seconds", 0.0) for r in shard_info), 3),
            headline=headline(df, c),
            resumed=bool(done),
        )
        write_atomic(folder / "manifest.json", json.dumps(manifest, indent=2))
        return Run(folder)


def _arrow(df):
    import pyarrow as pa

    return pa.Table.from_pandas(df, preserve_index=False)


def _merge_citizens(folder: Path, tasks: list[ShardTask]) -> None:
    """Concatenate the shards' citizen parts into citizens.parquet, shard by shard."""
    import pyarrow.parquet as pq

    from credsim.scale.shards import write_citizens

    path = folder / "citizens.parquet"
    if len(tasks) == 1:
        import shutil

        tmp = path.with_name(path.name + ".tmp")
        shutil.copyfile(folder / "parts" / f"citizens-{tasks[0].shard:05d}.parquet", tmp)
        tmp.replace(path)
        return
    write_citizens(
        path, (pq.read_table(folder / "parts" / f"citizens-{t.shard:05d}.parquet") for t in tasks)
    )
