"""Calibration to published figures: targets files, scaled simulation, optuna fits.

A targets file lists dated observations (cumulative blocked purchases, list sizes, monthly
flows) with a tolerance and a source. A trial runs a scaled-down population whose counts are
multiplied by ``real population / simulated population``: every citizen's events are
independent of the population size (the only coupling, general deterrence, depends on shares,
not counts), so the scaled counts are unbiased estimates of the full-size counts; a test checks
this against a larger run.
"""

from __future__ import annotations

import json
import math
import tempfile
import tomllib
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Field, ValidationError

from credsim.regime.load import RegimeError, _messages, apply_override, load_regime, read_toml
from credsim.regime.schema import Regime, Strict

Date = Annotated[str, Field(pattern=r"^\d{4}-\d{2}(-\d{2})?$")]


class Target(Strict):
    """One published figure to reproduce."""

    name: str
    date: Date = Field(description="YYYY-MM-DD, or YYYY-MM for the end of that month")
    metric: str = Field(description="a column of metrics.parquet, e.g. denied_flight")
    kind: Literal["cumulative", "level", "flow"] = Field(
        description="cumulative: sum of the metric from day 0; level: its value on the date; "
        "flow: its sum from period_start to the date"
    )
    value: Annotated[float, Field(gt=0)]
    tolerance: Annotated[float, Field(gt=0, le=10)] = 0.1
    period_start: Date | None = None
    source: str
    note: str = ""
    weight: Annotated[float, Field(ge=0, le=100)] = 1.0
    role: Literal["fit", "validation"] = Field(
        "fit", description="fit: calibrated to; validation: only compared with forecasts"
    )


class TargetsMeta(Strict):
    """What the targets describe."""

    name: str
    description: str = ""
    start_date: Date = Field(description="calendar date of simulated day 0")
    population: Annotated[int, Field(gt=0)] = Field(
        description="the real population the counts refer to"
    )


class Targets(Strict):
    """A targets file: metadata and the dated figures."""

    meta: TargetsMeta
    targets: list[Target] = Field(min_length=1)


def _to_date(text: str, end_of_month: bool = True) -> date:
    parts = [int(x) for x in text.split("-")]
    if len(parts) == 3:
        return date(*parts)
    y, m = parts
    if not end_of_month:
        return date(y, m, 1)
    nxt = date(y + (m == 12), m % 12 + 1, 1)
    return date.fromordinal(nxt.toordinal() - 1)


def load_targets(path: str | Path) -> Targets:
    """A targets file by path or by shipped name (``national``); one-line errors."""
    p = Path(path)
    if not p.exists() and p.suffix != ".toml" and "/" not in str(path):
        entry = resources.files("credsim.targets").joinpath(f"{path}.toml")
        if not entry.is_file():
            raise RegimeError([f"{path}: no such targets file"])
        where, data = f"targets {path}", tomllib.loads(entry.read_text("utf-8"))
    else:
        where, data = str(p), read_toml(p)
    try:
        t = Targets.model_validate(data)
    except ValidationError as e:
        raise RegimeError(_messages(where, e)) from None
    try:
        start = _to_date(t.meta.start_date, end_of_month=False)
    except ValueError as e:
        raise RegimeError([f"{where}: meta.start_date: {e}"]) from None
    problems = []
    for i, x in enumerate(t.targets):
        try:
            days = [(_to_date(x.date) - start).days]
            if x.period_start:
                days.append((_to_date(x.period_start, end_of_month=False) - start).days)
        except ValueError as e:
            problems.append(f"{where}: targets[{i}].date: {e}")
        else:
            for field, d in zip(("date", "period_start"), days):
                if not 0 <= d < 32_000:
                    problems.append(
                        f"{where}: targets[{i}].{field}: not within 32000 days from "
                        f"meta.start_date {t.meta.start_date}"
                    )
            if days != sorted(days, reverse=True):
                problems.append(f"{where}: targets[{i}].period_start: after the date {x.date}")
        if x.kind == "flow" and not x.period_start:
            problems.append(f"{where}: targets[{i}].period_start: required for a flow")
    if problems:
        raise RegimeError(problems)
    return t


def only(t: Targets, metrics: str | None) -> Targets:
    """The targets on the named metrics (comma-separated), or all of them."""
    if not metrics:
        return t
    keep = [x for x in t.targets if x.metric in metrics.split(",")]
    if not keep:
        raise RegimeError([f"--only {metrics}: no target uses these metrics"])
    return Targets(meta=t.meta, targets=keep)


def target_days(t: Targets) -> list[tuple[int, int]]:
    """(first day, last day) of each target relative to the start date (inclusive)."""
    start = _to_date(t.meta.start_date, end_of_month=False)
    out = []
    for x in t.targets:
        last = (_to_date(x.date) - start).days
        first = 0 if x.kind == "cumulative" else last
        if x.kind == "flow":
            first = (_to_date(x.period_start, end_of_month=False) - start).days
        out.append((first, last))
    return out


def simulated_values(metrics, t: Targets, scale: float) -> np.ndarray:
    """The targets' figures in a run's metrics, scaled to the real population.

    ``scale`` is the real population over the simulated one at the start. With the life
    course on (a ``births`` column), the simulated population changes: the real population
    of the targets is matched to the simulated citizens on the census day the facts count
    it (``population.reference_date``), or on the last day of a run that ends before it."""
    if "births" in metrics and "citizens" in metrics:
        citizens = np.asarray(metrics["citizens"], dtype=np.float64)
        from credsim.facts import china

        census = _to_date(china()["population"]["reference_date"], end_of_month=False)
        day = (census - _to_date(t.meta.start_date, end_of_month=False)).days
        day = int(np.clip(day, 0, citizens.size - 1))
        if citizens[day] > 0:
            scale *= citizens[0] / citizens[day]
    out = []
    for x, (first, last) in zip(t.targets, target_days(t)):
        col = metrics[x.metric].to_numpy(dtype=np.float64)
        if last >= col.size:
            raise ValueError(f"target {x.name} is on day {last}, after the run's last day")
        out.append(col[last] if x.kind == "level" else col[first : last + 1].sum())
    return np.array(out) * scale


def _simulate(job: tuple[dict, int, int, int]) -> dict[str, np.ndarray]:
    """One replicate (in a worker process): the metrics columns the targets need."""
    from credsim.sim import Sim

    regime, population, days, seed = job
    with tempfile.TemporaryDirectory(prefix="credsim-cal-") as d:
        run = Sim(regime, population, days, seed, out=d, ledger="none", workers=1).run()
        m = run.metrics
        return {c: m[c].to_numpy() for c in m.columns}


@dataclass
class Parameter:
    """A free parameter: a regime path and its search bounds."""

    path: str
    low: float
    high: float
    log: bool = True


def _get(data: Any, path: str) -> Any:
    node = data
    for token in path.replace("]", "").replace("[", ".").split("."):
        if isinstance(node, list):
            if token.isdigit():
                node = node[int(token)]
            else:
                node = next(
                    x for x in node if x.get("name") == token or x.get("behaviour") == token
                )
        else:
            node = node[token]
    return node


def parse_fit(spec: str, regime: Regime) -> list[Parameter]:
    """``path[=lo:hi],...``: without bounds, a tenth to ten times the current value."""
    data = regime.model_dump(mode="json")
    out = []
    for item in [s for s in spec.split(",") if s.strip()]:
        path, _, bounds = item.strip().partition("=")
        try:
            current = float(_get(data, path))
        except (KeyError, IndexError, StopIteration, TypeError, ValueError):
            raise RegimeError([f"--fit {path}: not a number in the regime"]) from None
        if bounds:
            try:
                lo, hi = (float(v) for v in bounds.split(":"))
            except ValueError:
                raise RegimeError([f"--fit {item}: bounds must be LOW:HIGH"]) from None
        else:
            if current <= 0:
                raise RegimeError(
                    [f"--fit {path}: give bounds (path=LOW:HIGH), value is {current}"]
                )
            lo, hi = current / 10, current * 10
        if not lo < hi:
            raise RegimeError([f"--fit {item}: LOW must be below HIGH"])
        out.append(Parameter(path, lo, hi, log=lo > 0))
    if not out:
        raise RegimeError(["--fit: name at least one parameter"])
    return out


def with_values(regime: Regime, params: list[Parameter], values: list[float]) -> Regime:
    """The regime with the parameters set."""
    data = regime.model_dump(mode="json", exclude_none=True)
    for p, v in zip(params, values):
        apply_override(data, f"{p.path}={v!r}")
    return load_regime(data)


def loss(sim: np.ndarray, t: Targets) -> float:
    """Weighted squared log-errors relative to each target's tolerance."""
    total = 0.0
    for x, s in zip(t.targets, sim):
        err = math.log(max(s, 1e-9) / x.value) / math.log1p(x.tolerance)
        total += x.weight * err * err
    return total


@dataclass
class Calibration:
    """The outcome of a fit."""

    regime: Regime
    params: dict[str, float]
    fit: Any  # DataFrame: targets against simulated values with 5-95% bands
    trials: Any  # DataFrame: every trial's parameters and loss
    folder: Path | None


def evaluate(
    regime: Regime,
    t: Targets,
    population: int,
    replicates: int,
    seed: int = 1,
    pool: ProcessPoolExecutor | None = None,
):
    """Targets against simulated values (median and 5-95% band over replicates)."""
    import pandas as pd

    days = max(last for _, last in target_days(t)) + 1
    scale = t.meta.population / population
    jobs = [(regime.model_dump(mode="json"), population, days, seed + i) for i in range(replicates)]
    results = list(pool.map(_simulate, jobs)) if pool else [_simulate(j) for j in jobs]
    sims = np.array([simulated_values(pd.DataFrame(r), t, scale) for r in results])
    med = np.median(sims, axis=0)
    df = pd.DataFrame(
        {
            "target": [x.name for x in t.targets],
            "date": [x.date for x in t.targets],
            "metric": [x.metric for x in t.targets],
            "kind": [x.kind for x in t.targets],
            "published": [x.value for x in t.targets],
            "simulated": med,
            "p05": np.percentile(sims, 5, axis=0),
            "p95": np.percentile(sims, 95, axis=0),
            "tolerance": [x.tolerance for x in t.targets],
            "source": [x.source for x in t.targets],
            "role": [x.role for x in t.targets],
        }
    )
    df["relative_error"] = df["simulated"] / df["published"] - 1
    df["within"] = df["relative_error"].abs() <= df["tolerance"]
    return df, sims


def calibrate(
    regime: str | Path | Regime,
    targets: str | Path | Targets,
    fit: str,
    trials: int = 50,
    population: int = 200_000,
    replicates: int = 2,
    seed: int = 1,
    out: str | Path | None = None,
    workers: int = 2,
    progress=None,
) -> Calibration:
    """Fit the ``fit`` parameters to the targets with optuna's TPE sampler."""
    import optuna
    import pandas as pd

    base = regime if isinstance(regime, Regime) else load_regime(regime)
    t = targets if isinstance(targets, Targets) else load_targets(targets)
    params = parse_fit(fit, base)
    known = _simulate((base.model_dump(mode="json"), 1, 1, seed))
    unknown = [
        f"targets[{i}].metric: no metric {x.metric!r} in the run's metrics"
        for i, x in enumerate(t.targets)
        if x.metric not in known
    ]
    if unknown:
        raise RegimeError(unknown)
    days = max(last for _, last in target_days(t)) + 1
    scale = t.meta.population / population
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler = optuna.samplers.TPESampler(seed=seed, multivariate=True)
    study = optuna.create_study(direction="minimize", sampler=sampler)
    history = []
    with ProcessPoolExecutor(max(1, workers)) as pool:
        for i in range(trials):
            trial = study.ask()
            values = [trial.suggest_float(p.path, p.low, p.high, log=p.log) for p in params]
            reg = with_values(base, params, values)
            jobs = [
                (reg.model_dump(mode="json"), population, days, seed + 1000 * r)
                for r in range(replicates)
            ]
            sims = [simulated_values(pd.DataFrame(m), t, scale) for m in pool.map(_simulate, jobs)]
            value = float(np.mean([loss(s, t) for s in sims]))
            study.tell(trial, value)
            history.append(
                {"trial": i, "loss": value, **dict(zip([p.path for p in params], values))}
            )
            if progress:
                progress(i + 1, trials, value, study.best_value)
        best = [study.best_params[p.path] for p in params]
        fitted = with_values(base, params, best)
        fit_df, _ = evaluate(fitted, t, population, max(replicates, 5), seed + 7, pool)
    trials_df = pd.DataFrame(history)
    result = Calibration(fitted, dict(zip([p.path for p in params], best)), fit_df, trials_df, None)
    if out is not None:
        result.folder = write_calibration(result, t, Path(out), population)
    return result


def write_calibration(result: Calibration, t: Targets, folder: Path, population: int) -> Path:
    """fitted.toml, fit.parquet, fit.html, trials.parquet in ``folder``."""
    from credsim.files import write_atomic, write_table
    from credsim.regime.load import dump_regime

    folder.mkdir(parents=True, exist_ok=True)
    header = (
        f"# Fitted by credsim calibrate to {t.meta.name} targets "
        f"(population {population:,} scaled to {t.meta.population:,}).\n"
        + "".join(f"# {k} = {v:.6g}\n" for k, v in result.params.items())
    )
    write_atomic(folder / "fitted.toml", header + dump_regime(result.regime))
    import pyarrow as pa

    for name, df in (("fit.parquet", result.fit), ("trials.parquet", result.trials)):
        write_table(pa.Table.from_pandas(df, preserve_index=False), folder / name)
    write_atomic(folder / "fit.html", fit_html(result.fit, t, result.params))
    write_atomic(folder / "fit.json", json.dumps({"params": result.params}, indent=2))
    return folder


def fit_html(fit, t: Targets, params: dict[str, float] | None = None) -> str:
    """A self-contained page: published against simulated figures with 5-95% bands."""
    import html

    import plotly.graph_objects as go
    import plotly.offline

    figs = []
    for metric in dict.fromkeys(fit["metric"]):
        sub = fit[fit["metric"] == metric]
        fig = go.Figure()
        fig.add_trace(
            go.Scatter(x=sub["date"], y=sub["published"], mode="markers+lines", name="published")
        )
        fig.add_trace(
            go.Scatter(
                x=sub["date"],
                y=sub["simulated"],
                mode="markers",
                name="simulated (median)",
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": (sub["p95"] - sub["simulated"]).tolist(),
                    "arrayminus": (sub["simulated"] - sub["p05"]).tolist(),
                },
            )
        )
        fig.update_layout(
            title=f"{metric} ({sub['kind'].iloc[0]})",
            height=380,
            margin={"l": 60, "r": 20, "t": 50, "b": 40},
        )
        figs.append(fig.to_html(full_html=False, include_plotlyjs=False))
    table = fit[
        [
            "target",
            "date",
            "metric",
            "published",
            "simulated",
            "p05",
            "p95",
            "relative_error",
            "within",
            "source",
        ]
    ].to_html(index=False, float_format="{:,.3f}".format)
    plist = "".join(
        f"<li><code>{html.escape(k)}</code> = {v:.6g}</li>" for k, v in (params or {}).items()
    )
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>credsim calibration</title>"
        f"<script>{plotly.offline.get_plotlyjs()}</script>"
        "<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto}"
        "table{border-collapse:collapse;font-size:13px}"
        "td,th{padding:3px 8px;border-bottom:1px solid #ddd}"
        "</style></head><body>"
        f"<h1>Calibration to {html.escape(t.meta.name)} targets</h1>"
        f"<p>{html.escape(t.meta.description)}</p><ul>{plist}</ul>"
        + "".join(figs)
        + table
        + "</body></html>"
    )


def hat_basis(days: np.ndarray, knots: list[int]) -> np.ndarray:
    """[day, knot] weights of piecewise-linear interpolation between knots (flat outside)."""
    out = np.zeros((days.size, len(knots)))
    for j in range(len(knots)):
        unit = np.zeros(len(knots))
        unit[j] = 1.0
        out[:, j] = np.interp(days, knots, unit)
    return out


def fit_attempt_schedule(
    regime: Regime,
    t: Targets,
    privilege: str,
    knots: list[int],
    population: int = 400_000,
    seeds: int = 3,
    boost: float = 10.0,
    workers: int = 2,
) -> list[list[float]]:
    """Knot factors of a privilege's attempt schedule that best match its denied-attempt
    targets, by weighted least squares.

    Denied attempts are linear in the attempt-rate factor while the daily attempt
    probability is small (they feed back into nothing), so one set of runs with a constant
    factor measures, day by day, what each unit of factor yields; the cumulative targets are
    then linear in the knot values.
    """
    import pandas as pd

    metric = f"denied_{privilege}"
    rows = [(x, w) for x, w in zip(t.targets, target_days(t)) if x.metric == metric]
    if not rows:
        raise RegimeError([f"no target on {metric}"])
    probe = with_values(
        regime, [Parameter(f"privileges.{privilege}.schedule", 0, 1)], [[[0, boost]]]
    )
    days = max(last for _, (_, last) in rows) + 1
    jobs = [(probe.model_dump(mode="json"), population, days, 100 + s) for s in range(seeds)]
    with ProcessPoolExecutor(max(1, workers)) as pool:
        runs = list(pool.map(_simulate, jobs))
    per_day = np.mean([pd.DataFrame(r)[metric].to_numpy() for r in runs], axis=0) / boost
    per_day *= t.meta.population / population
    basis = hat_basis(np.arange(days), knots) * per_day[:, None]
    a = np.array([basis[first : last + 1].sum(axis=0) for _, (first, last) in rows])
    y = np.array([x.value for x, _ in rows])
    w = 1.0 / (y * np.array([x.tolerance for x, _ in rows]))
    v, *_ = np.linalg.lstsq(a * w[:, None], y * w, rcond=None)
    for _ in range(50):  # keep factors positive: refit with the negative ones pinned small
        neg = v < 1e-3
        if not neg.any():
            break
        v[neg] = 1e-3
        free = ~neg
        v[free], *_ = np.linalg.lstsq(
            (a * w[:, None])[:, free], (y - a[:, neg] @ v[neg]) * w, rcond=None
        )
    return [[int(k), round(float(f), 4)] for k, f in zip(knots, v)]
