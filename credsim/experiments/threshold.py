"""What would have to be true: the value of a parameter at which a figure crosses a target.

``threshold("press", figure="restricted", target=100, vary="rules.jaywalking.delta",
lo=-500, hi=-10)`` bisects the parameter once per replicate: replicate ``r`` runs seed
``seed + r`` at every step, so with keyed random numbers the figure moves only because the
parameter does (paired bisection), and each replicate finds its own crossing. The answer is
the mean crossing over the replicates with a 95% t interval; a replicate whose figure does not
cross the target between ``lo`` and ``hi`` is reported as such and left out of the mean.

Without ``lo`` and ``hi`` a bracket is searched for first, on the first replicate's seed:
from the parameter's value in the regime, steps of one, two, four... times that value (or of
one where it is 0) are taken both ways, keeping to values the regime accepts, until the figure
is on the other side of the target (at most ``MAX_WIDEN`` steps each way).

A parameter whose bounds are both whole numbers is bisected over whole numbers and the
crossing is the first value (from ``lo``) at which the figure has reached the target; other
parameters are bisected until the bracket is narrower than ``tolerance`` (default: a
thousandth of ``hi - lo``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from credsim.experiments.sweep import ExperimentError, toml_value

__all__ = ["Crossing", "ThresholdResult", "threshold"]

MAX_STEPS = 40
MAX_WIDEN = 12


def _current(regime: str | Path, overrides: Sequence[str], vary: str) -> Any:
    """The value at ``vary`` in the regime (with ``overrides``), as --set paths name it."""
    from credsim.experiments.liveness import _locate
    from credsim.regime.load import load_regime

    data = load_regime(str(regime), tuple(overrides)).model_dump(mode="json")
    node, key = _locate(data, vary.replace("]", "").replace("[", "."))
    return node[key]


def find_bracket(
    regime: str | Path,
    figure: str,
    target: float,
    vary: str,
    *,
    population: int,
    days: int,
    seed: int,
    overrides: Sequence[str] = (),
) -> tuple[float, float, int]:
    """(lo, hi, runs): values of ``vary`` either side of where ``figure`` reaches ``target``."""
    from credsim.regime.load import RegimeError, load_regime

    try:
        v0 = _current(regime, overrides, vary)
    except (KeyError, IndexError, ValueError, TypeError):
        raise ExperimentError("vary", f"{vary}: not a number of this regime") from None
    if isinstance(v0, bool) or not isinstance(v0, int | float):
        raise ExperimentError("vary", f"{vary}: not a number of this regime ({v0!r})")
    integer = isinstance(v0, int)

    def figure_at(v: float) -> float:
        return _evaluate(
            (str(regime), (*overrides, f"{vary}={toml_value(v)}"), population, days, seed, figure)
        )

    f0, runs = figure_at(v0), 1
    unit = abs(v0) if v0 else 1
    ends = {+1: True, -1: True}
    for k in range(MAX_WIDEN):
        for sign in (+1, -1):
            if not ends[sign]:
                continue
            v = v0 + sign * unit * 2**k
            v = int(round(v)) if integer else v
            try:
                load_regime(str(regime), (*overrides, f"{vary}={toml_value(v)}"))
            except RegimeError:
                ends[sign] = False
                continue
            f, runs = figure_at(v), runs + 1
            if (f < target) != (f0 < target):
                return (min(v0, v), max(v0, v), runs)
        if not any(ends.values()):
            break
    raise ExperimentError(
        "vary",
        f"{vary}: no value around {v0:g} the regime accepts moves {figure} across {target:g} "
        f"(it is {f0:g} at {v0:g}); give --lo and --hi",
    )


@dataclass
class Crossing:
    """One replicate's bisection: its seed, the crossing (or None) and the figures seen."""

    seed: int
    value: float | None
    steps: list[tuple[float, float]] = field(default_factory=list)  # (parameter, figure)
    note: str = ""


@dataclass
class ThresholdResult:
    """The crossings of every replicate, their mean and a 95% interval."""

    regime: str
    figure: str
    target: float
    vary: str
    lo: float
    hi: float
    population: int
    days: int
    crossings: list[Crossing]
    mean: float | None
    ci_low: float | None
    ci_high: float | None
    runs: int

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON output."""
        return asdict(self)


def _evaluate(job: tuple) -> float:
    """The headline figure ``job[-1]`` of one run (NaN when the run does not report it)."""
    from credsim.experiments.paired import _one

    *run, figure = job
    value = _one((*run, None)).get(figure)
    return math.nan if value is None else float(value)


def _mapper(workers: int):
    if workers <= 1:
        return None, lambda f, jobs: [f(j) for j in jobs]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
    return pool, lambda f, jobs: list(pool.map(f, jobs))


def _check_figure(regime: str | Path, overrides: Sequence[str], figure: str) -> None:
    from credsim.experiments.sensitivity import headline_names
    from credsim.regime.load import RegimeError, load_regime

    try:
        names = headline_names(load_regime(str(regime), tuple(overrides)))
    except RegimeError as e:
        raise ExperimentError("regime", e.lines[0]) from None
    if figure not in names or figure in ("citizens", "days"):
        raise ExperimentError(
            "figure", f"{figure!r}: not a headline figure of this regime ({', '.join(names[2:])})"
        )


def threshold(
    regime: str | Path,
    figure: str,
    target: float,
    vary: str,
    lo: float | None = None,
    hi: float | None = None,
    *,
    replicates: int = 5,
    population: int = 20_000,
    days: int = 365,
    seed: int = 1,
    overrides: Sequence[str] = (),
    tolerance: float | None = None,
    workers: int | None = None,
) -> ThresholdResult:
    """The value of ``vary`` in ``[lo, hi]`` at which ``figure`` reaches ``target`` (without
    ``lo`` and ``hi``, in a bracket searched for first)."""
    import os

    import numpy as np

    from credsim.experiments.paired import interval
    from credsim.regime.load import RegimeError, load_regime

    searched = 0
    if lo is None or hi is None:
        if lo is not None or hi is not None:
            raise ExperimentError("lo", "give both --lo and --hi, or neither (a bracket search)")
        _check_figure(regime, overrides, figure)
        lo, hi, searched = find_bracket(
            regime,
            figure,
            target,
            vary,
            population=population,
            days=days,
            seed=seed,
            overrides=overrides,
        )
    if not lo < hi:
        raise ExperimentError("lo", f"{lo} is not below --hi {hi}")
    integer = all(isinstance(v, int) and not isinstance(v, bool) for v in (lo, hi))
    if replicates < 1:
        raise ExperimentError("replicates", f"{replicates}: must be at least 1")
    _check_figure(regime, overrides, figure)
    for v in (lo, hi):
        try:
            load_regime(str(regime), (*overrides, f"{vary}={toml_value(v)}"))
        except RegimeError as e:
            raise ExperimentError("vary", f"{vary}={toml_value(v)}: {e.lines[0]}") from None
    tol = tolerance if tolerance is not None else (hi - lo) / 1000
    seeds = list(range(seed, seed + replicates))

    def jobs(values: list[float], which: list[int] | None = None) -> list[tuple]:
        """One run per replicate in ``which`` (default: all), with the parameter at ``values``."""
        chosen = seeds if which is None else [seeds[i] for i in which]
        return [
            (
                str(regime),
                (*overrides, f"{vary}={toml_value(int(v) if integer else v)}"),
                population,
                days,
                s,
                figure,
            )
            for s, v in zip(chosen, values, strict=True)
        ]

    n = max(1, min(replicates, workers or os.cpu_count() or 1))
    pool, run_all = _mapper(n)
    try:
        crossings, runs = _bisect(run_all, jobs, seeds, figure, target, lo, hi, integer, tol)
    finally:
        if pool is not None:
            pool.shutdown()
    runs += searched
    found = [c.value for c in crossings if c.value is not None]
    mean = lo_ci = hi_ci = None
    if found:
        mean = float(np.mean(found))
        if len(found) > 1:
            _, a, b, _ = interval(np.zeros(len(found)), np.asarray(found), True)
            lo_ci, hi_ci = float(a), float(b)
    return ThresholdResult(
        str(regime),
        figure,
        float(target),
        vary,
        float(lo),
        float(hi),
        population,
        days,
        crossings,
        mean,
        lo_ci,
        hi_ci,
        runs,
    )


def _bisect(
    run_all: Any,
    jobs: Any,
    seeds: list[int],
    figure: str,
    target: float,
    lo: float,
    hi: float,
    integer: bool,
    tol: float,
) -> tuple[list[Crossing], int]:
    """Each replicate's crossing of ``target`` between ``lo`` and ``hi``, by bisection (a
    replicate whose figure does not cross it there gets a note instead); (crossings, runs)."""
    replicates = len(seeds)
    f_lo = run_all(_evaluate, jobs([lo] * replicates))
    f_hi = run_all(_evaluate, jobs([hi] * replicates))
    runs = 2 * replicates
    crossings = [Crossing(s, None, [(lo, a), (hi, b)]) for s, a, b in zip(seeds, f_lo, f_hi)]
    brackets: dict[int, list[float]] = {}
    for i, c in enumerate(crossings):
        below_lo, below_hi = f_lo[i] < target, f_hi[i] < target
        if below_lo == below_hi:
            c.note = (
                f"{figure} does not cross {target:g} between {lo:g} ({f_lo[i]:g}) and "
                f"{hi:g} ({f_hi[i]:g})"
            )
        else:
            brackets[i] = [float(lo), float(hi)]
    for _ in range(MAX_STEPS):
        open_ = [i for i, (a, b) in brackets.items() if (b - a > 1 if integer else b - a > tol)]
        if not open_:
            break
        mids = [
            float(math.floor((brackets[i][0] + brackets[i][1]) / 2))
            if integer
            else (brackets[i][0] + brackets[i][1]) / 2
            for i in open_
        ]
        values = run_all(_evaluate, jobs(mids, open_))
        runs += len(open_)
        for i, m, v in zip(open_, mids, values, strict=True):
            crossings[i].steps.append((m, v))
            below_lo = f_lo[i] < target
            if (v < target) == below_lo:
                brackets[i][0] = m
            else:
                brackets[i][1] = m
    for i, (a, b) in brackets.items():
        crossings[i].value = b if integer else (a + b) / 2
        crossings[i].steps.sort()
    return crossings, runs
