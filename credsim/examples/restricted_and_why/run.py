"""How many citizens does the press regime restrict, on which lists, and why?

    python -m credsim.examples.restricted_and_why.run

Runs the ``press`` preset, then answers from the run folder: how many are restricted (on a
list of their own, or only through family), which lists hold them, which record started
each listing, which records took the listed citizens' points, and one citizen's dossier.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import credsim
from credsim.examples import size
from credsim.explain import find_citizens, render

REGIME = "press"

# Which record started each listing. A listing's ``cause`` is the ledger id of a record: the
# record that started a rule listing, or the citizen's last record of the day that put them
# in a low tier (not always the record that crossed the threshold).
CAUSES = """
SELECT s.sanction AS list, coalesce(r.rule, '(none)') AS cause, count(*) AS listings,
       count(*) FILTER (WHERE r.misattributed) AS misattributed_causes
FROM ledger s LEFT JOIN ledger r ON r.id = s.cause
WHERE s.kind = 'sanction_start'
GROUP BY ALL ORDER BY listings DESC, list, cause
"""

# Which records took the points of the citizens on a list now.
POINTS = """
SELECT rule, count(*) AS records, sum(delta)::BIGINT AS points
FROM ledger
WHERE kind = 'record' AND citizen IN (SELECT citizen FROM citizens WHERE {column})
GROUP BY rule ORDER BY points, rule
"""


def main(
    population: int | None = None,
    days: int | None = None,
    seed: int = 1,
    out: str | Path = "runs/restricted_and_why",
    verbose: bool = True,
) -> dict[str, Any]:
    """Run the press regime and return the answers (tables as pandas DataFrames)."""
    population, days = size(population, days, 100_000, 365)
    run = credsim.Sim(
        REGIME, population=population, days=days, seed=seed, out=out, force=True
    ).run()

    lists = [s.name for s in run.regime().sanctions]
    on_list = ", ".join(f"count(*) FILTER (WHERE sanction_{n}) AS {n}" for n in lists)
    by_list = run.query(
        f"SELECT count(*) FILTER (WHERE restricted) AS restricted, "
        f"count(*) FILTER (WHERE spillover AND NOT restricted) AS through_family_only, "
        f"{on_list} FROM citizens"
    )
    causes = run.query(CAUSES)
    points = {n: run.query(POINTS.format(column=f"sanction_{n}")) for n in lists}
    banned = find_citizens(run, "banned", limit=1)
    dossier = render(run.explain(banned[0])) if banned else "(nobody is restricted)"

    if verbose:
        h = run.summary
        print(f"{h['restricted']:,} of {h['citizens']:,} citizens restricted on day {days - 1}")
        print(f"({h['restricted_pct']}%), {h['spillover_only']:,} more only through family.\n")
        print(by_list.to_string(index=False), "\n")
        print("What started each listing:")
        print(causes.to_string(index=False), "\n")
        for name, df in points.items():
            print(f"Records behind the points of citizens on {name} now:")
            print(df.to_string(index=False), "\n")
        print(dossier)
        print(f"\nrun folder: {run.path}")
    return {
        "run": run,
        "by_list": by_list,
        "causes": causes,
        "points": points,
        "dossier": dossier,
        "example_citizen": banned[0] if banned else None,
    }


if __name__ == "__main__":
    main()
