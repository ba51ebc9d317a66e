"""The ties tests on 20 seeds: mean degrees, clustering and age mixing of the graph against
their sources, and chilling through ties against its analytic expectation.

python benchmarks/ties_seeds.py     # about two minutes on two cores
"""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import test_ties as T  # noqa: E402

from credsim.engine.components.ties import COLLEAGUE, FRIEND, NEIGHBOUR, TIES_LEVEL  # noqa: E402
from credsim.engine.context import Listings  # noqa: E402

passed = 0
worst = {"degree": 0.0, "z": 0.0}
for seed in range(1, 21):
    g, pop, census = T.graph(200_000, seed)
    rel = max(
        abs(g.degree(k).mean() / T.DEGREE[name] - 1)
        for k, name in ((FRIEND, "friend"), (COLLEAGUE, "colleague"), (NEIGHBOUR, "neighbour"))
    )
    ids = np.random.default_rng(0).choice(g.n, 3000, replace=False)
    clus = float(np.nanmean(g.clustering(ids)))
    d = g.degree()
    # chilling through ties on a fresh shard, as in the test
    shard = T._shard("press", seed=seed)
    ties = shard.component("ties")
    s = shard.state
    listed = np.sort(np.random.default_rng(seed).choice(s.n, 400, replace=False))
    whose, tie, kind = ties.graph.of(listed)
    p = ties.see[kind]
    pair = whose * (s.n + 1) + tie
    order = np.lexsort((-p, pair))
    first = np.concatenate([[True], np.diff(pair[order]) != 0])
    v, pv = tie[order][first], p[order][first]
    q = 1 - np.exp(np.bincount(v, weights=np.log1p(-pv), minlength=s.n))
    expected, sd = q.sum(), np.sqrt((q * (1 - q)).sum())
    lst = Listings(listed, np.zeros(listed.size, dtype=np.int64), np.full(listed.size, -1), None)
    ties.on_listed(5, lst)
    chilled = int(np.count_nonzero(s.level(np.arange(s.n)) == TIES_LEVEL))
    z = (chilled - expected) / sd
    ok = (
        rel < 0.03
        and g.cut < 0.01
        and T.FACTS["clustering_low"] <= clus <= T.FACTS["clustering_high"]
        and d.var() > 2 * d.mean()
        and abs(z) < 4
    )
    worst["degree"] = max(worst["degree"], rel)
    worst["z"] = max(worst["z"], abs(z))
    passed += ok
    print(
        f"seed {seed:2d}: worst degree error {100 * rel:.2f}%, cut {100 * g.cut:.2f}%, "
        f"clustering {clus:.3f}, degree var/mean {d.var() / d.mean():.1f}, chilled {chilled} "
        f"vs {expected:.1f} (z {z:+.2f})  {'ok' if ok else 'FAIL'}"
    )
print(
    f"{passed} of 20 seeds pass; worst degree error {100 * worst['degree']:.2f}% (tolerance 3%), "
    f"worst |z| {worst['z']:.2f} (tolerance 4)"
)
