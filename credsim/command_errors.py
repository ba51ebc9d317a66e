"""How every command ends on bad input or a file error: one line on stderr, exit status 2."""

from __future__ import annotations

import errno
from pathlib import Path

import typer


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
