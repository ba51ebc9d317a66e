"""Global sensitivity of one headline figure to regime parameters, with SALib.

``sensitivity(regime, {"sources.camera.false_match": (0.0, 0.05), ...}, output="wrongful")``
draws a design within the bounds (Sobol' / Saltelli: ``n * (D + 2)`` runs; Morris: ``n``
trajectories of ``D + 1`` runs), runs the regime at every point, reads the headline figure
``output`` of each run (levels on the last day, flows summed over the run: ``wrongful``,
``restricted``, ``denied_flight``, ``posts_vs_baseline``...) and analyses it:

* Sobol': first-order (``S1``) and total (``ST``) indices with 95% confidence half-widths:
  the share of the output's variance due to each parameter alone, and with its interactions.
* Morris: ``mu_star`` (mean absolute elementary effect: change of the output per unit of the
  parameter's range scaled to 0-1) and ``sigma`` (spread of the effects: non-linearity or
  interactions); a screening method that needs far fewer runs.

Every run uses the same simulation seed (common random numbers), so differences between runs
come from the parameters. Writes ``sensitivity.parquet`` (the indices),
``sensitivity_runs.parquet`` (each run's parameters and figures), ``sensitivity.html`` and the
run folders under ``runs/``.
"""

from __future__ import annotations

import html
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from credsim.experiments.sweep import (
    DEFAULT_DAYS,
    DEFAULT_POPULATION,
    ExperimentError,
    Progress,
    base_regime,
    bounds_of,
    check_run_shape,
    execute,
    points_to_sets,
    resolve_sets,
    sampler_seed,
    write_frame,
)
from credsim.experiments.sweep_page import frame_table
from credsim.regime.schema import Regime

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["METHODS", "headline_names", "sensitivity"]

METHODS = ("sobol", "morris")
MORRIS_LEVELS = 4
MAX_SCATTERS = 8  # parameters shown as output-against-parameter charts


def headline_names(regime: Regime) -> list[str]:
    """The headline figures a run of ``regime`` reports (the keys of ``Run.summary``)."""
    from credsim.figures import headline_names as declared

    return declared(regime)


def _analyse(
    method: str, problem: dict, x: np.ndarray, y: np.ndarray, seed: int
) -> dict[str, np.ndarray]:
    with warnings.catch_warnings():  # a constant output gives NaN indices, reported as such
        warnings.simplefilter("ignore")
        with np.errstate(all="ignore"):
            if method == "sobol":
                from SALib.analyze import sobol

                si = sobol.analyze(
                    problem, y, calc_second_order=False, seed=seed, print_to_console=False
                )
                keys = ("S1", "S1_conf", "ST", "ST_conf")
            else:
                from SALib.analyze import morris

                si = morris.analyze(
                    problem, x, y, num_levels=MORRIS_LEVELS, seed=seed, print_to_console=False
                )
                keys = ("mu", "mu_star", "mu_star_conf", "sigma")
    return {k: np.asarray(si[k], dtype=float) for k in keys}


def _bar_chart(indices: pd.DataFrame, method: str, output: str, caption: str | None = None):
    from credsim.report.charts import Chart, Series

    x = indices["parameter"].tolist()
    if method == "sobol":
        series = [
            Series(
                "S1 (alone)",
                x,
                indices["S1"].to_numpy(),
                "bar",
                error=indices["S1_conf"].to_numpy(),
            ),
            Series(
                "ST (with interactions)",
                x,
                indices["ST"].to_numpy(),
                "bar",
                error=indices["ST_conf"].to_numpy(),
            ),
        ]
        about = (
            f"Share of the variance of '{output}' due to each parameter alone (S1) and "
            "including its interactions with the others (ST); the error bars are 95% "
            "confidence intervals. An index whose interval includes zero (a negative S1 "
            "among them) is not told apart from noise at this sample size."
        )
        ylabel = "Sobol' index"
    else:
        series = [
            Series(
                "mu* (mean |effect|)",
                x,
                indices["mu_star"].to_numpy(),
                "bar",
                error=indices["mu_star_conf"].to_numpy(),
            ),
            Series("sigma (spread of effects)", x, indices["sigma"].to_numpy(), "bar"),
        ]
        about = (
            f"Morris screening of '{output}': mu* is the mean absolute change of the output "
            "for a step in the parameter (range scaled to 0-1); a large sigma means the effect "
            "depends on where the other parameters are (non-linearity or interaction). The "
            "error bars on mu* are 95% confidence intervals."
        )
        ylabel = f"{output} per unit step"
    return Chart(
        "chart-indices",
        f"Sensitivity of {output}",
        about,
        "parameter",
        ylabel,
        series,
        zero_note=f"'{output}' did not change in any run: every index is zero or undefined.",
        caption=caption,
    )


def _scatter_charts(
    runs: pd.DataFrame, parameters: list[str], output: str, caption: str | None = None
) -> list:
    from credsim.report.charts import Chart, Series

    charts = []
    for k, p in enumerate(parameters[:MAX_SCATTERS]):
        charts.append(
            Chart(
                f"chart-scatter-{k}",
                f"{output} against {p}",
                f"Each point is one run: the value of {p} and the resulting '{output}'.",
                p,
                output,
                [Series(output, runs[p].to_numpy(), runs[output].to_numpy(), "markers")],
                caption=caption,
            )
        )
    return charts


MAX_BASE_SAMPLES = 10_000  # each is D + 2 runs (sobol): checked before anything is drawn
SOBOL_MIN_N = 64  # below this many base samples, Sobol' intervals are usually wider than S1
MORRIS_MIN_N = 10  # trajectories


def notes(indices: pd.DataFrame, method: str, n: int) -> list[str]:
    """Plain warnings about what the indices can and cannot say at this sample size.

    A too small N; indices whose 95% interval includes zero (negative ones included), which
    are noise at this N; and what a larger N would do (intervals shrink as one over the
    square root of N, so four times N halves them).
    """
    out: list[str] = []
    minimum = SOBOL_MIN_N if method == "sobol" else MORRIS_MIN_N
    if n < minimum:
        out.append(
            f"N = {n} is small for {method} (at least {minimum} is advised): the intervals "
            "are wide and the ranking may change with the seed."
        )
    if method == "sobol":
        pairs = (("S1", "S1_conf"), ("ST", "ST_conf"))
    else:
        pairs = (("mu_star", "mu_star_conf"),)
    for col, conf in pairs:
        for p, v, c in zip(indices["parameter"], indices[col], indices[conf], strict=True):
            if np.isnan(v) or np.isnan(c):
                continue
            if v < 0:
                out.append(
                    f"{col} of {p} is negative ({v:.3g} ± {c:.3g}): an index cannot be below "
                    "zero, so this is sampling noise; read it as zero."
                )
            elif v - c <= 0 < c:
                out.append(f"{col} of {p} ({v:.3g} ± {c:.3g}) is not told apart from zero.")
    conf_cols = [c for _, c in pairs]
    widest = float(np.nanmax(indices[conf_cols].to_numpy(dtype=float), initial=0.0))
    if widest > 0:
        out.append(
            f"The widest 95% half-width is {widest:.3g}; with N = {4 * n} it would be about "
            f"{widest / 2:.3g} (half-widths shrink as one over the square root of N)."
        )
    return out


def sensitivity(
    regime: str | Path | Regime | dict,
    params: dict[str, tuple[float, float]],
    output: str = "wrongful",
    method: str = "sobol",
    n: int = 64,
    population: int = DEFAULT_POPULATION,
    days: int = DEFAULT_DAYS,
    seed: int = 1,
    out: str | Path = Path("sensitivity"),
    workers: int | None = None,
    ledger: str = "none",
    progress: Progress | None = None,
) -> pd.DataFrame:
    """Sensitivity indices of the headline figure ``output`` to ``params`` (``{path: (lo, hi)}``).

    ``method="sobol"``: ``n * (D + 2)`` runs (``n`` a power of two is best); a row per parameter
    with ``S1``, ``S1_conf``, ``ST``, ``ST_conf``. ``method="morris"``: ``n`` trajectories,
    ``n * (D + 1)`` runs; a row per parameter with ``mu``, ``mu_star``, ``mu_star_conf``,
    ``sigma``. Rows are ranked by ``ST`` or ``mu_star``, most influential first. A parameter
    whose bounds are both integers is sampled as integers.
    """
    import pandas as pd

    check_run_shape(population, days, seed, workers)
    if method not in METHODS:
        raise ExperimentError("method", f"{method!r}: use sobol or morris")
    if not isinstance(n, int | np.integer) or isinstance(n, bool) or n < 2:
        raise ExperimentError("n", f"{n!r}: must be a whole number at least 2")
    if n > MAX_BASE_SAMPLES:
        raise ExperimentError("n", f"{n}: at most {MAX_BASE_SAMPLES:,} base samples")
    base, data = base_regime(regime)
    names = headline_names(base)
    if output not in names:
        raise ExperimentError(
            "output", f"{output!r}: not a headline figure of this regime ({', '.join(names)})"
        )
    bounds = bounds_of("params", params)
    problem = {
        "num_vars": len(bounds),
        "names": [b[0] for b in bounds],
        "bounds": [[b[1], b[2]] for b in bounds],
    }
    s_seed = sampler_seed(seed)
    x = _sample(method, problem, int(n), s_seed)
    sets = points_to_sets(bounds, x)
    checks = {p: [int(lo), int(hi)] if i else [lo, hi] for p, lo, hi, i in bounds}
    resolved = resolve_sets(data, sets, "params", checks)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    runs, _ = execute(
        base,
        sets,
        resolved,
        replicates=1,
        population=int(population),
        days=int(days),
        seed=int(seed),
        out=out,
        workers=workers,
        ledger=ledger,
        metrics=(),
        progress=progress,
    )
    write_frame(runs, out / "sensitivity_runs.parquet")
    parameters = [b[0] for b in bounds]
    if output not in runs:
        raise ExperimentError("output", f"{output!r} is missing from every run's headline")
    si = _analyse(method, problem, x, _outputs(runs, output), s_seed)
    indices = pd.DataFrame(
        {
            "parameter": parameters,
            "lo": [b[1] for b in bounds],
            "hi": [b[2] for b in bounds],
        }
        | si
    )
    key = "ST" if method == "sobol" else "mu_star"
    indices = indices.sort_values(key, ascending=False, na_position="last", kind="stable")
    indices.insert(0, "rank", np.arange(1, len(indices) + 1, dtype=np.int64))
    indices = indices.reset_index(drop=True)
    indices.attrs.update(
        output=output,
        method=method,
        n=int(n),
        runs=len(runs),
        html=str(out / "sensitivity.html"),
        notes=notes(indices, method, int(n)),
    )
    write_frame(indices, out / "sensitivity.parquet")
    _write_html(
        out, base.regime.name, indices, runs, parameters, output, method, population, days, seed, n
    )
    return indices


def _sample(method: str, problem: dict, n: int, s_seed: int) -> np.ndarray:
    """The parameter points of a Sobol' (Saltelli) or Morris design of ``n`` base samples."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if method == "sobol":
            from SALib.sample import sobol

            return sobol.sample(problem, n, calc_second_order=False, seed=s_seed)
        from SALib.sample import morris

        return morris.sample(problem, n, num_levels=MORRIS_LEVELS, seed=s_seed)


def _outputs(runs: pd.DataFrame, output: str) -> np.ndarray:
    """The figure ``output`` of every run, refused in one line where one is undefined."""
    y = runs[output].to_numpy(dtype=float)
    if np.isnan(y).any():
        raise ExperimentError(
            "output",
            f"{output!r} is undefined in {int(np.isnan(y).sum())} of {len(y)} runs "
            "(e.g. no baseline acts to compare with): use a larger population or more days",
        )
    return y


def _write_html(
    out: Path,
    regime_name: str,
    indices: pd.DataFrame,
    runs: pd.DataFrame,
    parameters: list[str],
    output: str,
    method: str,
    population: int,
    days: int,
    seed: int,
    n: int,
) -> Path:
    from credsim.files import write_atomic
    from credsim.labels import caption_of_experiment
    from credsim.report.charts import page, section

    design = (
        f"Sobol' (Saltelli) design, N = {n}: {len(runs)} runs"
        if method == "sobol"
        else f"Morris design, {n} trajectories of {len(parameters) + 1} runs: {len(runs)} runs"
    )
    varied = bool(np.ptp(runs[output].to_numpy(dtype=float)) > 0)
    about = (
        f"How much '{output}' (a headline figure of each run) depends on each parameter. "
        f"{design} of {population:,} synthetic citizens for {days} days; every run uses the "
        f"same simulation seed (common random numbers), derived from seed {seed}."
    )
    body = [
        f"<h1>Sensitivity of {html.escape(output)}: {html.escape(regime_name)}</h1>",
        f'<p class="about">{html.escape(about)}</p>',
    ]
    if not varied:
        body.append(
            f'<p class="warn">{html.escape(output)} took the same value in every run; '
            "the indices say nothing (widen the bounds, or use a larger population).</p>"
        )
    body += [f'<p class="warn">{html.escape(note)}</p>' for note in indices.attrs.get("notes", [])]
    line = caption_of_experiment(
        regime_name,
        int(population),
        int(days),
        sorted({int(s) for s in runs["seed"]}),
        f"{len(runs)} runs",
    )
    body.append(section(_bar_chart(indices, method, output, line)))
    body.append(
        '<section><h2>Indices</h2><p class="about">Ranked, most influential first'
        + (
            " (by ST; *_conf are 95% confidence half-widths)."
            if method == "sobol"
            else " (by mu*; mu_star_conf is a 95% confidence half-width)."
        )
        + f"</p>{frame_table(indices)}</section>"
    )
    body += [section(c) for c in _scatter_charts(runs, parameters, output, line)]
    cols = ["run", "seed", *parameters, output]
    body.append(
        '<section><h2>Runs</h2><p class="about">One row per run; each run\'s folder is '
        f"runs/&lt;run&gt;/.</p>{frame_table(runs[cols])}</section>"
    )
    path = out / "sensitivity.html"
    write_atomic(path, page(f"Sensitivity of {output}: {regime_name}", "\n".join(body)))
    return path
