"""Before a run: estimates of peak memory, wall time and disk, and refusal of runs that cannot fit.

The estimates are linear models whose coefficients were measured on a 2-core machine (see
benchmarks/RESULTS.md): bytes per citizen of a running shard, seconds per act and per
shard-day, and ledger bytes per row. They are meant to be right within a factor of about two.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

# Measured coefficients (2-core VM, Python 3.11, numpy 2.4, numba 0.68).
SHARD_BYTES_PER_CITIZEN = 60  # peak while a shard is built and run (core state is 16)
PROCESS_BASE_BYTES = 350 * 2**20  # an interpreter with numpy, pyarrow, numba loaded
# Fitted to whole-country runs (1,410,000,000 citizens x 365 days, 282 shards): REF-1 took
# 1,013 CPU-seconds, press 2,167 (estimates 1,020 and 1,700).
SECONDS_PER_ACT = 30e-9  # sampling, sensing and scoring one act or record
# fixed cost of one day of one shard, per behaviour, source-behaviour pair, rule, sanction
# and privilege of the regime (each is a pass of its own every day)
SECONDS_PER_COMPONENT_DAY = 0.3e-3
SECONDS_PER_CITIZEN_SETUP = 150e-9  # building one citizen and writing its final state
LEDGER_BYTES_PER_ROW = 3.0  # integer codes, delta-encoded, zstd (2.5 measured for press)
# a shard's metric part (parts/metrics-*.npz) until the merge: 4.6 MB for press over 365 days
METRICS_PART_BYTES_PER_DAY = 16_000
CITIZEN_BYTES = 12.0  # one citizen's final state in citizens.parquet
# The life course (credsim.engine.components.life): a shard keeps a row for every citizen
# born in it, and while it is built the life events of every row (benchmarks/RESULTS.md)
LIFE_BYTES_PER_CITIZEN = 85  # peak while the life events are drawn (83 measured at 5,000,000)
LIFE_BYTES_PER_BIRTH = 80  # a newborn's row of the shard, with its life events
# births, deaths and birthdays: measured at 20-25% of press's own time (1,000,000 citizens
# over 9,500 days; 5,000,000 over 365), a quarter of press's 4.2e-9 s a citizen-day
LIFE_SECONDS_PER_CITIZEN_DAY = 1e-9
# Beyond these a run needs --force: a run estimated to take more than a day, more shards
# than a folder comfortably holds.
MAX_SECONDS = 24 * 3600
MAX_SHARDS = 100_000
MAX_POPULATION = 10**11  # ids stay far inside int64 (ledger ids carry the shard in high bits)


class ResourceError(RuntimeError):
    """A run that would not fit in memory or on disk; the message says what would."""


@dataclass
class Estimate:
    """What a run is expected to need."""

    peak_bytes: float
    seconds: float
    disk_bytes: float
    acts_per_day: float

    def describe(self) -> str:
        return (
            f"estimate: peak memory {self.peak_bytes / 2**30:.1f} GiB, "
            f"wall time {_duration(self.seconds)}, disk {_size(self.disk_bytes)} "
            "(every file the run writes, its parts included)"
        )


def _size(n: float) -> str:
    return f"{n / 2**30:.2f} GiB" if n >= 2**30 else f"{n / 2**20:.1f} MiB"


def _duration(s: float) -> str:
    if s < 90:
        return f"{s:.0f} s"
    if s < 5400:
        return f"{s / 60:.0f} min"
    return f"{s / 3600:.1f} h"


def available_memory() -> int:
    """Memory available to new processes (MemAvailable), in bytes."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def estimate(
    regime,
    population: int,
    days: int,
    shard_size: int,
    workers: int,
    ledger_fraction: float,
    citizens_fraction: float,
) -> Estimate:
    """Peak memory, wall time and disk for a run, from the regime's expected event rates."""
    acts = 0.0
    records = 0.0
    observed: dict[str, float] = {}
    for s in regime.sources:
        for b, p in s.observes.items():
            observed[b] = observed.get(b, 0.0) + p * max(s.coverage_urban, s.coverage_rural)
    for b in regime.behaviours:
        acts += b.rate * max(b.urban_factor, b.rural_factor)
        records += b.rate * observed.get(b.name, 0.0)
    shards = -(-population // shard_size)
    components = len(regime.behaviours) + len(regime.rules) + len(regime.sanctions)
    components += len(regime.privileges) + sum(len(s.observes) for s in regime.sources)
    parallel = max(1, min(workers, shards))
    per_citizen = SHARD_BYTES_PER_CITIZEN
    life = getattr(regime, "life", None)
    born = 0.0  # citizens born during the run, per citizen at the start
    if life is not None and life.enabled:
        born = births_per_citizen(days, life.fertility)
        per_citizen += LIFE_BYTES_PER_CITIZEN + born * LIFE_BYTES_PER_BIRTH
    peak = PROCESS_BASE_BYTES + parallel * (
        PROCESS_BASE_BYTES * (parallel > 1) + per_citizen * min(shard_size, population)
    )
    cpu = (
        population * days * (acts + records) * SECONDS_PER_ACT
        + shards * days * components * SECONDS_PER_COMPONENT_DAY
        + population * (1 + born) * SECONDS_PER_CITIZEN_SETUP
        + (population * days * LIFE_SECONDS_PER_CITIZEN_DAY if born else 0.0)
    )
    # every file the run writes, the shards' parts included (they are removed after the
    # merge, but they are on disk together with the merged files at its end)
    disk = population * days * records * ledger_fraction * LEDGER_BYTES_PER_ROW
    disk += 2 * population * (1 + born) * citizens_fraction * CITIZEN_BYTES  # parts, then merged
    disk += shards * (days * METRICS_PART_BYTES_PER_DAY + 4096)  # metric parts, done markers
    disk += 2 * days * METRICS_PART_BYTES_PER_DAY + 300_000  # metrics tables, manifest
    return Estimate(peak, cpu / parallel, disk, population * acts)


def births_per_citizen(days: int, fertility: float = 1.0) -> float:
    """Citizens expected to be born over ``days`` per citizen at the start: the crude birth
    rate of 2020 (credsim's facts) times ``fertility``, ignoring the change of the
    population meanwhile (right within about 20% over three decades)."""
    from credsim.facts import china

    cbr = china()["life"]["crude_birth_rate_per_1000"] / 1000
    return cbr * fertility * days / 365.25


def check_size(population: int, days: int, shard_size: int | None, force: bool = False) -> None:
    """Refuse, before anything is allocated, a population or shard plan beyond the budget."""
    from credsim.scale.shards import DEFAULT_SHARD_SIZE

    if population > MAX_POPULATION:
        raise ResourceError(
            f"--population {population:,}: at most {MAX_POPULATION:,} citizens "
            "(the country has 1,410,000,000)"
        )
    shards = -(-population // (shard_size or DEFAULT_SHARD_SIZE))
    if shards > MAX_SHARDS and not force:
        raise ResourceError(
            f"--shard-size {shard_size or DEFAULT_SHARD_SIZE:,}: {shards:,} shards for "
            f"{population:,} citizens, more than {MAX_SHARDS:,}; use a larger --shard-size "
            "(or --force)"
        )


def check(
    est: Estimate,
    folder: Path,
    shard_size: int,
    workers: int,
    ledger: str,
    force: bool = False,
) -> None:
    """Refuse a run that would not fit, saying what would; ``force`` lifts the time budget."""
    if est.seconds > MAX_SECONDS and not force:
        raise ResourceError(
            f"this run is estimated to take {_duration(est.seconds)} "
            f"(more than {_duration(MAX_SECONDS)}): use a smaller --population or fewer "
            "--days, a cluster (--backend dask), or --force to run it anyway"
        )
    mem = available_memory()
    if est.peak_bytes > mem:
        fit = max(
            10_000, int((mem / max(workers, 1) - 2 * PROCESS_BASE_BYTES) / SHARD_BYTES_PER_CITIZEN)
        )
        raise ResourceError(
            f"this run needs about {est.peak_bytes / 2**30:.1f} GiB of memory but "
            f"{mem / 2**30:.1f} GiB is available: use a smaller --shard-size "
            f"(at most {fit:,} with {workers} worker(s)), fewer --workers, "
            "or a cluster (--backend dask)"
        )
    probe = folder if folder.exists() else folder.parent
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    free = shutil.disk_usage(probe).free
    if free == 0 and shutil.disk_usage(probe).total == 0:  # /proc, /sys: not a disk at all
        raise ResourceError(f"{folder}: {probe} holds no disk space (not a disk); choose --out")
    if est.disk_bytes > free:
        need, have = (
            (f"{est.disk_bytes / 2**30:.1f} GiB", f"{free / 2**30:.1f} GiB")
            if est.disk_bytes >= 2**30
            else (f"{est.disk_bytes / 2**20:.1f} MiB", f"{free / 2**20:.1f} MiB")
        )
        raise ResourceError(
            f"this run needs about {need} of disk in {folder} but {have} is free: keep a "
            f"sample of the ledger (--ledger sample=0.01 or --ledger none; now {ledger}), "
            "or write elsewhere (--out)"
        )
