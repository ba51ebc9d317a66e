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
