"""The day's plan: every phase in order, every active component listed, each step timed."""

from __future__ import annotations

import json

import pytest

from credsim.engine.components import COMPONENTS
from credsim.engine.loop import EVENTS, PHASES
from credsim.plan import plan
from credsim.regime.load import load_regime, presets
from credsim.sim import Sim

DAYS = 20


@pytest.fixture(scope="module")
def press_plan():
    return plan("press", population=3_000, days=DAYS, seed=2)


def test_every_phase_runs_in_order_with_its_components(press_plan):
    steps = press_plan[press_plan["phase"].isin(PHASES)]
    # press hooks every phase, and the phases come in the day's order
    assert list(dict.fromkeys(steps["phase"])) == list(PHASES)
    for comp in COMPONENTS:
        for phase in comp.phases:
            row = steps[(steps["component"] == comp.name) & (steps["phase"] == phase)]
            if comp.name in ("amnesty", "life"):  # not in press: left out of the plan
                assert row.empty
                continue
            assert len(row) == 1, (comp.name, phase)
            assert int(row["calls"].iloc[0]) == DAYS


def test_every_step_is_timed(press_plan):
    assert (press_plan["seconds"] >= 0).all()
    steps = press_plan[press_plan["phase"].isin(PHASES)]
    assert (steps["seconds"] > 0).all()  # every step ran 20 times: never exactly no time
    assert press_plan["share"].sum() == pytest.approx(1.0)


def test_event_handlers_are_listed_after_the_phases(press_plan):
    handlers = press_plan[~press_plan["phase"].isin(PHASES)]
    assert set(handlers["phase"]) <= {f"on {e}" for e in EVENTS}
    assert {"marks", "spillover", "redress", "adaptation"} <= set(handlers["component"])


@pytest.mark.parametrize("preset", sorted(presets()))
def test_a_regime_plans_only_the_components_it_needs(preset):
    r = load_regime(preset)
    df = plan(preset, population=1_000, days=2)
    listed = set(df["component"])
    assert {"behave", "sense", "share", "score", "tiers"} <= listed
    assert ("attempts" in listed) == bool(r.privileges)
    assert ("sanctions" in listed) == bool(r.sanctions)
    assert ("adaptation" in listed) == r.adaptation.enabled
    has_redress = any(x.redress is not None for x in [*r.sanctions, *r.rules])
    assert ("redress" in listed) == has_redress


def test_a_run_writes_the_plan_with_its_timings(tmp_path):
    run = Sim("press", 2_000, 10, 1, out=tmp_path / "run", workers=1).run()
    manifest = json.loads((run.path / "manifest.json").read_text())
    rows = manifest["plan_seconds"]
    assert {r[1] for r in rows} >= {"behave", "score", "sanctions", "attempts", "redress"}
    assert all(len(r) == 5 and r[4] >= 0 for r in rows)
    assert sum(r[3] for r in rows if r[0] == "behave") == 10


def test_plan_command_prints_every_step(capsys):
    from typer.testing import CliRunner

    from credsim.cli import app

    out = CliRunner().invoke(app, ["plan", "press", "-n", "1000", "-d", "3"])
    assert out.exit_code == 0, out.output
    for name in ("behave", "sense", "share", "score", "tiers", "sanctions", "attempts"):
        assert name in out.output
    bad = CliRunner().invoke(app, ["plan", "no-such-regime"])
    assert bad.exit_code == 2


def test_plot_cpu_draws_one_bar_a_step(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    monkeypatch.setenv("MPLCONFIGDIR", str(tmp_path))
    from credsim.plan import shard_of

    shard = shard_of("press", population=1_000, days=3)
    fig = shard.loop.plot_cpu()
    assert len(fig.axes[0].patches) == len(shard.loop.rows())
