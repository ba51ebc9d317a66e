"""What if apologies were accepted? The press regime with redress judged sincere.

    python -m credsim.examples.apologies_accepted.run

In the press preset, a citizen who deletes a critical post or apologises for a blacklisting
is almost always judged insincere (10% and 5% of compliances accepted). This example runs
the preset as it is and with 90% accepted, on the same seed, so the two runs share their
citizens and their acts (common random numbers), and compares them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

import credsim
from credsim.examples import size
from credsim.report.compare import compare

REGIME = "press"
ACCEPTED = [
    "rules.critical_post.redress.accept=0.9",  # deleting the post is accepted
    "sanctions.blacklist.redress.accept=0.9",  # the apology is accepted
]
FIGURES = [
    "restricted",
    "spillover_only",
    "ever_sanctioned",
    "score_mean",
    "denied_flight",
    "denied_rail",
    "posts_vs_baseline",
]


def redress_counts(run: credsim.Run) -> dict[str, int]:
    """Demands, compliances, acceptances and refunds over the whole run."""
    m = run.metrics
    refunds = run.query("SELECT count(*) AS n FROM ledger WHERE kind = 'refund'")["n"].iloc[0]
    return {
        "demands": int(m["redress_demands"].sum()),
        "complied": int(m["redress_complied"].sum()),
        "accepted": int(m["redress_accepted"].sum()),
        "refunds": int(refunds),
    }


def main(
    population: int | None = None,
    days: int | None = None,
    seed: int = 1,
    out: str | Path = "runs/apologies_accepted",
    verbose: bool = True,
) -> dict[str, Any]:
    """Run both variants, compare them, and return the tables."""
    population, days = size(population, days, 100_000, 365)
    out = Path(out)
    # force: the example's own folders, a new run replaces the last
    runs = [
        credsim.Sim(REGIME, population, days, seed, out=out / name, overrides=o, force=True).run()
        for name, o in (("judged_insincere", ()), ("accepted", ACCEPTED))
    ]
    table, page = compare(runs, out / "compare.html")
    redress = pd.DataFrame({r.path.name: redress_counts(r) for r in runs})
    if verbose:
        print(table.attrs["pairing"], "\n")
        print(table.loc[[f for f in FIGURES if f in table.index]].to_string(), "\n")
        print("Redress over the whole run:")
        print(redress.to_string(), "\n")
        print(f"comparison page: {page}")
    return {"runs": runs, "table": table, "redress": redress, "page": page}


if __name__ == "__main__":
    main()
