"""How far does one listing chill speech? The press regime with and without ties.

    python -m credsim.examples.one_listing_chills.run

Press shows each new listing to the listed citizen's friends, colleagues and neighbours;
those who see it post less and commit fewer infractions, and the associates rule takes 5
points from friends and colleagues. This example runs press with its ties and without them
on the same seeds (paired: the same citizens and acts wherever nobody adapted differently),
so the posts not written because of ties can be counted per listing, with a 95% interval
over the seeds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import credsim
from credsim.examples import size
from credsim.regime.schema import TIE_KINDS

REGIME = "press"
WITHOUT = ["ties.enabled=false"]
SPEECH = "critical_post"


def interval(values: list[float]) -> tuple[float, float, float]:
    """Mean and 95% interval (Student's t over the seeds; one seed: no interval)."""
    from scipy import stats

    x = np.asarray([v for v in values if v == v], dtype=float)
    if x.size == 0:
        return float("nan"), float("nan"), float("nan")
    if x.size == 1:
        return float(x[0]), float("nan"), float("nan")
    half = stats.t.ppf(0.975, x.size - 1) * x.std(ddof=1) / np.sqrt(x.size)
    return float(x.mean()), float(x.mean() - half), float(x.mean() + half)


def per_seed(ties: credsim.Run, off: credsim.Run) -> dict[str, float]:
    """The figures of one pair of runs (one seed)."""
    m, o = ties.metrics, off.metrics
    listings = float(m["sanctions_started"].sum())
    per = (lambda x: x / listings) if listings else (lambda x: float("nan"))
    posts, posts_off = float(m[f"acts_{SPEECH}"].sum()), float(o[f"acts_{SPEECH}"].sum())
    out = {
        "listings started": listings,
        "people who saw a listing, per listing": per(float(m["reach_ties"].sum())),
    }
    for k in TIE_KINDS:
        out[f"  of them {k}s"] = per(float(m[f"reach_{k}"].sum()))
    out["citizens chilled through ties (last day)"] = float(m["adapted_ties"].iloc[-1])
    out["citizens penalised by association (ever)"] = float(m["associated_ever_ties"].iloc[-1])
    out["critical posts, with ties"] = posts
    out["critical posts, without ties"] = posts_off
    out["posts not written because of ties, per listing"] = per(posts_off - posts)
    return out


def by_group(run: credsim.Run) -> pd.DataFrame:
    """Ties who saw a listing and citizens chilled through ties, per 1,000 citizens of each
    group, over the whole run."""
    g = pd.read_parquet(run.path / "metrics_groups.parquet")
    g = g[g["dimension"].isin(["sex", "age_band", "region"])]
    sums = g.groupby(["dimension", "group"], sort=False)[["tie_reached", "tie_chilled"]].sum()
    population = g.groupby(["dimension", "group"], sort=False)["population"].first()
    return (
        (1000 * sums.div(population, axis=0))
        .round(2)
        .rename(columns={"tie_reached": "saw a listing", "tie_chilled": "chilled"})
    )


def main(
    population: int | None = None,
    days: int | None = None,
    seeds: int = 3,
    out: str | Path = "runs/one_listing_chills",
    verbose: bool = True,
) -> dict[str, Any]:
    """Run press with and without ties on ``seeds`` seeds; return the tables."""
    population, days = size(population, days, 100_000, 365)
    out = Path(out)
    rows, pairs = [], []
    for seed in range(1, seeds + 1):
        ties, off = (
            credsim.Sim(
                REGIME, population, days, seed, out=out / f"{name}-{seed}", overrides=o, force=True
            ).run()
            for name, o in (("ties", ()), ("without", WITHOUT))
        )
        rows.append(per_seed(ties, off))
        pairs.append((ties, off))
    table = pd.DataFrame(
        {k: interval([r[k] for r in rows]) for k in rows[0]}, index=["mean", "low", "high"]
    ).T
    groups = by_group(pairs[0][0])
    if verbose:
        print(
            f"One listing, seen through ties: {REGIME}, {population:,} citizens, {days} days, "
            f"seeds 1-{seeds} (mean and 95% interval over the seeds, Student's t)\n"
        )
        print(table.to_string(float_format=lambda v: f"{v:,.2f}"), "\n")
        print("Per 1,000 citizens of each group, whole run (seed 1):")
        print(groups.to_string())
    return {"table": table, "rows": rows, "runs": pairs, "groups": groups}


if __name__ == "__main__":
    main()
