"""Every parameter of every preset perturbed in turn: which ones move no figure (inert).

    python benchmarks/liveness.py                         # every preset, about 30 min on 2 cores
    python benchmarks/liveness.py --presets press --population 3000 --days 730

Each parameter (``credsim.experiments.liveness.parameters``) is moved once
(``perturbed``) and the preset run on the same seed; a parameter is live if any daily figure
differs from the unperturbed run, inert otherwise. The run is small (3,000 citizens by
default) but long (730 days, twice the default horizon: a stress horizon where terms end,
renewals fall due and rollouts complete). A parameter found inert at this size may still
matter at a larger one: the inert list is checked against the reasons on docs/presets.md.
Writes benchmarks/liveness.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from credsim.experiments.liveness import moved, parameters, perturbed
from credsim.sim import Sim

ROOT = Path(__file__).resolve().parents[1]


def run(regime, population: int, days: int, seed: int, folder: Path):
    return Sim(regime, population, days, seed, out=folder, ledger="none", workers=1).run()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--presets", default="press,national,national-calibrated,rongcheng,ref1")
    ap.add_argument("--population", type=int, default=3000)
    ap.add_argument("--days", type=int, default=730)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", default=str(ROOT / "benchmarks" / "liveness.json"))
    a = ap.parse_args()
    out: dict = {"population": a.population, "days": a.days, "seed": a.seed, "presets": {}}
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="credsim-liveness-") as d:
        for preset in a.presets.split(","):
            base = run(preset, a.population, a.days, a.seed, Path(d) / preset)
            live, inert = {}, []
            for i, path in enumerate(parameters(preset)):
                other = run(
                    perturbed(preset, path), a.population, a.days, a.seed, Path(d) / f"p{i}"
                )
                figs = moved(base, other)
                if figs:
                    live[path] = len(figs)
                else:
                    inert.append(path)
                print(f"{preset} {path}: {len(figs)} figures moved", flush=True)
            out["presets"][preset] = {"live": live, "inert": inert}
            print(f"{preset}: {len(live)} live, {len(inert)} inert: {', '.join(inert)}", flush=True)
    out["seconds"] = round(time.perf_counter() - t0, 1)
    Path(a.json).write_text(json.dumps(out, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
