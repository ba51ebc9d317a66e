"""The reported cases, reproduced in small synthetic populations with fixed seeds.

Rates are forced up with overrides so that each case happens among a few thousand citizens;
the checks then follow one citizen (and their family) through the ledger and ``explain``.
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

import credsim
from credsim.cli import app

CHILD = "0-14"


def cli(*args: str):
    result = CliRunner().invoke(app, [str(a) for a in args])
    return result


@pytest.fixture(scope="module")
def national(tmp_path_factory):
    # national preset with judgement defaults ~250x more frequent, and privileges tried often
    # (50 attempts a citizen-year), so listed citizens meet their restrictions within weeks;
    # half of the listed repay within ~60 days, so some children are restored (case 2)
    overrides = [
        "behaviours.debt_default.rate=0.002",
        "sanctions.defaulter_list.redress.comply=0.5",
        "sanctions.defaulter_list.redress.respond_days=60",
    ]
    for p in ("flight", "property", "private_school"):
        overrides += [f"privileges.{p}.attempts_urban=50", f"privileges.{p}.attempts_rural=50"]
    out = tmp_path_factory.mktemp("national") / "run"
    return credsim.Sim(
        "national", population=8_000, days=240, seed=7, overrides=overrides, out=out, ledger="full"
    ).run()


@pytest.fixture(scope="module")
def national_ledger(national):
    return national.ledger()


def history(led, citizen):
    return led[led["citizen"] == citizen].sort_values("id")


def test_liu_hu_listed_without_a_criminal_record_loses_flights_property_and_school(
    national, national_ledger
):
    led = national_ledger
    cit = national.citizens.set_index("citizen")
    listed = led[(led["kind"] == "sanction_start") & (led["sanction"] == "defaulter_list")]
    assert len(listed) > 100
    # no record of anything but a judgement default: no aviation or rail misconduct
    misconduct = led.loc[led["rule"].isin(["aviation_misconduct", "rail_misconduct"]), "citizen"]
    denied = led[led["kind"] == "denied"]
    flight = set(denied.loc[denied["privilege"] == "flight", "citizen"])
    prop = set(denied.loc[denied["privilege"] == "property", "citizen"])
    parents = (set(listed["citizen"]) - set(misconduct)) & flight & prop
    school = denied.loc[denied["privilege"] == "private_school", "citizen"]
    spilled = set(led.loc[led["kind"] == "spillover_start", "citizen"]) & set(school)
    children = cit.loc[sorted(spilled)]
    children = children[children["age_band"] == CHILD]
    heads = cit.loc[sorted(parents), "household"]
    pairs = children.reset_index().merge(
        heads.reset_index(), on="household", suffixes=("_child", "_parent")
    )
    # the child's first restriction came with this parent's listing (same day)
    first_spill = led[led["kind"] == "spillover_start"].groupby("citizen")["day"].min()
    first_listed = listed.groupby("citizen")["day"].min()
    pairs = pairs[
        first_spill.reindex(pairs["citizen_child"]).to_numpy()
        == first_listed.reindex(pairs["citizen_parent"]).to_numpy()
    ]
    assert len(pairs) > 0, "no listed parent denied flight and property with a child denied school"
    parent, child = int(pairs.iloc[0]["citizen_parent"]), int(pairs.iloc[0]["citizen_child"])
    p = history(led, parent)
    # listed by the court list, caused by a court record of a judgement default
    start = p[(p["kind"] == "sanction_start") & (p["sanction"] == "defaulter_list")].iloc[0]
    cause = led[led["id"] == start["cause"]].iloc[0]
    assert (cause["kind"], cause["source"], cause["rule"]) == ("record", "court", "debt_default")
    assert set(p.loc[p["kind"] == "sanction_start", "sanction"]) == {"defaulter_list"}
    # denied flights and property while listed (not before the listing)
    for priv in ("flight", "property"):
        d = p[(p["kind"] == "denied") & (p["privilege"] == priv)]
        assert (d["id"] > start["id"]).all()
    # the child: no sanction of their own, denied private school through the parent's listing
    c = history(led, child)
    assert not (c["kind"] == "sanction_start").any()
    spill = c[c["kind"] == "spillover_start"].iloc[0]
    assert spill["sanction"] == "defaulter_list" and spill["id"] > start["id"]
    school = c[(c["kind"] == "denied") & (c["privilege"] == "private_school")]
    assert (school["id"] > spill["id"]).all()
    assert set(c.loc[c["kind"] == "denied", "privilege"]) == {"private_school"}
    # and explain tells the same story
    text = cli("explain", national.path, parent).stdout
    assert "put on defaulter_list" in text
    assert "denied flight" in text and "denied property" in text
    text = cli("explain", national.path, child).stdout
    assert "restricted because a family member is on defaulter_list" in text
    assert "denied private_school" in text


def test_rao_child_blocked_by_parent_listing_and_restored_after_repayment(
    national, national_ledger
):
    led = national_ledger
    cit = national.citizens.set_index("citizen")
    household = cit["household"]
    delay = national.regime().sanctions[0].redress.delay
    ends = led.loc[led["kind"] == "spillover_end", ["citizen", "day", "id"]]
    ends = ends.assign(household=household.reindex(ends["citizen"]).to_numpy())
    rows = led[led["sanction"] == "defaulter_list"]
    fin = rows.loc[rows["kind"] == "sanction_end", ["citizen", "day", "id"]]
    fin = fin.assign(household=household.reindex(fin["citizen"]).to_numpy())
    acc = rows.loc[rows["kind"] == "redress_accepted", ["citizen", "day"]]
    # a child restored on the day a member of the household was delisted ...
    cases = ends.merge(fin, on=["household", "day"], suffixes=("_child", "_parent"))
    cases = cases[cases["citizen_child"] != cases["citizen_parent"]]
    # ... `delay` days after that member's repayment was accepted
    cases = cases.assign(accepted=cases["day"] - delay).merge(
        acc.rename(columns={"citizen": "citizen_parent", "day": "accepted"}),
        on=["citizen_parent", "accepted"],
    )
    assert len(cases) > 5
    cases = cases.rename(columns={"citizen_child": "child", "citizen_parent": "parent"})
    for case in cases.head(10).itertuples():
        child, parent, end_day = case.child, case.parent, case.day
        assert cit.at[child, "age_band"] == CHILD
        c = history(led, child)
        start = c[c["kind"] == "spillover_start"]
        assert (start["day"] <= end_day).any()
        p = history(led, parent)
        p = p[p["sanction"] == "defaulter_list"]
        # repayment made, accepted `delay` days before the listing ends, on the day the
        # child is restored
        acc = p[(p["kind"] == "redress_accepted") & (p["day"] == end_day - delay)].iloc[-1]
        done = p[(p["kind"] == "redress_complied") & (p["cause"] == acc["cause"])]
        assert len(done) == 1 and done["id"].iloc[0] < acc["id"]
        fin = p[(p["kind"] == "sanction_end") & (p["day"] == end_day)]
        assert (fin["id"] > acc["id"]).all() and len(fin) == 1
        restored = c[(c["kind"] == "spillover_end") & (c["day"] == end_day)]
        assert (restored["id"] > fin["id"].iloc[0]).all()
    cases = [(x.child, x.parent, x.day) for x in cases.itertuples()]
    # at least one restored child was actually kept out of school meanwhile
    blocked = [
        child
        for child, _, end_day in cases
        if (
            (led["citizen"] == child)
            & (led["kind"] == "denied")
            & (led["privilege"] == "private_school")
            & (led["day"] <= end_day)
        ).any()
    ]
    assert blocked
    text = cli("explain", national.path, blocked[0]).stdout
    assert "restricted because a family member is on defaulter_list" in text
    assert "no longer restricted through family" in text


@pytest.fixture(scope="module")
def ningbo(wrongful_run):
    # press, with cameras misidentifying 5% of the time and a jaywalking record costing 200
    # points (tests/conftest.py)
    return wrongful_run


def test_ningbo_false_match_restricts_the_wrong_citizen(ningbo):
    led = ningbo.ledger()
    cit = ningbo.citizens.set_index("citizen")
    starts = led[(led["kind"] == "sanction_start") & (led["sanction"] == "blacklist")]
    causes = led.set_index("id").loc[starts["cause"].astype("int64")]
    wrong = starts[causes["misattributed"].to_numpy()]
    assert len(wrong) > 10
    # a citizen can be listed wrongly more than once: count citizens, not listings
    victims = list(dict.fromkeys(c for c in wrong["citizen"] if cit.at[c, "wrongful"]))
    assert victims
    v = victims[0]
    assert cit.at[v, "sanction_blacklist"] and cit.at[v, "restricted"]
    assert cit.at[v, "score"] - cit.at[v, "misattributed_points"] >= 850
    cause = causes[starts["citizen"].to_numpy() == v].iloc[-1]
    actor = int(cause["other"])
    assert actor != v and cit.at[actor, "province"] == cit.at[v, "province"]
    assert ningbo.summary["wrongful"] >= len(victims) > 0
    # explain: the listing would not stand without the misattributed records
    r = cli("explain", ningbo.path, v)
    assert r.exit_code == 0
    assert "would NOT stand without misattributed records (wrongful)" in r.stdout
    assert f"misattributed from a lookalike (citizen {actor})" in r.stdout
    d = json.loads(cli("explain", ningbo.path, v, "--format", "json").stdout)
    assert d["wrongful"] is True
    assert d["sanctions"][0]["would_stand_without_misattributed_records"] is False
    assert d["score_without_misattributed_records"] >= 850
    # a rightfully listed citizen's dossier says the opposite
    right = cit[cit["restricted"] & ~cit["wrongful"]].index[0]
    assert "would stand without misattributed records" in cli("explain", ningbo.path, right).stdout


@pytest.mark.parametrize(
    "kind, where",
    [
        ("wrongful", "wrongful"),
        ("spillover", "spillover AND NOT restricted"),
        ("banned", "restricted"),
        ("permanent", "permanent"),
    ],
)
def test_explain_find(ningbo, kind, where):
    cit = ningbo.citizens
    expected = sorted(cit.query(where.replace("AND NOT", "and not"))["citizen"].tolist())
    assert expected, f"no {kind} citizens in the run"
    r = cli("explain", ningbo.path, "--find", kind, "--limit", 1000, "--format", "json")
    assert r.exit_code == 0
    assert json.loads(r.stdout) == expected[:1000]
    r = cli("explain", ningbo.path, "--find", kind, "--limit", 2)
    heading, *lines = r.stdout.strip().splitlines()
    assert heading.endswith(f"{len(expected)} citizens; the first 2:")
    assert [int(x.split(":")[0]) for x in lines] == expected[:2]
    assert all(len(x.split(": ", 1)[1]) > 10 for x in lines)  # a reason each
    if kind == "spillover":
        text = cli("explain", ningbo.path, expected[0]).stdout
        assert "No sanction of their own; restricted through a family member's listing." in text


def test_explain_find_rejects_unknown_kinds(ningbo):
    r = cli("explain", ningbo.path, "--find", "suspicious")
    assert r.exit_code == 2
    assert "expected one of wrongful, ever_wrongful, escaped, spillover" in r.stderr
