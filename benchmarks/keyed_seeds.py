"""Keyed random numbers on more seeds than the tests: placebos on seeds 1-10, act counts on 1-20.

python benchmarks/keyed_seeds.py     # about two minutes on two cores
"""

import copy
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import numpy as np  # noqa: E402
import test_keyed as T  # noqa: E402

ok_green = ok_priv = 0
for seed in range(1, 11):
    with tempfile.TemporaryDirectory() as d:
        base = T.press()
        without = copy.deepcopy(base)
        without["green_lanes"] = []
        m1, l1, c1 = T.outputs(base, seed, Path(d), "a")
        m2, l2, c2 = T.outputs(without, seed, Path(d), "b")
        cols = [c for c in m1.columns if c != "benefits"]
        ok_green += bool(m1[cols].equals(m2[cols]) and l1.equals(l2) and c1.equals(c2))
        more = copy.deepcopy(base)
        more["privileges"].insert(0, {"name": "museum", "attempts_urban": 0, "attempts_rural": 0})
        more["sanctions"][0]["privileges"].insert(0, "museum")
        m3, l3, c3 = T.outputs(more, seed, Path(d), "c")
        shared = [c for c in m1.columns if c in m3.columns]
        sc = [c for c in c1.columns if c in c3.columns]
        ok_priv += bool(m1[shared].equals(m3[shared]) and l1.equals(l3) and c1[sc].equals(c3[sc]))
print(
    "green lanes placebo identical on",
    ok_green,
    "of 10 seeds; privilege placebo on",
    ok_priv,
    "of 10",
)
# act counts within 5 sd, 20 seeds
from credsim.engine.kernels import unpack_propensity  # noqa: E402
from credsim.engine.state import bits  # noqa: E402

worst = 0.0
for seed in range(1, 21):
    data = T.press()
    data["adaptation"]["enabled"] = False
    s = T.shard(seed, data, n=20_000)
    counts = np.zeros(len(s.c.regime.behaviours))
    for day in range(200):
        counts += [a.size for a in s.acts(day)]
    half = np.empty(s.state.n, dtype=np.uint16)
    unpack_propensity(s.state.words, half)
    prop = half.view(np.float16).astype(np.float64)
    urban = bits(s.state.demo, "urban", s.c.layout)
    child = bits(s.state.demo, "age", s.c.layout) == 0
    for b, beh in enumerate(s.c.regime.behaviours):
        p = np.minimum(
            beh.rate
            * s.c.place_factor[b][urban, np.where(child, 1, 0)]
            * (prop if beh.propensity else 1.0),
            1,
        )
        z = abs(counts[b] - 200 * p.sum()) / np.sqrt(200 * (p * (1 - p)).sum())
        worst = max(worst, z)
print("act counts: largest |z| over 20 seeds x 9 behaviours:", round(worst, 2))
