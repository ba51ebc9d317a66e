"""The amnesty test on 20 seeds: listings lifted equal those held, nothing changes before.

python benchmarks/amnesty_seeds.py     # a few minutes on two cores
"""

import copy
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import test_amnesty as T  # noqa: E402

passed = 0
for seed in range(1, 21):
    T.SEED = seed
    with tempfile.TemporaryDirectory() as d:
        base = T.press()
        with_amnesty = copy.deepcopy(base)
        with_amnesty["amnesties"] = [{"name": "repair", "day": T.DAY, "sanctions": ["defaulter"]}]
        a, b = T.run(base, Path(d), "a"), T.run(with_amnesty, Path(d), "b")
        m = b.metrics
        held = int(m["sanctioned_defaulter"].iloc[T.DAY - 1])
        lifted = int(m["amnestied_repair"].iloc[T.DAY])
        left = int(m["sanctioned_defaulter"].iloc[T.DAY]) == int(m["started_defaulter"].iloc[T.DAY])
        shared = [c for c in a.metrics.columns if c in m.columns]
        before = a.metrics[shared].iloc[: T.DAY].equals(m[shared].iloc[: T.DAY])
        ok = held > 0 and lifted == held and left and before
        passed += ok
        print(
            f"seed {seed:2d}: held {held:3d}, lifted {lifted:3d}, only today's left {left}, "
            f"identical before {before}  {'ok' if ok else 'FAIL'}"
        )
print(f"{passed} of 20 seeds pass")
