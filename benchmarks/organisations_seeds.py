"""The organisation tests on 20 seeds: the synthesis against its published figures, and the
national preset's share of enterprises newly listed in a year, each within its tolerance.

python benchmarks/organisations_seeds.py     # about two minutes on two cores
"""

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import test_organisations as T  # noqa: E402

from credsim.sim import Sim  # noqa: E402

worst: dict[str, float] = {}
passed = 0
for seed in range(1, 21):
    errors = T.synthesis_errors(seed)
    with tempfile.TemporaryDirectory() as d:
        run = Sim("national", T.CALIB_N, 365, seed, out=Path(d) / "c", workers=1, ledger="none")
        last = run.run().metrics.iloc[-1]
    share = float(last["organisations_ever_listed"]) / float(last["enterprises"])
    errors["listed"] = abs(share - T.org.published().listed_per_year)
    bad = [k for k, v in errors.items() if v > T.tolerance(k)]
    for k, v in errors.items():
        worst[k] = max(worst.get(k, 0.0), v)
    passed += not bad
    print(
        f"seed {seed:2d}: listed in a year {share:.4f}  {'ok' if not bad else 'FAIL ' + str(bad)}"
    )
print("largest error over the seeds, and its tolerance:")
for k, v in worst.items():
    print(f"  {k:28s} {v:.4f}  (tolerance {T.tolerance(k)})")
print(f"{passed} of 20 seeds pass")
