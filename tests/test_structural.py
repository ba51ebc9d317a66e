"""The structural model of blocked purchases: schedules, emulator, recovery, validation."""

from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np
import pytest

import credsim
from credsim import forecasts as fc
from credsim import structural as st
from credsim.calibration import Targets, load_targets, target_days

N, DAYS = 40_000, 2108
TRUTH = st.Structure(
    inflow_early=8.0,
    inflow_late=16.0,
    switch_day=800.0,
    comply=0.6,
    repay_days=300.0,
    flight=6.0,
    flight_2018=12.0,
    rail=2.0,
    rail_2018=1.0,
)

# the truth's listing hazard is raised above the national range, for counts in the thousands
WIDE = {"inflow_early": (0.5, 40.0), "inflow_late": (0.5, 40.0)}


def test_schedules_carry_the_structure():
    s = TRUTH
    h = st.hazard_schedule(s)
    assert h == [[0, 8.0], [800, 8.0], [860, 16.0]]
    air = st.travel_schedule(2.0, 3.0, "air")
    cut = (date(2018, 5, 1) - date(2013, 10, 1)).days
    f = dict((d, v) for d, v in air)
    assert f[cut] / f[cut - 1] == pytest.approx(1.5, rel=1e-3)  # the 2018 rules
    # before the cut: the propensity times the air traffic index (2019 = 1)
    days = [d for d, _ in air if d < cut - 1]
    idx = dict(st.traffic_index("air"))
    assert all(f[d] == pytest.approx(2.0 * idx[d], rel=1e-4) for d in days)
    assert idx[(date(2015, 7, 1) - date(2013, 10, 1)).days] == pytest.approx(436.18 / 659.9)


def test_traffic_figures_have_sources():
    for mode in ("air", "rail"):
        rows = credsim.facts.china()["traffic"][mode]
        assert {r["year"] for r in rows} >= set(range(2014, 2020))
        assert all(r["source"] and r["passengers"] > 0 for r in rows)
        unconfirmed = [r for r in rows if not r["confirmed"]]
        assert all("NOT CONFIRMED" in r["source"] for r in unconfirmed)


def test_baselines_on_a_straight_line_are_exact():
    known = [(100, 1000.0), (200, 2000.0)]
    b = fc.baselines(known, 300)
    assert b["line_from_start"] == pytest.approx(3000.0)
    assert b["last_segment"] == pytest.approx(3000.0)
    assert b["constant_growth"] == pytest.approx(4000.0)  # doubling every 100 days
    assert math.isnan(fc.baselines(known[:1], 300)["last_segment"])


def _truth_targets(m, population: int) -> Targets:
    """Targets from a run's own metrics: cumulative listings, delistings, denied flights and
    trains at half-yearly dates, and one month's flows."""
    start = date(2013, 10, 1)
    items = []
    for metric in (
        "started_defaulter_list",
        "ended_defaulter_list",
        "denied_flight",
        "denied_rail",
    ):
        for d in range(450, DAYS, 180):
            items.append(
                {
                    "name": f"{metric}-{d}",
                    "date": (start + timedelta(days=d)).isoformat(),
                    "metric": metric,
                    "kind": "cumulative",
                    "value": float(m[metric][: d + 1].sum()),
                    "tolerance": 0.05,
                    "source": "synthetic truth",
                }
            )
    return Targets.model_validate(
        {
            "meta": {"name": "truth", "start_date": "2013-10-01", "population": population},
            "targets": items,
        }
    )


@pytest.fixture(scope="module")
def truth_and_probe():
    """A simulation with known structure (scale 1) and a probe of two other seeds."""
    from credsim.calibration import _simulate

    base = st.regime_of(credsim.load_regime("national-calibrated"), TRUTH)
    m = _simulate((base.model_dump(mode="json"), N, DAYS, 5))
    t = _truth_targets(m, N)
    probe = st.run_probe(base, DAYS, N, N, replicates=2, seed=300, workers=2, boost=10.0)
    return m, t, probe


def test_emulator_matches_the_simulation(truth_and_probe):
    """The emulator at the true structure reproduces the simulated counts: cumulative
    listings, delistings and denied attempts at the last day within 5% (their Poisson sd
    at this size is under 2%, the probe's under 1.5%)."""
    m, t, probe = truth_and_probe
    em = st.Emulator.from_probe(probe)
    flows = em.flows(TRUTH)
    for col in ("started_defaulter_list", "ended_defaulter_list", "denied_flight", "denied_rail"):
        sim, emu = m[col].sum(), flows[col].sum()
        assert sim > 2000, col
        assert emu == pytest.approx(sim, rel=0.05), col


def test_fit_recovers_known_structure(truth_and_probe):
    """Fit the nine parameters to the truth's own figures; recover each within its stated
    tolerance: 10% on the propensities and the early hazard (counts of a few thousand,
    about 2% noise each), 20% on the late hazard (it trades off against the switch date and
    the saturation of a list that holds a sixth of the adults), 15% on the repayment share
    and 30% on the time to repay (fitted from delistings alone)."""
    m, t, probe = truth_and_probe
    em = st.Emulator.from_probe(probe)
    got, _ = st.fit(em, t, check_population=N, bounds=WIDE)
    tol = {
        "inflow_early": 0.1,
        "inflow_late": 0.2,
        "switch_day": 0.1,
        "comply": 0.15,
        "repay_days": 0.3,
        "flight": 0.12,
        "flight_2018": 0.12,
        "rail": 0.12,
        "rail_2018": 0.15,
    }
    for name, rel in tol.items():
        assert getattr(got, name) == pytest.approx(getattr(TRUTH, name), rel=rel), (name, got)


def test_validation_forecasts_a_structural_truth(truth_and_probe):
    """On series the model generated, its rolling-origin forecasts of the listed stock beat
    the naive ones at every horizon of six months or more and are within 5% 12 months ahead;
    from the last origin (after the 2018 rules, which no earlier origin can foresee) its
    forecasts of blocked purchases are within 5% too."""
    m, t, probe = truth_and_probe
    df = fc.validate(probe, t, check_population=N, bounds=WIDE)
    assert set(df["origin"]) == set(fc.ORIGINS)
    stock = df[df["metric"].isin(["started_defaulter_list", "ended_defaulter_list"])]
    summary = fc.validation_summary(stock).set_index("horizon")
    for h in ("6-12 months", "12-18 months", "18-36 months"):
        row = summary.loc[h]
        assert row["forecasts"] > 0
        assert row["model"] < min(row[x] for x in fc.METHODS[1:]), (h, row)
    assert summary.loc["12 months (9-15)", "model"] < 0.05
    last = df[(df["origin"] == fc.ORIGINS[-1]) & df["metric"].str.startswith("denied_")]
    assert len(last) >= 2
    assert last["error_model"].abs().max() < 0.05, last
    # the interval holds the forecast, does not fall below the figure a cumulative forecast
    # starts from, and widens with the increment it forecasts
    assert ((df["model_low"] <= df["model"]) & (df["model"] <= df["model_high"])).all()
    assert (df["model_low"] > 0).all()
    for _, g in df[df["kind"] == "cumulative"].groupby(["origin", "metric"]):
        g = g.sort_values("horizon_months")
        assert (np.diff((g["model_high"] - g["model_low"]).to_numpy()) >= 0).all(), g


def test_increments_add_up_to_the_cumulative_figures():
    """Each cumulative series becomes its first figure and the flows between successive
    figures; they add up to the last figure, and a figure that does not grow is dropped."""
    t = st.fitting_targets(load_targets("national"))
    inc = fc.increments(t)
    days = dict(zip((x.name for x in inc.targets), target_days(inc)))
    for metric in ("denied_flight", "denied_rail", "started_defaulter_list"):
        cum = sorted(
            (x for x in t.targets if x.metric == metric and x.kind == "cumulative"),
            key=lambda x: days[x.name][1],
        )
        parts = [x for x in inc.targets if x.metric == metric and x.name in {c.name for c in cum}]
        assert sum(x.value for x in parts) == pytest.approx(cum[-1].value)
        flows = sorted((x for x in parts if x.kind == "flow"), key=lambda x: days[x.name][1])
        assert len(flows) == len(cum) - 1
        for a, b in zip(cum, flows):  # each flow starts the day after the figure before it
            assert days[b.name][0] == days[a.name][1] + 1
    flat = Targets(
        meta=t.meta,
        targets=[
            t.targets[0],
            t.targets[0].model_copy(update={"name": "same", "date": "2016-06-30"}),
        ],
    )
    assert [x.kind for x in fc.increments(flat).targets] == ["cumulative"]


def test_forecast_starts_from_the_last_published_figure(truth_and_probe):
    """From an origin, a cumulative forecast is the series' last published figure on or
    before it plus the model's increment since that figure; before the origin, and for
    flows, it is the model's own figure."""
    m, t, probe = truth_and_probe
    em = st.Emulator.from_probe(probe)
    days = target_days(t)
    o_day = 1000
    value, step = fc.forecast(em, TRUTH, t, o_day)
    curve = st.predict(em, TRUTH, t)
    for i, x in enumerate(t.targets):
        if days[i][1] <= o_day:
            assert value[i] == curve[i]
            continue
        d0, y0 = max(
            (days[j][1], y.value)
            for j, y in enumerate(t.targets)
            if y.metric == x.metric and days[j][1] <= o_day
        )
        anchor = [
            j for j in range(len(t.targets)) if days[j][1] == d0 and t.targets[j].metric == x.metric
        ]
        assert value[i] - step[i] == pytest.approx(y0)
        assert step[i] == pytest.approx(curve[i] - curve[anchor[0]], rel=1e-9)


def test_fitting_ignores_validation_targets():
    t = load_targets("national")
    roles = {x.name: x.role for x in t.targets}
    assert roles["repaid-in-2018"] == "validation"
    fitted = st.fitting_targets(t)
    assert "repaid-in-2018" not in {x.name for x in fitted.targets}
    assert len(fitted.targets) == len(t.targets) - 1
    assert max(d for _, d in target_days(t)) == 2107


def test_national_calibrated_is_the_structure():
    """The shipped preset's schedules are the structure's: a three-knot listing hazard and
    travel schedules that are propensity x traffic index."""
    r = credsim.load_regime("national-calibrated")
    beh = next(b for b in r.behaviours if b.name == "debt_default")
    assert len(beh.schedule) == 3
    flight = next(p for p in r.privileges if p.name == "flight")
    idx = dict(st.traffic_index("air"))
    ratios = [f / idx[d] for d, f in flight.schedule if d in idx and d < 1672]
    assert np.ptp(ratios) < 1e-3 * max(ratios)
