"""Reproduce the shipped ``national-calibrated`` preset from ``national`` and its targets.

Two steps, each written down so that the fit can be checked and redone:
1. the listing hazard (a schedule on ``debt_default``) and the share of defaulters who repay
   are set to match the published defaulter listings and the December 2018 flows (a first
   TPE fit with ``credsim calibrate`` showed the shape: about 0.4 of the base hazard before
   2016 and about 1.0 after; the knots below are that shape, checked against the targets);
2. the attempt-rate schedules of flights and trains are fitted by weighted least squares to
   the cumulative blocked purchases (denied attempts are linear in those factors).

Run: ``python scripts/fit_national.py`` (about ten minutes on two cores); it prints the
schedules to paste into credsim/regime/presets/national-calibrated.toml and the fit table.
"""

from __future__ import annotations

import sys

from credsim.calibration import Parameter, evaluate, fit_attempt_schedule, load_targets, with_values
from credsim.regime.load import load_regime

LISTING = [[0, 0.4], [850, 0.42], [912, 1.0], [2107, 1.0]]
COMPLY = 0.32
KNOTS = [0, 821, 1277, 1552, 1672, 1917, 2007, 2107]  # days of the flight and rail targets


def main(population: int = 400_000) -> None:
    """Fit, print the schedules and the fit table."""
    targets = load_targets("national")
    base = with_values(
        load_regime("national"),
        [
            Parameter("behaviours.debt_default.schedule", 0, 1),
            Parameter("sanctions.defaulter_list.redress.comply", 0, 1),
        ],
        [LISTING, COMPLY],
    )
    flight = fit_attempt_schedule(base, targets, "flight", KNOTS, population)
    rail = fit_attempt_schedule(base, targets, "rail", KNOTS, population)
    fitted = with_values(
        base,
        [
            Parameter("privileges.flight.schedule", 0, 1),
            Parameter("privileges.rail.schedule", 0, 1),
        ],
        [flight, rail],
    )
    print("debt_default schedule =", LISTING)
    print("comply =", COMPLY)
    print("flight schedule =", flight)
    print("rail schedule =", rail)
    fit, _ = evaluate(fitted, targets, population, replicates=3, seed=11)
    print(fit[["target", "published", "simulated", "relative_error", "within"]].to_string())


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 400_000)
