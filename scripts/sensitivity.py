"""Which assumptions of the press preset drive its results: Morris screening, then Sobol'.

    python scripts/sensitivity.py          # about 15 minutes on 2 busy cores; writes
                                           # docs/sensitivity.json
    python scripts/sensitivity.py --quick  # a smoke run (tiny sizes), written nowhere

Screens the assumed parameters in ``PARAMETERS`` with Morris (``--trajectories`` of D + 1
runs) on three headline figures at once: ``restricted`` (citizens restricted on the last
day), ``ever_wrongful`` (citizens ever wrongfully listed, whole run) and ``posts_vs_baseline``
(critical posts over their no-adaptation baseline, whole run: the chilling effect). It then
computes Sobol' indices (``--sobol-n`` x (k + 2) runs) for the k parameters (at most
``--keep``) that the screening ranks first on any figure. Every run uses seed 1 (common
random numbers), so differences between runs are the parameters'. The figures are from one
seed of a small population (``--population``): they rank the parameters, they do not
estimate any figure of the country. ``scripts/docs_outputs.py`` shows the recorded tables on
docs/sensitivity.md.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RECORD = ROOT / "docs" / "sensitivity.json"
OUTPUTS = ("restricted", "ever_wrongful", "posts_vs_baseline")
# the press preset's assumed parameters (docs/limits.md) with the range each is moved over
PARAMETERS = {
    "rules.critical_post.delta": (-100, -10),
    "behaviours.critical_post.rate": (0.0001, 0.002),
    "adaptation.province_sensitivity": (0.0, 40.0),
    "adaptation.chilling_own": (0.2, 0.8),
    "sources.camera.coverage_urban": (0.4, 1.0),
    "sources.camera.coverage_rural": (0.1, 0.6),
    "rules.jaywalking.delta": (-20, -1),
    "sanctions.blacklist.redress.accept": (0.0, 0.5),
}


def analyse(folder: Path, method: str, params: dict, n: int, seed: int) -> dict[str, list]:
    """Indices of every figure in ``OUTPUTS`` from the runs of one design (``folder``)."""
    import numpy as np
    import pandas as pd

    from credsim.experiments.sensitivity import MORRIS_LEVELS, _analyse
    from credsim.experiments.sweep import sampler_seed

    runs = pd.read_parquet(folder / "sensitivity_runs.parquet")
    names = list(params)
    problem = {"num_vars": len(names), "names": names, "bounds": [list(params[p]) for p in names]}
    s_seed = sampler_seed(seed)
    if method == "sobol":
        from SALib.sample import sobol

        x = sobol.sample(problem, n, calc_second_order=False, seed=s_seed)
        keys = ("S1", "S1_conf", "ST", "ST_conf")
    else:
        from SALib.sample import morris

        x = morris.sample(problem, n, num_levels=MORRIS_LEVELS, seed=s_seed)
        keys = ("mu_star", "mu_star_conf", "sigma")
    runs = runs.sort_values("run")
    for i, name in enumerate(names):  # the runs are the design's points, in its order
        got = runs[name].to_numpy(dtype=float)
        whole = all(isinstance(b, int) for b in params[name])  # sampled as whole numbers
        if not np.allclose(got, x[:, i], rtol=1e-9, atol=0.5 if whole else 1e-12):
            raise RuntimeError(f"{folder}: the runs do not follow the design for {name}")
    out = {}
    for output in OUTPUTS:
        y = runs[output].to_numpy(dtype=float)
        si = _analyse(method, problem, x, y, s_seed)
        rows = [
            {"parameter": p, "lo": params[p][0], "hi": params[p][1]}
            | {k: (None if not np.isfinite(si[k][i]) else float(si[k][i])) for k in keys}
            for i, p in enumerate(names)
        ]
        rank = "ST" if method == "sobol" else "mu_star"
        rows.sort(key=lambda r: -(r[rank] if r[rank] is not None else -1))
        out[output] = {
            "rows": rows,
            "mean": float(np.mean(y)),
            "min": float(np.min(y)),
            "max": float(np.max(y)),
        }
    return out


def design(method: str, params: dict, n: int, population: int, days: int, seed: int, d: Path):
    """Run one design (writes its runs under ``d``) and analyse every figure."""
    from credsim.experiments.sensitivity import sensitivity

    folder = d / method
    sensitivity(
        "press",
        params,
        output=OUTPUTS[0],
        method=method,
        n=n,
        population=population,
        days=days,
        seed=seed,
        out=folder,
        workers=1,
    )
    return analyse(folder, method, params, n, seed)


def chosen(morris: dict, keep: int) -> list[str]:
    """The parameters the screening ranks first: by the largest share of the top mu* they
    reach on any figure, those at 10% of it or more, at most ``keep``."""
    score: dict[str, float] = {}
    for result in morris.values():
        top = max((r["mu_star"] or 0.0) for r in result["rows"]) or 1.0
        for r in result["rows"]:
            share = (r["mu_star"] or 0.0) / top
            score[r["parameter"]] = max(score.get(r["parameter"], 0.0), share)
    ranked = sorted((p for p in score if score[p] >= 0.1), key=lambda p: -score[p])
    return ranked[:keep]


def main() -> int:
    """Screen, choose, compute the indices, record them."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--population", type=int, default=20_000)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--trajectories", type=int, default=4)
    ap.add_argument("--sobol-n", type=int, default=32)
    ap.add_argument("--keep", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="tiny sizes, nothing written")
    a = ap.parse_args()
    if a.quick:
        a.population, a.days, a.trajectories, a.sobol_n, a.keep = 1000, 30, 2, 4, 2
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="credsim-sensitivity-") as d:
        morris = design("morris", PARAMETERS, a.trajectories, a.population, a.days, a.seed, Path(d))
        keep = chosen(morris, a.keep) or list(PARAMETERS)[: a.keep]
        params = {p: PARAMETERS[p] for p in keep}
        sobol = design("sobol", params, a.sobol_n, a.population, a.days, a.seed, Path(d))
    record = {
        "command": "python scripts/sensitivity.py",
        "population": a.population,
        "days": a.days,
        "seed": a.seed,
        "trajectories": a.trajectories,
        "morris_runs": a.trajectories * (len(PARAMETERS) + 1),
        "sobol_n": a.sobol_n,
        "sobol_runs": a.sobol_n * (len(keep) + 2),
        "chosen": keep,
        "morris": morris,
        "sobol": sobol,
        "seconds": round(time.perf_counter() - t0, 1),
    }
    if a.quick:
        print(json.dumps({"chosen": keep, "seconds": record["seconds"]}))
    else:
        RECORD.write_text(json.dumps(record, indent=1) + "\n")
        print(f"chosen for Sobol': {', '.join(keep)}; {record['seconds']} s; wrote {RECORD}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
