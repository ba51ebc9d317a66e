"""Parameter sweeps: one regime run over a grid or a sample of parameter values, with replicates.

A parameter is a regime path as written for ``--set`` (``sources.camera.false_match``,
``rules.critical_post.redress.accept``). A *grid* runs every combination of the listed values;
a *sample* draws points within bounds with SALib (Latin hypercube, or scrambled Sobol' points).
Each parameter set runs ``replicates`` times. Replicate ``r`` gets a seed derived from the sweep
seed with ``numpy.random.SeedSequence`` (spawn key ``(0, r)``), and the same replicate uses the
same seed for every parameter set: parameter sets are paired by common random numbers, so
their differences come from the parameters rather than from different draws.

Every run is an ordinary run folder under ``out/runs/<id>/``. The sweep writes
``sweep_runs.parquet`` (one row per run: parameters, replicate, seed, headline figures),
``sweep_days.parquet`` (one row per run and day, for the chosen daily metrics) and
``sweep.html`` (median and 5-95% band over replicates per parameter set, and the tables).
The same inputs give the same tables.
"""

from __future__ import annotations

import copy
import itertools
import os
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from credsim.regime.load import RegimeError, load_regime
from credsim.regime.schema import Regime

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "DEFAULT_METRICS",
    "ExperimentError",
    "SweepResult",
    "metric_names",
    "replicate_seed",
    "sampler_seed",
    "sweep",
]

from credsim.defaults import (  # noqa: E402
    DEFAULT_DAYS,
    DEFAULT_METRICS,
    DEFAULT_POPULATION,
)

SAMPLERS = ("lhs", "sobol")
MAX_POINTS = 100_000  # parameter sets of one sweep: checked before anything is drawn

Progress = Callable[[int, int], None]


class ExperimentError(ValueError):
    """Bad input to an experiment; ``option`` names the argument, ``problem`` says what is wrong."""

    def __init__(self, option: str, problem: str):
        self.option = option
        self.problem = problem
        super().__init__(f"{option}: {problem}")


@dataclass
class SweepResult:
    """A finished sweep: the runs table, the days table and the files written."""

    runs: pd.DataFrame
    days: pd.DataFrame
    html: Path
    out: Path
    parameters: list[str] = field(default_factory=list)
    metrics: list[str] = field(default_factory=list)

    def by_set(self) -> pd.DataFrame:
        """Median, lowest and highest over replicates of each chosen metric on the last day,
        per parameter set."""
        from credsim.experiments.sweep_page import set_medians

        return set_medians(self.runs, self.days, self.parameters, self.metrics)


def replicate_seed(seed: int, replicate: int) -> int:
    """The simulation seed of replicate ``replicate`` of a sweep seeded ``seed``."""
    ss = np.random.SeedSequence(int(seed), spawn_key=(0, int(replicate)))
    return int(ss.generate_state(1, dtype=np.uint32)[0])


def sampler_seed(seed: int) -> int:
    """The seed of the SALib sampler (and analyser) of an experiment seeded ``seed``."""
    ss = np.random.SeedSequence(int(seed), spawn_key=(1,))
    return int(ss.generate_state(1, dtype=np.uint32)[0])


def toml_value(value: Any) -> str:
    """A Python value as the TOML literal an override ``PATH=VALUE`` expects."""
    import tomli_w

    if isinstance(value, np.generic):
        value = value.item()
    return tomli_w.dumps({"v": value}).split("=", 1)[1].strip()


def metric_names(regime: Regime) -> list[str]:
    """The daily metric columns a run of ``regime`` has (the columns of ``Run.metrics``)."""
    from credsim.engine.compiled import Compiled
    from credsim.metrics import columns
    from credsim.population import Census
    from credsim.run import QUANTILES

    census = Census.from_facts()
    c = Compiled(regime, census.provinces, census.groups)
    levels, flows = columns(c)
    names = levels + flows + ["score_mean"]
    names += [f"score_p{int(q * 100):02d}" for q in QUANTILES]
    names += [f"denied_{p}_cumulative" for p in c.privileges]
    return names


def _problem(err: RegimeError) -> str:
    """The first problem of a RegimeError, without the name of the regime or assignment."""
    line = err.lines[0] if err.lines else str(err)
    return line.split(": ", 1)[1] if ": " in line else line


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool)


def check_run_shape(population: int, days: int, seed: int, workers: int | None) -> None:
    """Refuse impossible population, days, seed or workers, naming the argument."""
    if not isinstance(population, int | np.integer) or population < 1:
        raise ExperimentError("population", f"{population}: must be a whole number at least 1")
    if not isinstance(days, int | np.integer) or not 1 <= days <= 32_000:
        raise ExperimentError("days", f"{days}: must be a whole number from 1 to 32000")
    if not isinstance(seed, int | np.integer) or seed < 0:
        raise ExperimentError("seed", f"{seed}: must be a whole number at least 0")
    if workers is not None and (not isinstance(workers, int | np.integer) or workers < 1):
        raise ExperimentError("workers", f"{workers}: must be a whole number at least 1")


def base_regime(regime: str | Path | Regime | dict) -> tuple[Regime, dict]:
    """The regime to vary, loaded, and its data (a fresh copy is changed for every set)."""
    try:
        base = load_regime(copy.deepcopy(regime) if isinstance(regime, dict) else regime)
    except RegimeError as e:
        raise ExperimentError("regime", "; ".join(e.lines)) from None
    return base, base.model_dump(mode="json", exclude_none=True)


def check_parameter(data: dict, option: str, path: str, values: Sequence[Any]) -> None:
    """Load the regime with ``path`` set to each of ``values``; name the first that fails."""
    if not isinstance(path, str) or not path.strip() or "=" in path:
        raise ExperimentError(option, f"{path!r}: not a regime path such as sources.camera.x")
    for v in values:
        try:
            load_regime(copy.deepcopy(data), (f"{path}={toml_value(v)}",))
        except RegimeError as e:
            raise ExperimentError(option, f"{path}={toml_value(v)}: {_problem(e)}") from None


def bounds_of(option: str, ranges: dict[str, Any]) -> list[tuple[str, float, float, bool]]:
    """``{path: (lo, hi)}`` checked: numbers with lo < hi; integer if both bounds are integers."""
    if not ranges:
        raise ExperimentError(option, "give at least one parameter with bounds")
    out = []
    for path, b in ranges.items():
        if isinstance(b, str | bytes) or not isinstance(b, Sequence) or len(b) != 2:
            raise ExperimentError(option, f"{path}: give bounds as two numbers (lo, hi)")
        lo, hi = b
        if not (_is_number(lo) and _is_number(hi)):
            raise ExperimentError(option, f"{path}: bounds {lo!r}, {hi!r} are not both numbers")
        if not (np.isfinite(lo) and np.isfinite(hi)) or not lo < hi:
            raise ExperimentError(option, f"{path}: lower bound {lo} must be below upper {hi}")
        integer = isinstance(lo, int | np.integer) and isinstance(hi, int | np.integer)
        out.append((path, float(lo), float(hi), integer))
    return out


def points_to_sets(
    bounds: list[tuple[str, float, float, bool]], points: np.ndarray
) -> list[dict[str, Any]]:
    """Sample points as parameter sets; integer parameters are rounded to the nearest integer."""
    sets = []
    for row in np.atleast_2d(points):
        s: dict[str, Any] = {}
        for (path, lo, hi, integer), x in zip(bounds, row, strict=True):
            x = min(max(float(x), lo), hi)
            s[path] = int(round(x)) if integer else x
        sets.append(s)
    return sets


def design(
    vary: dict[str, Any] | None, sample: tuple[str, int] | None, seed: int
) -> list[dict[str, Any]]:
    """The parameter sets of a sweep: a grid of ``vary`` lists, or a sample within bounds."""
    if sample is None:
        if not vary:
            return [{}]
        for path, values in vary.items():
            if isinstance(values, str | bytes) or not isinstance(values, Sequence) or not values:
                raise ExperimentError("vary", f"{path}: give a non-empty list of values")
        size = 1
        for values in vary.values():
            size *= len(values)
        if size > MAX_POINTS:
            raise ExperimentError(
                "vary", f"the grid has {size:,} parameter sets, more than {MAX_POINTS:,}"
            )
        return [dict(zip(vary, combo)) for combo in itertools.product(*vary.values())]
    if isinstance(sample, str | bytes) or not isinstance(sample, Sequence) or len(sample) != 2:
        raise ExperimentError("sample", f"{sample!r}: expected (lhs|sobol, N)")
    method, n = sample
    if method not in SAMPLERS:
        raise ExperimentError("sample", f"{method!r}: unknown sampler (use lhs or sobol)")
    if not isinstance(n, int | np.integer) or isinstance(n, bool) or n < 1:
        raise ExperimentError("sample", f"{n!r}: the number of points must be at least 1")
    if n > MAX_POINTS:
        raise ExperimentError("sample", f"{n}: at most {MAX_POINTS:,} points in one sweep")
    if not vary:
        raise ExperimentError("vary", "a sample needs bounds: give vary={path: [lo, hi]}")
    bounds = bounds_of("vary", vary)
    problem = {
        "num_vars": len(bounds),
        "names": [b[0] for b in bounds],
        "bounds": [[b[1], b[2]] for b in bounds],
    }
    if method == "lhs":
        from SALib.sample import latin

        points = latin.sample(problem, int(n), seed=sampler_seed(seed))
    else:
        import warnings

        from SALib.sample import sobol

        with warnings.catch_warnings():  # N need not be a power of two for a sweep
            warnings.simplefilter("ignore")
            saltelli = sobol.sample(
                problem, int(n), calc_second_order=False, seed=sampler_seed(seed)
            )
        # rows come in blocks of D + 2 (A, AB_1..AB_D, B); the A rows are N scrambled Sobol' points
        points = saltelli[:: len(bounds) + 2]
    return points_to_sets(bounds, points)


def overrides_of(params: dict[str, Any]) -> tuple[str, ...]:
    """A parameter set as ``PATH=VALUE`` overrides."""
    return tuple(f"{p}={toml_value(v)}" for p, v in params.items())


REGIME = "regime"  # a sweep parameter whose values are regimes (preset names or files)


def regimes_of(data: dict, sets: list[dict[str, Any]], option: str) -> dict[str, dict]:
    """The regimes named by the ``regime`` parameter of ``sets``, loaded, as data by name."""
    out: dict[str, dict] = {}
    for s in sets:
        name = s.get(REGIME)
        if name is None or str(name) in out:
            continue
        if not isinstance(name, str | Path):
            raise ExperimentError(option, f"regime={name!r}: give preset names or regime files")
        try:
            r = load_regime(str(name))
        except RegimeError as e:
            raise ExperimentError(option, f"regime={name}: {_problem(e)}") from None
        except (FileNotFoundError, ValueError) as e:
            raise ExperimentError(option, f"regime={name}: {e}") from None
        out[str(name)] = r.model_dump(mode="json", exclude_none=True)
    return out


def resolve_sets(
    data: dict, sets: list[dict[str, Any]], option: str, checks: dict[str, list] | None = None
) -> list[dict]:
    """Each parameter set applied to the regime, validated; the resolved regimes as data.

    Each parameter is first tried alone with the values in ``checks`` (default: every distinct
    value it takes), so a bad path or value is named by itself rather than inside a set. The
    parameter ``regime`` swaps the regime itself (``--vary regime=press,national``); the other
    parameters of the set are applied to it.
    """
    regimes = regimes_of(data, sets, option)
    bases = list(regimes.values()) or [data]
    if checks is None:
        checks = {}
        for s in sets:
            for p, v in s.items():
                if p != REGIME:
                    checks.setdefault(p, {})[toml_value(v)] = v
        checks = {p: list(vs.values()) for p, vs in checks.items()}
    for path, values in checks.items():
        if path == REGIME:
            continue
        for base in bases:
            check_parameter(base, option, path, values)
    resolved = []
    for s in sets:
        base = regimes[str(s[REGIME])] if REGIME in s else data
        over = overrides_of({p: v for p, v in s.items() if p != REGIME})
        try:
            r = load_regime(copy.deepcopy(base), over)
        except RegimeError as e:
            raise ExperimentError(option, f"{', '.join(over)}: {_problem(e)}") from None
        resolved.append(r.model_dump(mode="json", exclude_none=True))
    return resolved


@dataclass(frozen=True)
class RunTask:
    """One simulation of a sweep: a resolved regime, its seed and its folder."""

    run: str
    set: int
    replicate: int
    seed: int
    regime: dict
    population: int
    days: int
    folder: str
    ledger: str
    metrics: tuple[str, ...]


def run_task(task: RunTask) -> tuple[dict[str, Any], pd.DataFrame]:
    """Run one simulation in this process; return its headline figures and chosen metrics."""
    from credsim.sim import Sim

    run = Sim(
        task.regime,
        task.population,
        task.days,
        task.seed,
        out=task.folder,
        ledger=task.ledger,
        workers=1,
    ).run()
    return dict(run.summary), run.metrics[["day", *task.metrics]].copy()


def _check_budget(
    base: Regime, population: int, days: int, ledger: str, runs: int, parallel: int, out: Path
) -> None:
    """Refuse a sweep whose parallel runs would not fit in memory or whose folders on disk."""
    from credsim.scale.budget import ResourceError, available_memory
    from credsim.sim import Sim

    est = Sim(base, population, days, 1, ledger=ledger, workers=1).estimate()
    mem = available_memory()
    if parallel * est.peak_bytes > mem:
        raise ResourceError(
            f"{parallel} runs at once need about {parallel * est.peak_bytes / 2**30:.1f} GiB of "
            f"memory but {mem / 2**30:.1f} GiB is available: use fewer workers or a smaller "
            "population"
        )
    probe = out
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    free = shutil.disk_usage(probe).free
    if runs * est.disk_bytes > free:
        raise ResourceError(
            f"{runs} run folders need about {runs * est.disk_bytes / 2**30:.1f} GiB of disk in "
            f"{out} but {free / 2**30:.1f} GiB is free: keep less of the ledger (ledger='none') "
            "or write elsewhere"
        )


def run_ids(sets: int, replicates: int) -> list[list[str]]:
    """Run ids ``p<set>-r<replicate>``, zero-padded so they sort in order."""
    ws, wr = max(3, len(str(sets - 1))), max(2, len(str(replicates - 1)))
    return [[f"p{i:0{ws}d}-r{r:0{wr}d}" for r in range(replicates)] for i in range(sets)]


def execute(
    base: Regime,
    sets: list[dict[str, Any]],
    resolved: list[dict],
    *,
    replicates: int,
    population: int,
    days: int,
    seed: int,
    out: Path,
    workers: int | None,
    ledger: str,
    metrics: Sequence[str],
    progress: Progress | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run every parameter set ``replicates`` times in local processes; the runs and days tables."""
    import pandas as pd

    from credsim.scale.executors import make_executor

    ids = run_ids(len(sets), replicates)
    seeds = [replicate_seed(seed, r) for r in range(replicates)]
    tasks = [
        RunTask(
            ids[i][r],
            i,
            r,
            seeds[r],
            resolved[i],
            int(population),
            int(days),
            str(out / "runs" / ids[i][r]),
            ledger,
            tuple(metrics),
        )
        for i in range(len(sets))
        for r in range(replicates)
    ]
    parallel = max(1, min(workers or os.cpu_count() or 1, len(tasks)))
    (out / "runs").mkdir(parents=True, exist_ok=True)
    _check_budget(base, population, days, ledger, len(tasks), parallel, out)
    results: dict[str, tuple[dict[str, Any], pd.DataFrame]] = {}
    if progress:
        progress(0, len(tasks))
    ex = make_executor("local", parallel)
    try:
        for task, result in ex.map_unordered(run_task, tasks):
            results[task.run] = result
            if progress:
                progress(len(results), len(tasks))
    finally:
        ex.close()
    params = list(dict.fromkeys(p for s in sets for p in s))
    run_rows, day_frames = [], []
    for t in tasks:
        summary, daily = results[t.run]
        values = {p: _cell(sets[t.set].get(p)) for p in params}
        run_rows.append(
            {"run": t.run, "set": t.set, "replicate": t.replicate, "seed": t.seed}
            | values
            | summary
        )
        d = daily.copy()
        for k, v in reversed([("run", t.run), ("set", t.set), ("replicate", t.replicate)]):
            d.insert(0, k, v)
        for j, p in enumerate(params):
            d.insert(3 + j, p, values[p])
        day_frames.append(d)
    runs = pd.DataFrame(run_rows)
    for c in ("set", "replicate"):
        runs[c] = runs[c].astype("int64")
    runs["seed"] = runs["seed"].astype("int64")
    days_df = pd.concat(day_frames, ignore_index=True)
    days_df["set"] = days_df["set"].astype("int64")
    days_df["replicate"] = days_df["replicate"].astype("int64")
    return runs, days_df


def _cell(v: Any) -> Any:
    """A parameter value as a table cell: numbers, text and booleans as they are, others as TOML."""
    if v is None or isinstance(v, bool | int | float | str | np.generic):
        return v.item() if isinstance(v, np.generic) else v
    return toml_value(v)


def write_frame(df: pd.DataFrame, path: Path) -> None:
    """A DataFrame as Parquet, written atomically."""
    import pyarrow as pa

    from credsim.files import write_table

    write_table(pa.Table.from_pandas(df, preserve_index=False), path)


def sweep(
    regime: str | Path | Regime | dict = "press",
    vary: dict[str, list] | None = None,
    sample: tuple[str, int] | None = None,
    replicates: int = 1,
    population: int = DEFAULT_POPULATION,
    days: int = DEFAULT_DAYS,
    seed: int = 1,
    out: str | Path = Path("sweep"),
    workers: int | None = None,
    metrics: Sequence[str] = DEFAULT_METRICS,
    ledger: str = "none",
    progress: Progress | None = None,
) -> SweepResult:
    """Run ``regime`` over a grid (``vary`` lists) or a sample (``vary`` bounds + ``sample``).

    ``vary={"sources.camera.false_match": [0.0, 0.01]}`` runs each value; with
    ``sample=("lhs", 16)`` (or ``("sobol", 16)``) ``vary`` gives bounds ``[lo, hi]`` and 16
    points are drawn within them (integers if both bounds are integers). Each parameter set runs
    ``replicates`` times, replicate ``r`` with seed ``replicate_seed(seed, r)`` for every set.
    Runs execute in ``workers`` local processes (default: the number of cores).
    """
    check_run_shape(population, days, seed, workers)
    if not isinstance(replicates, int | np.integer) or replicates < 1:
        raise ExperimentError("replicates", f"{replicates}: must be a whole number at least 1")
    try:
        from credsim.ledger import parse_mode

        parse_mode(ledger)
    except ValueError as e:
        raise ExperimentError("ledger", str(e).removeprefix("ledger mode ")) from None
    base, data = base_regime(regime)
    metrics = list(dict.fromkeys(metrics))
    if not metrics:
        raise ExperimentError("metrics", "choose at least one daily metric")
    sets = design(vary, sample, seed)
    swapped = regimes_of(data, sets, "vary")
    for name, regime_data in [(None, None)] + list(swapped.items()):
        known = metric_names(base if name is None else load_regime(regime_data))
        for m in metrics:
            if m not in known:
                raise ExperimentError(
                    "metrics",
                    f"{m!r}: no such daily metric"
                    + (f" in regime {name}" if name else "")
                    + f" (e.g. {', '.join(DEFAULT_METRICS)})",
                )
    checks = None
    if sample is not None:  # try the bounds, not every point
        checks = {
            p: [int(lo), int(hi)] if integer else [lo, hi]
            for p, lo, hi, integer in bounds_of("vary", vary or {})
        }
    resolved = resolve_sets(data, sets, "vary", checks)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    runs, days_df = execute(
        base,
        sets,
        resolved,
        replicates=int(replicates),
        population=int(population),
        days=int(days),
        seed=int(seed),
        out=out,
        workers=workers,
        ledger=ledger,
        metrics=metrics,
        progress=progress,
    )
    parameters = list(dict.fromkeys(p for s in sets for p in s))
    write_frame(runs, out / "sweep_runs.parquet")
    write_frame(days_df, out / "sweep_days.parquet")
    kind = "grid" if sample is None else f"{sample[0]} sample of {sample[1]} points"
    about = (
        f"{len(sets)} parameter set(s) ({kind}) x {replicates} replicate(s) = {len(runs)} runs "
        f"of {population:,} synthetic citizens for {days} days; sweep seed {seed}. Replicate r "
        "uses the same seed in every parameter set (common random numbers). Parameters: "
        + (", ".join(parameters) or "none (replicates of the regime as it is)")
        + "."
    )
    from credsim.experiments.sweep_page import write_html

    path = write_html(
        out / "sweep.html",
        base.regime.name,
        about,
        runs,
        days_df,
        parameters,
        metrics,
        int(replicates),
        int(population),
        int(days),
    )
    return SweepResult(runs, days_df, path, out, parameters, metrics)
