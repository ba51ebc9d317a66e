"""What ties cost in memory: bytes per citizen of the graph, and the peak while it is built.

python benchmarks/ties_memory.py                  # 1,000,000 citizens, 3 seeds
python benchmarks/ties_memory.py --population 5000000 --seeds 1

The graph (CSR: an int64 offset a citizen, an int32 index and a uint8 kind a tie, each tie
stored from both ends) is kept for the whole run; the build's temporaries (one locality at
a time) are freed before the first day. The peak is measured with tracemalloc, which sees
every NumPy allocation, over the build alone (the population drawn before it is not counted).
"""

import argparse
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from credsim.engine.components.ties import build  # noqa: E402
from credsim.engine.layout import HEAD  # noqa: E402
from credsim.population import Census, synthesize  # noqa: E402
from credsim.regime.load import load_regime  # noqa: E402

ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument("--population", type=int, default=1_000_000)
ap.add_argument("--seeds", type=int, default=3)
args = ap.parse_args()
n = args.population
degree = load_regime("press").ties.degree.model_dump()
census = Census.from_facts()
kept, peak, secs = [], [], []
for seed in range(1, args.seeds + 1):
    pop = synthesize(n, np.random.default_rng(seed), census)
    flags = np.where(pop.head, HEAD, 0).astype(np.uint8)
    tracemalloc.start()
    t = time.perf_counter()
    g = build(pop.demo, flags, census.layout, degree, np.random.default_rng([seed, 7]))
    secs.append(time.perf_counter() - t)
    _, top = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    kept.append(g.nbytes() / n)
    peak.append(top / n)
    print(
        f"seed {seed}: {g.indices.size / n:.2f} tie ends a citizen, graph {kept[-1]:.1f} "
        f"bytes/citizen, build peak {peak[-1]:.1f} bytes/citizen, {secs[-1]:.2f} s, "
        f"cut {100 * g.cut:.3f}%"
    )
    del g, pop, flags
print(
    f"median over {args.seeds} seeds at {n:,} citizens: graph {statistics.median(kept):.1f} "
    f"bytes/citizen kept, build peak {statistics.median(peak):.1f} bytes/citizen, "
    f"build {statistics.median(secs):.2f} s"
)
