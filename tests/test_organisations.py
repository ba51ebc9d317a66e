"""Organisations: the synthesis against its published figures, joint punishment of legal
representatives and managers (not of ordinary employees), the calibration of the national
preset to enterprises listed in 2018, and a regime whose organisations do nothing changing no
person figure."""

from __future__ import annotations

import copy
import tomllib
from importlib import resources

import numpy as np
import pytest
import tomli_w
from pandas.testing import assert_frame_equal

from credsim.engine.components import organisations as org
from credsim.engine.sampling import stream
from credsim.population import Census, synthesize
from credsim.regime.load import RegimeError, load_regime
from credsim.sim import Sim

N, DAYS, SEED = 20_000, 365, 1
SYNTH_N = 200_000  # citizens the synthesis tests draw (about 3,100 organisations)
CALIB_N = 100_000  # citizens of the calibration run (about 1,300 enterprises)
# Tolerances, absolute, each about five standard errors at these sizes (benchmarks/
# organisations_seeds.py checks them on 20 seeds): shares of about 3,100 organisations
# (sd <= 0.009), of about 54,000 employees (sd <= 0.003).
TOL = {
    "region": 0.02,
    "sector": 0.045,
    "enterprise": 0.035,
    "rating_a": 0.02,
    "rating_d": 0.025,
    "employee": 0.015,
    "self_employed": 0.015,
    "mean_size": 0.03,  # relative
    "listed": 0.05,  # share of about 1,300 enterprises newly listed in a year (sd 0.011)
}


def national() -> dict:
    entry = resources.files("credsim.regime.presets").joinpath("national.toml")
    return tomllib.loads(entry.read_text("utf-8"))


def without_organisations(data: dict) -> dict:
    out = copy.deepcopy(data)
    out.pop("organisations")
    out["sanctions"] = [s for s in out["sanctions"] if s["name"] != "entity_ban"]
    return out


def drawn(seed: int, n: int = SYNTH_N):
    """A population and its organisations, as a shard of that size draws them."""
    census = Census.from_facts()
    pop = synthesize(n, stream(seed, 0, "population"), census)
    firms = org.synthesize(
        pop.demo, census.layout, census.provinces, stream(seed, 0, "organisations"), 1.2
    )
    return pop, census, firms


def synthesis_errors(seed: int, n: int = SYNTH_N) -> dict[str, float]:
    """How far each figure of the synthesis is from its published value (absolute; the mean
    size relative), for one seed."""
    pop, census, f = drawn(seed, n)
    pub = org.published()
    out: dict[str, float] = {}
    prov = np.array(census.provinces)[f.province]
    region = np.array([pub.region_of[p] for p in prov])
    for name in org.REGIONS:
        out[f"region_{name}"] = abs(np.mean(region == name) - pub.region_share[name])
    for j, name in enumerate(("wholesale_retail", "manufacturing", "leasing", "other")):
        out[f"sector_{name}"] = abs(np.mean(f.sector == j) - pub.sector_share[j])
    out["enterprise"] = abs(f.enterprise.mean() - pub.enterprise_share)
    rating = org.rating_of(f.score[f.enterprise])
    out["rating_a"] = abs(np.mean(rating == 0) - pub.rating_share[0])
    out["rating_d"] = abs(np.mean(rating == 3) - pub.rating_share[3])
    out["mean_size"] = abs(f.size.mean() / pub.mean_size - 1)
    # employment: the national employee share is the regions' rates over their working age
    age = pop.attribute("age")
    working = (age == 1) | (age == 2)
    rates = org.employment_rates(census.provinces)[pop.attribute("province")]
    expected = rates[working].mean()
    out["employee"] = abs(np.mean(f.role[working] >= org.EMPLOYEE) - expected)
    out["self_employed"] = abs(
        np.mean(f.role[working] == org.SELF_EMPLOYED) - pub.self_employed_share
    )
    return out


def tolerance(name: str) -> float:
    return TOL[name.split("_")[0] if name.split("_")[0] in ("region", "sector") else name]


def test_the_synthesis_matches_its_published_figures():
    errors = synthesis_errors(SEED)
    for name, err in errors.items():
        assert err <= tolerance(name), (name, err)


def test_employment_links_and_roles():
    pop, census, f = drawn(2, 50_000)
    age = pop.attribute("age")
    # at most one employer each; only working-age citizens work; employers hold their staff
    assert ((f.employer >= 0) == (f.role >= org.EMPLOYEE)).all()
    assert (f.role[(age == 0) | (age == 3)] == org.NONE).all()
    assert (np.bincount(f.employer[f.employer >= 0], minlength=f.n) == f.size).all()
    # one legal representative per organisation, drawn from its own employees
    reps = f.people[f.people_start[:-1]]
    assert (f.role[reps] == org.REP).all() and (f.employer[reps] == np.arange(f.n)).all()
    assert int((f.role == org.REP).sum()) == f.n
    managers = np.diff(f.people_start) - 1
    assert (managers == np.minimum(f.size - 1, np.floor(np.log2(f.size)))).all()
    # an employee works in the province it lives in
    prov = pop.attribute("province")
    assert (f.province[f.employer[f.employer >= 0]] == prov[f.employer >= 0]).all()


def test_a_tiny_shard_has_no_or_few_organisations():
    _, _, f = drawn(3, 1)
    assert f.n <= 1 and f.people_start.size == f.n + 1


@pytest.fixture(scope="module")
def national_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("organisations")
    return Sim("national", N, DAYS, SEED, out=tmp / "national", workers=1, ledger="full").run()


def _open_listings(run, lst: str) -> set[int]:
    rows = run.query(
        "SELECT other, kind, day, id FROM ledger WHERE kind LIKE 'organisation_%' "
        f"AND rule LIKE '{lst}/%' ORDER BY id"
    )
    open_: set[int] = set()
    for other, kind in zip(rows["other"], rows["kind"], strict=True):
        (open_.add if kind == "organisation_listed" else open_.discard)(int(other))
    return open_


def test_a_legal_representative_of_a_listed_organisation_is_restricted(national_run):
    listed = _open_listings(national_run, "court_defaulter")
    assert listed  # organisations on the court defaulter list at the end (3 at this seed)
    people = national_run.query(
        "SELECT employer, role, sanction_entity_ban AS ban, restricted_via_organisation AS via "
        "FROM citizens WHERE employer >= 0"
    )
    mine = people[people["employer"].isin(listed)]
    heads = mine[mine["role"].isin(["legal_representative", "manager"])]
    staff = mine[mine["role"] == "employee"]
    assert len(heads) and heads["ban"].all() and heads["via"].all()
    assert len(staff) and not staff["ban"].any() and not staff["via"].any()
    # nobody else is on the joint sanction: only representatives and managers of listed ones
    banned = people[people["ban"]]
    assert banned["role"].isin(["legal_representative", "manager"]).all()
    last = national_run.metrics.iloc[-1]
    assert int(last["restricted_via_organisation"]) == len(banned)
    sectors = [c for c in national_run.metrics.columns if c.startswith("restricted_via_")]
    assert sum(int(last[c]) for c in sectors if c != "restricted_via_organisation") == len(banned)


def test_the_dossier_says_which_organisation_and_why(national_run):
    who = national_run.query(
        "SELECT citizen, employer FROM citizens WHERE restricted_via_organisation LIMIT 1"
    )
    citizen, employer = int(who["citizen"].iloc[0]), int(who["employer"].iloc[0])
    d = national_run.explain(citizen)
    assert d["organisation"]["employer"] == employer
    assert d["organisation"]["restricted_via_organisation"]
    ban = [x for x in d["sanctions"] if x["sanction"] == "entity_ban"]
    assert ban and ban[0]["started_by"] == f"the listing of organisation {employer}"
    assert f"organisation {employer} put on" in ban[0]["cause"]
    assert " for " in ban[0]["cause"]  # and why: the behaviour behind the listing


def test_the_ledger_records_every_organisation_listing(national_run):
    rows = national_run.query(
        "SELECT count(DISTINCT (other, day, rule)) AS n FROM ledger "
        "WHERE kind = 'organisation_listed'"
    )
    assert int(rows["n"].iloc[0]) == int(national_run.metrics["organisation_listings"].sum())


def test_organisations_that_do_nothing_change_no_person_figure(tmp_path):
    """Placebo: organisations whose behaviours never happen leave every person figure (and
    the ledger of persons) as a regime without organisations has it."""
    base = without_organisations(national())
    idle = national()
    for b in idle["organisations"]["behaviours"]:
        b["rate"] = 0.0
    a = Sim(base, N, 120, SEED, out=tmp_path / "a", workers=1).run()
    b = Sim(idle, N, 120, SEED, out=tmp_path / "b", workers=1).run()
    shared = [c for c in a.metrics.columns if c in b.metrics.columns]
    extra = set(b.metrics.columns) - set(shared)
    own = ("organisation", "enterprises", "restricted_via_", "entity_ban")
    assert all(any(x in c for x in own) for c in extra), extra
    assert_frame_equal(a.metrics[shared], b.metrics[shared])
    assert int(b.metrics["organisation_listings"].sum()) == 0
    assert int(b.metrics["restricted_via_organisation"].max()) == 0


def test_employer_sources_record_employees_only(tmp_path):
    data = national()
    data["organisations"]["employer_sources"] = ["registry"]
    run = Sim(data, N, 120, SEED, out=tmp_path / "e", workers=1, ledger="full").run()
    rows = run.query(
        "SELECT c.role FROM ledger l JOIN citizens c USING (citizen) "
        "WHERE l.kind = 'record' AND l.source = 'registry'"
    )
    assert len(rows) and rows["role"].isin(["employee", "manager", "legal_representative"]).all()


def test_the_national_preset_lists_the_published_share_of_enterprises(tmp_path):
    """Calibration: 3.59 million enterprises blacklisted in 2018 of 18.57 million (19.3%)."""
    run = Sim("national", CALIB_N, 365, SEED, out=tmp_path / "c", workers=1, ledger="none").run()
    last = run.metrics.iloc[-1]
    share = float(last["organisations_ever_listed"]) / float(last["enterprises"])
    assert abs(share - org.published().listed_per_year) <= TOL["listed"], share


def test_organisations_are_whole_in_their_shard(tmp_path):
    run = Sim(
        "national", N, 30, SEED, out=tmp_path / "s", workers=1, shard_size=N // 2, ledger="none"
    ).run()
    rows = run.query(
        "SELECT citizen, employer FROM citizens WHERE employer >= 0 "
        f"AND (citizen < {N // 2}) <> (employer < {N // 2})"
    )
    assert rows.empty  # every employee is in its employer's shard


def test_bad_organisations_are_one_line_each(tmp_path):
    data = national()
    data["organisations"]["lists"][0]["sanction"] = "nope"
    data["organisations"]["lists"][1]["behaviours"] = ["nothing"]
    path = tmp_path / "bad.toml"
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    with pytest.raises(RegimeError) as e:
        load_regime(str(path))
    text = str(e.value)
    assert "organisations.lists[0].sanction: unknown sanction 'nope'" in text
    assert "organisations.lists[1].behaviours: unknown behaviour 'nothing'" in text


def test_the_national_preset_meets_its_enterprise_target():
    """The same calibration through the calibration capability: the shipped targets file
    ``enterprises``, simulated counts scaled to the country, median of 3 replicates."""
    from credsim.calibration import evaluate, load_targets
    from credsim.regime.load import load_regime as load

    t = load_targets("enterprises")
    assert t.targets[0].value == 3_590_000  # the confirmed figure of the facts
    df, _ = evaluate(load("national"), t, 200_000, 3, seed=SEED)
    row = df.iloc[0]
    assert row["within"], (row["simulated"], row["published"])


def test_the_report_and_the_dashboard_show_organisations(national_run, tmp_path):
    from credsim.report import charts

    report = {c.name for c in charts(national_run)}
    assert {"organisations", "ratings"} <= report
    dashboard = [c.name for c in charts(national_run, dashboard=True)]
    assert dashboard[-1] == "organisations"
    press = Sim("press", 2_000, 30, SEED, out=tmp_path / "p", workers=1).run()
    assert "organisations" not in {c.name for c in charts(press, dashboard=True)}
    assert "organisations_listed" not in press.summary
    assert national_run.summary["restricted_via_organisation"] == int(
        national_run.metrics["restricted_via_organisation"].iloc[-1]
    )


def test_restricted_through_an_organisation_is_counted_by_group(national_run, tmp_path):
    """Each day, the citizens restricted through an organisation add up over the groups of
    every dimension to the day's figure; a regime without organisations has no such level."""
    from credsim.report import burden

    daily = national_run.metrics.set_index("day")["restricted_via_organisation"]
    assert daily.max() > 0
    g = national_run.groups
    sums = g.groupby(["day", "dimension"])["restricted_via_organisation"].sum().unstack()
    assert set(sums.columns) == {"sex", "age_band", "region", "province", "group"}
    for dim in sums.columns:
        assert (sums[dim].to_numpy() == daily.loc[sums.index].to_numpy()).all(), dim
    b = burden(g)
    assert "restricted_via_organisation_per_1000" in b
    press = Sim("press", 2_000, 30, SEED, out=tmp_path / "p", workers=1).run()
    assert "restricted_via_organisation" not in press.groups.columns
    assert "restricted_via_organisation_per_1000" not in burden(press.groups)
