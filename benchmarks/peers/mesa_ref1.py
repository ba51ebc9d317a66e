"""REF-1 reference model written idiomatically in Mesa 3.

One ``mesa.Agent`` per citizen: each carries its own propensity, score and ban,
and its ``step()`` plays one day (the four behaviours in order, then the
end-of-day blacklist review of that citizen). Citizens do not interact, so
reviewing each citizen right after its own behaviours is the same as reviewing
everyone after everyone has behaved. All draws use the model's seeded
``random.Random`` (``Agent.random``). A ``mesa.DataCollector`` records the
daily model-level figures.

Run: ``python -m benchmarks.peers.mesa_ref1 --n 10000 --days 365 --seed 1``
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import time
from functools import partial
from typing import Any, NamedTuple

import mesa


class Behaviour(NamedTuple):
    """One REF-1 behaviour: daily probability, detection probability, delta."""

    name: str
    probability: float
    uses_propensity: bool
    detection: float
    delta: int


BEHAVIOURS: tuple[Behaviour, ...] = (
    Behaviour("jaywalking", 0.002, True, 0.3, -5),
    Behaviour("smoking_in_nonsmoking_area", 0.001, True, 0.1, -10),
    Behaviour("critical_post", 0.0005, True, 0.8, -50),
    Behaviour("buy_domestic", 0.01, False, 1.0, +1),
)
PROPENSITY_SIGMA = 0.5  # sigma of the underlying normal; mu makes the mean 1
INITIAL_SCORE = 1000
MIN_SCORE = 0
MAX_SCORE = 1300
BAN_THRESHOLD = 850
BAN_DAYS = 365


class Citizen(mesa.Agent):
    """A citizen with a propensity multiplier, a score and a flight ban."""

    def __init__(self, model: Ref1Model) -> None:
        super().__init__(model)
        self.propensity = self.random.lognormvariate(-(PROPENSITY_SIGMA**2) / 2, PROPENSITY_SIGMA)
        self.probabilities = tuple(
            min(b.probability * (self.propensity if b.uses_propensity else 1.0), 1.0)
            for b in model.behaviours
        )
        self.score = model.initial_score
        self.banned = False
        self.ban_end = 0  # day at whose end the ban is reviewed

    def step(self) -> None:
        """Play one day: behave, possibly get caught, then the blacklist review."""
        model = self.model
        rand = self.random.random
        for behaviour, probability in zip(model.behaviours, self.probabilities, strict=True):
            if rand() < probability and rand() < behaviour.detection:
                self.score = min(max(self.score + behaviour.delta, MIN_SCORE), MAX_SCORE)
                model.detected_today[behaviour.name] += 1
        self.review_ban(model.steps)

    def review_ban(self, day: int) -> None:
        """End of ``day``: review an expiring ban, then ban a low score."""
        if self.banned and self.ban_end == day:
            if self.score >= BAN_THRESHOLD:
                self.banned = False
            else:
                self.ban_end = day + BAN_DAYS
        if not self.banned and self.score < BAN_THRESHOLD:
            self.banned = True
            self.ban_end = day + BAN_DAYS


def banned_count(model: Ref1Model) -> int:
    """Number of citizens currently banned."""
    return model.agents.agg("banned", sum)


def mean_score(model: Ref1Model) -> float:
    """Mean score over all citizens."""
    return model.agents.agg("score", statistics.fmean)


def detected_today(model: Ref1Model, behaviour: str) -> int:
    """Detected acts of ``behaviour`` on the day just played."""
    return model.detected_today[behaviour]


class Ref1Model(mesa.Model):
    """REF-1: ``n`` citizens under a fixed scoring regime, one step per day.

    ``behaviours`` and ``initial_score`` default to REF-1; they are parameters
    only so that the blacklist rule can be tested on a rigged regime.
    """

    def __init__(
        self,
        n: int,
        seed: int = 1,
        behaviours: tuple[Behaviour, ...] = BEHAVIOURS,
        initial_score: int = INITIAL_SCORE,
    ) -> None:
        super().__init__(rng=seed)
        self.behaviours = behaviours
        self.initial_score = initial_score
        self.detected_today = {b.name: 0 for b in behaviours}
        Citizen.create_agents(self, n)
        reporters: dict[str, Any] = {
            "banned": banned_count,
            "mean_score": mean_score,
        }
        for b in behaviours:
            reporters[f"detected_{b.name}"] = partial(detected_today, behaviour=b.name)
        self.datacollector = mesa.DataCollector(model_reporters=reporters)

    def step(self) -> None:
        """One day for every citizen, then collect the day's figures."""
        for name in self.detected_today:
            self.detected_today[name] = 0
        self.agents.do("step")
        self.datacollector.collect(self)


def run(n: int, days: int = 365, seed: int = 1) -> dict[str, Any]:
    """Run REF-1 for ``days`` days and return the final and daily figures."""
    model = Ref1Model(n, seed)
    for _ in range(days):
        model.step()
    data = model.datacollector.get_model_vars_dataframe()
    banned_per_day = [int(v) for v in data["banned"]]
    mean_score_per_day = [float(v) for v in data["mean_score"]]
    return {
        "peer": f"mesa {mesa.__version__}",
        "n": n,
        "days": days,
        "seed": seed,
        "banned": banned_per_day[-1] if days else 0,
        "mean_score": mean_score_per_day[-1] if days else float(INITIAL_SCORE),
        "detected": {b.name: int(data[f"detected_{b.name}"].sum()) for b in BEHAVIOURS},
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
