"""Command-line front ends that read a run folder: ``credsim explain``, ``query`` and
``report``, and the helpers other commands open run folders with.

``register(app)`` adds the three commands to the typer app of ``credsim.cli``. A folder that
is missing, damaged or not a run ends with one line on stderr, ``error: ...``, exit status 2.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from credsim.command_errors import fail

__all__ = ["explain", "query", "reading", "register", "report_cmd"]


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


def register(app: typer.Typer) -> None:
    """Add ``explain``, ``query`` and ``report`` to ``app``."""
    app.command()(explain)
    app.command()(query)
    app.command("report")(report_cmd)
