"""The ``credsim`` command line: run, presets, validate, explain, query, report, compare,
calibrate, sweep, sensitivity, serve."""

from __future__ import annotations

import errno
import json
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from credsim import __version__

app = typer.Typer(
    add_completion=False,
    no_args_is_help=False,
    help="Simulate 'social credit' regimes on synthetic citizens and count what they do.\n\n"
    "Synthetic citizens only: no real person's data, no enforcement of anything.",
    pretty_exceptions_enable=False,
)

DEFAULT_POPULATION = 1_000_000
DEFAULT_DAYS = 365


def fail(message: str, code: int = 2) -> None:
    """One line per problem on stderr, no traceback, non-zero exit."""
    for line in message.splitlines() or [message]:
        typer.echo(f"error: {line}", err=True)
    raise typer.Exit(code)


def os_error(e: OSError, out: Path | None) -> str:
    """One line for a file error during a run; a full disk says how to go on."""
    if e.errno == errno.ENOSPC:
        return (
            f"disk full writing {e.filename or out}: free space and continue with "
            f"credsim run --resume {out}, or start again with --ledger sample=0.01 "
            "or --out elsewhere"
        )
    return f"{e.filename}: {e.strerror}" if e.filename else str(e)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"credsim {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Simulate 'social credit' regimes on synthetic citizens and count what they do."""


class Progress:
    """A rich progress bar on a terminal; plain periodic lines otherwise, once the run has
    lasted ``QUIET_SECONDS`` (a run of a second or two prints no progress lines at all)."""

    QUIET_SECONDS = 2.0

    def __init__(self, label: str):
        self.label = label
        self.tty = sys.stderr.isatty()
        self.bar = None
        self.last = -1.0
        self.t0 = time.perf_counter()
        self.first: tuple[float, float] | None = None  # (elapsed, fraction) at the first report

    def __enter__(self) -> Progress:
        if self.tty:
            from rich.progress import (
                BarColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self.bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                TextColumn("{task.percentage:>5.1f}%"),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                transient=True,
            )
            self.bar.start()
            self.task = self.bar.add_task(self.label, total=1)
        return self

    def __call__(self, done: int, total: int) -> None:
        if self.bar is not None:
            self.bar.update(self.task, completed=done, total=total)
            return
        frac = done / max(total, 1)
        if frac >= 1.0 or frac - self.last >= 0.1 - 1e-9:  # every tenth, rounding aside
            el = time.perf_counter() - self.t0
            # the time to the first report holds start-up (imports, compiled kernels, the
            # population): the remaining time comes from the pace since then
            if self.first is None:
                self.first = (el, frac)
            if self.last < 0 and el < self.QUIET_SECONDS:
                return  # nothing printed yet, and too soon to need a line
            e0, f0 = self.first
            if frac >= 1.0:
                eta = "eta 0.0s"
            elif frac > f0 and el > e0:
                eta = f"eta {(1.0 - frac) * (el - e0) / (frac - f0):.1f}s"
            else:
                eta = "eta estimating"
            typer.echo(
                f"{self.label}: {100 * frac:5.1f}% ({done}/{total} shard-days) "
                f"elapsed {el:.1f}s {eta}",
                err=True,
            )
            self.last = frac

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.stop()


class Terminated(KeyboardInterrupt):
    """SIGTERM during a run: stopped like Ctrl-C, with the resume hint."""


def summary_table(run) -> str:
    """The headline figures of a run as a terminal table: label, value, days covered, and with
    replicates the mean and its 95% interval (t over replicates)."""
    import io

    from rich.console import Console
    from rich.table import Table

    from credsim.labels import seeds_text
    from credsim.report import headline, interval_text, value_text

    m = run.manifest
    reps = len(run.seeds)
    title = (
        f"{m['regime']}: {m['population']:,} synthetic citizens, {m['days']} days, "
        f"{seeds_text(run.seeds)}"
    )
    if reps > 1:
        title += f"; means and 95% intervals (t over {reps} replicates)"
    t = Table(title=title, show_header=True, min_width=len(title))  # the title on one line
    t.add_column("figure")
    t.add_column("mean" if reps > 1 else "value", justify="right")
    if reps > 1:
        t.add_column("95% interval", justify="right")
    t.add_column("days covered")
    for f in headline(run):
        if f["key"] in ("citizens", "days"):
            continue
        cells = [f["label"], value_text(f)] + ([interval_text(f)] if reps > 1 else [])
        t.add_row(*cells, f["window_label"])
    buf = io.StringIO()
    Console(file=buf, width=120, color_system=None).print(t)
    return "\n".join(line.rstrip() for line in buf.getvalue().splitlines()) + "\n"


def print_summary(run) -> None:
    """The headline figures of a run as a table, on standard output."""
    typer.echo(summary_table(run), nl=False)


def default_folder(regime: str, seed: int) -> Path:
    """``runs/<regime>-<seed>``, or the first of ``-2``, ``-3``... not taken by another run.

    The run locks the folder and checks it is still empty under the lock, so two runs
    choosing one name at once never share it (the second is refused).
    """
    base = Path("runs") / f"{Path(regime).stem}-{seed}"
    for k in range(1, 10_000):
        folder = base if k == 1 else base.with_name(f"{base.name}-{k}")
        if folder.exists() and not (folder.is_dir() and not any(folder.iterdir())):
            continue
        if k > 1:
            typer.echo(f"{base} holds an earlier run: writing {folder}", err=True)
        return folder
    fail(f"{base}: no free run folder name; give --out")
    raise AssertionError  # unreachable


@app.command()
def run(
    regime: Annotated[
        str | None, typer.Argument(help="A preset name or a regime TOML file (default press).")
    ] = None,
    population: Annotated[
        int | None,
        typer.Option(
            "--population", "-n", min=1, help="Number of synthetic citizens (default 1,000,000)."
        ),
    ] = None,
    days: Annotated[
        int | None,
        typer.Option(
            "--days", "-d", min=1, max=32000, help="Days simulated (1 to 32000; default 365)."
        ),
    ] = None,
    seed: Annotated[
        int | None,
        typer.Option(
            "--seed",
            "-s",
            min=0,
            help="Seed of every random decision (same seed: paired runs; default 1).",
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Run folder (default runs/<regime>-<seed>).")
    ] = None,
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="Override: PATH=VALUE (repeatable).")
    ] = None,
    ledger: Annotated[str | None, typer.Option(help="full, none or sample=FRACTION.")] = None,
    shard_size: Annotated[int | None, typer.Option(min=1, help="Citizens per shard.")] = None,
    workers: Annotated[
        int | None, typer.Option(min=1, help="Worker processes (default: the number of cores).")
    ] = None,
    backend: Annotated[str, typer.Option(help="local (processes) or dask.")] = "local",
    scheduler: Annotated[
        str | None, typer.Option(help="Dask scheduler address (default: a local cluster).")
    ] = None,
    report: Annotated[bool, typer.Option("--report/--no-report", help="Write report.html.")] = True,
    resume: Annotated[Path | None, typer.Option(help="Continue an interrupted run folder.")] = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Replace an earlier run in --out, and run past the time and shard budget.",
        ),
    ] = False,
    replicates: Annotated[
        int,
        typer.Option(
            min=1,
            max=1000,
            help="Replicates: seeds SEED ... SEED+R-1 in one run folder (replicates/seed-S), "
            "with means and 95% intervals.",
        ),
    ] = 1,
) -> None:
    """Run a regime on a synthetic population and write a run folder."""
    from credsim.regime.load import RegimeError
    from credsim.run import RunFolderError
    from credsim.sim import Sim

    options = {"scheduler": scheduler} if scheduler else {}
    try:
        if resume is not None:
            from credsim.run import Run

            old = Run(resume).manifest
            keys = {"population": int, "days": int, "seed": int, "ledger": str}
            if any(type(old.get(k)) is not t for k, t in keys.items()):
                fail(f"{resume / 'manifest.json'}: not a credsim run manifest")
            if old.get("shard_size") is not None and type(old["shard_size"]) is not int:
                fail(f"{resume / 'manifest.json'}: shard_size: not a whole number")
            given = {
                "--population": (population, old["population"]),
                "--days": (days, old["days"]),
                "--seed": (seed, old["seed"]),
                "--ledger": (ledger, old["ledger"]),
                "--shard-size": (shard_size, old.get("shard_size")),
                "--out": (out, resume),
            }
            for flag, (value, was) in given.items():
                if value is not None and value != was:
                    fail(
                        f"{flag} {value}: the run in {resume} has {was}; "
                        "resume continues it as it was"
                    )
            if regime is not None:
                fail(f"{regime}: resume uses the regime of {resume}/regime.toml; give no REGIME")
            if set_:
                fail(f"--set: resume uses the regime of {resume}/regime.toml; give no --set")
            if force:
                fail("--force: not with --resume")
            if old.get("replicates"):
                fail(f"{resume}: a run with replicates cannot be resumed; run it again")
            sim = Sim(
                resume / "regime.toml",
                old["population"],
                old["days"],
                old["seed"],
                out=resume,
                ledger=old["ledger"],
                shard_size=old.get("shard_size"),
                workers=workers,
                backend=backend,
                backend_options=options,
            )
        else:
            regime = regime or "press"
            population = DEFAULT_POPULATION if population is None else population
            days = DEFAULT_DAYS if days is None else days
            seed = 1 if seed is None else seed
            if out is not None and str(out) in ("", "."):
                fail(f"--out {str(out)!r}: not a run folder name; give a new folder")
            sim = Sim(
                regime,
                population,
                days,
                seed,
                overrides=tuple(set_ or ()),
                out=out,
                ledger=ledger,
                shard_size=shard_size,
                workers=workers,
                backend=backend,
                backend_options=options,
                force=force,
                replicates=replicates,
            )
    except RegimeError as e:
        fail(str(e))
    except (ValueError, FileNotFoundError) as e:
        fail(str(e))
    from credsim.files import FolderBusy
    from credsim.scale.budget import ResourceError, check_size

    try:
        check_size(sim.population, sim.days, sim.shard_size, force=sim.force)
    except ResourceError as e:
        fail(str(e))
    est = sim.estimate()
    typer.echo(est.describe(), err=True)
    if sim.out is None:
        sim.out = default_folder(regime, sim.seed)
    import signal

    def terminated(signum, frame):
        raise Terminated()

    with Progress(f"{sim.regime.regime.name}") as bar:
        sim.progress = bar
        try:
            old_term = signal.signal(signal.SIGTERM, terminated)
        except ValueError:  # not the main thread: SIGTERM keeps its meaning
            old_term = None
        try:
            result = sim.run(resume=resume is not None)
        except Terminated:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            fail(f"terminated; continue with: credsim run --resume {sim.out}", 143)
        except KeyboardInterrupt:
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C cannot cut the exit
            fail(f"interrupted; continue with: credsim run --resume {sim.out}", 130)
        except (ResourceError, RunFolderError, FolderBusy) as e:
            fail(str(e))
        except OSError as e:
            fail(os_error(e, sim.out))
        except ImportError as e:
            fail(str(e))
        finally:
            if old_term is not None:
                signal.signal(signal.SIGTERM, old_term)
    print_summary(result)
    if report:
        try:
            from credsim.report import write_report

            path = write_report(result)
            typer.echo(f"report: {path}")
        except ImportError:
            pass
        except OSError as e:
            fail(os_error(e, result.path))
    typer.echo(f"run folder: {result.path}")


@app.command()
def presets() -> None:
    """List the shipped regime presets, one line each."""
    from credsim.regime.load import presets as _presets

    items = _presets()
    width = max(len(n) for n in items) + 2
    for name, desc in items.items():
        typer.echo(f"{name:<{width}}{desc}")


@app.command()
def validate(
    regime: Annotated[str, typer.Argument(help="A preset name or a regime TOML file.")],
    set_: Annotated[list[str] | None, typer.Option("--set", help="Override: PATH=VALUE.")] = None,
) -> None:
    """Check a regime file; print its problems one per line."""
    from credsim.regime.load import RegimeError, load_regime

    try:
        r = load_regime(regime, tuple(set_ or ()))
    except RegimeError as e:
        fail(str(e))
    typer.echo(
        f"{regime}: valid ({r.regime.name}: {len(r.behaviours)} behaviours, "
        f"{len(r.rules)} rules, {len(r.sanctions)} sanctions)"
    )


def _open_run(path: Path):
    """A run folder checked against its manifest: damage is an error, an interrupted run or
    a foreign file a warning (one line each on stderr)."""
    from credsim.run import Run

    try:
        run = Run(path)
        problems = run.problems()
    except (OSError, ValueError) as e:
        fail(str(e))
    damaged = [line for bad, line in problems if bad]
    if damaged:
        fail("\n".join(damaged))
    for _, line in problems:
        typer.echo(f"warning: {line}", err=True)
    return run


@contextmanager
def reading(path: Path):
    """Errors met while reading a run folder (a torn or foreign file) as one line, exit 2."""
    try:
        yield
    except typer.Exit:
        raise
    except (OSError, ValueError, KeyError, LookupError) as e:
        fail(_one_line(e, path))
    except Exception as e:  # duckdb and pyarrow errors of a damaged file
        if type(e).__module__.split(".")[0] in ("duckdb", "_duckdb", "pyarrow"):
            fail(_one_line(e, path))
        raise


def _one_line(e: BaseException, path: Path) -> str:
    text = str(e).strip().strip("'\"")
    first = text.splitlines()[0] if text else type(e).__name__
    if isinstance(e, OSError) and e.filename:
        return f"{e.filename}: {e.strerror or first}"
    return first if str(path) in first else f"{path}: {first}"


REPLICATE_HELP = "Of a run with replicates: which replicate to read (1 = the first seed)."


def _replicate(run, k: int):
    """The run that holds the citizens and ledger: replicate ``k`` of a replicated run, said
    on stderr, or the run itself."""
    from credsim.explain import one_replicate

    try:
        one, which = one_replicate(run, k)
    except ValueError as e:
        fail(str(e))
    if which:
        typer.echo(f"{run.path}: reading {which}, {one.path}", err=True)
    return one


@app.command()
def explain(
    run_dir: Annotated[Path, typer.Argument(help="A run folder.")],
    citizen: Annotated[int | None, typer.Argument(help="A citizen id.")] = None,
    find: Annotated[
        str | None,
        typer.Option(
            help="wrongful, ever_wrongful, escaped, spillover, wrongful_spillover, banned or "
            "permanent."
        ),
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 5,
    format: Annotated[str, typer.Option("--format", help="text or json.")] = "text",
    replicate: Annotated[int, typer.Option(min=1, help=REPLICATE_HELP)] = 1,
) -> None:
    """Explain one citizen's standing from the ledger, or find example citizens."""
    from credsim.explain import FIND, dossier, find_citizens, find_reasons, render

    top = _open_run(run_dir)
    r = _replicate(top, replicate)
    if find is not None:
        if find not in FIND:
            fail(f"--find {find!r}: expected one of {', '.join(FIND)}")
        if format == "json":
            with reading(run_dir):
                ids = find_citizens(r, find, limit)
            typer.echo(json.dumps(ids))
            return
        with reading(run_dir):
            heading, total, rows = find_reasons(r, find, limit)
        if not rows:
            typer.echo(f"no {find} citizens in this run")
            return
        typer.echo(f"{heading}: {total} citizens; the first {len(rows)}:")
        for cid, why in rows:
            typer.echo(f"  {cid}: {why}")
        return
    if citizen is None:
        fail("give a CITIZEN id or --find KIND")
    try:
        with reading(run_dir):
            d = dossier(top, citizen, replicate) if top.replicated else dossier(r, citizen)
    except KeyError as e:
        fail(str(e).strip("'\""))
    typer.echo(json.dumps(d, indent=2, default=str) if format == "json" else render(d))


@app.command()
def query(
    run_dir: Annotated[Path, typer.Argument(help="A run folder.")],
    sql: Annotated[str, typer.Argument(help="DuckDB SQL over metrics, groups, citizens, ledger.")],
    format: Annotated[str, typer.Option("--format", help="table, csv or json.")] = "table",
    replicate: Annotated[int, typer.Option(min=1, help=REPLICATE_HELP)] = 1,
) -> None:
    """Run SQL over a run folder's tables (of a run with replicates, one replicate's)."""
    from credsim.query import QueryError
    from credsim.query import query as _query

    if format not in ("table", "csv", "json"):
        fail(f"--format: unknown format {format!r}; use table, csv or json")
    if not sql.strip():
        fail('SQL is empty: give a query, e.g. "SELECT count(*) FROM citizens WHERE restricted"')
    r = _replicate(_open_run(run_dir), replicate)
    try:
        df = _query(r.path, sql)
    except QueryError as e:
        fail(str(e))
    if format == "csv":
        typer.echo(df.to_csv(index=False), nl=False)
    elif format == "json":
        typer.echo(df.to_json(orient="records"))
    else:
        import pandas as pd

        with pd.option_context("display.max_rows", 200, "display.width", 200):
            typer.echo(df.to_string(index=False))


@app.command("report")
def report_cmd(
    run_dir: Annotated[Path, typer.Argument(help="A run folder.")],
    png: Annotated[Path | None, typer.Option(help="Also write the figures as PNG here.")] = None,
) -> None:
    """Write report.html (self-contained) for a run."""
    from credsim.report import write_report

    r = _open_run(run_dir)
    with reading(run_dir):
        path = write_report(r, png_dir=png)
    typer.echo(f"report: {path}")


COMPARE_FORMATS = ("text", "json", "csv")


@app.command()
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


@app.command()
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
    from credsim import structural as st
    from credsim.calibration import target_days
    from credsim.run import write_atomic

    days = max(last for _, last in target_days(t)) + 1
    typer.echo(f"probe: {replicates} runs of {population:,} citizens for {days} days", err=True)
    probe = st.run_probe(base, days, population, t.meta.population, replicates, seed, workers)
    df = st.validate(probe, t, check_population=population, draws=draws)
    if df.empty:
        fail(f"{t.meta.name}: no target dated after an origin ({', '.join(st.ORIGINS)})")
    summary = st.validation_summary(df)
    try:
        out.mkdir(parents=True, exist_ok=True)
        write_atomic(out / "validation.csv", df.to_csv(index=False, float_format="%.6g"))
        table = st.validation_markdown(summary)
        note = (
            "Mean absolute relative error of forecasts of cumulative counts, by horizon, "
            f"origins {', '.join(st.ORIGINS)}; probe {replicates} x {population:,} citizens; "
            f"coverage: share of published figures inside the model's 90% interval "
            f"({draws} bootstrap refits at each origin).\n\n"
        )
        write_atomic(out / "validation.md", note + table)
        st.validation_chart(df, out / "validation.png")
    except OSError as e:
        fail(os_error(e, out))
    typer.echo(note + table)
    typer.echo(
        f"validation: {out / 'validation.md'}, {out / 'validation.csv'}, {out / 'validation.png'}"
    )


def _extensions() -> None:
    """Commands defined beside the code they drive (sweeps, sensitivity, cluster, serve)."""
    from credsim.experiment_commands import register
    from credsim.scale.cluster import cluster_app
    from credsim.web.cli import serve

    register(app)
    app.command("serve")(serve)
    app.add_typer(cluster_app, name="cluster")


_extensions()


def main() -> None:
    """Entry point of the console script: usage errors become one ``error:`` line, exit 2."""
    usage_error = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "UsageError")
    if len(sys.argv) == 1:
        sys.argv.append("--help")
    try:
        code = app(standalone_mode=False)
    except KeyboardInterrupt:  # an interrupt outside a run's own handling
        typer.echo("error: interrupted", err=True)
        raise SystemExit(130) from None
    except typer.Abort:
        typer.echo("error: interrupted", err=True)
        raise SystemExit(130) from None
    except usage_error as e:
        where = f"{e.ctx.command_path}: " if getattr(e, "ctx", None) else ""
        message = " ".join(e.format_message().split())
        typer.echo(f"error: {where}{message}", err=True)
        raise SystemExit(2) from None
    except typer.Exit as e:
        code = e.exit_code
    code = code if isinstance(code, int) else 0
    if code in (130, 143):
        interrupted_exit(code)
    raise SystemExit(code)


def interrupted_exit(code: int) -> None:
    """Leave after an interrupted run with exactly ``code``. The run's files are closed and its
    line is printed; CPython 3.11 would otherwise turn an interrupt that landed inside an
    ``exec`` of a string (dataclasses, numba) into a kill by SIGINT at exit, whatever the
    exit status asked for."""
    import atexit
    import os

    atexit._run_exitfuncs()  # what a normal exit would do first: worker pools, temporary files
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    main()
