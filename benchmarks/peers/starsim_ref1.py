"""REF-1 reference model written idiomatically in Starsim.

A custom ``ss.Module`` holds the citizens' states as Starsim arrays (propensity,
score, ban flag, ban review day) and plays one day per step, vectorised over all
agents. Every draw is a Starsim distribution (``ss.lognorm_ex`` for the
propensity, ``ss.bernoulli`` for acting and for being detected), so the run uses
Starsim's common-random-number machinery. The daily figures are Starsim Results:
``n_banned`` (automatic, from the ``banned`` BoolState), ``mean_score`` and one
``detected_<behaviour>`` per behaviour.

Timeline: Starsim calls ``step()`` at every time point, both ends included, so
``start=ss.days(1), stop=ss.days(days), dt=ss.days(1)`` gives exactly ``days``
steps; the step at time point ``ti`` is day ``ti + 1``.

Run: ``python -m benchmarks.peers.starsim_ref1 --n 10000 --days 365 --seed 1``
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import time
from functools import partial
from typing import Any, NamedTuple

import numpy as np
import starsim as ss


class Behaviour(NamedTuple):
    """One REF-1 behaviour: daily probability, detection probability, delta."""

    name: str
    probability: float
    uses_propensity: bool
    detection: float
    delta: float


BEHAVIOURS: tuple[Behaviour, ...] = (
    Behaviour("jaywalking", 0.002, True, 0.3, -5.0),
    Behaviour("smoking_in_nonsmoking_area", 0.001, True, 0.1, -10.0),
    Behaviour("critical_post", 0.0005, True, 0.8, -50.0),
    Behaviour("buy_domestic", 0.01, False, 1.0, +1.0),
)
PROPENSITY_SIGMA = 0.5  # sigma of the underlying normal
# ss.lognorm_ex takes the lognormal's own mean and std: mean 1, sigma 0.5.
PROPENSITY_STD = math.sqrt(math.expm1(PROPENSITY_SIGMA**2))


def act_probability(behaviour: Behaviour, module: SocialCredit, uids: ss.uids) -> np.ndarray:
    """Daily probability that each of ``uids`` does ``behaviour`` (capped at 1)."""
    if not behaviour.uses_propensity:
        return np.full(len(uids), behaviour.probability)
    return np.minimum(behaviour.probability * module.propensity[uids], 1.0)


class SocialCredit(ss.Module):
    """REF-1 scoring regime: behaviours, detection, score and flight blacklist."""

    def __init__(self, pars: dict[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__()
        self.define_pars(
            behaviours=list(BEHAVIOURS),
            initial_score=1000.0,
            min_score=0.0,
            max_score=1300.0,
            ban_threshold=850.0,
            ban_days=365,
        )
        self.update_pars(pars, **kwargs)
        self.define_states(
            ss.FloatArr("propensity", default=ss.lognorm_ex(mean=1.0, std=PROPENSITY_STD)),
            ss.FloatArr("score", default=self.pars.initial_score),
            ss.BoolState("banned", label="Banned from flights"),
            ss.FloatArr("ban_end", label="Day at whose end the ban is reviewed"),
        )
        self.acts = {
            b.name: ss.bernoulli(p=partial(act_probability, b)) for b in self.pars.behaviours
        }
        self.detections = {b.name: ss.bernoulli(p=b.detection) for b in self.pars.behaviours}

    def init_results(self) -> None:
        """Add the mean score and daily detections to the automatic n_banned."""
        super().init_results()
        self.define_results(
            ss.Result("mean_score", dtype=float, scale=False, label="Mean score"),
            *[
                ss.Result(f"detected_{b.name}", dtype=int, label=f"Detected {b.name}")
                for b in self.pars.behaviours
            ],
        )

    def step(self) -> None:
        """Play one day: the behaviours in order, then the blacklist review."""
        p = self.pars
        for b in p.behaviours:
            acted = self.acts[b.name].filter()
            detected = self.detections[b.name].filter(acted)
            self.score[detected] = np.clip(self.score[detected] + b.delta, p.min_score, p.max_score)
            self.results[f"detected_{b.name}"][self.ti] = len(detected)
        self.review_bans(day=self.ti + 1)

    def review_bans(self, day: int) -> None:
        """End of ``day``: review expiring bans, then ban new low scores."""
        p = self.pars
        due = (self.banned & (self.ban_end == day)).uids
        clean = self.score[due] >= p.ban_threshold
        lift, renew = due[clean], due[~clean]
        self.banned[lift] = False
        self.ban_end[lift] = np.nan
        self.ban_end[renew] = day + p.ban_days
        new = (~self.banned & (self.score < p.ban_threshold)).uids
        self.banned[new] = True
        self.ban_end[new] = day + p.ban_days

    def update_results(self) -> None:
        """Record n_banned (automatic) and the end-of-day mean score."""
        super().update_results()
        self.results.mean_score[self.ti] = np.mean(self.score.values, dtype=np.float64)


def make_sim(n: int, days: int = 365, seed: int = 1) -> ss.Sim:
    """Build the REF-1 sim: ``n`` agents, ``days`` daily steps, no demographics."""
    return ss.Sim(
        people=ss.People(n),
        custom=SocialCredit(),
        start=ss.days(1),
        stop=ss.days(days),
        dt=ss.days(1),
        rand_seed=seed,
        people_results=False,
        verbose=0,
    )


def run(n: int, days: int = 365, seed: int = 1) -> dict[str, Any]:
    """Run REF-1 for ``days`` days and return the final and daily figures."""
    sim = make_sim(n, days, seed)
    sim.run()
    res = sim.results.socialcredit
    if len(res.n_banned) != days:
        raise RuntimeError(f"expected {days} daily results, got {len(res.n_banned)}")
    banned_per_day = [int(v) for v in res.n_banned]
    mean_score_per_day = [float(v) for v in res.mean_score]
    return {
        "peer": f"starsim {ss.__version__}",
        "n": n,
        "days": days,
        "seed": seed,
        "banned": banned_per_day[-1],
        "mean_score": mean_score_per_day[-1],
        "detected": {b.name: int(res[f"detected_{b.name}"].sum()) for b in BEHAVIOURS},
        "banned_per_day": banned_per_day,
        "mean_score_per_day": mean_score_per_day,
    }


def main() -> None:
    """Command line: run once and print the summary as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    imported_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    result = run(args.n, args.days, args.seed)
    wall = time.perf_counter() - start
    summary = {k: v for k, v in result.items() if not k.endswith("_per_day")}
    summary["wall_seconds"] = round(wall, 3)
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    summary["peak_rss_mb"] = round(peak_kib / 1024, 1)
    summary["peak_rss_before_run_mb"] = round(imported_kib / 1024, 1)
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
