"""Rollout of privileges, green lanes and redress by region and day, on a regime built for it.

One offence, recorded everywhere, costs 200 points: a citizen is listed on the first record.
The listing denies a privilege that listed citizens try often, a rule's redress is demanded on
every record, and the top tier has a green lane. Each of the three rolls out to the cities on
day 20 and to the countryside on day 60. Checks follow from the definition and are exact: no
denial, demand or green-lane use where the component has not rolled out, some where it has,
and after the last rollout day the figures equal those of a run rolled out from day 0 (keyed
random numbers: the same citizens act and attempt on the same days).
"""

from __future__ import annotations

import numpy as np
import pytest

import credsim

REGIME = {
    "regime": {"name": "rollout_check"},
    "behaviours": [{"name": "offence", "rate": 0.004}, {"name": "purchase", "rate": 0.01}],
    "sources": [{"name": "camera", "observes": {"offence": 1.0, "purchase": 1.0}}],
    "rules": [
        {
            "behaviour": "offence",
            "delta": -200,
            "redress": {"demand": "appeal", "comply": 1.0, "respond_days": 5, "accept": 0.0},
        },
        {"behaviour": "purchase", "delta": 1},
    ],
    "tiers": [{"name": "trusted", "min": 1000}, {"name": "normal", "min": 850}, {"name": "low"}],
    "privileges": [{"name": "flight", "attempts_urban": 60, "attempts_rural": 60}],
    "sanctions": [{"name": "ban", "tier": "low", "privileges": ["flight"], "duration": 400}],
    "green_lanes": [{"tier": "trusted", "uses_per_year": 50}],
}
STAGED = [{"region": "urban", "day": 20}, {"region": "rural", "day": 60}]


def regime(staged: bool) -> dict:
    import copy

    r = copy.deepcopy(REGIME)
    if staged:
        r["privileges"][0]["rollout"] = STAGED
        r["green_lanes"][0]["rollout"] = STAGED
        r["rules"][0]["redress"]["rollout"] = STAGED
    return r


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    out = {}
    for staged in (True, False):
        folder = tmp_path_factory.mktemp(f"staged-{staged}") / "run"
        out[staged] = credsim.Sim(regime(staged), 6_000, 120, 5, out=folder, ledger="full").run()
    return out


def with_region(run, kind: str):
    rows = run.ledger(f"kind = '{kind}'")
    region = run.citizens.set_index("citizen")["region"]
    rows["region"] = region.reindex(rows["citizen"]).to_numpy()
    return rows


def test_privileges_are_denied_only_where_and_when_rolled_out(runs):
    denied = with_region(runs[True], "denied")
    for region, first in (("urban", 20), ("rural", 60)):
        mine = denied[denied["region"] == region]
        assert mine["day"].min() >= first, region
        assert len(mine[mine["day"] < first + 30]) > 0, region  # and denied soon after
    # listed citizens attempted before the rollout: their attempts went through and count
    m_staged, m_all = runs[True].metrics, runs[False].metrics
    assert (m_staged["denied_flight"][:20] == 0).all() and m_all["denied_flight"][:20].sum() > 0
    assert (m_staged["attempts_flight"] == m_all["attempts_flight"]).all()
    # listings do not depend on the privilege's rollout
    assert (m_staged["restricted"] == m_all["restricted"]).all()
    assert (m_staged["denied_flight"][60:] == m_all["denied_flight"][60:]).all()


def test_redress_is_demanded_only_where_and_when_rolled_out(runs):
    demands = with_region(runs[True], "redress_demand")
    for region, first in (("urban", 20), ("rural", 60)):
        mine = demands[demands["region"] == region]
        assert mine["day"].min() >= first, region
        assert len(mine) > 0, region
    everywhere = with_region(runs[False], "redress_demand")
    assert everywhere["day"].min() < 20
    late = everywhere[everywhere["day"] >= 60]
    assert len(late) == len(demands[demands["day"] >= 60])


def test_green_lanes_serve_only_where_and_when_rolled_out(runs):
    b_staged = runs[True].metrics["benefits"].to_numpy()
    b_all = runs[False].metrics["benefits"].to_numpy()
    assert (b_staged[:20] == 0).all() and b_all[:20].sum() > 0
    # cities only, days 20-59: fewer uses than everywhere, but some
    assert 0 < b_staged[20:60].sum() < b_all[20:60].sum()
    np.testing.assert_array_equal(b_staged[60:], b_all[60:])


def test_the_report_lists_every_kind_of_component(runs):
    from credsim.report.rollout import rollout_rows, rollout_section

    d = runs[True].regime().model_dump(mode="json")
    rows = {(k, n): (u, r, e) for k, n, u, r, e in rollout_rows(d)}
    assert rows[("privilege", "flight")] == (20, 60, 60)
    assert rows[("green lane", "trusted")] == (20, 60, 60)
    assert rows[("redress", "appeal (rule offence)")] == (20, 60, 60)
    assert rows[("source", "camera")] == (0, 0, 0)
    assert "green lane" in rollout_section(d) and "redress" in rollout_section(d)
