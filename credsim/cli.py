"""The ``credsim`` command line: run, presets, validate, explain, query, report, compare,
calibrate, sweep, sensitivity, serve."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from credsim import __version__
from credsim.command_errors import fail, os_error

app = typer.Typer(
    add_completion=False,
    no_args_is_help=False,
    help="Simulate 'social credit' regimes on synthetic citizens and count what they do.\n\n"
    "Synthetic citizens only: no real person's data, no enforcement of anything.",
    pretty_exceptions_enable=False,
)

DEFAULT_POPULATION = 1_000_000
DEFAULT_DAYS = 365


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


RESUME_FLAGS = ("--population", "--days", "--seed", "--ledger", "--shard-size", "--out")


def _resumable(resume: Path, given: dict, regime, set_, force: bool) -> dict:
    """The manifest of the run in ``resume``; refuses, in one line, a resume whose options
    (``given``: flag -> value, None when not given) differ from the run's, or that names a
    regime, overrides or --force."""
    from credsim.run import Run

    old = Run(resume).manifest
    keys = {"population": int, "days": int, "seed": int, "ledger": str}
    if any(type(old.get(k)) is not t for k, t in keys.items()):
        fail(f"{resume / 'manifest.json'}: not a credsim run manifest")
    if old.get("shard_size") is not None and type(old["shard_size"]) is not int:
        fail(f"{resume / 'manifest.json'}: shard_size: not a whole number")
    was = {
        "--population": old["population"],
        "--days": old["days"],
        "--seed": old["seed"],
        "--ledger": old["ledger"],
        "--shard-size": old.get("shard_size"),
        "--out": resume,
    }
    for flag, value in given.items():
        if value is not None and value != was[flag]:
            fail(
                f"{flag} {value}: the run in {resume} has {was[flag]}; "
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
    return old


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
    from credsim.sim import Sim

    options = {"scheduler": scheduler} if scheduler else {}
    how = {"workers": workers, "backend": backend, "backend_options": options}
    given = dict(zip(RESUME_FLAGS, (population, days, seed, ledger, shard_size, out)))
    try:
        if resume is not None:
            old = _resumable(resume, given, regime, set_, force)
            sim = Sim(
                resume / "regime.toml",
                *(old[k] for k in ("population", "days", "seed")),
                out=resume,
                ledger=old["ledger"],
                shard_size=old.get("shard_size"),
                **how,
            )
        else:
            if out is not None and str(out) in ("", "."):
                fail(f"--out {str(out)!r}: not a run folder name; give a new folder")
            regime = regime or "press"
            sim = Sim(
                regime,
                DEFAULT_POPULATION if population is None else population,
                DEFAULT_DAYS if days is None else days,
                1 if seed is None else seed,
                overrides=tuple(set_ or ()),
                out=out,
                ledger=ledger,
                shard_size=shard_size,
                force=force,
                replicates=replicates,
                **how,
            )
    except (RegimeError, ValueError, FileNotFoundError) as e:
        fail(str(e))
    _execute(sim, regime, resume is not None, report)


def _execute(sim, regime: str | None, resume: bool, report: bool) -> None:
    """Run ``sim`` (into ``runs/<regime>-<seed>`` unless it has a folder) with a progress
    line, print its summary and write its report; an interrupt or a SIGTERM ends with the
    line that resumes it (exit 130 or 143)."""
    import signal

    from credsim.files import FolderBusy
    from credsim.run import RunFolderError
    from credsim.scale.budget import ResourceError, check_size

    try:
        check_size(sim.population, sim.days, sim.shard_size, force=sim.force)
    except ResourceError as e:
        fail(str(e))
    typer.echo(sim.estimate().describe(), err=True)
    if sim.out is None:
        sim.out = default_folder(regime, sim.seed)

    def terminated(signum, frame):
        raise Terminated()

    pending: list[int] = []

    def deferred(signum, frame):
        # a run in this process stops at the end of the day being simulated: an interrupt
        # raised inside a compiled kernel's loading (a callback from LLVM) would be lost
        pending.append(signum)

    def tick(done: int, total: int) -> None:
        bar(done, total)
        if pending:
            raise KeyboardInterrupt

    with Progress(f"{sim.regime.regime.name}") as bar:
        sim.progress = bar
        old_term = old_int = None
        try:
            old_term = signal.signal(signal.SIGTERM, terminated)
            if sim.backend != "dask" and sim.workers <= 1:
                old_int = signal.signal(signal.SIGINT, deferred)
                sim.progress = tick
        except ValueError:  # not the main thread: the signals keep their meaning
            pass
        try:
            result = sim.run(resume=resume)
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
            if old_int is not None and signal.getsignal(signal.SIGINT) is deferred:
                signal.signal(signal.SIGINT, old_int)
    if pending:  # arrived after the last day: the run is complete, and said so
        fail(f"interrupted after the run completed; its folder is complete: {sim.out}", 130)
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


def _extensions() -> None:
    """Commands defined beside the code they drive (explain, query, report, compare,
    calibrate, sweeps, sensitivity, cluster, serve), in the order ``credsim --help`` lists
    them."""
    from credsim.compare_commands import register as register_compare
    from credsim.experiment_commands import register
    from credsim.folder_commands import register as register_folder
    from credsim.scale.cluster import cluster_app
    from credsim.web.cli import serve

    register_folder(app)
    register_compare(app)
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
    exit status asked for; and the other exit functions (of libraries interrupted mid-call)
    are not run."""
    import os

    if "multiprocessing" in sys.modules:  # worker pools and the resource tracker, as at exit
        from multiprocessing import util

        util._exit_function()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    main()
