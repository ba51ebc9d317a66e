"""The rollout test (privileges, green lanes, redress by region and day) on 20 seeds.

    python benchmarks/rollout_seeds.py     # a few minutes on two cores

For each seed: the regime of tests/test_rollout.py run staged and rolled out from day 0, and
every assertion of that test checked; prints the margins (the fewest rural denials in the
first 30 days of the rural rollout, the green-lane uses of the cities against everyone's
while only the cities are reached).
"""

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import test_rollout as T  # noqa: E402

import credsim  # noqa: E402

passed = 0
with tempfile.TemporaryDirectory(prefix="credsim-rollout-") as d:
    for seed in range(1, 21):
        runs = {
            staged: credsim.Sim(
                T.regime(staged), 6_000, 120, seed, out=Path(d) / f"{seed}-{staged}", ledger="full"
            ).run()
            for staged in (True, False)
        }
        denied = T.with_region(runs[True], "denied")
        rural = denied[denied["region"] == "rural"]
        soon = int((rural["day"] < 90).sum())
        b_staged = runs[True].metrics["benefits"].to_numpy()
        b_all = runs[False].metrics["benefits"].to_numpy()
        ok = True
        for check in (
            T.test_privileges_are_denied_only_where_and_when_rolled_out,
            T.test_redress_is_demanded_only_where_and_when_rolled_out,
            T.test_green_lanes_serve_only_where_and_when_rolled_out,
        ):
            try:
                check(runs)
            except AssertionError:
                ok = False
        passed += ok
        print(
            f"seed {seed:2d}: rural denials on days 60-89 {soon:4d}, green-lane uses days 20-59 "
            f"{int(b_staged[20:60].sum()):6d} of {int(b_all[20:60].sum()):6d}  "
            f"{'ok' if ok else 'FAIL'}",
            flush=True,
        )
print(f"{passed} of 20 seeds pass every assertion of tests/test_rollout.py")
