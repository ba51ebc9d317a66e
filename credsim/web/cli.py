"""``credsim serve``: start the dashboard on this computer (uvicorn)."""

from __future__ import annotations

import errno
import ipaddress
import secrets
from pathlib import Path
from typing import Annotated

import typer

LOOPBACK_NAMES = ("localhost",)


def is_loopback(host: str) -> bool:
    """Whether a bind address only listens on this computer."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def serve(
    host: Annotated[
        str,
        typer.Option(
            help="Address to listen on. The default answers this computer only; any other "
            "address requires an access token (given with --token or generated)."
        ),
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    runs: Annotated[Path, typer.Option(help="Folder where runs are written and read.")] = Path(
        "runs"
    ),
    token: Annotated[
        str | None,
        typer.Option(
            envvar="CREDSIM_TOKEN",
            help="Access token required on every API request (also read from CREDSIM_TOKEN).",
        ),
    ] = None,
    max_population: Annotated[
        int, typer.Option(min=100, help="Largest population a run may ask for.")
    ] = 2_000_000,
) -> None:
    """Start the dashboard: choose a regime, change its rules, run it and read the results."""
    import uvicorn

    from credsim.web.app import create_app

    if token is not None and len(token) < 16:
        typer.echo("error: --token must be at least 16 characters", err=True)
        raise typer.Exit(2)
    if not is_loopback(host) and token is None:
        token = secrets.token_urlsafe(24)
        typer.echo(f"Listening on {host}: every request needs this access token:\n  {token}")
    sock = bind(host, port)
    app = create_app(runs, token=token, max_population=max_population)
    wildcard = host in ("0.0.0.0", "::", "[::]")
    shown = "127.0.0.1" if wildcard else host
    shown = f"[{shown}]" if ":" in shown and not shown.startswith("[") else shown
    query = f"?token={token}" if token else ""
    typer.echo(f"credsim dashboard: open http://{shown}:{port}/{query}")
    if wildcard:
        typer.echo(f"  from another computer: http://THIS-COMPUTER'S-ADDRESS:{port}/{query}")
    typer.echo(f"Runs are kept in {runs.resolve()}. Ctrl-C stops the dashboard.")
    with sock:  # uvicorn serves on the socket bound above (fd), host and port for its messages
        uvicorn.run(
            app,
            host=host.strip("[]"),
            port=port,
            fd=sock.fileno(),
            log_level="warning",
            access_log=False,
        )


def bind(host: str, port: int):
    """The listening socket, bound before anything is printed: a busy port is one line and
    exit status 2, not a link that does not work followed by the server's own error."""
    import socket

    address = host.strip("[]")
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((address, port))
        sock.listen(128)
    except OSError as e:
        sock.close()
        why = "is in use" if e.errno == errno.EADDRINUSE else f"cannot be used ({e.strerror})"
        typer.echo(f"error: port {port} on {host} {why}: choose another with --port", err=True)
        raise typer.Exit(2) from None
    return sock


def main() -> None:
    """Run ``serve`` as a command of its own (``python -m credsim.web``)."""
    typer.run(serve)
