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
            f"wall time {_duration(self.seconds)}, disk {self.disk_bytes / 2**30:.2f} GiB"
        )


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
    peak = PROCESS_BASE_BYTES + parallel * (
        PROCESS_BASE_BYTES * (parallel > 1) + SHARD_BYTES_PER_CITIZEN * min(shard_size, population)
    )
    cpu = (
        population * days * (acts + records) * SECONDS_PER_ACT
        + shards * days * components * SECONDS_PER_COMPONENT_DAY
        + population * SECONDS_PER_CITIZEN_SETUP
    )
    disk = population * days * records * ledger_fraction * LEDGER_BYTES_PER_ROW
    disk += population * citizens_fraction * 12.0 + shards * 300_000
    return Estimate(peak, cpu / parallel, disk, population * acts)


def check(est: Estimate, folder: Path, shard_size: int, workers: int, ledger: str) -> None:
    """Refuse a run that would not fit, saying what would."""
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
    if est.disk_bytes > free:
        raise ResourceError(
            f"this run needs about {est.disk_bytes / 2**30:.1f} GiB of disk in {folder} but "
            f"{free / 2**30:.1f} GiB is free: keep a sample of the ledger "
            f"(--ledger sample=0.01 or --ledger none; now {ledger}), or write elsewhere (--out)"
        )
