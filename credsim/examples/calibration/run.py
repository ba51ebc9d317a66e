"""Calibration to published figures, tiny: fit two rates of the national preset.

    python -m credsim.examples.calibration.run

Fits the daily rate of judgement defaults (which drives listings) and the yearly flight
attempts of city dwellers (which, with the listings, drives blocked flight purchases) to the
first published counts (``targets.toml`` here: cumulative blocked flight purchases and
defaulter listings at the end of 2015 and in March 2016). Each trial simulates a scaled-down
population from 2013-10-01 and multiplies its counts by the real population over the
simulated one. A real calibration uses the shipped targets (``--targets national``), at
least 200,000 citizens, several replicates and 50 trials or more:

    credsim calibrate national --targets national \\
        --fit "behaviours.debt_default.rate=2e-6:2e-5,privileges.flight.attempts_urban=0.1:10" \\
        --population 200000 --replicates 2 --trials 50 --out calibration/national
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from credsim.calibration import calibrate, load_targets
from credsim.examples import size

REGIME = "national"
TARGETS = Path(__file__).with_name("targets.toml")
FIT = "behaviours.debt_default.rate=2e-6:2e-5,privileges.flight.attempts_urban=0.1:10"


def main(
    population: int | None = None,
    days: int | None = None,
    seed: int = 1,
    out: str | Path = "runs/calibration",
    trials: int = 8,
    workers: int = 2,
    verbose: bool = True,
) -> dict[str, Any]:
    """Fit the two rates; return the fitted parameters and the fit table.

    ``days`` is ignored: the targets' dates set how long each trial runs.
    """
    population, _ = size(population, days, 20_000, 0)
    targets = load_targets(TARGETS)

    def progress(i: int, n: int, loss: float, best: float) -> None:
        if verbose:
            print(f"trial {i}/{n}: loss {loss:.2f} (best {best:.2f})")

    result = calibrate(
        REGIME,
        targets,
        FIT,
        trials=trials,
        population=population,
        replicates=1,
        seed=seed,
        out=out,
        workers=workers,
        progress=progress,
    )
    if verbose:
        cols = ["target", "published", "simulated", "p05", "p95", "relative_error", "within"]
        print()
        print(result.fit[cols].to_string(index=False, float_format="{:,.3f}".format))
        for k, v in result.params.items():
            print(f"{k} = {v:.6g}")
        print(f"\nfitted regime: {result.folder / 'fitted.toml'}")
        print(f"fit report: {result.folder / 'fit.html'}")
    return {"result": result, "targets": targets, "params": result.params, "fit": result.fit}


if __name__ == "__main__":
    main()
