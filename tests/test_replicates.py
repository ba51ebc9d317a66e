"""Replicates in one run folder: layout, means and t intervals, report bands, the terminal
summary's labels and windows, explain and query of one replicate, comparisons of replicated
folders, and captions on sweep and sensitivity charts."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from typer.testing import CliRunner

from credsim.cli import app, summary_table
from credsim.labels import caption
from credsim.replicates import band, mean_interval
from credsim.report import charts, headline, write_report
from credsim.run import Run
from credsim.sim import Sim

runner = CliRunner()
POP, DAYS, SEED, R = 2_000, 40, 4, 3


@pytest.fixture(scope="module")
def replicated(tmp_path_factory) -> Run:
    out = tmp_path_factory.mktemp("reps") / "press-reps"
    return Sim("press", POP, DAYS, SEED, out=out, workers=2, replicates=R).run()


@pytest.fixture(scope="module")
def plain(tmp_path_factory) -> Run:
    out = tmp_path_factory.mktemp("plain") / "press-plain"
    return Sim("press", POP, DAYS, SEED, out=out, workers=1).run()


def test_one_folder_with_a_folder_per_seed(replicated):
    m = replicated.manifest
    assert m["status"] == "complete" and m["replicates"] == R
    assert m["seeds"] == [SEED, SEED + 1, SEED + 2] == replicated.seeds
    for s in m["seeds"]:
        sub = replicated.path / "replicates" / f"seed-{s}"
        assert json.loads((sub / "manifest.json").read_text())["seed"] == s
        for f in ("metrics.parquet", "citizens.parquet", "regime.toml", "ledger"):
            assert (sub / f).exists(), f
    for f in ("metrics.parquet", "metrics_groups.parquet", "regime.toml", "report.html"):
        assert (replicated.path / f).exists() or f == "report.html"
    assert [r.manifest["seed"] for r in replicated.replicates] == replicated.seeds


def test_a_replicate_is_the_plain_run_of_its_seed(replicated, plain):
    """Replicates run in worker processes give exactly the run of their seed alone."""
    first = replicated.replicate(1)
    assert first.summary == plain.summary
    pd.testing.assert_frame_equal(first.metrics, plain.metrics)


def test_means_and_intervals_are_those_of_the_replicates(replicated):
    summaries = [r.summary for r in replicated.replicates]
    t = stats.t.ppf(0.975, R - 1)
    for key, iv in replicated.intervals.items():
        x = np.array([s[key] for s in summaries], dtype=float)
        assert iv["mean"] == pytest.approx(x.mean(), abs=1e-9), key
        assert replicated.summary[key] == pytest.approx(x.mean(), abs=1e-4), key
        half = t * x.std(ddof=1) / math.sqrt(R)
        assert iv["ci_low"] == pytest.approx(x.mean() - half, abs=1e-9), key
        assert iv["ci_high"] == pytest.approx(x.mean() + half, abs=1e-9), key
        assert iv["replicates"] == R
    # the per-day tables are the means over replicates
    frames = [r.metrics for r in replicated.replicates]
    mean = sum(f["restricted"].to_numpy(dtype=float) for f in frames) / R
    np.testing.assert_allclose(replicated.metrics["restricted"].to_numpy(), mean)
    g = replicated.groups
    assert len(g) == len(replicated.replicates[0].groups)


def test_interval_limits_and_coverage():
    assert mean_interval([5.0])["ci_low"] is None  # one replicate: no interval
    same = mean_interval([7, 7, 7, 7])
    assert same["ci_low"] == same["ci_high"] == same["mean"] == 7.0  # agreement: zero width
    mean, lo, hi = band([[1.0, 2.0], [1.0, 2.0]])
    assert (lo == mean).all() and (hi == mean).all()
    # coverage: 2,000 sets of 5 normal replicates around a known truth, over several seeds;
    # the standard error of a 95% coverage estimate from 2,000 sets is 0.005, so 0.02 is 4 se
    for seed in (1, 2, 3):
        rng = np.random.default_rng(seed)
        x = rng.normal(10.0, 3.0, size=(2000, 5))
        mean, lo, hi = band(x.T)
        covered = float(((lo <= 10.0) & (10.0 <= hi)).mean())
        assert abs(covered - 0.95) < 0.02, (seed, covered)


def test_report_draws_bands_and_states_the_replicates(replicated, tmp_path):
    made = charts(replicated)
    line = caption(replicated.manifest)
    assert f"seeds {SEED} to {SEED + R - 1} · {R} replicates" in line
    assert all(c.caption_text == line for c in made)
    sanctions = next(c for c in made if c.name == "sanctions")
    bands = [s for s in sanctions.series if s.kind == "band"]
    assert bands and all(s.name.endswith("95% interval") for s in bands)
    assert f"means over {R} replicates" in sanctions.about
    burden = next(c for c in made if c.name == "burden-sex")
    assert all(s.error is not None for s in burden.series)
    # a band holds its mean line
    restricted = [s for s in sanctions.series if s.name.startswith("restricted")]
    lo, hi = np.asarray(restricted[0].y0), np.asarray(restricted[0].y)
    assert (lo <= np.asarray(restricted[1].y) + 1e-9).all()
    assert (np.asarray(restricted[1].y) <= hi + 1e-9).all()
    text = write_report(replicated, out=tmp_path).read_text("utf-8")
    assert f"This run holds {R} replicates" in text and "95% interval" in text


def test_a_plain_run_has_no_band_and_says_one_replicate(plain):
    made = charts(plain)
    assert not any(s.kind == "band" for c in made if c.name != "score" for s in c.series)
    assert all("seed 4 · 1 replicate" in c.caption_text for c in made)
    assert all(f["ci_low"] is None and f["replicates"] == 1 for f in headline(plain))


def test_terminal_summary_labels_windows_and_intervals(replicated, plain):
    one = summary_table(plain)
    assert "restricted_pct" not in one and "Restricted now (%)" in one
    for window in ("last day", "whole run", "last 30 days"):
        assert window in one
    assert "95% interval" not in one and "seed 4 · 1 replicate" in one
    many = summary_table(replicated)
    assert "95% interval" in many and f"t over {R} replicates" in many
    row = next(x for x in many.splitlines() if "Restricted now " in x and "%" not in x)
    iv = replicated.intervals["restricted"]
    assert " to " in row and "last day" in row
    low = float(row.split("│")[3].split(" to ")[0].replace(",", ""))
    assert low == pytest.approx(iv["ci_low"], abs=0.51)


def test_cli_run_with_replicates(tmp_path):
    out = tmp_path / "cli-reps"
    result = runner.invoke(
        app, ["run", "ref1", "-n", "1000", "-d", "20", "--replicates", "2", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "seeds 1 to 2 · 2 replicates" in result.stdout and "95% interval" in result.stdout
    assert (out / "replicates" / "seed-2" / "manifest.json").exists()
    assert (out / "report.html").exists()
    again = runner.invoke(app, ["run", "--resume", str(out)])
    assert again.exit_code == 2 and "cannot be resumed" in again.output


def test_explain_and_query_read_one_replicate_and_say_which(replicated):
    second = replicated.replicate(2)
    sql = "SELECT count(*) AS n FROM citizens WHERE restricted"
    result = runner.invoke(app, ["query", str(replicated.path), sql, "--replicate", "2"])
    assert result.exit_code == 0, result.output
    assert "replicate 2 of 3 (seed 5)" in result.stderr
    assert int(result.stdout.split()[-1]) == int(second.query(sql)["n"][0])
    bad = runner.invoke(app, ["query", str(replicated.path), sql, "--replicate", "4"])
    assert bad.exit_code == 2 and "no replicate 4" in bad.output
    d = replicated.explain(0, replicate=3)
    assert d["replicate"] == "replicate 3 of 3 (seed 6)"
    result = runner.invoke(app, ["explain", str(replicated.path), "0"])
    assert result.exit_code == 0 and "From replicate 1 of 3 (seed 4)" in result.stdout


def test_replicated_folders_compare_as_paired_replicates(replicated, tmp_path):
    other = Sim(
        "press",
        POP,
        DAYS,
        SEED,
        overrides=("sources.camera.false_match=0.05",),
        out=tmp_path / "more-errors",
        workers=2,
        replicates=R,
    ).run()
    result = runner.invoke(
        app, ["compare", str(replicated.path), str(other.path), "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    rows = {r["metric"]: r for r in json.loads(result.stdout)["rows"]}
    row = rows["misattributed_records"]
    assert row["paired"] and row["replicates"] == R
    diffs = [
        b["misattributed_records"] - a["misattributed_records"]
        for a, b in zip(replicated.summaries, other.summaries, strict=True)
    ]
    assert row["diff_mean"] == pytest.approx(np.mean(diffs))
    assert row["ci_low"] <= row["diff_mean"] <= row["ci_high"]
    # placebo: a replicated run against itself differs by exactly zero, with zero width
    same = runner.invoke(
        app, ["compare", str(replicated.path), str(replicated.path), "--format", "json"]
    )
    for r in json.loads(same.stdout)["rows"]:
        if r["diff_mean"] is not None:
            assert r["diff_mean"] == 0 and r["ci_low"] == r["ci_high"] == 0, r


def _captions(text: str, line: str) -> int:
    """How often a caption appears in a page: as HTML text or inside plotly's JSON."""
    escaped = json.dumps(line)[1:-1]
    return text.count(line) + (text.count(escaped) if escaped != line else 0)


def test_sweep_and_sensitivity_charts_carry_the_caption(tmp_path):
    from credsim import __version__
    from credsim.experiments import sensitivity, sweep
    from credsim.experiments.sweep import replicate_seed

    res = sweep(
        "press",
        {"regime": ["press", "national"]},
        replicates=2,
        population=1000,
        days=20,
        seed=2,
        out=tmp_path / "sweep",
        workers=1,
    )
    seeds = [replicate_seed(2, r) for r in range(2)]
    line = (
        f"Synthetic citizens · regime press, national · 1,000 citizens · 20 days · "
        f"seeds {seeds[0]}, {seeds[1]} · 2 replicates · 2 parameter sets · credsim {__version__}"
    )
    text = res.html.read_text("utf-8")
    assert _captions(text, line) == len(res.metrics), line
    idx = sensitivity(
        "press",
        {"sources.camera.false_match": (0.0, 0.2)},
        output="misattributed_records",
        method="morris",
        n=2,
        population=1000,
        days=20,
        out=tmp_path / "sens",
        workers=1,
    )
    text = (tmp_path / "sens" / "sensitivity.html").read_text("utf-8")
    runs = pd.read_parquet(tmp_path / "sens" / "sensitivity_runs.parquet")
    (seed,) = set(runs["seed"])
    line = (
        f"Synthetic citizens · regime press · 1,000 citizens · 20 days · seed {seed} · "
        f"1 replicate · {len(runs)} runs · credsim {__version__}"
    )
    assert _captions(text, line) == 2, line  # the indices and the one scatter
    assert len(idx) == 1
