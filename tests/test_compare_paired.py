"""Paired comparisons: exact zeros for identical sides, interval coverage, comparability."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from credsim.cli import app
from credsim.experiments.paired import Side, compare_regimes, compare_summaries, interval

runner = CliRunner()


def test_a_regime_against_itself_differs_by_exactly_zero_with_zero_width():
    rows = compare_regimes("press", "press", replicates=3, population=3000, days=60, workers=1)
    compared = [r for r in rows if r.diff_mean is not None]
    assert len(compared) >= 15
    for r in compared:
        assert r.diff_mean == 0.0 and r.ci_low == 0.0 and r.ci_high == 0.0, r
        assert r.paired and r.replicates == 3


@pytest.mark.parametrize("paired", [True, False])
def test_normal_intervals_cover_the_truth_about_95_percent(paired):
    # 2,000 synthetic replicate sets of 6 with a known difference of 3: the share of intervals
    # that cover 3 has a binomial sd of 0.5 percentage points, so 93% to 97% is four sd wide.
    rng = np.random.default_rng(20261205)
    truth, hits = 3.0, 0
    for _ in range(2000):
        base = rng.normal(100, 10, 6)
        a = base + rng.normal(0, 2, 6)
        b = (base if paired else rng.normal(100, 10, 6)) + truth + rng.normal(0, 2, 6)
        _, lo, hi, how = interval(a, b, paired)
        assert how == ("t" if paired else "welch")
        hits += lo <= truth <= hi
    assert 0.93 <= hits / 2000 <= 0.97


def test_small_skewed_counts_get_a_bootstrap_that_covers():
    # Poisson counts with a mean of 0.8 on each side, 20 replicates: the bootstrap interval
    # of the paired mean difference covers the truth (0) in at least 90% of 1,000 sets.
    rng = np.random.default_rng(7)
    hits, methods = 0, set()
    for i in range(1000):
        a = rng.poisson(0.8, 20)
        b = rng.poisson(0.8, 20)
        _, lo, hi, how = interval(a, b, True, counts=True, seed=i)
        methods.add(how)
        hits += lo <= 0 <= hi
    assert "bootstrap" in methods
    assert hits / 1000 >= 0.90


def test_one_replicate_has_no_interval():
    d, lo, hi, how = interval([3.0], [5.0], True)
    assert d == 2.0 and np.isnan(lo) and np.isnan(hi) and how == "none"


def side(label, summary, population=1000, days=100, score=(0, 1300)):
    return Side(label, [summary], population, days, [1], score)


def test_different_populations_are_compared_per_thousand_citizens():
    a = side("a", {"restricted": 10, "restricted_pct": 1.0}, population=1000)
    b = side("b", {"restricted": 40, "restricted_pct": 2.0}, population=2000)
    rows = {r.metric: r for r in compare_summaries(a, b, paired=False)}
    assert rows["restricted"].unit == "citizens per 1,000 citizens"
    assert rows["restricted"].a_mean == 10.0 and rows["restricted"].b_mean == 20.0
    assert rows["restricted"].diff_mean == 10.0
    assert rows["restricted_pct"].unit == "% of citizens"  # a share is not scaled
    assert rows["restricted_pct"].diff_mean == 1.0


def test_incomparable_figures_are_not_subtracted():
    a = side("a", {"score_mean": 990.0, "restricted": 3}, score=(0, 1300))
    b = side("b", {"score_mean": 0.2, "restricted": 5}, score=(0, 100))
    rows = {r.metric: r for r in compare_summaries(a, b, paired=True)}
    assert rows["score_mean"].diff_mean is None
    assert "different scales" in rows["score_mean"].note
    assert rows["restricted"].diff_mean == 2.0
    longer = side("b", {"score_mean": 990.0, "restricted": 5}, days=200)
    rows = compare_summaries(a, longer, paired=False)
    assert all(r.diff_mean is None and "differ in length" in r.note for r in rows)


def test_cli_compares_two_regimes_as_json(tmp_path):
    out = tmp_path / "cmp"
    result = runner.invoke(
        app,
        [
            "compare",
            "press",
            "press",
            "-n",
            "2000",
            "-d",
            "30",
            "--replicates",
            "2",
            "--set-b",
            "sanctions[0].duration=30",
            "--format",
            "json",
            "--out",
            str(out),
            "--workers",
            "1",
        ],
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)["rows"]
    keys = {
        "metric",
        "label",
        "unit",
        "a_mean",
        "b_mean",
        "diff_mean",
        "ci_low",
        "ci_high",
        "paired",
        "replicates",
    }
    assert rows and all(keys <= set(r) for r in rows)
    assert {r["replicates"] for r in rows} == {2}
    assert (out / "a" / "seed-1" / "manifest.json").exists()
    assert (out / "b" / "seed-2" / "manifest.json").exists()
    assert json.loads((out / "comparison.json").read_text())["rows"] == rows


@pytest.mark.parametrize(
    "args, message",
    [
        (["press", "press", "--format", "xml"], "unknown format 'xml'"),
        (["press", "no-such-regime"], "no-such-regime"),
        (["press"], "needs two regimes"),
        (["press", "national", "ref1"], "exactly two"),
    ],
)
def test_cli_compare_bad_input_is_one_line(args, message):
    result = runner.invoke(app, ["compare", *args])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
