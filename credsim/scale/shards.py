"""Cutting a population into shards and running one shard start to end.

A shard is a contiguous range of citizen ids whose households are drawn whole inside it, from
the run's seed and the shard's index, so a shard's result does not depend on where it runs.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from credsim.files import atomic_path, checksum, write_atomic

DEFAULT_SHARD_SIZE = 5_000_000


@dataclass(frozen=True)
class ShardTask:
    """Everything a worker needs to run one shard (small: no populations travel)."""

    regime_json: str
    seed: int
    shard: int
    offset: int
    n: int
    days: int
    ledger_fraction: float
    citizens_fraction: float
    folder: str | None  # run folder (shared storage on a cluster)


@dataclass
class ShardResult:
    """What a shard returns: metric arrays that merge by addition, and a few figures."""

    shard: int
    metrics: object  # credsim.metrics.ShardMetrics
    timings: dict
    core_bytes: float  # dense state bytes per citizen
    ledger_rows: int
    ledger_bytes: int
    seconds: float
    ledger_seconds: float = 0.0  # of the phases' time: encoding and writing ledger parts
    plan: list = field(default_factory=list)  # [phase, component, method, calls, seconds]
    # [wall seconds, CPU seconds] of each stage of the shard (setup, synthesis, state, days,
    # citizens, metrics), and when it started (seconds since the epoch)
    stages: dict = field(default_factory=dict)
    started: float = 0.0


class Stages:
    """Wall and CPU seconds of consecutive stages: ``lap(name)`` ends the stage running."""

    def __init__(self) -> None:
        self.seconds: dict[str, list[float]] = {}
        self._wall, self._cpu = time.perf_counter(), time.process_time()

    def lap(self, name: str) -> None:
        wall, cpu = time.perf_counter(), time.process_time()
        spent = self.seconds.setdefault(name, [0.0, 0.0])
        spent[0] += round(wall - self._wall, 4)
        spent[1] += round(cpu - self._cpu, 4)
        self._wall, self._cpu = wall, cpu


def plan(
    population: int, shard_size: int | None = None, regime=None, days: int = 0
) -> list[tuple[int, int, int]]:
    """(shard, offset, n) for each shard. With the life course on (``regime.life``), each
    shard's ids span its citizens and then the headroom for the citizens born in it
    (``credsim.engine.components.life.headroom``), so the next shard starts after them."""
    size = shard_size or DEFAULT_SHARD_SIZE
    sizes = [min(size, population - off) for off in range(0, population, size)]
    offsets = np.concatenate([[0], np.cumsum([n + id_room(n, regime, days) for n in sizes])])
    return [(i, int(offsets[i]), n) for i, n in enumerate(sizes)]


def id_room(n: int, regime, days: int) -> int:
    """Ids a shard of ``n`` citizens keeps after its own for its births (0 without the
    life course)."""
    if regime is None or not regime.life_course:
        return 0
    from credsim.engine.components.life import headroom

    return headroom(n, days, regime.life.fertility)


def write_citizens(path: Path, tables) -> None:
    """Write citizen tables (one row group each) as one Parquet file, atomically: ids
    delta-encoded (they ascend), the other columns dictionary-encoded, statistics only where
    queries filter."""
    import pyarrow.parquet as pq

    from credsim.files import atomic_path

    ids = ("citizen", "household")
    writer = None
    with atomic_path(path) as tmp:
        try:
            for table in tables:
                if writer is None:
                    writer = pq.ParquetWriter(
                        tmp,
                        table.schema,
                        compression="zstd",
                        use_dictionary=[n for n in table.schema.names if n not in ids],
                        column_encoding={n: "DELTA_BINARY_PACKED" for n in ids},
                        write_statistics=["citizen", "score"],
                    )
                writer.write_table(table)
        finally:
            if writer is not None:
                writer.close()


def run_shard(task: ShardTask, progress=None) -> ShardResult:
    """Run one shard; write its ledger and citizen parts into the run folder."""
    from credsim.engine.compiled import Compiled
    from credsim.engine.sampling import stream
    from credsim.engine.shard import Shard
    from credsim.ledger import Ledger
    from credsim.population import Census, synthesize
    from credsim.regime.schema import Regime

    started = time.time()
    t0 = time.perf_counter()
    clock = Stages()
    regime = Regime.model_validate(json.loads(task.regime_json))
    census = Census.from_facts()
    c = Compiled(regime, census.provinces, census.groups)
    clock.lap("setup")
    pop = synthesize(task.n, stream(task.seed, task.shard, "population"), census)
    clock.lap("synthesis")
    folder = Path(task.folder) if task.folder else None
    names = {
        "sources": c.sources,
        "rules": c.rules,
        "sanctions": c.sanctions,
        "privileges": c.privileges,
    }
    ledger = Ledger(
        task.ledger_fraction,
        task.shard,
        range(task.offset, task.offset + task.n + id_room(task.n, regime, task.days)),
        folder / "ledger" if folder else None,
        names,
    )
    shard = Shard(c, pop, task.seed, task.shard, task.offset, task.days, ledger)
    clock.lap("state")
    try:
        for day in range(task.days):
            shard.run_day(day)
            if progress is not None:
                progress(1)
    except BaseException:
        ledger.discard()  # the shard is not done: its parts are deleted when it runs again
        raise
    ledger.close()
    clock.lap("days")
    core = round(shard.core_bytes() / max(task.n, 1), 2)
    if folder is not None:
        parts = folder / "parts"
        parts.mkdir(parents=True, exist_ok=True)
        write_citizens(
            parts / f"citizens-{task.shard:05d}.parquet",
            shard.citizens_tables(task.citizens_fraction),
        )
        clock.lap("citizens")
        m = shard.m.result()
        with atomic_path(parts / f"metrics-{task.shard:05d}.npz") as tmp:
            with open(tmp, "wb") as f:  # a file object: np.savez would add ".npz" to a name
                np.savez(
                    f,
                    rows=m.rows,
                    hist=m.hist,
                    groups=m.groups,
                    group_population=m.group_population,
                )
        clock.lap("metrics")
    result = ShardResult(
        task.shard,
        shard.m.result(),
        dict(shard.timings),
        core,
        ledger.rows,
        ledger.bytes,
        time.perf_counter() - t0,
        ledger.write_seconds,
        [[e.phase, e.component, e.method, e.calls, e.seconds] for e in shard.loop.rows()],
        clock.seconds,
        started,
    )
    if folder is not None:
        info = asdict(result)
        info.pop("metrics")
        info.update(
            offset=task.offset,
            n=task.n,
            days=task.days,
            seed=task.seed,
            ledger_fraction=task.ledger_fraction,
        )
        # what resume and the readers check this shard's parts against
        info["files"] = {
            f"ledger/{name}": file_record(folder / "ledger" / name, rows)
            for name, rows in ledger.written
        }
        for name in (f"citizens-{task.shard:05d}.parquet", f"metrics-{task.shard:05d}.npz"):
            info["files"][f"parts/{name}"] = file_record(folder / "parts" / name)
        write_atomic(folder / "parts" / f"done-{task.shard:05d}.json", json.dumps(info))
    return result


def warm() -> None:
    """Import the engine and load its compiled kernels (a tiny shard of REF-1 for one day),
    so processes forked afterwards start running shards at once."""
    from credsim.regime.load import load_regime

    rj = json.dumps(load_regime("ref1").model_dump(mode="json"))
    run_shard(ShardTask(rj, 1, 0, 0, 100, 1, 0.0, 1.0, None))


def file_record(path: Path, rows: int | None = None) -> dict:
    """Size, SHA-256 and (for tables) rows of a file, as recorded in done markers and the
    manifest."""
    out: dict = {"bytes": path.stat().st_size, "sha256": checksum(path)}
    if rows is not None:
        out["rows"] = int(rows)
    return out
