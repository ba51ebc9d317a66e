"""``threshold``: paired bisection finds where a figure crosses a target."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from credsim.cli import app
from credsim.experiments import ExperimentError
from credsim.experiments.threshold import threshold

# REF-1 with jaywalking alone moving the score (10 acts per citizen-year, 30% seen). A citizen
# starts at 1000 and the blacklist begins below 850: one detected act lists a citizen when the
# deduction is 151 points or more, two acts are needed at 150. Over 120 days about a third of
# 2,000 citizens have one detected act and about a twentieth two, so "ever sanctioned" crosses
# 340 exactly between a deduction of 151 and 150: the answer is -150 on every seed.
ONLY_JAYWALKING = (
    "behaviours[0].rate=0.01",
    "rules[1].delta=0",
    "rules[2].delta=0",
    "rules[3].delta=0",
)


@pytest.mark.parametrize("seed", [1, 11])
def test_a_known_crossing_is_recovered_exactly(seed):
    r = threshold(
        "ref1",
        "ever_sanctioned",
        340,
        "rules[0].delta",
        -300,
        -10,
        replicates=3,
        population=2000,
        days=120,
        seed=seed,
        overrides=ONLY_JAYWALKING,
        workers=1,
    )
    assert [c.value for c in r.crossings] == [-150, -150, -150]
    assert r.mean == r.ci_low == r.ci_high == -150
    for c in r.crossings:  # the figure is on either side of the target around the answer
        seen = dict(c.steps)
        assert seen[-151] >= 340 > seen[-150]


def test_without_bounds_a_bracket_is_searched_for_then_bisected():
    # from the regime's jaywalking deduction (-5) outward in steps of 5, 10, 20...: the
    # figure first reaches 340 at -165, so the bracket is [-165, -5] and the answer -150
    r = threshold(
        "ref1",
        "ever_sanctioned",
        340,
        "rules[0].delta",
        replicates=2,
        population=2000,
        days=120,
        seed=1,
        overrides=ONLY_JAYWALKING,
        workers=1,
    )
    assert (r.lo, r.hi) == (-165, -5)
    assert [c.value for c in r.crossings] == [-150, -150]
    with pytest.raises(ExperimentError, match="no value around"):
        threshold(
            "ref1",
            "ever_sanctioned",
            10**9,
            "rules[0].delta",
            population=300,
            days=10,
            replicates=1,
            overrides=ONLY_JAYWALKING,
            workers=1,
        )
    with pytest.raises(ExperimentError, match="or neither"):
        threshold("ref1", "ever_sanctioned", 1, "rules[0].delta", lo=-10)


def test_no_crossing_within_the_bounds_is_said():
    r = threshold(
        "ref1",
        "ever_sanctioned",
        10_000,
        "rules[0].delta",
        -300,
        -10,
        replicates=2,
        population=500,
        days=30,
        overrides=ONLY_JAYWALKING,
        workers=1,
    )
    assert r.mean is None
    assert all(c.value is None and "does not cross" in c.note for c in r.crossings)


def test_bad_figure_and_bounds_are_errors():
    with pytest.raises(ExperimentError, match="not a headline figure"):
        threshold("ref1", "nope", 1, "rules[0].delta", -10, -1)
    with pytest.raises(ExperimentError, match="is not below"):
        threshold("ref1", "restricted", 1, "rules[0].delta", -1, -10)


def test_cli_json():
    result = CliRunner().invoke(
        app,
        [
            "threshold",
            "ref1",
            "--figure",
            "ever_sanctioned",
            "--target",
            "340",
            "--vary",
            "rules[0].delta",
            "--lo",
            "-300",
            "--hi",
            "-10",
            "--replicates",
            "2",
            "-n",
            "2000",
            "-d",
            "120",
            "--format",
            "json",
            "--workers",
            "1",
            *(a for s in ONLY_JAYWALKING for a in ("--set", s)),
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["mean"] == -150 and len(data["crossings"]) == 2
