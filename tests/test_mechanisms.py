"""Each mechanism of the press regime switched on and off: direction and size of its effect.

Runs are small (5,000-25,000 citizens, 60-365 days) and seeded. Checks that follow from the
mechanism's definition are exact; statistical checks state their tolerance and why.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pandas as pd
import pytest
from simulations import simulate

import credsim
from credsim.engine.compiled import KINDS, Compiled
from credsim.population import Census

CHILD = "0-14"


def records_with_actor(run):
    """Record rows with the actor (the citizen whose act it was) and both citizens' data."""
    rec = run.ledger("kind = 'record'")
    cit = run.citizens.set_index("citizen")
    rec["actor"] = np.where(rec["misattributed"], rec["other"].fillna(-1), rec["citizen"])
    rec["actor"] = rec["actor"].astype(np.int64)
    for who in ("citizen", "actor"):
        for col in ("region", "province", "group", "household", "age_band"):
            rec[f"{who}_{col}"] = cit[col].reindex(rec[who]).to_numpy()
    return rec


def sanction_rows(run):
    return run.ledger(
        "kind IN ('sanction_start', 'sanction_renew', 'sanction_end', 'spillover_start', "
        "'spillover_end', 'denied')"
    )


# --------------------------------------------------------------------------- sharing
@pytest.fixture(scope="module")
def no_sharing(tmp_path_factory):
    return simulate(
        tmp_path_factory,
        "noshare",
        population=10_000,
        days=60,
        overrides=["sources.social_media.shares=false"],
    )


@pytest.fixture(scope="module")
def sharing(tmp_path_factory):
    return simulate(tmp_path_factory, "share", population=10_000, days=60)


def test_sharing_off_keeps_a_source_out_of_the_score(no_sharing, sharing):
    m = no_sharing.metrics
    # the acts still happen (10,000 citizens x 60 days x 0.0005 x ~80% adults: ~240 posts)
    assert m["acts_critical_post"].sum() > 100
    assert (m["records_critical_post"] == 0).all()
    assert no_sharing.ledger("source = 'social_media'").empty
    assert no_sharing.ledger("rule = 'critical_post'").empty
    # the other sources still share
    assert m["records_jaywalking"].sum() > 0
    # switched on, the same source's records reach the score
    on = sharing.metrics
    assert on["records_critical_post"].sum() > 50
    assert not sharing.ledger("source = 'social_media'").empty


# --------------------------------------------------------------------------- rollout
def test_camera_rollout_reaches_rural_citizens_only_from_day_180(rollout_run):
    rollout = rollout_run
    assert [(r.region, r.day) for r in rollout.regime().sources[0].rollout] == [
        ("urban", 0),
        ("rural", 180),
    ]
    rec = records_with_actor(rollout)
    cam = rec[rec["source"] == "camera"]
    rural = cam[cam["citizen_region"] == "rural"]
    assert len(rural[rural["day"] < 180]) == 0
    assert len(rural[rural["day"] >= 180]) > 0
    urban = cam[cam["citizen_region"] == "urban"]
    assert len(urban[urban["day"] < 180]) > 0
    # every source but the court rolls out from the cities: no rural transit record before
    # day 180 (the court's records are national from day 0: tests/test_terms.py)
    tr = rec[(rec["source"] == "transit") & (rec["citizen_region"] == "rural")]
    assert tr["day"].min() >= 180


# --------------------------------------------------------------------------- delay
@pytest.mark.parametrize("delay", [0, 30])
def test_reporting_delay_shifts_court_records_exactly(tmp_path_factory, delay):
    # court observes debt_default with probability 1 and full coverage, so every act is
    # recorded exactly `delay` days later (an exact check, no tolerance).
    run = simulate(
        tmp_path_factory,
        f"delay{delay}",
        population=5_000,
        days=60,
        overrides=["behaviours.debt_default.rate=0.002", f"sources.court.delay={delay}"],
    )
    m = run.metrics
    acts = m["acts_debt_default"].to_numpy()
    recs = m["records_debt_default"].to_numpy()
    assert acts.sum() > 300  # ~5,000 x 83% adults x 0.002 x 60 days = ~500
    assert (recs[:delay] == 0).all()
    np.testing.assert_array_equal(recs[delay:], acts[: len(acts) - delay])
    court = run.ledger("source = 'court'")
    assert court["day"].min() == delay
    assert set(court["rule"]) == {"debt_default"}


# --------------------------------------------------------------------------- misidentification
@pytest.fixture(scope="module")
def no_false_match(tmp_path_factory):
    # severe jaywalking penalty, so that false matches, had there been any, would list people
    return simulate(
        tmp_path_factory,
        "nofm",
        population=10_000,
        days=60,
        overrides=["sources.camera.false_match=0", "rules.jaywalking.delta=-200"],
    )


def test_no_false_match_means_no_misattribution_and_no_wrongful(no_false_match):
    run = no_false_match
    m = run.metrics
    assert m["sanctions_started"].sum() > 50  # listings happen, all of them rightful
    assert (m["misattributed"] == 0).all()
    assert (m["wrongful"] == 0).all()
    g = run.groups
    assert (g["misattributed"] == 0).all() and (g["wrongful"] == 0).all()
    c = run.citizens
    assert not c["wrongful"].any()
    assert (c["misattributed_points"] == 0).all()
    assert run.ledger("misattributed OR other IS NOT NULL").empty
    assert run.summary["wrongful"] == 0 and run.summary["misattributed_records"] == 0


def false_match_run(tmp_path_factory, multiplier):
    # camera false_match 0.08; false_match_female 1 so no rate is capped at 1 (minority with
    # x10 is 0.8). More jaywalking (delta 0, so scores and sanctions do not move) gives
    # ~1,300 camera records of minority actors in 120 days among 25,000 citizens.
    return simulate(
        tmp_path_factory,
        f"fm{multiplier}",
        population=25_000,
        days=120,
        seed=5,
        overrides=[
            "sources.camera.false_match=0.08",
            "sources.camera.false_match_female=1.0",
            f"sources.camera.false_match_group={{minority = {multiplier}.0}}",
            "behaviours.jaywalking.rate=0.02",
            "rules.jaywalking.delta=0",
            # the camera's rules everywhere from day 0: no record is held back by their rollout
            'rules.jaywalking.rollout=[{region = "all", day = 0}]',
            'rules.smoking_in_nonsmoking_area.rollout=[{region = "all", day = 0}]',
        ],
    )


@pytest.fixture(scope="module")
def fm10(tmp_path_factory):
    return false_match_run(tmp_path_factory, 10)


@pytest.fixture(scope="module")
def fm1(tmp_path_factory):
    return false_match_run(tmp_path_factory, 1)


def mis_rate_by_actor_group(run):
    rec = records_with_actor(run)
    cam = rec[rec["source"] == "camera"]
    by = cam.groupby("actor_group", observed=True)["misattributed"].agg(["sum", "count"])
    return by["sum"] / by["count"], by


def test_false_match_group_multiplier_scales_misattribution(fm10, fm1):
    rate10, n10 = mis_rate_by_actor_group(fm10)
    rate1, n1 = mis_rate_by_actor_group(fm1)
    assert n10.loc["minority", "count"] > 800 and n1.loc["minority", "count"] > 800
    # each rate is the configured false_match (minority x10 or x1, han x1); tolerances are
    # over 4 binomial sd at the counts seen (~1,300 minority and ~14,000 han records)
    assert rate10["minority"] == pytest.approx(0.8, abs=0.05)  # sd ~0.011
    assert rate10["han"] == pytest.approx(0.08, abs=0.01)  # sd ~0.0023
    assert rate1["minority"] == pytest.approx(0.08, abs=0.035)  # sd ~0.0075
    # x10 vs x1: minority misattributed-per-record rises ~10x. The x1 count is ~100
    # (relative sd ~10%), the x10 count ~1,000 (~2%): +-35% is over 3 sd of the ratio.
    assert rate10["minority"] / rate1["minority"] == pytest.approx(10, rel=0.35)
    # within the x10 run, minority vs han is ~10x (relative sd ~3% for han, ~1.5% minority)
    assert rate10["minority"] / rate10["han"] == pytest.approx(10, rel=0.15)
    # within the x1 run the groups are alike (minority count ~100: +-40% is ~4 sd)
    assert rate1["minority"] / rate1["han"] == pytest.approx(1, rel=0.4)


def test_misattributed_records_land_on_another_citizen_of_the_same_province(fm10):
    rec = records_with_actor(fm10)
    mis = rec[rec["misattributed"]]
    assert len(mis) > 500
    assert (mis["citizen"] != mis["actor"]).all()
    assert (mis["citizen_province"] == mis["actor_province"]).all()
    # before day 180 cameras cover cities only: every actor is urban, while the lookalike
    # may live anywhere in the province
    assert (mis["actor_region"] == "urban").all()
    assert (mis["citizen_region"] == "rural").any()
    # an unmisattributed record has no other citizen
    assert rec.loc[~rec["misattributed"], "other"].isna().all()
    # the metrics count the same records as the ledger; metrics_groups counts them by the
    # group of the citizen they land on
    assert fm10.metrics["misattributed"].sum() == len(mis)
    g = fm10.groups
    by_group = g[g["dimension"] == "group"].groupby("group")["misattributed"].sum()
    landed = mis.groupby("citizen_group", observed=True).size()
    assert by_group[by_group > 0].to_dict() == landed.to_dict()


# --------------------------------------------------------------------------- spillover
SPILL_RATES = ["behaviours.debt_default.rate=0.0005", "rules.critical_post.delta=-200"]


@pytest.fixture(scope="module")
def spill_on(tmp_path_factory):
    # more defaulters and a severe critical_post penalty: many listed parents
    return simulate(
        tmp_path_factory,
        "spillon",
        population=10_000,
        days=120,
        overrides=[
            *SPILL_RATES,
            "privileges.private_school.attempts_urban=50",
            "privileges.private_school.attempts_rural=50",
        ],
    )


@pytest.fixture(scope="module")
def spill_off(tmp_path_factory):
    return simulate(
        tmp_path_factory,
        "spilloff",
        population=10_000,
        days=120,
        overrides=[
            *SPILL_RATES,
            "privileges.private_school.attempts_urban=50",
            "privileges.private_school.attempts_rural=50",
            "sanctions.blacklist.spillover={}",
            "sanctions.defaulter.spillover={}",
        ],
    )


def test_spillover_off_restricts_nobody_without_a_sanction_of_their_own(spill_off):
    run = spill_off
    m = run.metrics
    assert m["sanctions_started"].sum() > 300
    assert (m["spillover_only"] == 0).all()
    assert (m["denied_spillover"] == 0).all()
    assert (m["denied_private_school"] == 0).all()  # no sanction denies it to its holder
    assert run.ledger("kind IN ('spillover_start', 'spillover_end')").empty
    c = run.citizens
    assert not c["spillover"].any()
    denied = run.ledger("kind = 'denied'")
    restricted_ever = set(run.ledger("kind = 'sanction_start'")["citizen"])
    assert set(denied["citizen"]) <= restricted_ever


def test_spillover_on_restricts_children_of_the_listed(spill_on):
    run = spill_on
    m = run.metrics
    assert m["spillover_only"].max() > 20
    assert m["denied_spillover"].sum() > 0
    c = run.citizens.set_index("citizen")
    starts = run.ledger("kind = 'spillover_start'")
    assert len(starts) > 20
    # only children get the private_school spillover in press
    assert (c.loc[starts["citizen"], "age_band"] == CHILD).all()
    assert set(starts["sanction"]) <= {"blacklist", "defaulter"}
    now = c[c["spillover"]]
    assert (now["age_band"] == CHILD).all()
    denied = run.ledger("kind = 'denied' AND privilege = 'private_school'")
    assert len(denied) > 0
    assert (c.loc[denied["citizen"], "age_band"] == CHILD).all()
    # each child restricted through family has a listed member of the household now
    listed = c[c["restricted"]].groupby("household").size()
    assert now["household"].isin(listed.index).all()
    # children do not spill over onto their parents
    assert not c.loc[c["spillover"] & (c["age_band"] != CHILD)].shape[0]


# --------------------------------------------------------------------------- permanence
CEILING_RATES = [
    "rules.jaywalking.delta=-300",  # one recorded crossing lists a citizen (1000 -> 700)
    "rules.buy_domestic.delta=200",  # two purchases would lift them above 1049
    "behaviours.buy_domestic.rate=0.05",
]


@pytest.fixture(scope="module")
def ceiling_run(tmp_path_factory):
    return simulate(
        tmp_path_factory, "ceiling", population=10_000, days=120, overrides=CEILING_RATES
    )


@pytest.fixture(scope="module")
def no_ceiling_run(tmp_path_factory):
    d = credsim.load_regime("press").model_dump()
    d["sanctions"][0]["ceiling"] = None
    d["sanctions"][0]["relist_below"] = None  # the relisting bar needs the lifetime mark
    return simulate(
        tmp_path_factory,
        "noceiling",
        regime=d,
        population=10_000,
        days=120,
        overrides=CEILING_RATES,
    )


def after_first_listing(run, sanction):
    """Rows of each citizen from their first start of ``sanction`` on, in id order."""
    led = run.ledger(
        f"citizen IN (SELECT citizen FROM ledger WHERE kind = 'sanction_start' "
        f"AND sanction = '{sanction}')"
    )
    first = led[(led["kind"] == "sanction_start") & (led["sanction"] == sanction)]
    first = first.groupby("citizen")["id"].min()
    return led[led["id"] >= first.reindex(led["citizen"]).to_numpy()]


SCORED = (
    "record",
    "ceiling",
    "refund",
    "sanction_start",
    "sanction_renew",
    "sanction_end",
    "denied",
)


def test_ceiling_caps_the_score_for_life_after_a_blacklist(ceiling_run):
    rows = after_first_listing(ceiling_run, "blacklist")
    assert rows["citizen"].nunique() > 40
    scored = rows[rows["kind"].isin(SCORED)]
    assert scored["score_after"].max() <= 1049
    # the cap did bite: records that would have gone above it were clamped to it
    rec = scored[scored["kind"] == "record"]
    clamped = rec[(rec["rule"] == "buy_domestic") & (rec["score_before"] + 200 > 1049)]
    assert len(clamped) > 10
    assert (clamped["score_after"] == 1049).all()
    c = ceiling_run.citizens
    listed = set(rows["citizen"])
    assert set(c.loc[c["permanent"], "citizen"]) == listed
    assert c.loc[c["permanent"], "score"].max() <= 1049
    assert c.loc[~c["permanent"], "score"].max() > 1049


def test_without_ceiling_listed_citizens_climb_back(no_ceiling_run):
    rows = after_first_listing(no_ceiling_run, "blacklist")
    assert rows["citizen"].nunique() > 40
    scored = rows[rows["kind"].isin(SCORED)]
    assert scored["score_after"].max() > 1049
    assert not no_ceiling_run.citizens["permanent"].any()


def test_ceiling_applies_only_to_citizens_of_the_sanction_that_sets_it(tmp_path_factory):
    # defaulter is permanent but has no ceiling; only blacklist has one (1049)
    run = simulate(
        tmp_path_factory,
        "ceilmix",
        population=5_000,
        days=90,
        overrides=[
            "sanctions.defaulter.permanent=true",
            "behaviours.debt_default.rate=0.002",
            "rules.buy_domestic.delta=50",
        ],
    )
    rows = after_first_listing(run, "defaulter")
    black = set(run.ledger("kind = 'sanction_start' AND sanction = 'blacklist'")["citizen"])
    rec = rows[(rows["kind"] == "record") & ~rows["citizen"].isin(black)]
    delta = {r.key: r.delta for r in run.regime().rules}
    expected = np.clip(rec["score_before"] + rec["rule"].map(delta), 0, 1300)
    assert len(rec) > 100
    # every record moves the score of a defaulter by the rule's delta, clamped to [0, 1300]
    assert (rec["score_after"] == expected).all()


PERMANENT = [
    "sanctions.blacklist.permanent=true",
    "sanctions.blacklist.duration=30",  # several reviews within the run
    *CEILING_RATES,  # listed citizens climb back above the blacklist tier
]


def test_permanent_sanction_renews_and_never_ends(tmp_path_factory):
    run = simulate(
        tmp_path_factory,
        "perm",
        population=5_000,
        days=90,
        overrides=[*PERMANENT, "sanctions.blacklist.redress.accept=0"],
    )
    led = run.ledger("sanction = 'blacklist' AND kind LIKE 'sanction_%'")
    assert (led["kind"] == "sanction_start").sum() > 15
    assert (led["kind"] == "sanction_renew").sum() > 25
    assert (led["kind"] == "sanction_end").sum() == 0
    c = run.citizens
    ever = set(led.loc[led["kind"] == "sanction_start", "citizen"])
    assert set(c.loc[c["sanction_blacklist"], "citizen"]) == ever
    # renewal is unconditional: some were renewed with a score back in the normal tier
    renew = led[led["kind"] == "sanction_renew"]
    assert (renew["score_after"] >= 850).any()


def test_permanent_sanction_is_not_lifted_by_redress(tmp_path_factory):
    run = simulate(
        tmp_path_factory,
        "permredress",
        population=5_000,
        days=90,
        overrides=[
            *PERMANENT,
            "sanctions.blacklist.redress.comply=1",
            "sanctions.blacklist.redress.accept=1",
        ],
    )
    assert not run.ledger("kind = 'redress_accepted' AND sanction = 'blacklist'").empty
    assert run.ledger("kind = 'sanction_end' AND sanction = 'blacklist'").empty


# --------------------------------------------------------------------------- redress
def redress_run(tmp_path_factory, accept):
    # critical posts 4x as frequent: ~5,000 x 80% adults x 0.002 x 0.8 x 60 days = ~380
    return simulate(
        tmp_path_factory,
        f"redress{accept}",
        population=5_000,
        days=60,
        overrides=[
            "behaviours.critical_post.rate=0.002",
            f"rules.critical_post.redress.accept={accept}",
            "rules.critical_post.redress.comply=1",
        ],
    )


def test_rule_redress_refunds_only_when_accepted(tmp_path_factory):
    for accept in (0, 1):
        run = redress_run(tmp_path_factory, accept)
        led = run.ledger("rule = 'critical_post'")
        kinds = led["kind"].value_counts()
        assert kinds.get("record", 0) > 100
        assert kinds["redress_demand"] == kinds["record"]  # a demand for every record
        assert kinds["redress_complied"] > 50
        refunds = led[led["kind"] == "refund"]
        if accept == 0:
            assert refunds.empty
            assert kinds.get("redress_accepted", 0) == 0
            assert kinds["redress_rejected"] == kinds["redress_complied"]
        else:
            assert kinds.get("redress_rejected", 0) == 0
            assert kinds["redress_accepted"] == kinds["redress_complied"] == len(refunds)
            # each refund gives back what its record took (+50), short of the score bounds
            rec = led[led["kind"] == "record"].set_index("id")
            took = rec["delta"].reindex(refunds["cause"].astype(np.int64)).to_numpy()
            assert (refunds["delta"].to_numpy() <= -took).all()
            assert (refunds["delta"] == 50).mean() > 0.95
            assert (refunds["score_after"] - refunds["score_before"] == refunds["delta"]).all()


def test_accepted_repayment_ends_a_defaulter_listing_after_the_delay(tmp_path_factory):
    run = simulate(
        tmp_path_factory,
        "repay",
        population=5_000,
        days=120,
        overrides=[
            "behaviours.debt_default.rate=0.002",
            "sanctions.defaulter.redress.comply=1",
            "sanctions.defaulter.redress.respond_days=20",
        ],
    )
    delay = run.regime().sanctions[1].redress.delay
    assert delay == 3
    led = run.ledger("sanction = 'defaulter'")
    acc = led[led["kind"] == "redress_accepted"]
    end = led[led["kind"] == "sanction_end"]
    assert len(acc) > 100
    # no listing reaches its 365-day expiry in 120 days: every end follows a repayment
    ends = end.groupby("citizen")["day"].apply(list)
    for cid, day in zip(acc["citizen"], acc["day"]):
        if day + delay < run.manifest["days"]:
            assert day + delay in ends.get(cid, []), (cid, day)
    assert len(end) == int((acc["day"] + delay < run.manifest["days"]).sum())
    c = run.citizens.set_index("citizen")
    delisted = acc.loc[acc["day"] + delay < run.manifest["days"], "citizen"]
    relisted = set(
        led.loc[(led["kind"] == "sanction_start"), "citizen"]
        .value_counts()
        .loc[lambda s: s > 1]
        .index
    )
    assert not c.loc[[x for x in delisted if x not in relisted], "sanction_defaulter"].any()


# --------------------------------------------------------------------------- attempts
@pytest.fixture(scope="module")
def attempts_run(tmp_path_factory):
    # every restricted adult tries to fly every day (365 attempts a year, probability 1)
    return simulate(
        tmp_path_factory,
        "attempts",
        population=10_000,
        days=90,
        overrides=[
            *SPILL_RATES,
            "privileges.flight.attempts_urban=365",
            "privileges.flight.attempts_rural=365",
            "privileges.private_school.attempts_urban=100",
            "privileges.private_school.attempts_rural=100",
        ],
    )


def justify_denials(run):
    """For each denied row: was it denied by the citizen's own sanction, or by a relative's."""
    regime = run.regime()
    own_priv = {s.name: set(s.privileges) for s in regime.sanctions}
    spill_priv = {s.name: s.spillover for s in regime.sanctions}
    c = run.citizens.set_index("citizen")
    household = c["household"].to_dict()
    child = (c["age_band"] == CHILD).to_dict()
    rows = sanction_rows(run).sort_values("id")
    active: dict[int, set] = defaultdict(set)
    members: dict[int, set] = defaultdict(set)
    spill_flag: dict[int, bool] = defaultdict(bool)
    out = []
    for r in rows.itertuples():
        cid = r.citizen
        if r.kind in ("sanction_start", "sanction_renew"):
            active[cid].add(r.sanction)
            members[household[cid]].add(cid)
        elif r.kind == "sanction_end":
            active[cid].discard(r.sanction)
        elif r.kind == "spillover_start":
            spill_flag[cid] = True
        elif r.kind == "spillover_end":
            spill_flag[cid] = False
        else:
            p = r.privilege
            own = any(p in own_priv[k] for k in active[cid])
            relative = False
            for m in members[household[cid]] - {cid}:
                for k in active[m]:
                    sp = spill_priv[k]
                    if p in sp.get("household", []) or (child[cid] and p in sp.get("children", [])):
                        relative = True
            out.append((cid, p, r.day, own, relative, spill_flag[cid], child[cid]))
    return pd.DataFrame(
        out, columns=["citizen", "privilege", "day", "own", "relative", "spill_flag", "child"]
    )


def test_denied_attempts_only_under_a_sanction_denying_the_privilege(attempts_run):
    d = justify_denials(attempts_run)
    assert len(d) > 1000
    assert (d["own"] | d["relative"]).all()
    by_family = d[~d["own"]]
    assert len(by_family) > 0
    assert by_family["spill_flag"].all()
    assert by_family["child"].all() and (by_family["privilege"] == "private_school").all()
    # flight is attempted with probability 1 a day: every restricted adult is denied daily,
    # so the daily denials equal the restricted adults that day (exact)
    g = attempts_run.groups
    adults = g[(g["dimension"] == "age_band") & (g["group"] != CHILD)]
    restricted_adults = adults.groupby("day")["restricted"].sum().to_numpy()
    np.testing.assert_array_equal(
        attempts_run.metrics["denied_flight"].to_numpy(), restricted_adults
    )
    assert restricted_adults.max() > 50


def test_no_attempts_no_denials(tmp_path_factory):
    d = credsim.load_regime("press").model_dump()
    for p in d["privileges"]:
        p["attempts_urban"] = p["attempts_rural"] = 0.0
    run = simulate(
        tmp_path_factory, "noattempts", regime=d, population=10_000, days=60, overrides=SPILL_RATES
    )
    m = run.metrics
    assert m["restricted"].max() > 50
    assert run.ledger("kind = 'denied'").empty
    for p in d["privileges"]:
        assert (m[f"denied_{p['name']}"] == 0).all()
        assert (m[f"attempts_{p['name']}"] == 0).all()
    assert not run.citizens.filter(like="denied_").any().any()


# --------------------------------------------------------------------------- green lanes
def test_green_lanes_benefit_the_top_tiers(tmp_path_factory):
    run = simulate(
        tmp_path_factory,
        "green",
        regime="rongcheng",
        population=10_000,
        days=365,
        seed=2,
        ledger="none",
    )
    m = run.metrics
    top = (m["tier_aaa"] + m["tier_aa"]).to_numpy()  # green lane tier aa, and the tier above
    assert top[-1] > 20
    # benefits are Binomial(citizens in aa or above, 12/365) each day: expected sum(top)*12/365
    # (~360 here); +-5 sd of the Poisson-like total is the tolerance
    expected = top.sum() * 12 / 365
    assert abs(m["benefits"].sum() - expected) < 5 * np.sqrt(expected)
    assert m.loc[top == 0, "benefits"].sum() == 0


def test_green_lanes_give_nothing_when_the_tier_is_empty(tmp_path_factory):
    run = simulate(
        tmp_path_factory,
        "nogreen",
        regime="rongcheng",
        population=10_000,
        days=180,
        seed=2,
        ledger="none",
        # no rewarded acts: scores never rise from 1000 to tier aa (1030)
        overrides=["rules.heroic_act.delta=0", "rules.volunteering.delta=0"],
    )
    m = run.metrics
    assert (m["tier_aa"] == 0).all() and (m["tier_aaa"] == 0).all()
    assert m["benefits"].sum() == 0
    assert run.summary["benefits"] == 0


# --------------------------------------------------------------------------- transparency
def test_transparency_formula_direction():
    census = Census.from_facts()
    adapt = {}
    for t in ("secret", "published"):
        r = credsim.load_regime("press", [f'regime.transparency="{t}"'])
        adapt[t] = Compiled(r, census.provinces, census.groups).adapt
    inf, speech = KINDS.index("infraction"), KINDS.index("speech")
    # level 2 = own sanction: published rules deter infractions more, secret rules chill more
    assert adapt["published"][inf, 2] < adapt["secret"][inf, 2]
    assert adapt["secret"][speech, 2] < adapt["published"][speech, 2]


def transparency_run(tmp_path_factory, transparency):
    # tier normal from 980: a few recorded acts list a citizen, so many (~4% in 180 days) are
    # sanctioned and adaptation has something to act on
    return simulate(
        tmp_path_factory,
        f"tr{transparency}",
        population=10_000,
        days=180,
        seed=5,
        ledger="none",
        overrides=[f'regime.transparency="{transparency}"', "tiers.normal.min=980"],
    )


@pytest.fixture(scope="module")
def secret(tmp_path_factory):
    return transparency_run(tmp_path_factory, "secret")


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    return transparency_run(tmp_path_factory, "published")


def test_transparency_changes_adaptation_in_the_documented_direction(secret, published):
    s, p = secret.summary, published.summary
    assert s["ever_sanctioned"] > 200 and p["ever_sanctioned"] > 200
    # seen with seeds 1, 2, 3 and 5: infractions 0.91-0.93 secret vs 0.64-0.67 published,
    # posts 0.49-0.53 secret vs 0.64-0.68 published; a margin of 0.05 keeps the check about
    # direction, not noise
    assert p["infractions_vs_baseline"] < s["infractions_vs_baseline"] - 0.05
    assert s["posts_vs_baseline"] < p["posts_vs_baseline"] - 0.05
    # both still cut below baseline
    assert s["infractions_vs_baseline"] < 1 and p["posts_vs_baseline"] < 1


# --------------------------------------------------------------------------- adaptation
def test_adaptation_off_keeps_acts_at_baseline(tmp_path_factory, secret):
    run = simulate(
        tmp_path_factory,
        "noadapt",
        population=5_000,
        days=120,
        seed=5,
        ledger="none",
        overrides=["adaptation.enabled=false", "tiers.normal.min=980"],
    )
    m = run.metrics
    assert m["sanctions_started"].sum() > 50
    for b in run.regime().behaviours:
        np.testing.assert_array_equal(m[f"acts_{b.name}"], m[f"baseline_acts_{b.name}"])
    assert (m["adapted_own"] == 0).all() and (m["adapted_household"] == 0).all()
    assert run.summary["posts_vs_baseline"] == 1.0
    assert run.summary["infractions_vs_baseline"] == 1.0
    # with adaptation on, the same settings fall below baseline
    on = secret.metrics
    assert on["acts_critical_post"].sum() < on["baseline_acts_critical_post"].sum()
