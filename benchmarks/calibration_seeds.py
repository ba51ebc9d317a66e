"""The calibrated preset on 20 seeds: how often the calibration test's check passes.

Runs ``national-calibrated`` at 200,000 citizens on seeds 21-40 (one run each, as the test
does) and counts the seeds on which every flight and every rail target is within the test's
allowance (``tests/test_calibration.py::allowed_error``). About 80 seconds on two cores.

    python benchmarks/calibration_seeds.py
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import credsim  # noqa: E402
from credsim.calibration import evaluate, load_targets  # noqa: E402

spec = importlib.util.spec_from_file_location("tc", ROOT / "tests" / "test_calibration.py")
tc = importlib.util.module_from_spec(spec)
spec.loader.exec_module(tc)


def main() -> int:
    t = load_targets("national")
    regime = credsim.load_regime("national-calibrated")
    passed = {"denied_flight": [], "denied_rail": []}
    for seed in range(21, 41):
        fit, _ = evaluate(regime, t, 200_000, replicates=1, seed=seed)
        worst = {}
        for metric, tol in (("denied_flight", 0.10), ("denied_rail", 0.15)):
            rows = fit[fit["metric"] == metric]
            allowed = tc.allowed_error(rows["published"], tol, 200_000, t.meta.population)
            ok = bool(((rows["simulated"] - rows["published"]).abs() <= allowed).all())
            passed[metric].append(ok)
            worst[metric] = float(rows["relative_error"].abs().max())
        print(f"seed {seed}: " + ", ".join(f"{m} worst {w:.1%}" for m, w in worst.items()))
    for metric, oks in passed.items():
        print(f"{metric}: passes on {sum(oks)} of {len(oks)} seeds")
    return 0 if all(sum(v) >= 19 for v in passed.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
