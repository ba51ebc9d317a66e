"""Correctness check of the REF-1 peers (Mesa and Starsim).

1. Statistical: run each peer at n=10,000 for 365 days and compare the final
   mean score and the detected acts per behaviour with their expectations,
   within five standard deviations (derived below from the REF-1 table).
2. Blacklist rule: on a rigged regime (only buy_domestic, always done and
   detected, +1 a day) starting below the threshold, every citizen is banned at
   the end of day 1; starting at 700 the ban lifts at the end of day 366
   (score 1066), starting at 400 it renews there (score 766) and lifts at the
   end of day 731 (score 1131).

Run: ``python -m benchmarks.peers.check``
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from typing import Any

import starsim as ss

from benchmarks.peers import mesa_ref1, starsim_ref1

N = 10_000
DAYS = 365
SEED = 1
SIGMAS = 5.0
VAR_PROPENSITY = math.expm1(starsim_ref1.PROPENSITY_SIGMA**2)  # var of m_i


def expectations(n: int, days: int) -> dict[str, Any]:
    """Expected figures and their standard deviations for n citizens."""
    detected: dict[str, tuple[float, float]] = {}
    drift = 0.0  # expected score change per citizen-day
    drift_propensity = 0.0  # part of the drift proportional to m_i
    second_moment = 0.0  # E[delta^2] per citizen-day
    for b in starsim_ref1.BEHAVIOURS:
        q = b.probability * b.detection  # daily detected-act probability at m=1
        drift += q * b.delta
        second_moment += q * b.delta**2
        var_m = VAR_PROPENSITY if b.uses_propensity else 0.0
        if b.uses_propensity:
            drift_propensity += q * b.delta
        # Sum over citizens of Binomial(days, q*m_i).
        variance = n * (days * q * (1 - q) + (days * q) ** 2 * var_m)
        detected[b.name] = (n * days * q, math.sqrt(variance))
    score_var = days * second_moment + (days * drift_propensity) ** 2 * VAR_PROPENSITY
    return {
        "drift": drift,
        "mean_score": (1000.0 + days * drift, math.sqrt(score_var / n)),
        "detected": detected,
    }


def check_statistics(name: str, run: Callable[..., dict[str, Any]]) -> None:
    """Run one peer and assert its figures against the expectations."""
    result = run(N, DAYS, SEED)
    expected = expectations(N, DAYS)
    mean, sd = expected["mean_score"]
    got = result["mean_score"]
    print(f"{name}: mean score {got:.3f}, expected {mean:.3f} +- {sd:.3f}")
    assert abs(got - mean) < SIGMAS * sd, (name, got, mean, sd)
    for behaviour, (mean, sd) in expected["detected"].items():
        got = result["detected"][behaviour]
        print(f"{name}: detected {behaviour} {got}, expected {mean:.0f} +- {sd:.0f}")
        assert abs(got - mean) < SIGMAS * sd, (name, behaviour, got, mean, sd)
    banned = result["banned"]
    print(f"{name}: banned at day {DAYS}: {banned} ({100 * banned / N:.3f}%)")
    assert 0 <= banned <= 0.002 * N, (name, banned)
    for key in ("banned_per_day", "mean_score_per_day"):
        assert len(result[key]) == DAYS, (name, key, len(result[key]))
    # No ban reaches its review within the first 365 days, so bans only grow.
    per_day = result["banned_per_day"]
    assert all(a <= b for a, b in itertools.pairwise(per_day)), name
    assert per_day[-1] == banned, name


RIGGED_DAYS = 800
# (initial score, [(day, banned count) at each change])
RIGGED_CASES = {
    700: [(1, 50), (366, 0)],
    400: [(1, 50), (731, 0)],
}


def changes(per_day: list[int]) -> list[tuple[int, int]]:
    """Days (1-based) at which the banned count changes, with the new count."""
    return [
        (day, count)
        for day, count in enumerate(per_day, start=1)
        if day == 1 or count != per_day[day - 2]
    ]


def rigged_mesa(initial_score: int) -> list[int]:
    """Banned count per day of the rigged regime in Mesa."""
    behaviours = (mesa_ref1.Behaviour("buy_domestic", 1.0, False, 1.0, +1),)
    model = mesa_ref1.Ref1Model(50, SEED, behaviours=behaviours, initial_score=initial_score)
    for _ in range(RIGGED_DAYS):
        model.step()
    return [int(v) for v in model.datacollector.model_vars["banned"]]


def rigged_starsim(initial_score: int) -> list[int]:
    """Banned count per day of the rigged regime in Starsim."""
    behaviours = [starsim_ref1.Behaviour("buy_domestic", 1.0, False, 1.0, +1.0)]
    sim = ss.Sim(
        people=ss.People(50),
        custom=starsim_ref1.SocialCredit(behaviours=behaviours, initial_score=float(initial_score)),
        start=ss.days(1),
        stop=ss.days(RIGGED_DAYS),
        dt=ss.days(1),
        rand_seed=SEED,
        people_results=False,
        verbose=0,
    )
    sim.run()
    return [int(v) for v in sim.results.socialcredit.n_banned]


def check_blacklist() -> None:
    """Assert the lift-or-renew rule on the rigged regime in both peers."""
    for name, rigged in (("mesa", rigged_mesa), ("starsim", rigged_starsim)):
        for initial_score, expected in RIGGED_CASES.items():
            got = changes(rigged(initial_score))
            print(f"{name}: rigged start {initial_score}: ban changes {got}")
            assert got == expected, (name, initial_score, got, expected)


def main() -> None:
    """Run all checks; raise AssertionError on the first failure."""
    expected = expectations(N, DAYS)
    print(f"expected drift per citizen-day: {expected['drift']:.4f}")
    check_blacklist()
    check_statistics("starsim", starsim_ref1.run)
    check_statistics("mesa", mesa_ref1.run)
    print("all checks passed")


if __name__ == "__main__":
    main()
