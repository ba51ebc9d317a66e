"""Every example in credsim/examples runs at a small size and gives what its README promises."""

from __future__ import annotations

import importlib
from importlib import resources

import numpy as np
import pandas as pd
import pytest

import credsim
from credsim.examples import EXAMPLES
from credsim.explain import find_citizens, render
from credsim.ledger import citizen_hash

POPULATION = 5_000
DAYS = 365


def example(name: str):
    return importlib.import_module(f"credsim.examples.{name}.run")


def test_every_example_folder_is_listed_and_complete():
    root = resources.files("credsim.examples")
    folders = sorted(
        e.name for e in root.iterdir() if e.is_dir() and not e.name.startswith(("_", "."))
    )
    assert folders == sorted(EXAMPLES)
    for name in EXAMPLES:
        assert root.joinpath(name, "run.py").is_file(), name
        readme = root.joinpath(name, "README.md").read_text("utf-8")
        assert f"python -m credsim.examples.{name}.run" in readme, name
        assert callable(example(name).main)


def test_every_example_has_a_test():
    tested = {n.removeprefix("test_") for n in globals() if n.startswith("test_")}
    assert set(EXAMPLES) <= tested


def test_size_comes_from_arguments_then_environment(monkeypatch):
    from credsim.examples import size

    monkeypatch.setenv("CREDSIM_EXAMPLE_POPULATION", "1234")
    monkeypatch.setenv("CREDSIM_EXAMPLE_DAYS", "17")
    assert size(None, None, 10, 20) == (1234, 17)
    assert size(99, 9, 10, 20) == (99, 9)
    monkeypatch.delenv("CREDSIM_EXAMPLE_POPULATION")
    monkeypatch.delenv("CREDSIM_EXAMPLE_DAYS")
    assert size(None, None, 10, 20) == (10, 20)


# ---------------------------------------------------------------------------- examples
def test_restricted_and_why(tmp_path, capsys):
    out = example("restricted_and_why").main(POPULATION, DAYS, out=tmp_path / "run")
    run = out["run"]
    cit = run.citizens
    by_list = out["by_list"].iloc[0]
    restricted = int(cit["restricted"].sum())
    assert restricted > 0
    assert by_list["restricted"] == restricted == run.summary["restricted"]
    assert by_list["through_family_only"] == run.summary["spillover_only"]
    for s in run.regime().sanctions:
        assert by_list[s.name] == int(cit[f"sanction_{s.name}"].sum())
    # every listing has exactly one row among the causes, and causes are rules
    starts = run.ledger("kind = 'sanction_start'")
    causes = out["causes"]
    assert int(causes["listings"].sum()) == len(starts)
    assert set(causes["cause"]) <= {r.key for r in run.regime().rules} | {"(none)"}
    # the points behind a list are records of the citizens on it now
    for name, points in out["points"].items():
        if by_list[name]:
            assert int(points["records"].sum()) > 0
    assert out["example_citizen"] is not None
    assert out["dossier"].startswith(f"Citizen {out['example_citizen']} (synthetic)")
    assert "Listings:" in out["dossier"] and "would stand" in out["dossier"]
    printed = capsys.readouterr().out
    assert f"{restricted:,} of {POPULATION:,} citizens restricted" in printed
    assert "What started each listing:" in printed


def test_apologies_accepted(tmp_path):
    out = example("apologies_accepted").main(POPULATION, DAYS, out=tmp_path, verbose=False)
    table, redress = out["table"], out["redress"]
    assert table.attrs["paired"] is True
    assert list(table.columns) == ["judged_insincere", "accepted"]
    for run in out["runs"]:
        for key, value in run.summary.items():
            assert table.at[key, run.path.name] == pytest.approx(value)
    insincere, accepted = redress["judged_insincere"], redress["accepted"]
    assert insincere["demands"] > 100 and accepted["demands"] > 100
    assert insincere["accepted"] / insincere["complied"] < 0.3
    assert accepted["accepted"] / accepted["complied"] > 0.7
    assert accepted["refunds"] > insincere["refunds"]
    assert out["page"].exists()
    # the variant is recorded in its run folder
    regime = out["runs"][1].regime()
    assert regime.rules[regime.index("rules", "critical_post")].redress.accept == 0.9


def test_camera_errors_by_group(tmp_path):
    out = example("camera_errors_by_group").main(
        POPULATION,
        DAYS,
        out=tmp_path,
        overrides=["rules.jaywalking.delta=-200"],
        verbose=False,
    )
    exact, errors = out["runs"]
    assert out["misattributed"]["no_errors"] == 0 and out["wrongful"]["no_errors"] == 0
    assert out["misattributed"]["errors"] > 0 and out["wrongful"]["errors"] > 0
    # paired runs: the acts before adaptation are the same, draw for draw
    for b in ("jaywalking", "smoking_in_nonsmoking_area", "critical_post"):
        col = f"baseline_acts_{b}"
        assert (exact.metrics[col].to_numpy() == errors.metrics[col].to_numpy()).all()
    # every dimension accounts for every misattributed record
    total = int(errors.metrics["misattributed"].sum())
    receivers = out["receivers"]
    for dim in ("sex", "group", "region"):
        assert int(receivers.loc[receivers["dimension"] == dim, "misattributed"].sum()) == total
    actors = out["actors"]
    # the ledger holds the records a rule took: a misattributed record on a rural citizen
    # before the rule reaches the countryside (day 180) is counted as sensed, not scored
    assert int(actors["actor"].sum()) == int(actors["receiver"].sum()) <= total
    # the tenfold error rate for minority faces shows on the actors' side
    minority_actors = actors.at["minority", "actor"] / total
    assert minority_actors > 2 * actors.at["minority", "population_share"]
    # a wrongfully restricted citizen's dossier names the lookalike's record
    wrongful = find_citizens(errors, "wrongful", limit=1)
    text = render(errors.explain(wrongful[0]))
    assert "misattributed from a lookalike" in text
    assert "would NOT stand without misattributed records" in text


def test_press_vs_national(tmp_path):
    out = example("press_vs_national").main(POPULATION, DAYS, out=tmp_path, verbose=False)
    table = out["table"]
    assert table.attrs["paired"] is True
    assert list(table.columns) == ["press", "national"]
    press, national = out["runs"]
    for run in (press, national):
        for key, value in run.summary.items():
            assert table.at[key, run.path.name] == pytest.approx(value)
    assert table.at["misattributed_records", "national"] == 0
    assert set(out["lists"]["press"]["list"]) <= {"blacklist", "defaulter"}
    national_lists = {"defaulter_list", "flight_list", "rail_list", "entity_ban"}
    assert set(out["lists"]["national"]["list"]) <= national_lists  # entity_ban: joint
    assert out["lists"]["national"]["listings"].sum() > 0
    assert out["page"].exists()


def test_whole_country(tmp_path):
    mod = example("whole_country")
    folder = tmp_path / "country"
    days = 120
    out = mod.main(POPULATION, days, out=folder, shards=4, workers=2, verbose=False)
    run = out["run"]
    assert run.manifest["shards"] == 4 and run.manifest["shard_size"] == 1_250
    assert (run.metrics["citizens"] == POPULATION).all()
    assert out["scale"] == pytest.approx(1_411_778_724 / POPULATION)
    for key, value in out["country"].items():
        assert value == round(run.summary[key] * out["scale"])
    assert out["estimate"].peak_bytes > 0 and out["estimate"].seconds > 0
    # the ledger keeps whole histories of a 10% sample of citizens
    ledgered = run.query("SELECT DISTINCT citizen FROM ledger")["citizen"].to_numpy()
    assert ledgered.size > 0
    assert (citizen_hash(ledgered) < 0.1).all()
    # an interrupted run resumes to the same figures
    import credsim.sim as sim_module

    before = run.metrics.copy()
    real = sim_module.run_shard

    def stop_at_shard_2(task, progress=None):  # shard 2 does not finish
        if task.shard == 2:
            raise KeyboardInterrupt
        return real(task, progress)

    again = tmp_path / "again"
    args = {"out": again, "shard_size": 1_250, "ledger": "sample=0.1", "workers": 1}
    sim_module.run_shard = stop_at_shard_2
    try:
        with pytest.raises(KeyboardInterrupt):
            credsim.Sim(folder / "regime.toml", POPULATION, days, 1, **args).run()
    finally:
        sim_module.run_shard = real
    assert (again / "parts" / "done-00001.json").exists()
    resumed = credsim.Sim(again / "regime.toml", POPULATION, days, 1, **args).run(resume=True)
    assert resumed.manifest["resumed"] is True
    pd.testing.assert_frame_equal(resumed.metrics, before)


def test_calibration(tmp_path):
    pytest.importorskip("optuna")
    mod = example("calibration")
    out = mod.main(population=2_000, out=tmp_path, trials=2, workers=1, verbose=False)
    targets, fit, params = out["targets"], out["fit"], out["params"]
    assert list(fit["target"]) == [t.name for t in targets.targets]
    assert list(fit["published"]) == [t.value for t in targets.targets]
    assert (fit["p05"] <= fit["simulated"]).all() and (fit["simulated"] <= fit["p95"]).all()
    assert set(params) == {"behaviours.debt_default.rate", "privileges.flight.attempts_urban"}
    assert 2e-6 <= params["behaviours.debt_default.rate"] <= 2e-5
    assert 0.1 <= params["privileges.flight.attempts_urban"] <= 10
    fitted = credsim.load_regime(tmp_path / "fitted.toml")
    rate = fitted.behaviours[fitted.index("behaviours", "debt_default")].rate
    assert rate == pytest.approx(params["behaviours.debt_default.rate"])
    trials = pd.read_parquet(tmp_path / "trials.parquet")
    assert len(trials) == 2 and np.isfinite(trials["loss"]).all()
    assert (tmp_path / "fit.html").exists()


def test_one_listing_chills(tmp_path, capsys):
    out = example("one_listing_chills").main(20_000, 200, seeds=2, out=tmp_path)
    table, rows = out["table"], out["rows"]
    for (ties, off), row in zip(out["runs"], rows, strict=True):
        m = ties.metrics
        assert row["listings started"] == m["sanctions_started"].sum() > 0
        assert row["people who saw a listing, per listing"] == pytest.approx(
            m["reach_ties"].sum() / m["sanctions_started"].sum()
        )
        assert "reach_ties" not in off.metrics.columns
        # paired: the acts before adaptation are the same draw for draw
        col = "baseline_acts_critical_post"
        assert (m[col].to_numpy() == off.metrics[col].to_numpy()).all()
        assert row["critical posts, with ties"] <= row["critical posts, without ties"]
    mean = table.loc["people who saw a listing, per listing"]
    assert mean["low"] <= mean["mean"] <= mean["high"]
    # per 1,000 citizens of each group: weighted by the groups' sizes, each dimension gives
    # the whole run's viewers (to the table's rounding)
    import pandas as pd

    ties = out["runs"][0][0]
    g = pd.read_parquet(ties.path / "metrics_groups.parquet")
    size = g[g["day"] == 0].set_index(["dimension", "group"])["population"]
    seen = int(ties.metrics["reach_ties"].sum())
    for dim in ("sex", "age_band", "region"):
        rate = out["groups"].loc[dim, "saw a listing"]
        assert (rate * size.loc[dim] / 1000).sum() == pytest.approx(seen, abs=0.01 * len(rate) * 20)
    printed = capsys.readouterr().out
    assert "95% interval" in printed and "Per 1,000 citizens" in printed
