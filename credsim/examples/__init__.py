"""Runnable examples, one per question users bring; each folder has run.py and README.md.

Run one with ``python -m credsim.examples.<name>.run``. ``CREDSIM_EXAMPLE_POPULATION`` and
``CREDSIM_EXAMPLE_DAYS`` set its size; the test suite runs each at 5,000 citizens.
"""

from __future__ import annotations

import os

EXAMPLES = (
    "restricted_and_why",
    "apologies_accepted",
    "camera_errors_by_group",
    "press_vs_national",
    "whole_country",
    "calibration",
    "one_listing_chills",
)


def size(population: int | None, days: int | None, default_population: int, default_days: int):
    """Population and days: the arguments if given, else the environment, else the defaults."""
    if population is None:
        population = int(os.environ.get("CREDSIM_EXAMPLE_POPULATION", default_population))
    if days is None:
        days = int(os.environ.get("CREDSIM_EXAMPLE_DAYS", default_days))
    return population, days
