"""The structural model of blocked purchases: listed stock, travel propensity, traffic growth.

Nine parameters, each a quantity with a meaning and a range from the facts
(``credsim/facts/china.toml``), replace free schedule knots:

- ``inflow_early``, ``inflow_late``: the listing hazard of court defaulters (a factor on
  ``debt_default``'s base rate, about 282,000 new natural persons a month, NPCIC December
  2018) before and after the list's scale-up, a 60-day ramp that starts on ``switch_day``;
- ``comply``: the share of listed defaulters who ever repay (delisting by performance), and
  ``repay_days``: their mean time to repay;
- ``flight``, ``rail``: the travel propensity of listed persons, a factor on the
  population's attempt rates, which grows with national air and rail passenger totals by
  year (``traffic`` in the facts, index 1 in 2019); ``flight_2018``, ``rail_2018``: the same
  factor from 2018-05-01, when the opinions on restricting seriously untrustworthy persons
  from flights (FaGaiCaiJin (2018) No.385) and trains took effect and other agencies' lists
  joined the court list.

The engine runs the model through parameters it already has: a schedule on
``debt_default``, the defaulter list's ``redress`` (``comply``, ``respond_days``), and the
privileges' schedules (propensity times traffic index). Fitting goes through an emulator
built from a few probe runs at unit factors: new listings are the probe's listings per unit
hazard times the hazard; delistings are the compliers' geometric waiting times (the engine's
own rule) convolved with the listings; the stock is their difference; denied attempts are the
stock times the probe's attempts per listed person-day times the schedule factor. Every term
is linear in counts the engine produces, so the emulator is unbiased where the probe is; a
test checks it against a simulation. The objective weighs residuals through the figures'
error covariance: each figure's tolerance and the sampling variance of the probe (scaled to
the real population) and of a scaled-down checking run, plus the discrepancy a cumulative
series accumulates between its figures (``covariance``). The listed stock is fitted to the
list's own figures, the travel propensities given it. Uncertainty: a bootstrap over probe
replicates (seeds), with the published figures redrawn with that covariance. Forecasts from
rolling origins (``validate``) start from the last published figure and carry 90% intervals.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import asdict, dataclass, fields, replace
from datetime import date

import numpy as np

from credsim.calibration import Parameter, Targets, _to_date, target_days, with_values
from credsim.regime.schema import Regime
from credsim.target_errors import covariance, sigma, whitening

RAMP = 60  # days over which the listing hazard moves from its early to its late level
COURT_DELAY = 30  # the court source's delay: a listing starts 30 days after the default
RULES_2018 = "2018-05-01"  # FaGaiCaiJin (2018) No.385 and the rail opinions took effect
LIFT_DELAY = 3  # deleted within 3 working days of performance (the preset's redress delay)


@dataclass(frozen=True)
class Structure:
    """The structural parameters (see the module docstring for their meaning)."""

    inflow_early: float = 0.4
    inflow_late: float = 1.0
    switch_day: float = 850.0
    comply: float = 0.8
    repay_days: float = 180.0
    flight: float = 5.0
    flight_2018: float = 10.0
    rail: float = 0.5
    rail_2018: float = 0.3


# bounds of each parameter, from the facts (see docs/calibration-fit.md for the reasoning)
BOUNDS = {
    "inflow_early": (0.05, 3.0),  # base rate = 282,000 a month (NPCIC 2018-12)
    "inflow_late": (0.05, 3.0),
    "switch_day": (400.0, 1400.0),  # 2014-11 to 2017-08: between the first two list figures
    "comply": (0.02, 0.99),  # a share
    "repay_days": (20.0, 3000.0),  # 'about 20% performed' within the list's first two years
    "flight": (0.0, 200.0),
    "flight_2018": (0.0, 200.0),
    "rail": (0.0, 50.0),
    "rail_2018": (0.0, 50.0),
}

UNITS = {
    "inflow_early": "x base listing hazard",
    "inflow_late": "x base listing hazard",
    "switch_day": "day (0 = 2013-10-01)",
    "comply": "share of listed who repay",
    "repay_days": "mean days to repay",
    "flight": "x population flight rate at 2019 traffic",
    "flight_2018": "x population flight rate at 2019 traffic",
    "rail": "x population rail rate at 2019 traffic",
    "rail_2018": "x population rail rate at 2019 traffic",
}


def _day(text: str, start: str) -> int:
    return (_to_date(text, end_of_month=False) - _to_date(start, end_of_month=False)).days


def traffic_index(mode: str, start: str = "2013-10-01") -> list[tuple[int, float]]:
    """[(day, index)] at mid-year of each year in the facts' ``traffic.<mode>`` (2019 = 1)."""
    from credsim.facts import china

    rows = china()["traffic"][mode]
    ref = next(r["passengers"] for r in rows if r["year"] == 2019)
    out = []
    for r in rows:
        d = (date(r["year"], 7, 1) - _to_date(start, end_of_month=False)).days
        if d >= 0:
            out.append((d, r["passengers"] / ref))
    return out


def travel_schedule(
    pre: float, post: float, mode: str, start: str = "2013-10-01"
) -> list[list[float]]:
    """The privilege schedule: ``pre`` (then ``post`` from 2018-05-01) times the traffic index."""
    knots = traffic_index(mode, start)
    cut = _day(RULES_2018, start)
    days = [d for d, _ in knots]
    idx = [v for _, v in knots]
    out = [[d, pre * v] for d, v in knots if d < cut - 1]
    at = float(np.interp(cut - 1, days, idx))
    out += [[cut - 1, pre * at], [cut, post * at]]
    out += [[d, post * v] for d, v in knots if d > cut]
    return [[int(d), round(float(f), 5)] for d, f in out]


def hazard_schedule(s: Structure) -> list[list[float]]:
    """The ``debt_default`` schedule: early level, a 60-day ramp from ``switch_day``, late."""
    sw, early, late = (
        int(round(s.switch_day)),
        round(float(s.inflow_early), 5),
        round(float(s.inflow_late), 5),
    )
    return [[0, early], [sw, early], [sw + RAMP, late]]


# the regime parameters a structure is written into: the listing hazard's schedule, the
# defaulters' compliance and its delay, and the flight and rail attempt schedules
STRUCTURE_PARAMETERS = [
    Parameter("behaviours.debt_default.schedule", 0, 1),
    Parameter("sanctions.defaulter_list.redress.comply", 0, 1),
    Parameter("sanctions.defaulter_list.redress.respond_days", 0, 1),
    Parameter("privileges.flight.schedule", 0, 1),
    Parameter("privileges.rail.schedule", 0, 1),
]


def regime_of(base: Regime, s: Structure) -> Regime:
    """``base`` with the structure written into its existing parameters."""
    start = base.regime.start_date or "2013-10-01"
    return with_values(
        base,
        STRUCTURE_PARAMETERS,
        [
            hazard_schedule(s),
            round(s.comply, 4),
            round(s.repay_days, 1),
            travel_schedule(s.flight, s.flight_2018, "air", start),
            travel_schedule(s.rail, s.rail_2018, "rail", start),
        ],
    )


def probe_regime(
    base: Regime, comply: float = 0.8, repay_days: float = 180.0, boost: float = 1.0
) -> Regime:
    """``base`` at unit factors (the emulator's probe): constant attempt rates, a constant
    listing hazard ``boost`` times the base rate (more listings per probe, less noise)."""
    return with_values(
        base,
        STRUCTURE_PARAMETERS,
        [[[0, boost]], comply, repay_days, [[0, 1.0]], [[0, 1.0]]],
    )


PROBE_COLUMNS = (
    "started_defaulter_list",
    "sanctioned_defaulter_list",
    "denied_flight",
    "denied_rail",
)


@dataclass
class Probe:
    """Per-day counts of probe replicates at unit factors, scaled to the real population.

    ``runs`` is [replicate, column, day] for ``PROBE_COLUMNS``; ``scale`` is real population
    over simulated population.
    """

    runs: np.ndarray
    scale: float
    population: int
    boost: float = 1.0

    def resample(self, rng: np.random.Generator) -> Probe:
        """A bootstrap copy: replicates drawn with replacement."""
        pick = rng.integers(0, self.runs.shape[0], self.runs.shape[0])
        return Probe(self.runs[pick], self.scale, self.population, self.boost)


def run_probe(
    base: Regime,
    days: int,
    population: int,
    real_population: int,
    replicates: int = 4,
    seed: int = 100,
    workers: int = 2,
    boost: float = 1.0,
) -> Probe:
    """Simulate the probe ``replicates`` times (seeds ``seed``, ``seed + 1``, ...)."""
    from concurrent.futures import ProcessPoolExecutor

    from credsim.calibration import _simulate

    reg = probe_regime(base, boost=boost).model_dump(mode="json")
    jobs = [(reg, population, days, seed + i) for i in range(replicates)]
    if workers > 1 and replicates > 1:
        with ProcessPoolExecutor(min(workers, replicates)) as pool:
            results = list(pool.map(_simulate, jobs))
    else:
        results = [_simulate(j) for j in jobs]
    runs = np.array([[r[c].astype(np.float64) for c in PROBE_COLUMNS] for r in results])
    return Probe(runs, real_population / population, population, boost)


@dataclass
class Emulator:
    """Expected per-day counts of the structural model, from a probe."""

    per_hazard: np.ndarray  # new listings per day per unit hazard factor, nobody listed
    saturation: float  # relative fall of that rate per listed share of the population
    population: float  # the real population
    per_listed: dict[str, float]  # denied attempts per listed person-day at unit factor
    rel_var: dict[str, float]  # relative sampling variance of these coefficients
    days: int
    start: str

    @classmethod
    def from_probe(cls, probe: Probe, start: str = "2013-10-01") -> Emulator:
        """Coefficients from the probe: listings per day per unit hazard as a straight line
        in the listed share a court delay earlier (the listed cannot be listed again, and
        listing deters their households and province), attempts per listed person-day
        (ratio of totals)."""
        mean = probe.runs.mean(axis=0) * probe.scale
        days = mean.shape[1]
        d = np.arange(days)
        live = d >= COURT_DELAY
        starts, stock = mean[0] / probe.boost, mean[1]
        total = probe.scale * probe.population
        share = np.concatenate([np.zeros(COURT_DELAY), stock[:-COURT_DELAY]]) / total
        x = np.stack([np.ones(int(live.sum())), -share[live]], axis=1)
        alpha, ak = np.linalg.lstsq(x, starts[live], rcond=None)[0]
        per_hazard = np.where(live, max(alpha, 0.0), 0.0)
        saturation = float(np.clip(ak / alpha, 0.0, 50.0)) if alpha > 0 else 0.0
        n_starts = probe.runs[:, 0].sum()
        per_listed, rel_var = {}, {"listing": 1.0 / max(n_starts, 1.0)}
        for i, mode in ((2, "flight"), (3, "rail")):
            per_listed[mode] = float(mean[i].sum() / max(stock.sum(), 1e-9))
            rel_var[mode] = 2.0 / max(probe.runs[:, i].sum(), 1.0)  # overdispersed about 2x
        return cls(per_hazard, saturation, total, per_listed, rel_var, days, start)

    def hazard(self, s: Structure) -> np.ndarray:
        """The listing-hazard factor on each day (the engine's interpolation, unrounded)."""
        d = np.arange(self.days, dtype=np.float64)
        ramp = np.clip((d - s.switch_day) / RAMP, 0.0, 1.0)
        return s.inflow_early + (s.inflow_late - s.inflow_early) * ramp

    def _travel_unit(self, mode: str, traffic: str) -> tuple[np.ndarray, np.ndarray]:
        """Daily schedule factors at unit propensity before and from the 2018 rules (the
        schedule is linear in the two propensities)."""
        cache = self.__dict__.setdefault("_unit", {})
        if mode not in cache:
            cache[mode] = (
                schedule_values(travel_schedule(1.0, 0.0, traffic, self.start), self.days),
                schedule_values(travel_schedule(0.0, 1.0, traffic, self.start), self.days),
            )
        return cache[mode]

    def flows(self, s: Structure) -> dict[str, np.ndarray]:
        """Expected daily listings, delistings, end-of-day stock, denied flights and trains."""
        key = tuple(getattr(s, k) for k in STOCK)
        memo = self.__dict__.setdefault("_memo", {})
        if key not in memo:
            memo.clear()
            memo[key] = self._stock(s)
        out = dict(memo[key])
        stock = out["sanctioned_defaulter_list"]
        for mode, traffic, pre, post in (
            ("flight", "air", s.flight, s.flight_2018),
            ("rail", "rail", s.rail, s.rail_2018),
        ):
            u_pre, u_post = self._travel_unit(mode, traffic)
            out[f"denied_{mode}"] = self.per_listed[mode] * (pre * u_pre + post * u_post) * stock
        return out

    def _stock(self, s: Structure) -> dict[str, np.ndarray]:
        """Expected daily listings, delistings and end-of-day stock."""
        from scipy.signal import lfilter

        h = self.hazard(s)
        shifted = np.concatenate([np.full(COURT_DELAY, h[0]), h[:-COURT_DELAY]])
        q = min(1.0, 1.0 / s.repay_days)
        lag = 1 + LIFT_DELAY
        n = self.days
        starts, ends, stock = np.zeros(n), np.zeros(n), np.zeros(n)
        zi = np.zeros(1)
        # day blocks of one court delay: a block's listings depend on the stock (listed
        # share) a delay earlier, known from the blocks before it
        for a in range(0, n, COURT_DELAY):
            b = min(a + COURT_DELAY, n)
            share = np.zeros(b - a)
            if a >= COURT_DELAY:
                share = stock[a - COURT_DELAY : b - COURT_DELAY] / self.population
            starts[a:b] = self.per_hazard[a:b] * shifted[a:b] * np.exp(-self.saturation * share)
            # compliers repay after a geometric wait w >= 1 (P = q(1-q)^(w-1)), delisted
            # 3 days on
            src = np.zeros(b - a)
            lo = max(a - lag, 0)
            if b - lag > lo:
                src[lo + lag - a :] = starts[lo : b - lag]
            y, zi = lfilter([q], [1.0, -(1.0 - q)], src, zi=zi)
            ends[a:b] = s.comply * y
            prev = stock[a - 1] if a else 0.0
            stock[a:b] = prev + np.cumsum(starts[a:b] - ends[a:b])
        return {
            "started_defaulter_list": starts,
            "ended_defaulter_list": ends,
            "sanctioned_defaulter_list": stock,
        }


def schedule_values(schedule: list, days: int) -> np.ndarray:
    """A schedule's factor on each day (the engine's piecewise-linear interpolation)."""
    return np.interp(np.arange(days), [k[0] for k in schedule], [k[1] for k in schedule])


def predict(em: Emulator, s: Structure, t: Targets) -> np.ndarray:
    """The targets' figures under the structure (real-population counts)."""
    f = em.flows(s)
    out = []
    for x, (first, last) in zip(t.targets, target_days(t)):
        col = f[x.metric]
        out.append(col[last] if x.kind == "level" else col[first : last + 1].sum())
    return np.array(out)


TRAVEL = ("flight", "flight_2018", "rail", "rail_2018")
STOCK = ("inflow_early", "inflow_late", "switch_day", "comply", "repay_days")


def _travel_fit(
    em: Emulator, s: Structure, t: Targets, w: np.ndarray, bounds: dict | None = None
) -> Structure:
    """The travel propensities given the stock: generalised least squares (they enter
    linearly), residuals weighed through the whitening matrix ``w``.
    Without a target a month past 2018-05-01 a mode's post-2018 factor equals its earlier one.
    """
    days = target_days(t)
    cut = _day(RULES_2018, em.start) + 30
    unit = replace(s, flight=1.0, flight_2018=0.0, rail=1.0, rail_2018=0.0)
    post = replace(s, flight=0.0, flight_2018=1.0, rail=0.0, rail_2018=1.0)
    a_pre, a_post = predict(em, unit, t), predict(em, post, t)
    values = {}
    for mode in ("flight", "rail"):
        rows = [i for i, x in enumerate(t.targets) if x.metric == f"denied_{mode}"]
        if not rows:
            values[mode], values[f"{mode}_2018"] = getattr(s, mode), getattr(s, f"{mode}_2018")
            continue
        wr = w[np.ix_(rows, rows)]  # a series' errors are independent of other series'
        y0 = wr @ np.array([t.targets[i].value for i in rows])
        a0 = wr @ np.stack([a_pre[rows], a_post[rows]], axis=1)
        tied = max(days[i][1] for i in rows) < cut
        if tied:
            a0 = a0.sum(axis=1, keepdims=True)
        hw = np.ones(len(rows))
        for _ in range(5):  # Huber weights (iteratively reweighted), as in the outer fit
            a, y = a0 * hw[:, None], y0 * hw
            v = np.linalg.lstsq(a, y, rcond=None)[0]
            if (v < 0).any():  # one non-negative coefficient: refit the other alone
                j = int(np.argmax(v))
                vj = max(float(np.linalg.lstsq(a[:, [j]], y, rcond=None)[0][0]), 0.0)
                v = np.zeros(v.size)
                v[j] = vj
            r = np.abs(a0 @ v - y0)
            hw = np.sqrt(np.where(r <= HUBER, 1.0, HUBER / np.maximum(r, 1e-12)))
        v = [float(v[0]), float(v[0])] if tied else [float(v[0]), float(v[1])]
        hi = (bounds or BOUNDS)[mode][1]
        values[mode], values[f"{mode}_2018"] = (min(float(x), hi) for x in v)
    return replace(s, **values)


# weak priors from the facts keep the delisting terms defined when few exits are published:
# 'about 20% of listed debtors performed' (SPC 2016) -> about a year to repay, half repaying
HUBER = 1.5  # residuals beyond 1.5 sd weigh linearly: one inconsistent figure cannot steer

PRIOR = {"comply": (0.5, 0.3), "log_repay_days": (math.log(365.0), 1.0)}


LIST_METRICS = ("started_defaulter_list", "ended_defaulter_list")


def fit(
    em: Emulator,
    t: Targets,
    start: Structure | None = None,
    check_population: int = 200_000,
    bounds: dict[str, tuple[float, float]] | None = None,
) -> tuple[Structure, float]:
    """The structure that best matches the targets (fit targets only) and its loss.

    Residuals are weighed through the figures' error covariance (``covariance``: each
    figure's own error, and within a cumulative series the discrepancy the model accumulates,
    so that successive figures of one series are not counted as independent measurements).
    The stock terms are fitted by bounded nonlinear least squares to the list's own figures
    (listings, delistings and their flows) where there are any; the travel propensities are
    then fitted by generalised least squares given that stock. Blocked purchases do not feed
    back into the stock: their per-listed rate moves in ways the model does not have (a
    burst when blocking began), and fitted jointly they bent the list to match it. The loss
    is Huber's (squared within 1.5 sd, linear beyond), so that a published figure at odds
    with its neighbours does not steer the whole fit.
    """
    bounds = {**BOUNDS, **(bounds or {})}
    t = fitting_targets(t)
    listed = [x for x in t.targets if x.metric in LIST_METRICS]
    if not listed or len(listed) == len(t.targets):
        return _fit_stock(em, t, start, check_population, bounds)
    s, _ = _fit_stock(em, Targets(meta=t.meta, targets=listed), start, check_population, bounds)
    w = whitening(t, sigma(t, em, check_population))
    s = _travel_fit(em, s, t, w, bounds)
    r = np.abs(w @ (predict(em, s, t) - np.array([x.value for x in t.targets])))
    return s, float(np.sum(np.where(r <= HUBER, r * r, 2 * HUBER * r - HUBER * HUBER)))


def _fit_stock(
    em: Emulator,
    t: Targets,
    start: Structure | None,
    check_population: int,
    bounds: dict[str, tuple[float, float]],
) -> tuple[Structure, float]:
    """The stock terms by bounded nonlinear least squares on ``t`` (with the travel
    propensities profiled out at every step where ``t`` has blocked purchases)."""
    from scipy.optimize import least_squares

    w = whitening(t, sigma(t, em, check_population))
    y = np.array([x.value for x in t.targets])
    s0 = start or Structure()

    def unpack(v: np.ndarray) -> Structure:
        return replace(
            s0,
            inflow_early=float(v[0]),
            inflow_late=float(v[1]),
            switch_day=float(v[2]),
            comply=float(v[3]),
            repay_days=math.exp(float(v[4])),
        )

    def residuals(v: np.ndarray) -> np.ndarray:
        s = _travel_fit(em, unpack(v), t, w, bounds)
        r = w @ (predict(em, s, t) - y)
        prior = [
            (v[3] - PRIOR["comply"][0]) / PRIOR["comply"][1],
            (v[4] - PRIOR["log_repay_days"][0]) / PRIOR["log_repay_days"][1],
        ]
        return np.concatenate([r, prior])

    lo = [bounds[k][0] for k in STOCK[:4]] + [math.log(bounds["repay_days"][0])]
    hi = [bounds[k][1] for k in STOCK[:4]] + [math.log(bounds["repay_days"][1])]
    # the scale-up must end before the last two listing figures, so that the late level
    # is measured by at least two of them, not extrapolated from one
    list_days = sorted(
        d for x, (_, d) in zip(t.targets, target_days(t)) if x.metric == "started_defaulter_list"
    )
    if len(list_days) >= 2:
        hi[2] = max(lo[2] + 1.0, min(hi[2], list_days[-2] - RAMP))
    # a first guess of the hazard from the listings: the last one over listings per unit
    lists = [
        (x.value, d)
        for x, (_, d) in zip(t.targets, target_days(t))
        if x.metric == "started_defaulter_list" and x.kind != "level"
    ]
    if lists and start is None:
        # the series' increments add up to its last cumulative figure
        value, d = sum(v for v, _ in lists), max(d for _, d in lists)
        level = value / max(float(em.per_hazard[: d + 1].sum()), 1e-9)
        guesses = [(0.6 * level, 1.3 * level)]
    else:
        guesses = [(s0.inflow_early, s0.inflow_late)]
    best = None
    # the switch makes the loss multimodal: a few starts
    switches = (700.0, 900.0, 1100.0) if start is None else (s0.switch_day,)
    for (early, late), sw in itertools.product(guesses, switches):
        x0 = [early, late, sw, s0.comply, math.log(s0.repay_days)]
        x0 = np.clip(x0, np.array(lo) + 1e-6, np.array(hi) - 1e-6)
        r = least_squares(
            residuals,
            x0,
            bounds=(lo, hi),
            x_scale=[0.3, 0.3, 200, 0.2, 0.5],
            loss="huber",
            f_scale=HUBER,
        )
        if best is None or r.cost < best.cost:
            best = r
    s = _travel_fit(em, unpack(best.x), t, w, bounds)
    return s, float(2 * best.cost)


def fitting_targets(t: Targets) -> Targets:
    """The targets marked for fitting (``role = "fit"``), without the validation-only ones."""
    keep = [x for x in t.targets if x.role == "fit"]
    return Targets(meta=t.meta, targets=keep)


def until(t: Targets, origin: str) -> Targets | None:
    """The targets dated on or before ``origin`` (None when there are none)."""
    cut = _to_date(origin)
    keep = [x for x in t.targets if _to_date(x.date) <= cut]
    return Targets(meta=t.meta, targets=keep) if keep else None


def bootstrap(
    probe: Probe,
    t: Targets,
    best: Structure,
    draws: int = 100,
    seed: int = 7,
    check_population: int = 200_000,
    bounds: dict[str, tuple[float, float]] | None = None,
) -> list[Structure]:
    """Refits on bootstrap copies: probe replicates resampled (seeds), and the published
    figures redrawn around their values with their error covariance in the objective
    (``covariance``: tolerance, probe and checking-run sampling error, accumulated
    discrepancy). The residuals of the best fit are not resampled:
    where they are large they are the model's misfit, not noise."""
    rng = np.random.default_rng(seed)
    ft = fitting_targets(t)
    em = Emulator.from_probe(probe, t.meta.start_date)
    root = np.linalg.cholesky(covariance(ft, sigma(ft, em, check_population)))
    y = np.array([x.value for x in ft.targets])
    out = []
    for _ in range(draws):
        em_b = Emulator.from_probe(probe.resample(rng), t.meta.start_date)
        y_b = np.maximum(y + root @ rng.standard_normal(y.size), 1.0)
        t_b = Targets(
            meta=ft.meta,
            targets=[x.model_copy(update={"value": float(v)}) for x, v in zip(ft.targets, y_b)],
        )
        out.append(fit(em_b, t_b, best, check_population, bounds)[0])
    return out


def summary(best: Structure, draws: list[Structure], em: Emulator) -> list[dict]:
    """Each parameter: fitted value, 5-95% bootstrap interval, unit, and what it means in
    counts (new listings a month, attempts per listed person a year)."""
    rows = []
    month = 365.25 / 12
    for f in fields(Structure):
        v = getattr(best, f.name)
        b = np.array([getattr(d, f.name) for d in draws]) if draws else np.array([v])
        row = {
            "parameter": f.name,
            "value": v,
            "p05": float(np.percentile(b, 5)),
            "p95": float(np.percentile(b, 95)),
            "unit": UNITS[f.name],
            "bounds": BOUNDS[f.name],
        }
        if f.name.startswith("inflow"):
            k = float(em.per_hazard[COURT_DELAY:].mean()) * month
            row["meaning"] = f"{v * k:,.0f} new listings a month"
        elif f.name.startswith(("flight", "rail")):
            mode = f.name.split("_")[0]
            row["meaning"] = (
                f"{v * em.per_listed[mode] * 365:.2f} attempts per listed person a year "
                "at 2019 traffic"
            )
        rows.append(row)
    return rows


def as_dict(s: Structure) -> dict[str, float]:
    """The structure as a plain dict."""
    return {k: float(v) for k, v in asdict(s).items()}
