"""Paired replicates of two regimes, and intervals for their differences.

Two regimes run on the same seeds see the same synthetic citizens and the same keyed random
numbers, so the difference of a figure between them, seed by seed, is the regimes' own, and
its spread over seeds is much smaller than that of either side. ``compare_regimes`` runs
``replicates`` seeds of each side (seeds ``seed ... seed + replicates - 1``, one seed on both
sides) and ``compare_summaries`` turns the two lists of headline figures into a table: the
mean of each side, the mean paired difference and a 95% interval for it.

Intervals: Student's t over the replicate differences (Welch's t for unpaired sides); for
counts that are both small (a mean below ten) and skewed (skewness above one), with at least
ten replicates, a percentile bootstrap of the mean difference, seeded, with 10,000
resamples. One replicate gives no interval. Identical sides give a difference of exactly zero
with an interval of zero width.

Comparability: runs of different populations are compared per 1,000 citizens for counts (the
unit says so); shares and ratios as they are. Figures whose scale differs between the sides
(mean scores of regimes with different score ranges) and runs of different length are not
subtracted (a whole-run count and a last-day level alike depend on the length), and the row
says why.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "Row",
    "Side",
    "compare_regimes",
    "compare_summaries",
    "figure_unit",
    "interval",
    "rows_csv",
    "rows_json",
    "rows_text",
    "side_of_run",
]

LEVEL = 0.95
BOOTSTRAP_RESAMPLES = 10_000
BOOTSTRAP_MIN = 10  # fewer replicates than this: the t interval, which is wider
NOT_COMPARED = {"citizens", "days"}  # what the runs are, not what they found


def figure_unit(name: str) -> tuple[str, str]:
    """(unit, window) of a headline figure; the unit says what is counted.

    The window is ``last day`` for levels read on the final day and ``whole run`` for flows
    added up over every day of the run.
    """
    if name in ("restricted", "wrongful", "spillover_only"):
        return "citizens", "last day"
    if name == "ever_sanctioned":
        return "citizens", "whole run"
    if name == "restricted_pct":
        return "% of citizens", "last day"
    if name == "score_mean":
        return "score points", "last day"
    if name == "misattributed_records":
        return "records", "whole run"
    if name.startswith("denied_citizens_"):
        return "citizens", "whole run"
    if name.startswith("denied_"):
        return "attempts", "whole run"
    if name == "benefits":
        return "uses", "whole run"
    if name.endswith("_vs_baseline"):
        return "ratio to baseline", "whole run"
    return "", ""


def scales_with_population(name: str) -> bool:
    """Counts grow with the population; shares, ratios and mean scores do not."""
    unit, _ = figure_unit(name)
    return unit in ("citizens", "records", "attempts", "uses")


@dataclass
class Side:
    """One side of a comparison: a label and, per replicate, its headline figures."""

    label: str
    summaries: list[dict[str, Any]]
    population: int
    days: int
    seeds: list[int]
    score_range: tuple[float, float] | None = None


@dataclass
class Row:
    """One figure of a comparison (the JSON rows of ``credsim compare --format json``)."""

    metric: str
    label: str
    unit: str
    a_mean: float | None
    b_mean: float | None
    diff_mean: float | None
    ci_low: float | None
    ci_high: float | None
    paired: bool
    replicates: int
    window: str = ""
    interval: str = ""
    note: str = ""


def side_of_run(run, label: str | None = None) -> Side:
    """A run folder as one side: one summary per replicate (one for a plain run)."""
    import tomllib

    path = run.path / "regime.toml"
    regime = tomllib.loads(path.read_text("utf-8")) if path.exists() else {}
    score = regime.get("score", {})
    m = run.manifest
    return Side(
        label or run.path.name,
        [dict(x) for x in run.summaries],
        int(m.get("population", 0)),
        int(m.get("days", 0)),
        [int(x) for x in run.seeds],
        (score.get("min", 0), score.get("max", 1300)),
    )


def _skewed(x: np.ndarray) -> bool:
    if x.size < 3 or float(x.std()) == 0.0:
        return False
    z = (x - x.mean()) / x.std()
    return abs(float((z**3).mean())) > 1.0


def interval(
    a: Sequence[float], b: Sequence[float], paired: bool, counts: bool = False, seed: int = 0
) -> tuple[float, float, float, str]:
    """Mean of b - a and its 95% interval: (diff, low, high, method).

    Paired: over the replicate differences ``b[i] - a[i]``. Unpaired: Welch's t on the two
    means. Counts that are small (mean below ten) and skewed, with at least ``BOOTSTRAP_MIN``
    replicates, get a seeded percentile bootstrap.
    One replicate: no interval (NaN bounds, method ``none``).
    """
    x = np.asarray(a, dtype=float)
    y = np.asarray(b, dtype=float)
    if paired and x.size != y.size:
        raise ValueError("paired replicates need as many on each side")
    diff = float(y.mean() - x.mean())
    if min(x.size, y.size) < 2:
        return diff, math.nan, math.nan, "none"
    from scipy import stats

    d = y - x if paired else None
    small = counts and min(abs(float(x.mean())), abs(float(y.mean()))) < 10
    skewed = _skewed(d) if paired else (_skewed(x) or _skewed(y))
    if small and skewed and min(x.size, y.size) >= BOOTSTRAP_MIN:
        rng = np.random.default_rng(np.random.SeedSequence([seed, 2_718]))
        if paired:
            pick = rng.integers(0, d.size, (BOOTSTRAP_RESAMPLES, d.size))
            means = d[pick].mean(axis=1)
        else:
            means = y[rng.integers(0, y.size, (BOOTSTRAP_RESAMPLES, y.size))].mean(axis=1) - x[
                rng.integers(0, x.size, (BOOTSTRAP_RESAMPLES, x.size))
            ].mean(axis=1)
        lo, hi = np.quantile(means, [(1 - LEVEL) / 2, (1 + LEVEL) / 2])
        return diff, float(lo), float(hi), "bootstrap"
    if paired:
        sd = float(d.std(ddof=1))
        half = float(stats.t.ppf((1 + LEVEL) / 2, d.size - 1)) * sd / math.sqrt(d.size)
        return diff, diff - half, diff + half, "t"
    va, vb = float(x.var(ddof=1)) / x.size, float(y.var(ddof=1)) / y.size
    se = math.sqrt(va + vb)
    if se == 0.0:
        return diff, diff, diff, "t"
    dof = (va + vb) ** 2 / (va**2 / (x.size - 1) + vb**2 / (y.size - 1))
    half = float(stats.t.ppf((1 + LEVEL) / 2, dof)) * se
    return diff, diff - half, diff + half, "welch"


def _label(name: str) -> str:
    return name.replace("_", " ")


def compare_summaries(a: Side, b: Side, paired: bool) -> list[Row]:
    """The comparison table of two sides: one row per headline figure present on both."""
    per_capita = a.population != b.population
    same_length = a.days == b.days
    same_scale = a.score_range == b.score_range
    names = [k for k in a.summaries[0] if k not in NOT_COMPARED]
    names += [k for k in b.summaries[0] if k not in NOT_COMPARED and k not in names]
    replicates = min(len(a.summaries), len(b.summaries))
    rows: list[Row] = []
    for name in names:
        unit, window = figure_unit(name)
        xa = [s.get(name) for s in a.summaries]
        xb = [s.get(name) for s in b.summaries]
        if any(v is None for v in xa) or any(v is None for v in xb):
            side = a.label if any(v is None for v in xa) else b.label
            rows.append(
                Row(
                    name,
                    _label(name),
                    unit,
                    None,
                    None,
                    None,
                    None,
                    None,
                    paired,
                    replicates,
                    window,
                    "",
                    f"not compared: {side} has no such figure",
                )
            )
            continue
        va = np.asarray(xa, dtype=float)
        vb = np.asarray(xb, dtype=float)
        if per_capita and scales_with_population(name):
            va = va * 1000.0 / a.population
            vb = vb * 1000.0 / b.population
            unit = f"{unit} per 1,000 citizens"
        a_mean, b_mean = float(va.mean()), float(vb.mean())
        why = ""
        if not same_length:
            why = f"not compared: the runs differ in length ({a.days} and {b.days} days)"
        elif name == "score_mean" and not same_scale:
            why = "not compared: the regimes' scores are on different scales"
        if why:
            rows.append(
                Row(
                    name,
                    _label(name),
                    unit,
                    a_mean,
                    b_mean,
                    None,
                    None,
                    None,
                    paired,
                    replicates,
                    window,
                    "",
                    why,
                )
            )
            continue
        counts = scales_with_population(name) and not per_capita
        diff, lo, hi, how = interval(va, vb, paired, counts=counts, seed=len(rows))
        rows.append(
            Row(
                name,
                _label(name),
                unit,
                a_mean,
                b_mean,
                diff,
                None if math.isnan(lo) else lo,
                None if math.isnan(hi) else hi,
                paired,
                replicates,
                window,
                how,
                "one replicate: no interval" if how == "none" else "",
            )
        )
    return rows


# ------------------------------------------------------------------ running the replicates
def _one(job: tuple) -> dict[str, Any]:
    """The headline figures of one replicate; its run folder is written only when ``out``
    names one (else the run stays in memory: ``Sim.simulate``)."""
    regime, overrides, population, days, seed, out = job
    from credsim.sim import Sim

    if out is None:
        sim = Sim(regime, population, days, seed, overrides=overrides, ledger="none", workers=1)
        return dict(sim.simulate().summary)
    run = Sim(
        regime, population, days, seed, overrides=overrides, out=out, ledger="none", workers=1
    ).run()
    return dict(run.summary)


def _score_range(regime: str | Path, overrides: Sequence[str]) -> tuple[float, float]:
    from credsim.regime.load import load_regime

    s = load_regime(regime, tuple(overrides)).score
    return float(s.min), float(s.max)


def compare_regimes(
    a: str | Path,
    b: str | Path,
    *,
    replicates: int = 5,
    population: int = 20_000,
    days: int = 365,
    seed: int = 1,
    set_a: Sequence[str] = (),
    set_b: Sequence[str] = (),
    out: Path | None = None,
    workers: int | None = None,
) -> list[Row]:
    """Run ``replicates`` paired seeds of regimes ``a`` and ``b`` and compare them.

    Seeds ``seed ... seed + replicates - 1``; each seed runs on both sides. With ``out``, each
    replicate keeps its run folder (``out/a/seed-S``, ``out/b/seed-S``).
    """
    import os
    from concurrent.futures import ProcessPoolExecutor

    seeds = list(range(seed, seed + replicates))
    jobs = []
    for side, regime, overrides in (("a", a, tuple(set_a)), ("b", b, tuple(set_b))):
        for s in seeds:
            folder = None if out is None else Path(out) / side / f"seed-{s}"
            jobs.append((str(regime), overrides, population, days, s, folder))
    n = max(1, min(len(jobs), workers or os.cpu_count() or 1))
    if n == 1:
        summaries = [_one(j) for j in jobs]
    else:
        import multiprocessing

        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(n, mp_context=ctx) as pool:
            summaries = list(pool.map(_one, jobs))
    side_a = Side(str(a), summaries[:replicates], population, days, seeds, _score_range(a, set_a))
    side_b = Side(str(b), summaries[replicates:], population, days, seeds, _score_range(b, set_b))
    return compare_summaries(side_a, side_b, paired=True)


# ----------------------------------------------------------------------------- output
def rows_json(rows: list[Row]) -> dict[str, Any]:
    """``{"rows": [...]}`` as ``credsim compare --format json`` prints it."""
    return {"rows": [asdict(r) for r in rows]}


def rows_csv(rows: list[Row]) -> str:
    """The rows as CSV with a header line."""
    import csv
    import io

    buf = io.StringIO()
    fields = list(asdict(rows[0]).keys()) if rows else list(Row.__dataclass_fields__)
    w = csv.DictWriter(buf, fields, lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: ("" if v is None else v) for k, v in asdict(r).items()})
    return buf.getvalue()


def _num(v: float | None) -> str:
    if v is None:
        return ""
    if float(v).is_integer() and abs(v) >= 100:
        return f"{int(v):,}"
    return f"{v:,.4g}" if abs(v) < 1000 else f"{v:,.1f}"


def rows_text(rows: list[Row], a: str, b: str) -> str:
    """The rows as a terminal table, with what each column means."""
    from rich.console import Console
    from rich.table import Table

    reps = rows[0].replicates if rows else 0
    paired = rows[0].paired if rows else False
    t = Table(
        title=f"{b} minus {a}: {reps} {'paired ' if paired else ''}replicate"
        f"{'s' if reps != 1 else ''}, mean and 95% interval of the difference"
    )
    for col, just in (
        ("figure", "left"),
        ("unit (window)", "left"),
        (f"A: {a}", "right"),
        (f"B: {b}", "right"),
        ("B - A", "right"),
        ("95% interval", "right"),
        ("note", "left"),
    ):
        t.add_column(col, justify=just)
    for r in rows:
        ci = "" if r.ci_low is None else f"{_num(r.ci_low)} to {_num(r.ci_high)}"
        note = r.note or (r.interval if r.interval in ("bootstrap", "welch") else "")
        t.add_row(
            r.label,
            f"{r.unit} ({r.window})" if r.window else r.unit,
            _num(r.a_mean),
            _num(r.b_mean),
            _num(r.diff_mean),
            ci,
            note,
        )
    import io

    buf = io.StringIO()
    Console(file=buf, width=200, color_system=None).print(t)
    return "\n".join(line.rstrip() for line in buf.getvalue().splitlines()) + "\n"
