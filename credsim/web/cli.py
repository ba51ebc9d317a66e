"""``credsim serve``: start the dashboard on this computer (uvicorn).

The port is bound before anything is printed, and the bound socket is handed to uvicorn: a
port in use gives one line (``error: port 8000 is in use: ...``) and exit status 2, never an
"open http://..." line followed by uvicorn's own error.
"""

from __future__ import annotations

import errno
import ipaddress
import secrets
import socket
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


def listen(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port``; ``OSError`` if the port is taken or the host wrong."""
    bare = host.strip("[]")
    infos = socket.getaddrinfo(bare, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        sock.bind(address)
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def run_server(app, sock: socket.socket) -> None:
    """Serve ``app`` on an already bound socket until Ctrl-C."""
    import uvicorn

    config = uvicorn.Config(app, log_level="warning", access_log=False)
    uvicorn.Server(config).run(sockets=[sock])


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
    if token is not None and len(token) < 16:
        typer.echo("error: --token must be at least 16 characters", err=True)
        raise typer.Exit(2)
    if runs.exists() and not runs.is_dir():
        typer.echo(f"error: --runs {runs}: is a file, not a folder of runs", err=True)
        raise typer.Exit(2)
    try:
        sock = listen(host, port)
    except OSError as e:
        reason = e.strerror or str(e)
        if e.errno == errno.EADDRINUSE:
            typer.echo(
                f"error: port {port} is in use: {reason}; stop the program using it or "
                f"choose another with --port",
                err=True,
            )
        else:
            typer.echo(f"error: cannot listen on {host} port {port}: {reason}", err=True)
        raise typer.Exit(2) from None
    from credsim.web.app import create_app

    if not is_loopback(host) and token is None:
        token = secrets.token_urlsafe(24)
        typer.echo(f"Listening on {host}: every request needs this access token:\n  {token}")
    try:
        app = create_app(runs, token=token, max_population=max_population)
    except OSError as e:
        sock.close()
        typer.echo(f"error: cannot use the runs folder {runs}: {e.strerror or e}", err=True)
        raise typer.Exit(2) from None
    wildcard = host in ("0.0.0.0", "::", "[::]")
    shown = "127.0.0.1" if wildcard else host
    shown = f"[{shown}]" if ":" in shown and not shown.startswith("[") else shown
    query = f"?token={token}" if token else ""
    typer.echo(f"credsim dashboard: open http://{shown}:{port}/{query}")
    if wildcard:
        typer.echo(f"  from another computer: http://THIS-COMPUTER'S-ADDRESS:{port}/{query}")
    typer.echo(f"Runs are kept in {runs.resolve()}. Ctrl-C stops the dashboard.")
    try:
        run_server(app, sock)
    finally:
        sock.close()


def main() -> None:
    """Run ``serve`` as a command of its own (``python -m credsim.web``)."""
    typer.run(serve)
