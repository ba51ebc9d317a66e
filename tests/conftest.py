"""Runs shared by several test modules (each made once per test session)."""

from __future__ import annotations

import pytest

import credsim


@pytest.fixture(scope="session")
def wrongful_run(tmp_path_factory):
    """press with cameras misidentifying 5% of the time and a jaywalking record costing 200
    points: one misattributed record takes a citizen from 1000 to 800, under the blacklist
    threshold (850), so some citizens are listed wrongly (the Ningbo case)."""
    out = tmp_path_factory.mktemp("wrongful") / "run"
    return credsim.Sim(
        "press",
        population=15_000,
        days=90,
        seed=3,
        out=out,
        ledger="full",
        overrides=["sources.camera.false_match=0.05", "rules.jaywalking.delta=-200"],
    ).run()


@pytest.fixture(scope="session")
def rollout_run(tmp_path_factory):
    """press, where sources, rules and sanctions roll out to the countryside on day 180, with
    more jaywalking and debt so that the first 180 days hold many rural acts (about 25
    expected rural camera records on days 180-199 alone, P(none) ~ e^-25); full rural camera
    coverage, and no false matches, so every record lands on the citizen who acted."""
    from simulations import simulate

    return simulate(
        tmp_path_factory,
        "rollout",
        population=10_000,
        days=240,
        seed=3,
        overrides=[
            "behaviours.jaywalking.rate=0.02",
            "behaviours.debt_default.rate=0.0005",
            "sources.camera.coverage_rural=1.0",
            "sources.camera.false_match=0",
        ],
    )
