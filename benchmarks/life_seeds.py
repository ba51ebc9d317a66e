"""The life-course pyramid test on 20 seeds, and the births drawn against each shard's
headroom.

python benchmarks/life_seeds.py     # about a minute on two cores

For each seed: 100,000 citizens' life events over ten years (credsim.engine.components.life
.expand), the [sex, 5-year age group] counts of the living after ten years against their
expectation from the rates (tests/test_life.py: every cell of at least 20 expected within
4.5 standard deviations, mean squared z below 1.6), and the births drawn as a share of the
headroom a shard keeps for them.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import test_life as T  # noqa: E402

from credsim.engine.components.life import YEAR, headroom  # noqa: E402

passed = 0
worst_z = worst_chi = worst_room = 0.0
for seed in range(1, 21):
    out = T.pyramid_check(seed)
    room = headroom(T.PYRAMID_N, int(T.YEARS * YEAR) + 1)
    ok = out["max_z"] < 4.5 and out["chi2_per_cell"] < 1.6 and out["births"] <= room
    passed += ok
    worst_z, worst_chi = max(worst_z, out["max_z"]), max(worst_chi, out["chi2_per_cell"])
    worst_room = max(worst_room, out["births"] / room)
    print(
        f"seed {seed:2d}: {out['cells']} cells, max |z| {out['max_z']:.2f}, mean z^2 "
        f"{out['chi2_per_cell']:.2f}, births {out['births']} of headroom {room}  "
        f"{'ok' if ok else 'FAIL'}"
    )
print(
    f"{passed} of 20 seeds pass; worst max |z| {worst_z:.2f}, worst mean z^2 {worst_chi:.2f}, "
    f"births at most {100 * worst_room:.0f}% of the headroom"
)
