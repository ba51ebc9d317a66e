"""How do camera errors fall on groups? Misattributed records and wrongful restrictions.

    python -m credsim.examples.camera_errors_by_group.run

Runs the press preset twice on the same seed: with cameras that never misidentify, and with
a false-match rate of 3% (ten times that for minority faces, twice for women, as in the
preset). Because the runs share their acts, every difference comes from the errors. It then
shows who receives misattributed records, by sex, group and region (the group metrics),
whose acts were misattributed (the ledger keeps the actor), and how many citizens are
restricted wrongly: restricted, but not if the misattributed records were taken away.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

import credsim
from credsim.examples import size
from credsim.report import burden

REGIME = "press"
FALSE_MATCH = 0.03
DIMENSIONS = ("sex", "group", "region")

# Misattributed records by a trait of the citizen who received them, or of the actor.
BY_CITIZEN = """
SELECT c.{trait} AS {trait}, count(*) AS records
FROM ledger l JOIN citizens c ON c.citizen = l.{who}
WHERE l.kind = 'record' AND l.misattributed
GROUP BY ALL ORDER BY 1
"""


def main(
    population: int | None = None,
    days: int | None = None,
    seed: int = 1,
    out: str | Path = "runs/camera_errors_by_group",
    false_match: float = FALSE_MATCH,
    overrides: list[str] | tuple[str, ...] = (),
    verbose: bool = True,
) -> dict[str, Any]:
    """Run without and with camera errors; return the burden and actor tables.

    ``overrides`` apply to both runs, e.g. ``["rules.jaywalking.delta=-200"]`` so that one
    misattributed record is enough to cross the blacklist threshold.
    """
    population, days = size(population, days, 100_000, 365)
    out = Path(out)
    exact = credsim.Sim(
        REGIME,
        population,
        days,
        seed,
        overrides=[*overrides, "sources.camera.false_match=0"],
        out=out / "no_errors",
        force=True,  # the example's own folder: a new run replaces the last
    ).run()
    errors = credsim.Sim(
        REGIME,
        population,
        days,
        seed,
        overrides=[*overrides, f"sources.camera.false_match={false_match}"],
        out=out / "errors",
        force=True,
    ).run()

    b = burden(errors.groups)
    columns = ["dimension", "group", "population", "misattributed", "misattributed_per_1000"]
    columns += ["misattributed_ratio", "restricted", "wrongful"]
    receivers = b.loc[b["dimension"].isin(DIMENSIONS), columns]
    actors = pd.concat(
        {
            who: errors.query(BY_CITIZEN.format(trait='"group"', who=col)).set_index("group")[
                "records"
            ]
            for who, col in (("actor", "other"), ("receiver", "citizen"))
        },
        axis=1,
    ).fillna(0)
    share = errors.query('SELECT "group", count(*) AS citizens FROM citizens GROUP BY 1')
    actors["population_share"] = share.set_index("group")["citizens"] / population
    wrongful = {
        "no_errors": exact.summary["wrongful"],
        "errors": errors.summary["wrongful"],
    }
    misattributed = {
        "no_errors": exact.summary["misattributed_records"],
        "errors": errors.summary["misattributed_records"],
    }

    if verbose:
        print(f"misattributed records: {misattributed}")
        print(f"wrongfully restricted on the last day: {wrongful}\n")
        print("Who receives misattributed records (per 1000 citizens; ratio 1 = average):")
        print(receivers.to_string(index=False, float_format="{:.3f}".format), "\n")
        print("Whose acts were misattributed, and who received them, by group:")
        print(actors.to_string(float_format="{:.3f}".format), "\n")
        print(f"run folders: {exact.path} {errors.path}")
    return {
        "runs": (exact, errors),
        "receivers": receivers,
        "actors": actors,
        "wrongful": wrongful,
        "misattributed": misattributed,
    }


if __name__ == "__main__":
    main()
