"""The no-caps test (12 sanctions, 12 privileges, 10 groups, 40 provinces) on 20 seeds.

python benchmarks/no_caps_seeds.py     # about five minutes on two cores

For each seed: the fewest listings any extra sanction started, the fewest denied attempts
of any privilege beyond the fifth, whether every extra sanction listed the same citizens,
and the smallest and largest province share against the bounds of the test (0.4/40 and
2/40).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import numpy as np  # noqa: E402
import pyarrow as pa  # noqa: E402
import test_no_caps as T  # noqa: E402

passed = 0
for seed in range(1, 21):
    T.SEED = seed
    shard = T.run(T.wide(), T.census(10, 40))
    c, m = shard.c, shard.m
    rows = m.rows
    started = min(int(rows[:, m.col[f"started_{k}"]].sum()) for k in c.sanctions[2:])
    denied = min(int(rows[:, m.col[f"denied_{p}"]].sum()) for p in c.privileges[5:])
    table = pa.concat_tables(shard.citizens_tables())
    first = np.asarray(table["sanction_list_0"])
    same = all((np.asarray(table[f"sanction_{k}"]) == first).all() for k in c.sanctions[2:])
    share = table.to_pandas()["province"].value_counts(normalize=True)
    ok = started > 0 and denied > 0 and same and share.min() > 0.01 and share.max() < 0.05
    passed += ok
    print(
        f"seed {seed:2d}: fewest started {started:4d}, fewest denied {denied:5d}, "
        f"same citizens {same}, province share {share.min():.4f}-{share.max():.4f}  "
        f"{'ok' if ok else 'FAIL'}"
    )
print(f"{passed} of 20 seeds pass every assertion of tests/test_no_caps.py")
