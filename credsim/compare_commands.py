"""Command-line front ends that set runs or regimes side by side, and fit a regime to published
figures: ``credsim compare`` and ``credsim calibrate``.

``register(app)`` adds both commands to the typer app of ``credsim.cli``. Bad input ends with
one line on stderr, ``error: ...``, and exit status 2.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from credsim.command_errors import fail, os_error
from credsim.folder_commands import _open_run, reading

__all__ = ["COMPARE_FORMATS", "calibrate", "compare", "register"]

COMPARE_FORMATS = ("text", "json", "csv")


def compare(
    items: Annotated[
        list[str],
        typer.Argument(
            help="Two or more run folders, or two regimes (preset names or TOML files) to run "
            "as paired replicates."
        ),
    ],
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Run folders: the HTML page to write. Regimes: a folder that keeps every "
            "replicate's run and the comparison (comparison.json, comparison.csv).",
        ),
    ] = None,
    replicates: Annotated[
        int, typer.Option(min=1, max=1000, help="Regimes: paired replicates (seeds) per side.")
    ] = 5,
    population: Annotated[
        int, typer.Option("--population", "-n", min=100, help="Regimes: citizens per run.")
    ] = 20_000,
    days: Annotated[
        int, typer.Option("--days", "-d", min=1, max=32_000, help="Regimes: days per run.")
    ] = 365,
    seed: Annotated[
        int, typer.Option("--seed", "-s", min=0, help="Regimes: the first seed of the replicates.")
    ] = 1,
    set_a: Annotated[
        list[str] | None, typer.Option("--set-a", help="Override for regime A: PATH=VALUE.")
    ] = None,
    set_b: Annotated[
        list[str] | None, typer.Option("--set-b", help="Override for regime B: PATH=VALUE.")
    ] = None,
    format: Annotated[str, typer.Option("--format", help="text, json or csv.")] = "text",
    workers: Annotated[
        int | None, typer.Option(min=1, help="Regimes: replicates run at once (default: cores).")
    ] = None,
) -> None:
    """Compare runs or regimes: means, paired differences and 95% intervals, per figure."""
    from credsim.experiments import paired

    if format not in COMPARE_FORMATS:
        fail(f"--format: unknown format {format!r}; use text, json or csv")
    if len(items) < 2:
        fail("compare needs two regimes or at least two run folders")
    folders = [Path(i).is_dir() for i in items]
    if all(folders):
        rows, labels = _compare_folders([Path(i) for i in items], out)
    elif any(folders):
        fail("compare takes run folders or regimes, not both: " + ", ".join(items))
    else:
        if len(items) != 2:
            fail("compare runs two regimes against each other; give exactly two")
        rows, labels = _compare_regimes(
            items, out, replicates, population, days, seed, set_a or [], set_b or [], workers
        )
    if format == "json":
        typer.echo(json.dumps(paired.rows_json(rows), indent=2, allow_nan=False))
    elif format == "csv":
        typer.echo(paired.rows_csv(rows), nl=False)
    else:
        typer.echo(paired.rows_text(rows, *labels), nl=False)


def _compare_folders(paths: list[Path], out: Path | None):
    """Run folders as they are: their replicates, paired when seeds and size agree."""
    opened = [_open_run(p) for p in paths]
    with reading(paths[0]):
        return _compare_opened(opened, paths, out)


def _compare_opened(opened, paths: list[Path], out: Path | None):
    from credsim.experiments.paired import compare_summaries
    from credsim.experiments.paired import side_of_run as side
    from credsim.report.compare import compare as _compare
    from credsim.report.compare import pairing

    is_paired, sentence = pairing(opened)

    rows = []
    first = side(opened[0])
    for run in opened[1:]:
        rows += compare_summaries(first, side(run), is_paired)
    try:
        _, path = _compare(opened, out or paths[0].parent / "compare.html")
    except OSError as e:
        fail(os_error(e, out))
    typer.echo(sentence, err=True)
    if path:
        typer.echo(f"comparison: {path}", err=True)
    return rows, (opened[0].path.name, ", ".join(r.path.name for r in opened[1:]))


def _compare_regimes(items, out, replicates, population, days, seed, set_a, set_b, workers):
    """Two regimes as paired replicates: seeds seed ... seed + replicates - 1 on both sides."""
    from credsim.experiments.paired import compare_regimes, rows_csv, rows_json
    from credsim.regime.load import RegimeError, load_regime

    for item, overrides, flag in ((items[0], set_a, "--set-a"), (items[1], set_b, "--set-b")):
        try:
            load_regime(item, tuple(overrides))
        except RegimeError as e:
            fail(str(e))
        except (FileNotFoundError, ValueError) as e:
            fail(f"{item}: {e} ({flag})" if overrides else f"{item}: {e}")
    if out is not None and out.exists() and any(out.iterdir()):
        fail(f"{out}: folder exists and is not empty; choose a new --out")
    try:
        rows = compare_regimes(
            items[0],
            items[1],
            replicates=replicates,
            population=population,
            days=days,
            seed=seed,
            set_a=set_a,
            set_b=set_b,
            out=out,
            workers=workers,
        )
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
            from credsim.files import write_atomic

            write_atomic(out / "comparison.json", json.dumps(rows_json(rows), indent=2))
            write_atomic(out / "comparison.csv", rows_csv(rows))
    except OSError as e:
        fail(os_error(e, out))
    return rows, (Path(items[0]).stem, Path(items[1]).stem)


def calibrate(
    regime: Annotated[str, typer.Argument(help="A preset name or a regime TOML file.")],
    targets: Annotated[str, typer.Option(help="A targets file, or a shipped name (national).")],
    fit: Annotated[str, typer.Option(help="PATH[=LOW:HIGH],... parameters to fit.")] = "",
    trials: Annotated[int, typer.Option(min=1, max=100_000)] = 50,
    population: Annotated[int, typer.Option("--population", "-n", min=100)] = 100_000,
    replicates: Annotated[int, typer.Option(min=1, max=100)] = 2,
    seed: Annotated[int, typer.Option("--seed", "-s", min=0)] = 1,
    out: Annotated[Path, typer.Option("--out", "-o")] = Path("calibration"),
    set_: Annotated[list[str] | None, typer.Option("--set", help="Override: PATH=VALUE.")] = None,
    only: Annotated[str | None, typer.Option(help="Fit only targets on these metrics.")] = None,
    workers: Annotated[int | None, typer.Option(min=1)] = None,
    validate: Annotated[
        bool,
        typer.Option(
            "--validate",
            help="Rolling-origin evaluation of the structural model against naive forecasts.",
        ),
    ] = False,
    draws: Annotated[
        int,
        typer.Option(
            min=0,
            max=1000,
            help="With --validate: bootstrap refits at each origin for the forecasts' 90% "
            "intervals (0: the fit's discrepancy alone).",
        ),
    ] = 10,
) -> None:
    """Fit free parameters of a regime to published figures (optuna TPE), or with
    --validate evaluate the structural model's forecasts from rolling origins."""
    import os

    from credsim.calibration import calibrate as _calibrate
    from credsim.calibration import load_targets
    from credsim.calibration import only as _only
    from credsim.regime.load import RegimeError, load_regime

    try:
        base = load_regime(regime, tuple(set_ or ()))
        t = _only(load_targets(targets), only)
    except RegimeError as e:
        fail(str(e))

    if validate:
        jobs = workers or os.cpu_count() or 1
        _validate(base, t, population, replicates, seed, out, jobs, draws)
        return

    def show(i: int, n: int, value: float, best: float) -> None:
        typer.echo(f"trial {i}/{n}: loss {value:.3f} (best {best:.3f})", err=True)

    try:
        result = _calibrate(
            base,
            t,
            fit,
            trials,
            population,
            replicates,
            seed,
            out,
            workers or os.cpu_count() or 1,
            show,
        )
    except RegimeError as e:
        fail(str(e))
    cols = ["target", "published", "simulated", "relative_error", "within"]
    typer.echo(result.fit[cols].to_string(index=False))
    for k, v in result.params.items():
        typer.echo(f"{k} = {v:.6g}")
    typer.echo(f"fitted regime: {result.folder / 'fitted.toml'}")


def _validate(
    base, t, population: int, replicates: int, seed: int, out: Path, workers: int, draws: int
):
    """Probe, fit from each origin, forecast, and write validation.csv, .md and .png."""
    from credsim import forecasts as fc
    from credsim import structural as st
    from credsim.calibration import target_days
    from credsim.run import write_atomic

    days = max(last for _, last in target_days(t)) + 1
    typer.echo(f"probe: {replicates} runs of {population:,} citizens for {days} days", err=True)
    probe = st.run_probe(base, days, population, t.meta.population, replicates, seed, workers)
    df = fc.validate(probe, t, check_population=population, draws=draws)
    if df.empty:
        fail(f"{t.meta.name}: no target dated after an origin ({', '.join(fc.ORIGINS)})")
    summary = fc.validation_summary(df)
    try:
        out.mkdir(parents=True, exist_ok=True)
        write_atomic(out / "validation.csv", df.to_csv(index=False, float_format="%.6g"))
        table = fc.validation_markdown(summary)
        note = (
            "Mean absolute relative error of forecasts of cumulative counts, by horizon, "
            f"origins {', '.join(fc.ORIGINS)}; probe {replicates} x {population:,} citizens; "
            f"coverage: share of published figures inside the model's 90% interval "
            f"({draws} bootstrap refits at each origin).\n\n"
        )
        write_atomic(out / "validation.md", note + table)
        fc.validation_chart(df, out / "validation.png")
    except OSError as e:
        fail(os_error(e, out))
    typer.echo(note + table)
    typer.echo(
        f"validation: {out / 'validation.md'}, {out / 'validation.csv'}, {out / 'validation.png'}"
    )


def register(app: typer.Typer) -> None:
    """Add ``compare`` and ``calibrate`` to ``app``."""
    app.command()(compare)
    app.command()(calibrate)
