"""Sweeps and sensitivity analysis: designs, seeds, reproducibility, direction, CLI errors."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
import typer
from pandas.testing import assert_frame_equal
from plotly.offline import get_plotlyjs
from typer.testing import CliRunner

pytest.importorskip("SALib")

from credsim.experiment_commands import parse_bounds, parse_grid, register  # noqa: E402
from credsim.experiments import ExperimentError, sensitivity, sweep  # noqa: E402
from credsim.experiments.sweep import replicate_seed  # noqa: E402
from credsim.experiments.sweep_page import band_kind  # noqa: E402

POP, DAYS = 2_000, 30
FALSE_MATCH = "sources.camera.false_match"
JAYWALKING = "rules.jaywalking.delta"
GRID = {FALSE_MATCH: [0.0, 0.2], JAYWALKING: [-5, -500]}


@pytest.fixture(scope="module")
def grid(tmp_path_factory):
    out = tmp_path_factory.mktemp("grid")
    return sweep("press", GRID, replicates=2, population=POP, days=DAYS, seed=5, out=out, workers=2)


def test_grid_has_every_combination_and_replicate(grid):
    runs = grid.runs
    assert len(runs) == 8
    assert runs["run"].is_unique
    combos = set(zip(runs[FALSE_MATCH], runs[JAYWALKING]))
    assert combos == set(itertools.product(*GRID.values()))
    assert (runs.groupby([FALSE_MATCH, JAYWALKING]).size() == 2).all()
    assert sorted(runs["replicate"].unique()) == [0, 1]
    assert len(grid.days) == 8 * DAYS
    assert {"run", "day", "restricted", "wrongful", FALSE_MATCH}.issubset(grid.days.columns)
    for name in ("sweep_runs.parquet", "sweep_days.parquet", "sweep.html"):
        assert (grid.out / name).stat().st_size > 0
    for run in runs["run"]:
        assert (grid.out / "runs" / run / "manifest.json").exists()
    html = grid.html.read_text()
    plotly = get_plotlyjs()
    assert html.count(plotly) == 1  # plotly.js embedded once, nothing loaded from elsewhere
    rest = html.replace(plotly, "")
    assert "<script src" not in rest and "https://" not in rest and "http://" not in rest
    # two replicates: the band is their range, and says so (percentiles need 20 or more)
    assert "(range)" in rest and "lowest to highest of 2 replicates" in rest
    assert "5-95%" not in rest and "Parameter sets" in rest
    table = grid.by_set()
    for m in ("restricted", "wrongful"):
        assert (table[f"{m} min"] <= table[f"{m} median"]).all()
        assert (table[f"{m} median"] <= table[f"{m} max"]).all()


def test_bands_are_percentiles_only_with_enough_replicates():
    assert band_kind(19)[:2] == (0.0, 1.0) and "range" in band_kind(19)[2]
    assert band_kind(20) == (0.05, 0.95, "5th to 95th percentile")


def test_a_sweep_can_vary_the_regime_itself(tmp_path):
    res = sweep(
        "press",
        {"regime": ["press", "national"], "sanctions[0].duration": [30, 365]},
        population=POP,
        days=DAYS,
        seed=3,
        out=tmp_path,
        workers=1,
    )
    assert sorted(res.runs["regime"].unique()) == ["national", "press"]
    assert len(res.runs) == 4
    by_regime = res.runs.groupby("regime")["score_mean"].median()
    assert by_regime["press"] > 100 > by_regime["national"]  # points against merit counts


def test_varying_to_an_unknown_regime_is_one_error(tmp_path):
    with pytest.raises(ExperimentError, match="regime=nope"):
        sweep("press", {"regime": ["press", "nope"]}, population=POP, days=DAYS, out=tmp_path)


def test_replicates_have_distinct_seeds_shared_across_sets(grid):
    runs = grid.runs
    per_replicate = runs.groupby("replicate")["seed"].nunique()
    assert (per_replicate == 1).all()  # the same seed in every parameter set
    seeds = runs.groupby("replicate")["seed"].first()
    assert seeds.nunique() == 2
    assert list(seeds) == [replicate_seed(5, 0), replicate_seed(5, 1)]
    assert (
        pd.read_parquet(grid.out / "sweep_runs.parquet")["seed"].tolist() == runs["seed"].tolist()
    )


def test_same_sweep_twice_gives_identical_tables(grid, tmp_path):
    again = sweep(
        "press", GRID, replicates=2, population=POP, days=DAYS, seed=5, out=tmp_path, workers=1
    )
    assert_frame_equal(grid.runs, again.runs)
    assert_frame_equal(grid.days, again.days)
    assert_frame_equal(
        pd.read_parquet(grid.out / "sweep_runs.parquet"),
        pd.read_parquet(tmp_path / "sweep_runs.parquet"),
    )


def test_false_matches_put_records_on_the_wrong_citizens(grid):
    last = grid.runs.groupby([FALSE_MATCH, JAYWALKING])[["misattributed_records", "wrongful"]]
    med = last.median()
    assert (med.loc[0.0]["misattributed_records"] == 0).all()
    assert (med.loc[0.0]["wrongful"] == 0).all()
    assert (med.loc[0.2]["misattributed_records"] > 0).all()
    # with a severe jaywalking penalty, false matches put innocent citizens on the blacklist
    assert med.loc[(0.2, -500), "wrongful"] > 0


def test_lhs_sample_stays_within_bounds(tmp_path):
    bounds = {FALSE_MATCH: [0.0, 0.2], JAYWALKING: [-500, -5]}
    res = sweep(
        "press",
        bounds,
        sample=("lhs", 4),
        population=POP,
        days=DAYS,
        seed=2,
        out=tmp_path,
        workers=1,
    )
    runs = res.runs
    assert len(runs) == 4
    fm, jw = runs[FALSE_MATCH].to_numpy(), runs[JAYWALKING].to_numpy()
    assert ((fm >= 0.0) & (fm <= 0.2)).all()
    assert ((jw >= -500) & (jw <= -5)).all()
    assert runs[JAYWALKING].dtype.kind == "i"  # integer bounds give integer values
    # a Latin hypercube puts one point in each quarter of every range
    assert sorted(np.floor(fm / 0.2 * 4).astype(int)) == [0, 1, 2, 3]
    again = sweep(
        "press",
        bounds,
        sample=("lhs", 4),
        population=POP,
        days=DAYS,
        seed=2,
        out=tmp_path / "again",
        workers=1,
    )
    assert_frame_equal(runs, again.runs)


def test_morris_ranks_the_influential_parameter_first(tmp_path):
    params = {FALSE_MATCH: (0.0, 0.2), "privileges.property.attempts_rural": (0.01, 0.05)}
    idx = sensitivity(
        "press",
        params,
        output="misattributed_records",
        method="morris",
        n=3,
        population=POP,
        days=DAYS,
        seed=1,
        out=tmp_path,
        workers=1,
    )
    assert len(idx) == 2 and set(idx["parameter"]) == set(params)
    assert np.isfinite(idx["mu_star"]).all() and np.isfinite(idx["sigma"]).all()
    assert idx.iloc[0]["parameter"] == FALSE_MATCH and idx.iloc[0]["rank"] == 1
    assert idx.iloc[0]["mu_star"] > idx.iloc[1]["mu_star"]
    assert_frame_equal(pd.read_parquet(tmp_path / "sensitivity.parquet"), idx, check_like=True)
    assert len(pd.read_parquet(tmp_path / "sensitivity_runs.parquet")) == 3 * 3
    assert (tmp_path / "sensitivity.html").stat().st_size > 0


def test_bad_inputs_name_the_argument(tmp_path):
    with pytest.raises(ExperimentError, match=r"^vary: sources.camera.nope=0"):
        sweep("press", {"sources.camera.nope": [0, 1]}, population=POP, days=DAYS, out=tmp_path)
    with pytest.raises(ExperimentError, match=r"^vary: .*below upper"):
        sweep("press", {FALSE_MATCH: [0.2, 0.1]}, sample=("lhs", 4), out=tmp_path)
    with pytest.raises(ExperimentError, match=r"^output: 'nope'"):
        sensitivity("press", {FALSE_MATCH: (0.0, 0.1)}, output="nope", out=tmp_path)


def test_parse_grid_and_bounds():
    assert parse_grid(["a.b=0,0.5,1", "c=never,'if_still_in_tier'", "d=[1,2],[3]"]) == {
        "a.b": [0, 0.5, 1],
        "c": ["never", "if_still_in_tier"],
        "d": [[1, 2], [3]],
    }
    assert parse_bounds(["a=0:0.05", "b=-500:-5"]) == {"a": (0, 0.05), "b": (-500, -5)}


def app() -> typer.Typer:
    a = typer.Typer()
    register(a)
    return a


@pytest.mark.parametrize(
    "args, flag",
    [
        (["sweep", "press", "--vary", "sources.camera.false_match"], "--vary"),
        (["sweep", "press", "--vary", "sources.camera.nope=0,1"], "--vary"),
        (["sweep", "press", "--vary", "sources.camera.false_match=x,2"], "--vary"),
        (["sweep", "press", "--vary", "sources.camera.false_match=0:1"], "--vary"),
        (["sweep", "press", "--sample", "lhs", "4", "--vary", "a=1,2"], "--vary"),
        (["sweep", "press", "--sample", "grid", "4", "--vary", "a=1:2"], "--sample"),
        (["sweep", "press", "--replicates", "0"], "--replicates"),
        (["sensitivity", "press", "--param", "sources.camera.false_match=1:0"], "--param"),
        (["sensitivity", "press", "--param", FALSE_MATCH + "=0:1", "--method", "x"], "--method"),
    ],
)
def test_cli_bad_input_is_one_line_and_exit_2(args, flag, tmp_path):
    result = CliRunner().invoke(app(), [*args, "--out", str(tmp_path)])
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {flag} "), lines
    assert not list(tmp_path.iterdir())  # nothing was run


def test_sensitivity_notes_say_what_the_indices_cannot():
    from credsim.experiments.sensitivity import notes

    indices = pd.DataFrame(
        {
            "parameter": ["a", "b", "c"],
            "S1": [0.6, -0.05, 0.02],
            "S1_conf": [0.1, 0.2, 0.05],
            "ST": [0.7, 0.01, 0.03],
            "ST_conf": [0.1, 0.02, 0.01],
        }
    )
    said = notes(indices, "sobol", 8)
    assert any("N = 8 is small" in s for s in said)
    assert any("S1 of b is negative" in s and "noise" in s for s in said)
    assert any("S1 of c" in s and "not told apart from zero" in s for s in said)
    assert not any(" of a " in s for s in said)  # a clear index draws no note
    assert any("with N = 32 it would be about 0.1" in s for s in said)
    assert not any("is small" in s for s in notes(indices, "sobol", 64))


def test_sensitivity_bars_carry_their_intervals():
    from credsim.experiments.sensitivity import _bar_chart
    from credsim.report.charts import to_plotly

    indices = pd.DataFrame(
        {"parameter": ["a"], "S1": [0.5], "S1_conf": [0.1], "ST": [0.6], "ST_conf": [0.2]}
    )
    fig = to_plotly(_bar_chart(indices, "sobol", "restricted"))
    assert [list(t.error_y.array) for t in fig.data] == [[0.1], [0.2]]
