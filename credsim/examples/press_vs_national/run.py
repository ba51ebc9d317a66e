"""The press picture and the documented system, side by side.

    python -m credsim.examples.press_vs_national.run

Runs the ``press`` preset (one score fed by shared data, cameras, a blacklist, secret rules)
and the ``national`` preset (the court defaulter list, flight and rail lists, redlists, no
single score) on the same synthetic citizens, and compares what each does to them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import credsim
from credsim.examples import size
from credsim.report.compare import compare

REGIMES = ("press", "national")
FIGURES = [
    "restricted",
    "restricted_pct",
    "ever_sanctioned",
    "spillover_only",
    "wrongful",
    "misattributed_records",
    "denied_flight",
    "denied_citizens_flight",
    "denied_rail",
    "denied_private_school",
    "posts_vs_baseline",
    "infractions_vs_baseline",
    "benefits",
]

LISTS = """
SELECT sanction AS list, count(*) AS listings, count(DISTINCT citizen) AS citizens
FROM ledger WHERE kind = 'sanction_start' GROUP BY 1 ORDER BY 2 DESC
"""


def main(
    population: int | None = None,
    days: int | None = None,
    seed: int = 1,
    out: str | Path = "runs/press_vs_national",
    verbose: bool = True,
) -> dict[str, Any]:
    """Run both presets on one seed and return the comparison table."""
    population, days = size(population, days, 100_000, 365)
    out = Path(out)
    runs = [credsim.Sim(r, population, days, seed, out=out / r, force=True).run() for r in REGIMES]
    table, page = compare(runs, out / "compare.html")
    lists = {r.path.name: r.query(LISTS) for r in runs}
    if verbose:
        print(table.attrs["pairing"], "\n")
        print(table.loc[[f for f in FIGURES if f in table.index]].to_string(), "\n")
        for name, df in lists.items():
            print(f"Listings in {name}:")
            print(df.to_string(index=False), "\n")
        print(f"comparison page: {page}")
    return {"runs": runs, "table": table, "lists": lists, "page": page}


if __name__ == "__main__":
    main()
