"""Harm accounting: wrongfulness per listing, wrongly denied attempts, family members and
escaped citizens, checked against the world without camera errors and against the dossiers.

The stress setting makes camera errors list citizens: jaywalking costs 200 points and a
camera puts 5% of its records on a lookalike; adaptation is off, so the two runs of a seed
(false matches 5% and 0) see the same acts (keyed random numbers).
"""

from __future__ import annotations

import pytest

from credsim.counterfactual import agreement, listed_by_errors
from credsim.sim import Sim

STRESS = ("rules.jaywalking.delta=-200", "adaptation.enabled=false")
N, DAYS = 4_000, 365


def _run(tmp, name, false_match, seed=1, extra=()):
    sets = [*STRESS, f"sources.camera.false_match={false_match}", *extra]
    return Sim(
        "press", N, DAYS, seed, out=tmp / name, workers=1, ledger="full", overrides=sets
    ).run()


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("harm")
    return _run(tmp, "errors", 0.05), _run(tmp, "none", 0.0)


def test_flags_match_the_world_without_errors(runs):
    errors, none = runs
    a, wrongly, escaped = listed_by_errors(errors, none)
    assert a["ever_wrongful"].sum() >= 30 and a["escaped"].sum() >= 30  # the setting bites
    # tolerance 10% (benchmarks/harm_counterfactual.py measures it on 20 seeds)
    assert agreement(a["ever_wrongful"], wrongly) >= 0.9
    assert agreement(a["escaped"], escaped) >= 0.9
    # listed only in the world with errors: flagged ever wrongful, every one
    only_a = a["ever_listed"] & ~none.citizens.set_index("citizen")["ever_listed"]
    assert (a.loc[only_a, "ever_wrongful"]).all()


def test_placebo_without_errors_counts_no_harm(runs):
    _, none = runs
    last = none.metrics.iloc[-1]
    m = none.metrics
    for name in ("wrongful", "wrongful_listings", "ever_wrongful", "wrongful_spillover", "escaped"):
        assert last[name] == 0, name
    assert m.filter(like="wrongly_denied_").to_numpy().sum() == 0
    assert none.query("SELECT count(*) AS n FROM ledger WHERE misattributed")["n"][0] == 0
    assert none.metrics["sanctions_started"].sum() > 100  # listings there are, all rightful


def test_metrics_agree_with_citizens_and_ledger(runs):
    errors, _ = runs
    cit, m = errors.citizens, errors.metrics
    last = m.iloc[-1]
    for name in ("wrongful", "ever_wrongful", "escaped", "wrongful_spillover"):
        assert last[name] == cit[name].sum(), name
    assert last["ever_sanctioned"] == cit["ever_listed"].sum()
    assert not (cit["escaped"] & cit["ever_listed"]).any()
    assert (cit.loc[cit["wrongful"], "restricted"]).all()
    # listings now wrongful: the last judgement of each open listing in the ledger
    rows = errors.query(
        "SELECT citizen, sanction, kind, misattributed FROM ledger WHERE kind IN "
        "('sanction_start', 'sanction_renew', 'judged', 'sanction_end') ORDER BY id"
    )
    state: dict = {}
    for c, k, kind, mis in rows.itertuples(index=False):
        if kind == "sanction_end":
            state.pop((c, k), None)
        else:
            state[(c, k)] = bool(mis)
    assert last["wrongful_listings"] == sum(state.values()) > 0
    assert m["listings_judged_rightful"].sum() == int(
        ((rows["kind"] == "judged") & ~rows["misattributed"]).sum()
    )
    # wrongly denied attempts: the denied rows that only wrongful listings caused
    denied = errors.query(
        "SELECT privilege, count(*) AS n, count(*) FILTER (misattributed) AS wrongly "
        "FROM ledger WHERE kind = 'denied' GROUP BY privilege"
    ).set_index("privilege")
    for p, row in denied.iterrows():
        assert m[f"wrongly_denied_{p}"].sum() == row["wrongly"] <= m[f"denied_{p}"].sum()
    assert denied["wrongly"].sum() > 0
    # by group: every dimension adds up to the whole
    g = errors.groups
    g = g[g["day"] == g["day"].max()]
    for dim, part in g.groupby("dimension"):
        for name in ("ever_wrongful", "escaped", "wrongful_spillover", "wrongful"):
            assert part[name].sum() == last[name], (dim, name)
    assert errors.groups.groupby("dimension")["wrongly_denied"].sum().nunique() == 1


def test_listing_rows_carry_misattributed(runs):
    errors, _ = runs
    n = errors.query(
        "SELECT count(*) FILTER (misattributed) AS wrong, count(*) AS n FROM ledger "
        "WHERE kind = 'sanction_start'"
    )
    assert 0 < n["wrong"][0] < n["n"][0]


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """A smaller stress run (more camera errors), every listed citizen of which is explained."""
    sets = [*STRESS, "sources.camera.false_match=0.06"]
    out = tmp_path_factory.mktemp("harm-small") / "run"
    return Sim("press", 1_500, DAYS, 2, out=out, workers=1, ledger="full", overrides=sets).run()


def test_every_dossier_agrees_with_the_flags(small):
    from credsim.explain import dossier, render
    from credsim.query import connect

    errors = small
    cit = errors.citizens
    who = cit[cit["ever_listed"] | cit["escaped"] | cit["spillover"]]["citizen"].tolist()
    assert len(who) > 100 and cit["ever_wrongful"].sum() >= 10 and cit["escaped"].sum() >= 10
    regime = errors.regime()
    # a tier's listing holds below the lower bound of the tier above it
    names = [t.name for t in regime.tiers]
    bound = {names[i]: regime.tiers[i - 1].min for i in range(1, len(names))}
    threshold = {s.name: bound[s.tier] for s in regime.sanctions if s.tier in bound}
    assert threshold
    flags = cit.set_index("citizen")
    con = connect(errors.path)
    for cid in who:
        d = dossier(errors, cid, con=con, regime=regime)
        f = flags.loc[cid]
        now = [x for x in d["listings"] if x["ended_day"] is None]
        assert (
            d["wrongful"] == bool(f["wrongful"]) == (bool(now) and all(x["wrongful"] for x in now))
        )
        assert d["ever_wrongful"] == any(x["ever_wrongful"] for x in d["listings"])
        assert d["ever_listed"] == bool(d["listings"]) and d["escaped"] == bool(f["escaped"])
        if d["escaped"]:
            assert d["points_on_others"] < 0 and not d["listings"]
        text = render(d)
        assert ("would NOT stand" in text) == any(x["wrongful"] for x in now)
        if f["permanent"]:  # what --find permanent returns says so in its dossier
            assert "Marked for life" in text and ("permanent" in text or "ceiling" in text)
        for x in now:
            if x["wrongful"] and x["sanction"] in threshold:
                # wrongful: without camera errors the score is out of the listing's tier
                assert d["score_without_errors"] >= threshold[x["sanction"]], cid


def test_find_prints_a_heading_and_a_reason_each(small):
    from typer.testing import CliRunner

    from credsim.cli import app
    from credsim.explain import find_citizens

    errors = small
    for kind in ("wrongful", "ever_wrongful", "escaped", "wrongful_spillover", "permanent"):
        r = CliRunner().invoke(app, ["explain", str(errors.path), "--find", kind, "--limit", "3"])
        assert r.exit_code == 0, r.output
        lines = r.output.strip().splitlines()
        assert lines[0].endswith("the first 3:") and len(lines) == 4, r.output
        ids = find_citizens(errors, kind, 3)
        assert [int(x.split(":")[0]) for x in lines[1:]] == ids


def test_a_true_record_makes_a_wrongful_listing_rightful(runs):
    errors, _ = runs
    rows = errors.query(
        "SELECT citizen, cause FROM ledger WHERE kind = 'judged' AND NOT misattributed"
    )
    assert len(rows) > 0
    causes = errors.query(
        "SELECT id, misattributed FROM ledger WHERE kind = 'record' AND id IN ("
        + ",".join(str(int(x)) for x in rows["cause"].dropna().tolist() + [-1])
        + ")"
    )
    # the record that made a listing rightful was the citizen's own (a true record), or
    # a true record of theirs put elsewhere moved their score without errors (no cause)
    assert not causes["misattributed"].any()


def test_harm_figures_do_not_depend_on_the_ledger(tmp_path):
    a = _run(tmp_path, "full", 0.05, seed=3)
    sets = [*STRESS, "sources.camera.false_match=0.05"]
    b = Sim("press", N, DAYS, 3, out=tmp_path / "none", workers=1, ledger="none", overrides=sets)
    b = b.run()
    assert a.metrics.equals(b.metrics)
    cols = ["citizen", "wrongful", "ever_wrongful", "escaped", "wrongful_spillover"]
    assert a.citizens[cols].equals(b.citizens[cols])
