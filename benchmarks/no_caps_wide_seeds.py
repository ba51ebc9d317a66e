"""The widest no-caps test (100 sanctions, 100 privileges, 40 sources, 8 kinds of behaviour)
on 20 seeds.

python benchmarks/no_caps_wide_seeds.py     # about four minutes on two cores

For each seed: the listings of the first extra sanction, whether the listings of bits 64 to
99 start, stand and count exactly as it does, the fewest denied attempts of a privilege
beyond the 64th, whether any was denied to a citizen never listed, the fewest records of
the 40th source and of the behaviours of the declared kinds, and the ledger's highest
sanction and privilege codes: every assertion of the wide tests in tests/test_no_caps.py.
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
    shard = T.run_widest()
    c, m = shard.c, shard.m
    rows = m.rows
    table = pa.concat_tables(shard.citizens_tables())
    first = np.asarray(table["sanction_list_0"])
    started0 = int(rows[:, m.col["started_list_0"]].sum())
    same = all(
        int(rows[:, m.col[f"started_{k}"]].sum()) == started0
        and (np.asarray(table[f"sanction_{k}"]) == first).all()
        and rows[-1, m.col[f"sanctioned_{k}"]] == int(first.sum())
        for k in c.sanctions[64:]
    )
    denied = min(int(rows[:, m.col[f"denied_{p}"]].sum()) for p in c.privileges[64:])
    ever = np.asarray(table["ever_sanctioned"])
    stray = any((np.asarray(table[f"denied_{p}"]) & ~ever).any() for p in c.privileges[64:])
    source = int(rows[:, m.col[f"records_source_{c.sources[-1]}"]].sum())
    kinds = min(int(rows[:, m.col[f"records_act_{k}"]].sum()) for k in T.NEW_KINDS)
    led = shard.ledger.table()
    codes = (int(np.asarray(led["sanction"]).max()), int(np.asarray(led["privilege"]).max()))
    ok = first.sum() > 0 and same and denied > 0 and not stray and source > 0 and kinds > 0
    ok = ok and codes == (99, 99)
    passed += ok
    print(
        f"seed {seed:2d}: listed by list_0 {int(first.sum()):4d}, bits 64-99 the same {same}, "
        f"fewest denied {denied:4d}, denied unlisted {stray}, 40th source records {source:4d}, "
        f"fewest declared-kind records {kinds:4d}, top codes {codes}  {'ok' if ok else 'FAIL'}"
    )
print(f"{passed} of 20 seeds pass every assertion of the wide tests in tests/test_no_caps.py")
