"""One way for test modules to run a regime into a fresh folder of their own, with a ledger."""

from __future__ import annotations

import credsim


def simulate(
    tmp_path_factory,
    name: str,
    regime="press",
    population: int = 20_000,
    days: int = 120,
    seed: int = 11,
    overrides=(),
    ledger: str = "full",
    **options,
):
    """Run ``regime`` into a new temporary folder named after ``name``; the finished run."""
    out = tmp_path_factory.mktemp(name) / "run"
    sim = credsim.Sim(
        regime=regime,
        population=population,
        days=days,
        seed=seed,
        overrides=tuple(overrides),
        out=out,
        ledger=ledger,
        **options,
    )
    return sim.run()
