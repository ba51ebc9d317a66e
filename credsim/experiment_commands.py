"""Command-line front ends of the experiments: ``credsim sweep``, ``sensitivity`` and ``threshold``.

``register(app)`` adds the three commands to a typer app. Bad input ends with one line on stderr,
``error: --flag ...: problem``, and exit status 2.
"""

from __future__ import annotations

import re
import sys
import time
import tomllib
from pathlib import Path
from typing import Annotated, Any

import typer

from credsim.defaults import DEFAULT_DAYS, DEFAULT_METRICS, DEFAULT_POPULATION

__all__ = [
    "parse_bounds",
    "parse_grid",
    "register",
    "sensitivity_command",
    "sweep_command",
]

# argument of the Python functions -> flag of the command line
FLAGS = {
    "vary": "--vary",
    "params": "--param",
    "sample": "--sample",
    "replicates": "--replicates",
    "population": "--population",
    "days": "--days",
    "seed": "--seed",
    "workers": "--workers",
    "metrics": "--metric",
    "output": "--output",
    "method": "--method",
    "n": "-n",
    "ledger": "--ledger",
    "regime": "REGIME",
}
_RANGE = re.compile(r"^\s*[-+]?[\d.eE+_-]+\s*:\s*[-+]?[\d.eE+_-]+\s*$")


class InputError(ValueError):
    """Bad command-line input: ``flag`` and a one-line ``problem``."""

    def __init__(self, flag: str, problem: str):
        self.flag, self.problem = flag, problem
        super().__init__(f"{flag} {problem}")


def _fail(message: str, code: int = 2) -> None:
    """One line on stderr (``error: ...``), no traceback, exit ``code``."""
    typer.echo(f"error: {' '.join(message.split())}", err=True)
    raise typer.Exit(code)


def _value(text: str) -> Any:
    """A value as written after ``=``: TOML if it parses (numbers, booleans, quoted text,
    arrays), bare text otherwise."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def _split_values(text: str) -> list[str]:
    """Split ``v1,v2,...`` on commas outside brackets, braces and quotes."""
    parts, depth, quote, cur = [], 0, "", ""
    for ch in text:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
            continue
        cur += ch
    parts.append(cur)
    return [p.strip() for p in parts]


def _assignment(flag: str, text: str, shape: str) -> tuple[str, str]:
    if "=" not in text:
        raise InputError(flag, f"{text}: expected {shape}")
    path, rest = (s.strip() for s in text.split("=", 1))
    if not path or " " in path:
        raise InputError(flag, f"{text}: expected {shape} (no parameter path before '=')")
    if not rest:
        raise InputError(flag, f"{text}: expected {shape} (nothing after '=')")
    return path, rest


def parse_grid(items: list[str], flag: str = "--vary") -> dict[str, list]:
    """``["path=v1,v2", ...]`` -> ``{path: [v1, v2]}``; values parsed as TOML where they can be."""
    out: dict[str, list] = {}
    for text in items:
        path, rest = _assignment(flag, text, "PATH=V1,V2,...")
        if _RANGE.match(rest) and ":" in rest:
            raise InputError(
                flag,
                f"{text}: LO:HI is a range, which needs --sample lhs|sobol N; "
                "for a grid list the values: PATH=V1,V2,...",
            )
        if path in out:
            raise InputError(flag, f"{text}: {path} is given twice")
        values = _split_values(rest)
        if any(not v for v in values):
            raise InputError(flag, f"{text}: empty value in the list")
        out[path] = [_value(v) for v in values]
    return out


def parse_bounds(items: list[str], flag: str = "--param") -> dict[str, tuple[Any, Any]]:
    """``["path=lo:hi", ...]`` -> ``{path: (lo, hi)}``, both numbers, lo < hi."""
    out: dict[str, tuple[Any, Any]] = {}
    for text in items:
        path, rest = _assignment(flag, text, "PATH=LO:HI")
        if rest.count(":") != 1:
            raise InputError(flag, f"{text}: expected PATH=LO:HI (bounds, e.g. 0:0.05)")
        lo_t, hi_t = (s.strip() for s in rest.split(":"))
        lo, hi = _value(lo_t), _value(hi_t)
        for t, v in ((lo_t, lo), (hi_t, hi)):
            if isinstance(v, bool) or not isinstance(v, int | float):
                raise InputError(flag, f"{text}: bound {t!r} is not a number")
        if not lo < hi:
            raise InputError(flag, f"{text}: lower bound {lo_t} must be below upper {hi_t}")
        if path in out:
            raise InputError(flag, f"{text}: {path} is given twice")
        out[path] = (lo, hi)
    return out


class _Progress:
    """Finished runs on stderr: a bar on a terminal, a line per tenth otherwise."""

    def __init__(self, label: str):
        self.label, self.last, self.t0 = label, -1.0, time.perf_counter()

    def __call__(self, done: int, total: int) -> None:
        frac = done / max(total, 1)
        if done == 0:
            typer.echo(f"{self.label}: {total} runs", err=True)
            return
        if sys.stderr.isatty():
            el = time.perf_counter() - self.t0
            end = "\n" if done == total else ""
            typer.echo(f"\r{self.label}: {done}/{total} runs, {el:.0f} s", err=True, nl=False)
            if end:
                typer.echo("", err=True)
        elif frac >= 1.0 or frac - self.last >= 0.1:
            el = time.perf_counter() - self.t0
            typer.echo(f"{self.label}: {done}/{total} runs, {el:.0f} s", err=True)
            self.last = frac


def _print_frame(df) -> None:
    import pandas as pd

    with pd.option_context("display.max_rows", 60, "display.width", 200, "display.max_columns", 20):
        typer.echo(df.to_string(index=False))


def _handle(e: Exception) -> None:
    """Turn the errors of an experiment into one line and exit 2."""
    from credsim.experiments.sweep import ExperimentError
    from credsim.scale.budget import ResourceError

    if isinstance(e, InputError):
        _fail(str(e))
    if isinstance(e, ExperimentError):
        if e.option == "regime":  # the problem already names the regime
            _fail(e.problem)
        _fail(f"{FLAGS.get(e.option, '--' + e.option)} {e.problem}")
    if isinstance(e, ImportError):
        _fail(f"{e.name or 'SALib'} is needed: pip install 'credsim[experiments]'")
    if isinstance(e, ResourceError | ValueError):
        _fail(str(e))
    raise e


def sweep_command(
    regime: Annotated[str, typer.Argument(help="A preset name or a regime TOML file.")] = "press",
    vary: Annotated[
        list[str] | None,
        typer.Option(
            "--vary",
            help="PATH=V1,V2,... (a grid of values) or, with --sample, PATH=LO:HI (bounds). "
            "Repeatable.",
        ),
    ] = None,
    sample: Annotated[
        tuple[str, str] | None,
        typer.Option("--sample", metavar="lhs|sobol N", help="Draw N points within the bounds."),
    ] = None,
    replicates: Annotated[
        int, typer.Option("--replicates", "-r", help="Runs per parameter set (paired seeds).")
    ] = 1,
    population: Annotated[
        int, typer.Option("--population", help="Synthetic citizens per run.")
    ] = DEFAULT_POPULATION,
    days: Annotated[int, typer.Option("--days", "-d")] = DEFAULT_DAYS,
    seed: Annotated[int, typer.Option("--seed", "-s", help="Seed of the whole sweep.")] = 1,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Folder (default sweeps/<regime>-<seed>).")
    ] = None,
    workers: Annotated[
        int | None, typer.Option(help="Runs at once (default: the number of cores).")
    ] = None,
    metric: Annotated[
        list[str] | None,
        typer.Option(
            "--metric", help=f"Daily metric to chart (default {', '.join(DEFAULT_METRICS)})."
        ),
    ] = None,
    ledger: Annotated[
        str,
        typer.Option(help="Ledger of each run: none, full or sample=F (not none: run folders)."),
    ] = "none",
    run_folders: Annotated[
        bool,
        typer.Option(
            "--run-folders", help="Also write every run's folder under OUT/runs (default: none)."
        ),
    ] = False,
) -> None:
    """Run a regime over a grid or a sample of parameter values, with replicates."""
    from credsim.experiments.sweep import sweep

    try:
        method: tuple[str, int] | None = None
        if sample is not None:
            name, count = sample
            if name not in ("lhs", "sobol"):
                raise InputError("--sample", f"{name}: unknown sampler (use lhs or sobol)")
            try:
                method = (name, int(count))
            except ValueError:
                raise InputError("--sample", f"{name} {count}: N must be a whole number") from None
            if method[1] < 1:
                raise InputError("--sample", f"{name} {count}: N must be at least 1")
            bounds = parse_bounds(vary or [], "--vary")
            if not bounds:
                raise InputError("--vary", "--sample needs bounds: --vary PATH=LO:HI")
            spec: dict[str, Any] | None = {p: list(b) for p, b in bounds.items()}
        else:
            spec = parse_grid(vary or [], "--vary") or None
        folder = out or Path("sweeps") / f"{Path(regime).stem}-{seed}"
        result = sweep(
            regime,
            vary=spec,
            sample=method,
            replicates=replicates,
            population=population,
            days=days,
            seed=seed,
            out=folder,
            workers=workers,
            metrics=tuple(metric) if metric else DEFAULT_METRICS,
            ledger=ledger,
            progress=_Progress("sweep"),
            run_folders=run_folders,
        )
    except (InputError, ValueError, ImportError, RuntimeError) as e:
        _handle(e)
    typer.echo(
        f"last day, per parameter set: median, lowest and highest over {replicates} "
        f"replicate{'s' if replicates != 1 else ''} (common random numbers)"
    )
    _print_frame(result.by_set())
    typer.echo(f"runs table: {result.out / 'sweep_runs.parquet'}")
    typer.echo(f"days table: {result.out / 'sweep_days.parquet'}")
    typer.echo(f"report: {result.html}")
    if run_folders or ledger != "none":
        typer.echo(f"run folders: {result.out / 'runs'}")


def sensitivity_command(
    regime: Annotated[str, typer.Argument(help="A preset name or a regime TOML file.")] = "press",
    param: Annotated[
        list[str] | None,
        typer.Option("--param", help="PATH=LO:HI, a parameter and its bounds. Repeatable."),
    ] = None,
    output: Annotated[
        str,
        typer.Option(help="Headline figure analysed (wrongful, restricted, denied_flight...)."),
    ] = "wrongful",
    method: Annotated[str, typer.Option(help="sobol (indices) or morris (screening).")] = "sobol",
    n: Annotated[
        int,
        typer.Option("-n", help="Base sample size (sobol: N*(D+2) runs) or trajectories (morris)."),
    ] = 64,
    population: Annotated[
        int, typer.Option("--population", help="Synthetic citizens per run.")
    ] = DEFAULT_POPULATION,
    days: Annotated[int, typer.Option("--days", "-d")] = DEFAULT_DAYS,
    seed: Annotated[int, typer.Option("--seed", "-s")] = 1,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Folder (default sensitivity/<regime>-<output>-<seed>)."),
    ] = None,
    workers: Annotated[
        int | None, typer.Option(help="Runs at once (default: the number of cores).")
    ] = None,
    ledger: Annotated[
        str, typer.Option(help="Ledger of each run: none, full or sample=F.")
    ] = "none",
) -> None:
    """Sobol' or Morris sensitivity of one headline figure to regime parameters."""
    from credsim.experiments.sensitivity import sensitivity

    try:
        bounds = parse_bounds(param or [], "--param")
        if not bounds:
            raise InputError("--param", "give at least one parameter: --param PATH=LO:HI")
        folder = out or Path("sensitivity") / f"{Path(regime).stem}-{output}-{seed}"
        indices = sensitivity(
            regime,
            bounds,
            output=output,
            method=method,
            n=n,
            population=population,
            days=days,
            seed=seed,
            out=folder,
            workers=workers,
            ledger=ledger,
            progress=_Progress(f"sensitivity ({method})"),
        )
    except (InputError, ValueError, ImportError, RuntimeError) as e:
        _handle(e)
    _print_frame(indices)
    for note in indices.attrs.get("notes", []):
        typer.echo(f"note: {note}")
    typer.echo(f"indices: {folder / 'sensitivity.parquet'}")
    typer.echo(f"runs table: {folder / 'sensitivity_runs.parquet'}")
    typer.echo(f"report: {folder / 'sensitivity.html'}")


def _number(flag: str, text: str) -> int | float:
    v = _value(text)
    if isinstance(v, bool) or not isinstance(v, int | float) or v != v:
        raise InputError(flag, f"{text!r}: not a number")
    return v


def threshold_command(
    regime: Annotated[str, typer.Argument(help="A preset name or a regime TOML file.")],
    figure: Annotated[
        str, typer.Option(help="Headline figure (restricted, wrongful, denied_flight...).")
    ],
    target: Annotated[float, typer.Option(help="The value the figure must reach.")],
    vary: Annotated[str, typer.Option(help="The regime path to vary (as for --set).")],
    lo: Annotated[
        str | None,
        typer.Option(help="Lowest value tried (whole numbers: integers); omit both to search."),
    ] = None,
    hi: Annotated[str | None, typer.Option(help="Highest value tried.")] = None,
    replicates: Annotated[
        int, typer.Option(min=1, max=1000, help="Seeds, each bisected on its own.")
    ] = 5,
    population: Annotated[
        int, typer.Option("--population", "-n", min=100, help="Synthetic citizens per run.")
    ] = 20_000,
    days: Annotated[
        int, typer.Option("--days", "-d", min=1, max=32_000, help="Days per run.")
    ] = 365,
    seed: Annotated[int, typer.Option("--seed", "-s", min=0, help="The first seed.")] = 1,
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="Override: PATH=VALUE. Repeatable.")
    ] = None,
    tolerance: Annotated[
        float | None, typer.Option(help="Bracket width to stop at (non-integer parameters).")
    ] = None,
    format: Annotated[str, typer.Option("--format", help="text or json.")] = "text",
    workers: Annotated[
        int | None, typer.Option(min=1, help="Runs at once (default: the number of cores).")
    ] = None,
) -> None:
    """What would have to be true: the value of a parameter at which a figure reaches a target."""
    import json

    from credsim.experiments.threshold import threshold

    try:
        if format not in ("text", "json"):
            raise InputError("--format", f"unknown format {format!r}; use text or json")
        result = threshold(
            regime,
            figure,
            target,
            vary,
            None if lo is None else _number("--lo", lo),
            None if hi is None else _number("--hi", hi),
            replicates=replicates,
            population=population,
            days=days,
            seed=seed,
            overrides=tuple(set_ or ()),
            tolerance=tolerance,
            workers=workers,
        )
    except (InputError, ValueError, ImportError, RuntimeError) as e:
        _handle(e)
    if format == "json":
        typer.echo(json.dumps(result.as_dict(), indent=2, allow_nan=False))
        return
    typer.echo(
        f"{figure} crosses {target:g} in {regime} ({population:,} synthetic citizens, {days} "
        f"days) when {vary} is"
    )
    if result.mean is None:
        typer.echo(
            f"  not found between {result.lo:g} and {result.hi:g} on any of {replicates} replicates"
        )
    elif result.ci_low is None:
        typer.echo(f"  {result.mean:g} (one replicate: no interval)")
    else:
        typer.echo(
            f"  {result.mean:g}, 95% interval {result.ci_low:g} to {result.ci_high:g} "
            f"(mean over {sum(c.value is not None for c in result.crossings)} replicates)"
        )
    for c in result.crossings:
        where = "no crossing: " + c.note if c.value is None else f"{c.value:g}"
        typer.echo(f"  seed {c.seed}: {where}")
    typer.echo(f"runs: {result.runs}")


def register(app: typer.Typer) -> None:
    """Add ``sweep``, ``sensitivity``, ``threshold`` and ``plan`` to a typer app."""
    app.command("sweep")(sweep_command)
    app.command("sensitivity")(sensitivity_command)
    app.command("threshold")(threshold_command)
    from credsim.plan import plan_command

    app.command("plan")(plan_command)
