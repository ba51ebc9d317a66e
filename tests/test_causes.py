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
    assert df["behaviour"].tolist() == [rules[r] for r in df["rule"]]
    jay = df[(df["sanction"] == "blacklist") & (df["rule"] == "jaywalking")]
    assert jay["listings"].sum() > 0 and jay["points_lost"].sum() > 0


def test_causes_of_a_run_without_ledger_rows_is_empty(tmp_path):
    run = Sim("ref1", 500, 5, 1, out=tmp_path / "r", ledger="none", workers=1).run()
    assert query(run.path, "SELECT * FROM causes").empty
