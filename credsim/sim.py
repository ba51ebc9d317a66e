"""``Sim``: a regime, a population, days and a seed; ``run()`` writes and returns a ``Run``."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from credsim.engine.compiled import Compiled
from credsim.files import FolderLock, atomic_path, checksum, write_atomic, write_table
from credsim.ledger import parse_mode
from credsim.metrics import ShardMetrics
from credsim.population import Census
from credsim.regime.load import load_regime, regime_hash
from credsim.regime.schema import Regime
from credsim.run import (
    RUN_FILES,
    Run,
    RunFolderError,
    groups_frame,
    headline,
    metrics_frame,
    now,
    start_manifest,
)
from credsim.scale.shards import (
    DEFAULT_SHARD_SIZE,
    ShardResult,
    ShardTask,
    Stages,
    file_record,
    plan,
    run_shard,
)

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
        force: bool = False,
        replicates: int = 1,
    ):
        """``force``: replace an earlier run in ``out``, and run past the size budget
        (``credsim.scale.budget``)."""
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
        if backend == "dask" and self.backend_options.get("scheduler"):
            from credsim.scale.dask import check_scheduler

            check_scheduler(str(self.backend_options["scheduler"]))
        self.progress = progress
        self.force = force

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
            for i, off, n in plan(self.population, self.shard_size, self.regime, self.days)
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
        from credsim.scale.budget import check, check_size

        if self.replicates > 1:
            if resume:
                raise ValueError("a run with replicates cannot be resumed; run it again")
            from credsim.replicates import run_replicates

            if self.out is None:
                return run_replicates(self, self.replicates, self.progress)
            claim_folder(self.out, False)  # a folder of its own, as for a single run
            check_new_folder(self.out, self.force)
            with FolderLock(self.out):
                check_new_folder(self.out, self.force)
                return run_replicates(self, self.replicates, self.progress)

        folder = self.out
        temporary = folder is None
        if temporary:
            folder = Path(tempfile.mkdtemp(prefix="credsim-run-"))
        check_size(self.population, self.days, self.shard_size, force=self.force)
        est = self.estimate()
        if resume:  # the parts of finished shards are on disk already
            shards = plan(self.population, self.shard_size, self.regime, self.days)
            left = [i for i, _, _ in shards if not (folder / f"parts/done-{i:05d}.json").exists()]
            est.disk_bytes *= len(left) / len(shards)
        check(
            est,
            folder,
            self.shard_size or DEFAULT_SHARD_SIZE,
            self.workers,
            self.ledger_mode,
            force=self.force,
        )
        claim_folder(folder, resume)
        if not resume:  # before the lock file is made in it; checked again under the lock
            check_new_folder(folder, self.force)
        with FolderLock(folder):
            return self._run_locked(folder, resume)

    def _prepare(self, folder: Path, resume: bool) -> None:
        """Check the folder (under its lock) and clear what a run left in it: temporary
        files of a write cut off, and unless resuming, an earlier run's own entries."""
        if resume:
            verify_resume(folder, self)
        else:
            check_new_folder(folder, self.force)
        for sub in (folder, folder / "ledger", folder / "parts"):
            for tmp in sub.glob(".*.tmp") if sub.is_dir() else ():  # from a write cut off
                tmp.unlink()
        if not resume:  # an earlier run replaced with force: only credsim's own entries go
            for name in RUN_FILES:
                entry = folder / name
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry)
                elif entry.exists() or entry.is_symlink():
                    entry.unlink()

    def _run_shards(self, todo: list[ShardTask], tick: Callable[[int], None]) -> list:
        """Run the shards not yet done, here or in workers; their results as they finish."""
        results: list[ShardResult] = []
        if self.backend != "dask" and (len(todo) == 1 or self.workers <= 1):
            for t in todo:
                results.append(run_shard(t, tick))
            return results
        # the merge needs these; imported before the workers start, forked ones share them
        import pandas  # noqa: F401
        import pyarrow.parquet  # noqa: F401

        from credsim.scale.executors import make_executor

        ex = make_executor(self.backend, self.workers, **self.backend_options)
        try:
            for _, r in ex.map_unordered(run_shard, todo):
                r.metrics = None  # merged from the parts on disk; free the copy
                results.append(r)
                tick(self.days)
        finally:
            ex.close()
        return results

    def _run_locked(self, folder: Path, resume: bool) -> Run:
        self._prepare(folder, resume)
        tasks = self.tasks(folder)
        fields = {
            "seed": self.seed,
            "population": self.population,
            "days": self.days,
            "shards": len(tasks),
            "shard_size": tasks[0].n
            if len(tasks) == 1 and self.shard_size is None
            else (self.shard_size or tasks[0].n),
            "ledger": self.ledger_mode,
            "citizens_fraction": self.citizens_fraction,
        }
        manifest = start_manifest(folder, self.regime, fields)
        done = (
            {t.shard for t in tasks if (folder / "parts" / f"done-{t.shard:05d}.json").exists()}
            if resume
            else set()
        )
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

        clock = Stages()  # the parent's own stages
        t_start = time.time()
        results = self._run_shards(todo, tick)
        clock.lap("shards")
        merged = None
        for t in tasks:
            z = np.load(folder / "parts" / f"metrics-{t.shard:05d}.npz")
            sm = ShardMetrics(z["rows"], z["hist"], z["groups"], z["group_population"])
            merged = sm if merged is None else merged + sm
        clock.lap("merge metrics")
        census = Census.from_facts()
        c = Compiled(self.regime, census.provinces, census.groups)
        df = metrics_frame(c, merged)
        write_table(_arrow(df), folder / "metrics.parquet")
        write_table(_arrow(groups_frame(c, merged)), folder / "metrics_groups.parquet")
        clock.lap("metrics tables")
        _merge_citizens(folder, tasks)
        clock.lap("merge citizens")
        # figures of every shard, the ones finished before a resume included
        shard_info = [read_done(folder, t.shard) for t in tasks]
        files: dict[str, dict] = {}
        for r in shard_info:
            files.update({k: v for k, v in r["files"].items() if k.startswith("ledger/")})
        for name in ("metrics.parquet", "metrics_groups.parquet", "citizens.parquet"):
            files[name] = file_record(folder / name)
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
            stage_seconds=stage_seconds(shard_info, clock, results, t_start),
            core_bytes_per_citizen=max((r["core_bytes"] for r in shard_info), default=0.0),
            ledger_rows=int(sum(r["ledger_rows"] for r in shard_info)),
            ledger_bytes=int(sum(r["ledger_bytes"] for r in shard_info)),
            ledger_write_seconds=round(sum(r.get("ledger_seconds", 0.0) for r in shard_info), 3),
            headline=headline(df, c),
            resumed=bool(done),
            files=files,
        )
        write_atomic(folder / "manifest.json", json.dumps(manifest, indent=2))
        # the shards' parts are merged now: readers use the merged files and the ledger
        shutil.rmtree(folder / "parts", ignore_errors=True)
        return Run(folder)


def stage_seconds(shard_info: list[dict], clock: Stages, results: list, t_start: float) -> dict:
    """[wall, CPU] seconds: the shards' stages summed over shards (every shard's, those
    finished before a resume included), the run's own (in this process), and the wall
    seconds from the start of the shards to the first one starting (worker start)."""
    shards: dict[str, list[float]] = {}
    for r in shard_info:
        for k, (wall, cpu) in r.get("stages", {}).items():
            spent = shards.setdefault(k, [0.0, 0.0])
            spent[0] += wall
            spent[1] += cpu
    fresh = [r.started for r in results if r.started]
    return {
        "shards": {k: [round(w, 3), round(u, 3)] for k, (w, u) in shards.items()},
        "run": {k: [round(w, 3), round(u, 3)] for k, (w, u) in clock.seconds.items()},
        "first_shard_start": round(min(fresh) - t_start, 3) if fresh else None,
    }


ALLOWED_IN_NEW_FOLDER = {".credsim.lock", "dashboard.json"}


def claim_folder(folder: Path, resume: bool) -> None:
    """Make sure ``folder`` is a folder this run may lock (created if missing)."""
    if str(folder) in ("", ".") or folder == Path("."):
        raise RunFolderError(f"{str(folder)!r}: not a run folder name; give a new folder")
    if resume:
        if not folder.is_dir():
            raise RunFolderError(f"{folder}: no such run folder")
        return
    if folder.exists() and not folder.is_dir():
        raise RunFolderError(f"{folder}: exists and is not a folder; choose another --out")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise RunFolderError(f"{folder}: cannot create the run folder: {e.strerror}") from None


def check_new_folder(folder: Path, force: bool) -> None:
    """Refuse to start a run in a folder holding anything but an earlier run (with force)."""
    entries = {e.name for e in folder.iterdir() if not _temporary(e.name)}
    entries -= ALLOWED_IN_NEW_FOLDER
    if not entries:
        return
    if not _is_run(folder) and entries <= set(RUN_FILES) - {"ledger", "parts"}:
        return  # a run of credsim's cut off before its manifest was written: start afresh
    if _is_run(folder) and entries <= set(RUN_FILES):
        if force:
            return
        raise RunFolderError(
            f"{folder}: holds an earlier run; choose another --out, continue it with "
            f"--resume {folder}, or replace it with --force"
        )
    raise RunFolderError(
        f"{folder}: exists and is not empty (and not a credsim run); choose a new --out"
    )


def _is_run(folder: Path) -> bool:
    try:
        return "regime_hash" in Run(folder).manifest
    except (OSError, ValueError):
        return False


def _temporary(name: str) -> bool:
    return name.startswith(".") and name.endswith(".tmp")


def read_done(folder: Path, shard: int) -> dict:
    """A shard's done marker, checked: one clear line if it is damaged."""
    from credsim.files import FileProblem, read_bounded

    path = folder / "parts" / f"done-{shard:05d}.json"
    try:
        info = json.loads(read_bounded(path, 16 << 20, "done marker"))
    except FileProblem as e:
        raise RunFolderError(str(e)) from None
    except ValueError:
        raise RunFolderError(
            f"{path}: damaged (not JSON); delete it to run shard {shard} again"
        ) from None
    keys = {"timings": dict, "core_bytes": (int, float), "ledger_rows": int, "files": dict}
    for key, kind in keys.items():
        if not isinstance(info, dict) or not isinstance(info.get(key), kind):
            raise RunFolderError(
                f"{path}: {key}: missing or wrong type; delete it to run shard {shard} again"
            )
    return info


def verify_resume(folder: Path, sim: Sim) -> None:
    """Check an interrupted run folder against this run before continuing it."""
    m = Run(folder).manifest
    where = folder / "manifest.json"
    if m.get("status") == "complete":
        raise RunFolderError(f"{folder}: the run is complete; nothing to resume")
    ours = regime_hash(sim.regime)
    if m.get("regime_hash") != ours:
        raise RunFolderError(
            f"{folder / 'regime.toml'}: the regime differs from the one the run started with "
            f"(hash {ours}, manifest {m.get('regime_hash')!r}); it was edited after the "
            "interruption"
        )
    for key, value in (
        ("population", sim.population),
        ("days", sim.days),
        ("seed", sim.seed),
        ("ledger", sim.ledger_mode),
    ):
        if m.get(key) != value:
            raise RunFolderError(f"{where}: {key}: {m.get(key)!r}, but this run has {value!r}")
    shards = plan(sim.population, sim.shard_size, sim.regime, sim.days)
    if m.get("shards") != len(shards):
        raise RunFolderError(
            f"{where}: shards: {m.get('shards')!r}, but the shard plan gives {len(shards)}"
        )
    for i, offset, n in shards:
        if not (folder / "parts" / f"done-{i:05d}.json").exists():
            continue
        info = read_done(folder, i)
        marker = f"{folder / 'parts'}/done-{i:05d}.json"
        for key, ours, what in (
            ("days", sim.days, "ran {} days"),
            ("seed", sim.seed, "ran with seed {}"),
            ("ledger_fraction", sim.ledger_fraction, "kept a ledger fraction of {}"),
        ):
            if info.get(key) != ours:
                said = sim.ledger_mode if key == "ledger_fraction" else ours
                raise RunFolderError(
                    f"{marker}: shard {i} {what.format(info.get(key))}, but the manifest says "
                    f"{said}; the manifest was edited"
                )
        if (info.get("offset"), info.get("n")) != (offset, n):
            raise RunFolderError(
                f"{folder / 'parts'}/done-{i:05d}.json: shard {i} covered citizens from "
                f"{info.get('offset')!r} ({info.get('n')!r} of them), but the shard plan "
                f"gives {offset} ({n}); the shard size was changed"
            )
        for name, rec in info["files"].items():
            path = folder / name
            if not path.is_file():
                raise RunFolderError(
                    f"{path}: missing, but shard {i} finished with it; the folder is damaged"
                )
            if path.stat().st_size != rec.get("bytes") or checksum(path) != rec.get("sha256"):
                raise RunFolderError(
                    f"{path}: changed since shard {i} wrote it (size or checksum differ); "
                    "the folder is damaged"
                )
        try:
            with np.load(folder / "parts" / f"metrics-{i:05d}.npz") as z:
                z["rows"].shape  # noqa: B018 (read: a torn archive fails here)
        except (OSError, ValueError, KeyError, zipfile.BadZipFile) as e:
            raise RunFolderError(f"{folder / 'parts'}/metrics-{i:05d}.npz: damaged ({e})") from None


def _arrow(df):
    import pyarrow as pa

    return pa.Table.from_pandas(df, preserve_index=False)


def _merge_citizens(folder: Path, tasks: list[ShardTask]) -> None:
    """Concatenate the shards' citizen parts into citizens.parquet, shard by shard."""
    import pyarrow.parquet as pq

    from credsim.scale.shards import write_citizens

    path = folder / "citizens.parquet"
    if len(tasks) == 1:
        with atomic_path(path) as tmp:
            shutil.copyfile(folder / "parts" / f"citizens-{tasks[0].shard:05d}.parquet", tmp)
        return
    write_citizens(
        path, (pq.read_table(folder / "parts" / f"citizens-{t.shard:05d}.parquet") for t in tasks)
    )
