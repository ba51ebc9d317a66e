"""The ``causes`` view: which rules started the listings, adding up to the ledger."""

from __future__ import annotations

import pytest

from credsim.query import query
from credsim.regime import load_regime
from credsim.sim import Sim


def run_regime(run):
    return load_regime(run.path / "regime.toml")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("causes") / "press"
    # a harsh jaywalking deduction so that score listings come from several rules
    return Sim(
        "press", 30_000, 365, 4, overrides=["rules.jaywalking.delta=-150"], out=out, workers=1
    ).run()


def test_listings_add_up_to_the_ledgers_listing_rows(run):
    total = query(run.path, "SELECT sum(listings) AS n FROM causes")["n"].iloc[0]
    rows = query(run.path, "SELECT count(*) AS n FROM ledger WHERE kind = 'sanction_start'")
    assert total == rows["n"].iloc[0] > 0
    per = query(
        run.path,
        "SELECT sanction, sum(listings) AS n FROM causes GROUP BY 1 ORDER BY 1",
    )
    direct = query(
        run.path,
        "SELECT sanction, count(*) AS n FROM ledger WHERE kind = 'sanction_start' "
        "GROUP BY 1 ORDER BY 1",
    )
    assert per["n"].tolist() == direct["n"].tolist()


def test_shares_sum_to_one_within_each_sanction(run):
    df = query(
        run.path,
        "SELECT sanction, sum(share_of_listings) AS l, sum(share_of_points_lost) AS p "
        "FROM causes GROUP BY 1",
    )
    assert (abs(df["l"] - 1) < 1e-9).all()
    assert (abs(df["p"] - 1) < 1e-9).all()


def test_each_rule_names_its_behaviour_and_the_harsh_rule_shows(run):
    df = query(run.path, "SELECT * FROM causes")
    rules = {r.key: r.behaviour for r in run_regime(run).rules}
    rules["associates"] = "associates"  # press's associates rule (ties) lists some too
    assert df["behaviour"].tolist() == [rules[r] for r in df["rule"]]
    jay = df[(df["sanction"] == "blacklist") & (df["rule"] == "jaywalking")]
    assert jay["listings"].sum() > 0 and jay["points_lost"].sum() > 0


def test_listings_on_one_behaviour_alone_are_counted_from_the_ledger(run):
    df = query(run.path, "SELECT * FROM causes")
    # recount in pandas: per listing, the behaviours of every deduction up to its day
    led = run.ledger("kind IN ('sanction_start', 'record', 'association')")
    rules = {r.key: r.behaviour for r in run_regime(run).rules}
    led.loc[led["kind"] == "association", "rule"] = "associates"  # ties' associates rule
    rules["associates"] = "associates"
    rec = led[led["kind"].isin(["record", "association"]) & (led["delta"] < 0)]
    by_citizen = {c: g for c, g in rec.groupby("citizen")}
    expected: dict[tuple, int] = {}
    for row in led[led["kind"] == "sanction_start"].itertuples():
        g = by_citizen.get(row.citizen)
        if g is None:
            continue
        behaviours = {rules[r] for r in g[g["day"] <= row.day]["rule"]}
        if len(behaviours) == 1:
            key = (row.sanction, behaviours.pop())
            expected[key] = expected.get(key, 0) + 1
    got = {
        (r.sanction, r.behaviour): int(r.listings_alone)
        for r in df.itertuples()
        if r.listings_alone
    }
    assert got == expected
    # every listing on jaywalking alone is a blacklisting the jaywalking rule started
    jay = df[(df["sanction"] == "blacklist") & (df["behaviour"] == "jaywalking")]
    assert 0 < jay["listings_alone"].sum() <= jay["listings"].sum()


def test_causes_of_a_run_without_ledger_rows_is_empty(tmp_path):
    run = Sim("ref1", 500, 5, 1, out=tmp_path / "r", ledger="none", workers=1).run()
    assert query(run.path, "SELECT * FROM causes").empty


def test_restricted_on_the_last_day_add_up_per_sanction(run):
    from credsim.report.causes import causes

    rows = causes(run)
    c = run.citizens
    for sanction in {r["sanction"] for r in rows}:
        now = sum(r["restricted_now"] for r in rows if r["sanction"] == sanction)
        assert now == int(c[f"sanction_{sanction}"].sum())
    restricted = int(
        (c[[f"sanction_{s}" for s in {r["sanction"] for r in rows}]]).any(axis=1).sum()
    )
    # a citizen under two sanctions counts under each: the shares add up to at least 1
    assert restricted == run.summary["restricted"]
    assert sum(r["share_of_restricted"] for r in rows) >= 1.0 - 1e-9
    assert sum(r["listings"] for r in rows) == len(run.ledger("kind = 'sanction_start'"))


def test_the_report_shows_causes_and_rollout(run):
    from credsim.report import write_report

    text = write_report(run).read_text()
    assert 'id="causes"' in text and "share of the restricted" in text
    assert 'id="rollout"' in text and "countryside from" in text


def test_rollout_rows_of_the_press_preset():
    from credsim.report.rollout import rollout_rows

    d = load_regime("press").model_dump(mode="json")
    rows = {(k, n): (u, r, e) for k, n, u, r, e in rollout_rows(d)}
    assert rows[("source", "camera")] == (0, 180, 180)
    assert rows[("source", "court")] == (0, 0, 0)
    assert rows[("rule", "debt_default")] == (0, 0, 0)
    assert rows[("rule", "jaywalking")] == (0, 180, 180)
    assert rows[("sanction", "blacklist")] == (0, 180, 180)
