"""The calibrated preset on 20 seeds: how often the calibration test's check passes.

Runs ``national-calibrated`` at 200,000 citizens on seeds 21-40 (one run each, as the test
does) and counts the seeds on which every fit target (cumulative blocked flights and trains,
listings, delistings, the December 2018 flows) is within the test's allowance
(``tests/test_calibration.py::allowed_error``). About four minutes on two shared cores.

    python benchmarks/calibration_seeds.py
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

import credsim  # noqa: E402
from credsim.calibration import evaluate, load_targets  # noqa: E402

spec = importlib.util.spec_from_file_location("tc", ROOT / "tests" / "test_calibration.py")
tc = importlib.util.module_from_spec(spec)
spec.loader.exec_module(tc)


def main() -> int:
    t = load_targets("national")
    regime = credsim.load_regime("national-calibrated")
    passed, worst = [], {}
    for seed in range(21, 41):
        fit, _ = evaluate(regime, t, 200_000, replicates=1, seed=seed)
        fit = fit[fit["role"] == "fit"]
        bad = tc.misses(fit, 200_000, t.meta.population)
        passed.append(bad.empty)
        margin = (fit["simulated"] - fit["published"]).abs() / tc.allowed_error(
            fit, 200_000, t.meta.population
        )
        for name, m in zip(fit["target"], margin):
            worst[name] = max(worst.get(name, 0.0), float(m))
        print(f"seed {seed}: {'pass' if bad.empty else 'miss ' + ', '.join(bad['target'])}")
    print("largest |error| / allowance over the seeds, per target:")
    for name, m in sorted(worst.items(), key=lambda kv: -kv[1]):
        print(f"  {name:34s} {m:.2f}")
    print(f"every fit target within the allowance on {sum(passed)} of {len(passed)} seeds")
    print(f"median worst margin {np.median(list(worst.values())):.2f}")
    return 0 if sum(passed) >= 19 else 1


if __name__ == "__main__":
    raise SystemExit(main())
