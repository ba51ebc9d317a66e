"""The dashboard's web application: one page and a small JSON API over a runs folder.

``create_app(runs_dir)`` serves the page (``static/``, with plotly.js from the installed
plotly package: no external request of any kind) and the API under ``/api``:

- ``GET /api/presets``, ``GET /api/controls?preset=NAME``: what can be run and changed;
- ``POST /api/runs``: start a run (one at a time; later ones wait in a queue);
- ``GET /api/runs``, ``GET /api/runs/NAME``, ``GET /api/runs/NAME/status``,
  ``POST /api/runs/NAME/cancel``, ``GET /api/runs/NAME/metrics``,
  ``GET /api/runs/NAME/citizens/ID``, ``GET /api/runs/NAME/causes``: runs, their progress,
  charts' data, dossiers and the causes of the listings;
- ``GET /api/runs/NAME/report``: a finished run's report.html, as a download;
- ``GET /api/compare?a=NAME&b=NAME``: two runs' headline figures side by side.

Colours, legend names, captions and the window of each headline figure come from
``credsim.labels`` and reach the page through the API (a run's ``style``, ``caption`` and
``summary``), so the page draws a tier in the same colour as the report and its PNGs.

Every error is JSON ``{"error": "one line"}``. Without a token, only requests addressed to a
loopback name (127.0.0.1, localhost, [::1]) are answered, which keeps other web sites out
through DNS rebinding; with a token, every ``/api`` request must carry it (``Authorization:
Bearer TOKEN`` or ``?token=TOKEN``). Run names are checked against a strict pattern and every
run folder is resolved and checked to lie inside the runs folder. A run's folder is reserved
with one ``mkdir`` when the run is accepted, so two runs never share a folder.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from credsim.web.controls import (
    MAX_DAYS,
    controls,
)
from credsim.web.folders import (  # noqa: F401 (no_paths re-exported)
    PRESET_NAME,
    ApiError,
    RunFolders,
    clean,
    no_paths,
)
from credsim.web.jobs import Runner, one_line
from credsim.web.routes import (
    add_compare_route,
    add_group_routes,
    add_run_routes,
    add_series_routes,
    add_start_routes,
)

STATIC = Path(__file__).parent / "static"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
MAX_BODY = 64 * 1024
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; "
    "font-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


HOST = re.compile(
    r"^(?:\[(?P<v6>[0-9a-f:.]{2,45})\]|(?P<name>[a-z0-9](?:[a-z0-9.-]{0,252})))(?::(?P<port>[0-9]{1,5}))?$"
)


def parse_host(host: str) -> tuple[str, int | None] | None:
    """``(name, port)`` of a Host header (or an Origin's netloc), or None if it is not one.

    Only a host name, an IPv4 address or a bracketed IPv6 address, and an optional port:
    ``localhost:evil`` and ``localhost:1@evil.com`` are not hosts.
    """
    m = HOST.fullmatch(host.strip().lower())
    if m is None:
        return None
    port = int(m["port"]) if m["port"] else None
    if port is not None and not 0 < port < 65536:
        return None
    return (m["v6"] or m["name"]).rstrip("."), port


def _host_name(host: str) -> str:
    parsed = parse_host(host)
    return parsed[0] if parsed else ""


def same_origin(origin: str, host: str, scheme: str) -> bool:
    """Whether an Origin header names this server: same scheme, host and port."""
    try:
        o = urlsplit(origin.strip())
        parsed_origin = parse_host(o.netloc) if o.netloc and "@" not in o.netloc else None
    except ValueError:
        return False
    if o.scheme not in ("http", "https") or o.path not in ("", "/") or o.query or o.fragment:
        return False
    parsed_host = parse_host(host)
    if parsed_origin is None or parsed_host is None:
        return False
    default = {"http": 80, "https": 443}
    o_port = parsed_origin[1] or default[o.scheme]
    h_port = parsed_host[1] or default.get(scheme, 80)
    return o.scheme == scheme and parsed_origin[0] == parsed_host[0] and o_port == h_port


class BodyLimit:
    """ASGI middleware: a request body is counted as it arrives (chunked ones too) and
    refused with 413 once it passes ``limit`` bytes, before it is all read."""

    def __init__(self, app, limit: int):
        self.app = app
        self.limit = limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        total = 0
        refused = False

        async def limited_receive():
            nonlocal total, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                total += len(message.get("body", b""))
                if total > self.limit:
                    refused = True
                    body = json.dumps(
                        {"error": f"request body larger than {self.limit} bytes"}
                    ).encode()
                    headers = [(b"content-type", b"application/json")]
                    headers += [
                        (k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS.items()
                    ]
                    headers.append((b"content-length", str(len(body)).encode()))
                    await send({"type": "http.response.start", "status": 413, "headers": headers})
                    await send({"type": "http.response.body", "body": body})
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message):
            if not refused:
                await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception:
            if not refused:
                raise


def create_app(
    runs_dir: Path, token: str | None = None, max_population: int = 2_000_000
) -> FastAPI:
    """The dashboard application over ``runs_dir`` (created if missing).

    ``token``: when given, every ``/api`` request must carry it; when None, only requests
    addressed to a loopback host name are answered. ``max_population`` caps a run's citizens.
    """
    from credsim.regime.load import presets

    root = Path(runs_dir).expanduser()
    root.mkdir(parents=True, exist_ok=True)
    root = root.resolve()
    runner = Runner()
    plotly_cache: dict[str, Any] = {}

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        yield
        runner.close()

    app = FastAPI(
        title="credsim dashboard",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=lifespan,
    )
    app.state.runner = runner
    app.add_middleware(BodyLimit, limit=MAX_BODY)
    app.state.runs_dir = root
    _add_guards(app, token)

    # --- page ----------------------------------------------------------------------------

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html")

    @app.get("/static/plotly.js", include_in_schema=False)
    def plotly_js(request: Request) -> Response:
        if "body" not in plotly_cache:
            from plotly.offline import get_plotlyjs

            body = get_plotlyjs().encode()
            plotly_cache["body"] = body
            plotly_cache["etag"] = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
        headers = {"ETag": plotly_cache["etag"], "Cache-Control": "public, max-age=86400"}
        if request.headers.get("if-none-match") == plotly_cache["etag"]:
            return Response(status_code=304, headers=headers)
        return Response(plotly_cache["body"], media_type="text/javascript", headers=headers)

    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    # --- API -----------------------------------------------------------------------------

    @app.get("/api/presets")
    def api_presets() -> dict[str, Any]:
        return {
            "presets": [{"name": k, "description": v} for k, v in presets().items()],
            "limits": {"max_population": max_population, "max_days": MAX_DAYS},
        }

    @app.get("/api/controls")
    def api_controls(
        preset: Annotated[str, Query(pattern=PRESET_NAME)] = "press",
    ) -> dict[str, Any]:
        try:
            items = controls(preset, max_population)
        except KeyError:
            raise ApiError(
                404, f"unknown preset {preset!r} (presets: {', '.join(presets())})"
            ) from None
        return clean(
            {
                "preset": preset,
                "description": presets()[preset],
                "controls": [c.public() for c in items],
            }
        )

    folders = RunFolders(root, runner)
    add_start_routes(app, folders, max_population)
    add_run_routes(app, folders)
    add_series_routes(app, folders)
    add_group_routes(app, folders)
    add_compare_route(app, folders)
    return app


def _add_guards(app: FastAPI, token: str | None) -> None:
    """Errors as JSON ``{"error": "one line"}``, and the guard of every request: its host,
    its origin, its token, its body size, and the security headers of every answer."""
    # --- errors --------------------------------------------------------------------------

    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, e: ApiError) -> JSONResponse:
        return JSONResponse({"error": no_paths(e.message)}, status_code=e.status)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, e: RequestValidationError) -> JSONResponse:
        lines = []
        for err in e.errors()[:3]:
            loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path")]
            where = ".".join(loc) or "request"
            msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
            if err.get("type") == "string_pattern_mismatch" and loc and loc[-1] == "name":
                msg = "use 1 to 64 lowercase letters, digits, '-' or '_'"
            lines.append(f"{where}: {msg}")
        return JSONResponse({"error": "; ".join(lines) or "invalid request"}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, e: StarletteHTTPException) -> JSONResponse:
        detail = e.detail if isinstance(e.detail, str) else "error"
        return JSONResponse({"error": detail.lower()}, status_code=e.status_code)

    @app.exception_handler(Exception)
    async def _crash(_request: Request, e: Exception) -> JSONResponse:
        return JSONResponse({"error": f"internal error: {no_paths(one_line(e))}"}, status_code=500)

    # --- guard: host, origin, token, body size, headers ----------------------------------

    @app.middleware("http")
    async def _guard(request: Request, call_next):
        def refuse(status: int, message: str) -> JSONResponse:
            r = JSONResponse({"error": message}, status_code=status)
            r.headers.update(SECURITY_HEADERS)
            return r

        host = request.headers.get("host", "")
        if parse_host(host) is None:
            return refuse(400, "the Host header is not a host name and port")
        if token is None and _host_name(host) not in LOOPBACK:
            return refuse(
                400,
                "this dashboard answers on localhost only; start it with a token to "
                "reach it under another name",
            )
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            origin = request.headers.get("origin")
            if origin is None:
                return refuse(403, "a request that changes something needs an Origin header")
            if not same_origin(origin, host, request.url.scheme):
                return refuse(403, "request from another site refused")
            length = request.headers.get("content-length")
            if length is not None and (not length.isdigit() or int(length) > MAX_BODY):
                return refuse(413, f"request body larger than {MAX_BODY} bytes")
        if token is not None and request.url.path.startswith("/api"):
            given = request.query_params.get("token", "")
            auth = request.headers.get("authorization", "")
            if auth.lower().startswith("bearer "):
                given = auth[7:].strip()
            if not hmac.compare_digest(given.encode(), token.encode()):
                r = refuse(401, "missing or wrong token")
                r.headers["WWW-Authenticate"] = "Bearer"
                return r
        response = await call_next(request)
        for k, v in SECURITY_HEADERS.items():
            response.headers.setdefault(k, v)
        return response
