"""Every parameter of every preset perturbed in turn: which ones move no figure (inert).

    python benchmarks/liveness.py                         # every preset, about 30 min on 2 cores
    python benchmarks/liveness.py --presets press         # one preset, kept beside the others

Each parameter (``credsim.experiments.liveness.parameters``) is moved once (``perturbed``) and
the preset run on the same seed; a parameter is live if any daily figure differs from the
unperturbed run. The first stage runs 20,000 citizens for 730 days (twice the default
horizon: terms end, renewals fall due and rollouts complete); a parameter that moved nothing
there is tried again at 200,000 citizens, where rare events (a blacklisting, an accepted
apology, a marked citizen's relisting) happen often enough to show. Parameters inert at the
largest size must have a reason in docs/inert.toml; each preset's docs page shows them
(``python scripts/docs_outputs.py``). Writes benchmarks/liveness.json (other presets' entries
are kept when ``--presets`` names only some).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import credsim
from credsim.experiments.liveness import RECORD, reason_of, sweep

PRESETS = "press,national,national-calibrated,rongcheng,ref1"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--presets", default=PRESETS)
    ap.add_argument(
        "--stages", default="20000x730,200000x730", help="POPULATIONxDAYS,... in increasing size"
    )
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", default=str(RECORD))
    a = ap.parse_args()
    stages = [tuple(int(x) for x in s.split("x")) for s in a.stages.split(",")]
    path = Path(a.json)
    old = json.loads(path.read_text()) if path.exists() else {}
    same = old.get("stages") == [list(s) for s in stages] and old.get("seed") == a.seed
    out = {
        "stages": [list(s) for s in stages],
        "seed": a.seed,
        "presets": old.get("presets", {}) if same else {},
    }
    # the commit of the code this process runs, taken before the sweep (it takes an hour)
    git = ["git", "-C", str(Path(credsim.__file__).parent)]
    commit = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    status = subprocess.run([*git, "status", "--porcelain"], capture_output=True, text=True)
    commit = commit.stdout.strip() + (" with uncommitted changes" if status.stdout.strip() else "")
    for preset in a.presets.split(","):
        t0 = time.perf_counter()
        result = sweep(preset, stages, a.seed, progress=lambda line, p=preset: print(p, line))
        result["seconds"] = round(time.perf_counter() - t0, 1)
        result["commit"] = commit
        out["presets"][preset] = result
        path.write_text(json.dumps(out, indent=1) + "\n")
        missing = [p for p in result["inert"] if reason_of(preset, p) is None]
        print(
            f"{preset}: {len(result['live'])} live, {len(result['inert'])} inert "
            f"({result['seconds']} s); without a reason in docs/inert.toml: "
            f"{', '.join(missing) or 'none'}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
