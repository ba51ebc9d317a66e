"""Running the whole country: shards, workers, a sampled ledger, and scaled estimates.

    python -m credsim.examples.whole_country.run

Small by default (400,000 citizens in 4 shards on 2 worker processes): the same settings
run the whole country (1,411,778,724 citizens) with

    credsim run national --population 1411778724 --days 365 --workers 64 \\
        --ledger sample=0.001 --out /scratch/runs/national-country

The example prints the resource estimate, runs the shards in parallel, keeps the ledger of
a 10% sample of citizens, and scales the counts to the country's population.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import credsim
from credsim.examples import size
from credsim.facts import china

REGIME = "national"
COUNTRY = china()["population"]["total"]  # 1,411,778,724 (2020 census)
SCALED = ["restricted", "spillover_only", "ever_sanctioned", "denied_flight", "denied_rail"]


def main(
    population: int | None = None,
    days: int | None = None,
    seed: int = 1,
    out: str | Path = "runs/whole_country",
    shards: int = 4,
    workers: int = 2,
    ledger: str = "sample=0.1",
    verbose: bool = True,
) -> dict[str, Any]:
    """Run a sharded population in parallel; return the run and the country-scale figures."""
    population, days = size(population, days, 400_000, 365)
    shard_size = -(-population // shards)  # citizens per shard, rounded up
    sim = credsim.Sim(
        REGIME,
        population,
        days,
        seed,
        out=out,
        force=True,  # the example's own folder: a new run replaces the last
        shard_size=shard_size,
        workers=workers,
        ledger=ledger,
    )
    estimate = sim.estimate()
    if verbose:
        print(estimate.describe())
    run = sim.run()
    scale = COUNTRY / population
    country = {k: round(run.summary[k] * scale) for k in SCALED}
    ledgered = run.query("SELECT count(DISTINCT citizen) AS n FROM ledger")["n"].iloc[0]
    if verbose:
        m = run.manifest
        print(f"{m['shards']} shards of {m['shard_size']:,} citizens, {m['wall_seconds']} s")
        print(f"ledger: {m['ledger']}, {m['ledger_rows']:,} rows, {ledgered:,} citizens")
        print(f"\nScaled to {COUNTRY:,} citizens (x {scale:,.1f}):")
        for k, v in country.items():
            print(f"  {k:<16} {v:>14,}")
        print(f"\nrun folder: {run.path}")
        print(f"resume an interrupted run with: credsim run --resume {run.path}")
    return {"run": run, "estimate": estimate, "scale": scale, "country": country}


if __name__ == "__main__":
    main()
