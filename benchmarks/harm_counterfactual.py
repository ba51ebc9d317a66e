"""The harm flags against the world without camera errors, on many seeds.

With keyed random numbers the same seed with a false-match rate of 0 is the world without
camera errors. At a stress setting (press, jaywalking at -200 points, camera false matches
3% and 6%, adaptation off, so both worlds see the same acts) each seed is run twice, with
errors and without, and the flags of the run with errors are compared with the difference
between the two worlds:

- ``ever_wrongful`` against the citizens listed with errors at a time the world without
  errors had not listed them (listed only with errors, or listed earlier with errors);
- ``escaped`` against the citizens listed only in the world without errors.

Agreement is the citizens in both over the citizens in either (1 = the same citizens); the
goal is 0.9 or more on every seed. With ``--adaptation`` the runs adapt (deterrence and
chilling), so the two worlds no longer see the same acts and the agreement falls; see
docs/harm.md.

    python benchmarks/harm_counterfactual.py                       # 20 seeds, 20,000 citizens
    python benchmarks/harm_counterfactual.py --seeds 3 --population 5000   # a quick look
    python benchmarks/harm_counterfactual.py --adaptation --seeds 5
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import statistics
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

STRESS = ("rules.jaywalking.delta=-200",)


def one(job: tuple) -> dict:
    """Both worlds of one seed and false-match rate; the flags against their difference."""
    from credsim.counterfactual import agreement, listed_by_errors
    from credsim.sim import Sim

    seed, false_match, population, days, adaptation = job
    sets = [*STRESS, f"adaptation.enabled={'true' if adaptation else 'false'}"]
    with tempfile.TemporaryDirectory(prefix="credsim-harm-") as d:
        runs = []
        for name, fm in (("errors", false_match), ("none", 0.0)):
            runs.append(
                Sim(
                    "press",
                    population,
                    days,
                    seed,
                    out=Path(d) / name,
                    workers=1,
                    ledger="full",
                    overrides=[*sets, f"sources.camera.false_match={fm}"],
                ).run()
            )
        errors, none = runs
        a, wrongly, escaped = listed_by_errors(errors, none)
        only_errors = a["ever_listed"] & ~none.citizens.set_index("citizen")["ever_listed"]
        return {
            "seed": seed,
            "false_match": false_match,
            "ever_wrongful": int(a["ever_wrongful"].sum()),
            "listed_wrongly_by_comparison": int(wrongly.sum()),
            "listed_only_with_errors": int(only_errors.sum()),
            "ever_wrongful_agreement": round(agreement(a["ever_wrongful"], wrongly), 4),
            "ever_wrongful_vs_only_with_errors": round(
                agreement(a["ever_wrongful"], only_errors), 4
            ),
            "escaped": int(a["escaped"].sum()),
            "listed_only_without_errors": int(escaped.sum()),
            "escaped_agreement": round(agreement(a["escaped"], escaped), 4),
        }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, default=20, help="seeds 1..N (default 20)")
    p.add_argument("--population", type=int, default=20_000)
    p.add_argument("--days", type=int, default=365)
    p.add_argument("--false-match", type=float, nargs="+", default=[0.03, 0.06])
    p.add_argument("--adaptation", action="store_true", help="runs adapt (see docs/harm.md)")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--json", type=Path, help="write the rows here")
    a = p.parse_args(argv)
    jobs = [
        (s, fm, a.population, a.days, a.adaptation)
        for fm in a.false_match
        for s in range(1, a.seeds + 1)
    ]
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(a.workers, mp_context=ctx) as pool:
        rows = list(pool.map(one, jobs))
    for r in rows:
        print(json.dumps(r))
    print(
        f"press, {a.population:,} citizens, {a.days} days, jaywalking -200 points, adaptation "
        f"{'on' if a.adaptation else 'off'}; seeds 1-{a.seeds}"
    )
    for fm in a.false_match:
        sel = [r for r in rows if r["false_match"] == fm]
        for key in (
            "ever_wrongful_agreement",
            "ever_wrongful_vs_only_with_errors",
            "escaped_agreement",
        ):
            v = [r[key] for r in sel]
            print(
                f"false match {fm:.2f}: {key.replace('_', ' ')} median {statistics.median(v):.3f}, "
                f"min {min(v):.3f}, max {max(v):.3f} over {len(v)} seeds"
            )
        for key in ("ever_wrongful", "escaped"):
            v = [r[key] for r in sel]
            print(f"false match {fm:.2f}: {key} median {statistics.median(v):.0f} citizens")
    if a.json:
        a.json.write_text(json.dumps(rows, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
