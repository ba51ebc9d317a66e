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
import math
import re
import threading
import time
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import FastAPI, Query, Request
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt
from starlette.exceptions import HTTPException as StarletteHTTPException

from credsim.labels import PALETTE, SERIES, caption, caption_of_runs, figure, style_table
from credsim.web.controls import (
    DEFAULT_POPULATION,
    MAX_DAYS,
    MAX_REPLICATES,
    MAX_SEED,
    MIN_POPULATION,
    controls,
    labels,
    override_strings,
    preset_data,
)
from credsim.web.jobs import STATE_FILE, Job, QueueFull, Runner, one_line

STATIC = Path(__file__).parent / "static"
RUN_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
PRESET_NAME = r"^[a-z][a-z0-9_-]{0,39}$"
COLUMN = re.compile(r"^[a-z0-9_]{1,80}$")
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
MAX_BODY = 64 * 1024
MAX_JSON_FILE = 1_000_000
MAX_LISTED = 200
DEFAULT_COLUMNS = (
    "restricted",
    "wrongful",
    "ever_wrongful",
    "wrongful_spillover",
    "escaped",
    "wrongful_listings",
    "spillover_only",
    "ever_sanctioned",
    "score_mean",
    "score_p05",
    "score_p25",
    "score_p50",
    "score_p75",
    "score_p95",
)
DEFAULT_PREFIXES = ("denied_", "sanctioned_", "tier_")
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


class ApiError(Exception):
    """An error answered as ``{"error": message}`` with an HTTP status."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


OverrideValue = StrictBool | StrictInt | StrictFloat | Annotated[str, Field(max_length=100)]


class RunRequest(BaseModel):
    """The body of ``POST /api/runs``."""

    model_config = ConfigDict(extra="forbid")

    preset: Annotated[str, Field(pattern=PRESET_NAME)] = "press"
    population: Annotated[int | None, Field(ge=MIN_POPULATION)] = None  # None: 20,000 or less
    days: Annotated[int, Field(ge=1, le=MAX_DAYS)] = 365
    seed: Annotated[int, Field(ge=0, le=MAX_SEED)] = 1
    replicates: Annotated[int, Field(ge=1, le=MAX_REPLICATES)] = 1  # the page asks for 3
    overrides: Annotated[
        dict[Annotated[str, Field(max_length=200)], OverrideValue], Field(max_length=100)
    ] = Field(default_factory=dict)
    name: Annotated[str | None, Field(pattern=RUN_NAME.pattern)] = None


def _short(text: str, n: int = 60) -> str:
    return repr(text if len(text) <= n else text[: n - 3] + "...")


def clean(value: Any) -> Any:
    """Plain JSON values: numpy scalars unwrapped, NaN and infinities as null."""
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        try:
            value = value.item()
        except (ValueError, TypeError):
            return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, bool | int | float | str):
        return value
    try:
        import pandas as pd

        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return str(value)


HOST = re.compile(
    r"^(?:\[(?P<v6>[0-9a-f:.]{2,45})\]|(?P<name>[a-z0-9](?:[a-z0-9.-]{0,252})))(?::(?P<port>[0-9]{1,5}))?$"
)
ABSOLUTE_PATH = re.compile(r"(?<![\w.])/(?:[^\s'\"/:,;()]+/)*([^\s'\"/:,;()]*)")


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


def no_paths(text: str) -> str:
    """A message with every absolute path cut to its last part: errors show no server paths."""
    return ABSOLUTE_PATH.sub(lambda m: m.group(1) or "(path)", text)


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


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        if path.stat().st_size > MAX_JSON_FILE:
            return None
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _iso(t: float | None) -> str | None:
    return None if t is None else datetime.fromtimestamp(t, UTC).isoformat(timespec="seconds")


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
    report_lock = threading.Lock()

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

    # --- run folders ---------------------------------------------------------------------

    def folder_of(name: str) -> Path:
        """The run folder for a name, refused unless it is a plain folder inside the root."""
        if not isinstance(name, str) or not RUN_NAME.fullmatch(name):
            raise ApiError(
                400,
                f"invalid run name {_short(str(name))}: use 1 to 64 lowercase letters, "
                "digits, '-' or '_'",
            )
        path = root / name
        if path.is_symlink() or path.resolve().parent != root:
            raise ApiError(400, f"run {name!r} is not a folder inside the runs folder")
        return path

    def reserve(asked: str | None, preset: str) -> tuple[str, Path]:
        """A new run's name and folder, made here with one ``mkdir`` (atomic: never shared).

        A name asked for that is taken is refused (409); without a name, the preset and the
        time, with "-2", "-3"... while taken.
        """
        if asked is not None:
            folder = folder_of(asked)
            try:
                if runner.get(asked) is not None:
                    raise FileExistsError(asked)
                folder.mkdir()
            except FileExistsError:
                raise ApiError(
                    409, f"name: a run named {asked!r} exists already; choose another name"
                ) from None
            return asked, folder
        base = f"{preset}-{time.strftime('%Y%m%d-%H%M%S')}"[:58]
        for k in range(1, 1000):
            name = base if k == 1 else f"{base}-{k}"
            folder = folder_of(name)
            if runner.get(name) is not None:
                continue
            try:
                folder.mkdir()
            except FileExistsError:
                continue
            return name, folder
        raise ApiError(409, "no free run name: name the run")

    def check_contents(folder: Path) -> None:
        """Refuse a run folder holding links that lead outside the runs folder."""
        for sub in (folder, folder / "ledger", folder / "parts"):
            if sub.is_symlink() and not sub.resolve().is_relative_to(root):
                raise ApiError(400, f"run {folder.name!r} links outside the runs folder")
            if not sub.is_dir():
                continue
            for entry in sub.iterdir():
                if entry.is_symlink() and not entry.resolve().is_relative_to(root):
                    raise ApiError(400, f"run {folder.name!r} links outside the runs folder")

    def info(name: str) -> dict[str, Any]:
        """A run's parameters and state, from memory or from its folder."""
        folder = folder_of(name)
        job = runner.get(name)
        if job is not None:
            # with replicates, progress runs over each replicate's days in turn
            done = job.fraction * job.days * job.replicates
            now_rep = min(job.replicates, int(done // max(job.days, 1)) + 1)
            days_done = job.days if job.state == "done" else int(done - (now_rep - 1) * job.days)
            return {
                "name": name,
                "preset": job.preset,
                "regime": job.preset,
                "population": job.population,
                "days": job.days,
                "seed": job.seed,
                "replicates": job.replicates,
                "seeds": list(range(job.seed, job.seed + job.replicates)),
                "overrides": job.overrides,
                "state": job.state,
                "fraction": job.fraction,
                "days_done": days_done,
                "queue_position": runner.position(job),
                "replicate_now": job.replicates if job.state == "done" else now_rep,
                "error": no_paths(job.error) if job.error else None,
                "estimated_seconds": job.estimate,
                "phase": job.phase,
                "elapsed_seconds": None
                if job.started is None
                else round((job.finished or time.time()) - job.started, 1),
                "created": _iso(job.created),
                "finished": _iso(job.finished),
                "_created": job.created,
            }
        if not folder.is_dir():
            raise ApiError(404, f"no run named {name!r}")
        check_contents(folder)
        manifest = _read_json(folder / "manifest.json") or {}
        board = _read_json(folder / STATE_FILE) or {}
        if not manifest and not board:
            raise ApiError(404, f"no run named {name!r}")
        error = None
        if manifest.get("status") == "complete":
            state = "done"
        elif board.get("state") in ("cancelled", "failed"):
            state, error = board["state"], board.get("error")
        else:
            state, error = "failed", "the run stopped before it finished"
        created = board.get("created")
        if not isinstance(created, int | float):
            created = folder.stat().st_mtime
        days = manifest.get("days", board.get("days"))
        return {
            "name": name,
            "preset": board.get("preset", manifest.get("regime")),
            "regime": manifest.get("regime", board.get("preset")),
            "population": manifest.get("population", board.get("population")),
            "days": days,
            "seed": manifest.get("seed", board.get("seed")),
            "replicates": manifest.get("replicates", board.get("replicates", 1)),
            "seeds": manifest.get("seeds") or [manifest.get("seed", board.get("seed"))],
            "overrides": board.get("overrides", {}),
            "state": state,
            "fraction": 1.0 if state == "done" else 0.0,
            "days_done": days if state == "done" else None,
            "queue_position": 0,
            "replicate_now": None,
            "error": no_paths(str(error)) if error else None,
            "estimated_seconds": None,
            "phase": None,
            "elapsed_seconds": manifest.get("wall_seconds"),
            "created": _iso(created),
            "finished": manifest.get("finished"),
            "_created": created,
        }

    def public(d: dict[str, Any]) -> dict[str, Any]:
        """A run's info as JSON, with each changed setting's label."""
        out = {k: v for k, v in d.items() if not k.startswith("_")}
        names = labels(str(d.get("preset"))) if d.get("overrides") else {}
        out["changes"] = [
            {"path": k, "label": names.get(k, k), "value": v}
            for k, v in (d.get("overrides") or {}).items()
        ]
        return clean(out)

    def finished_run(name: str):
        """The ``Run`` of a finished run; 409 while it is not finished."""
        from credsim.run import Run

        d = info(name)
        if d["state"] != "done":
            raise ApiError(409, f"run {name!r} is {d['state']}, not finished")
        folder = folder_of(name)
        check_contents(folder)
        return Run(folder)

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

    @app.post("/api/runs", status_code=202)
    def api_start(req: RunRequest) -> dict[str, Any]:
        from credsim.regime.load import RegimeError
        from credsim.sim import Sim

        if req.preset not in presets():
            raise ApiError(
                422, f"preset: unknown preset {req.preset!r} (presets: {', '.join(presets())})"
            )
        if req.population is None:
            req.population = min(DEFAULT_POPULATION, max_population)
        if req.population > max_population:
            raise ApiError(
                422,
                f"population: at most {max_population:,} citizens on this server "
                f"(asked for {req.population:,})",
            )
        try:
            strings = override_strings(req.preset, req.overrides, max_population)
        except ValueError as e:
            raise ApiError(422, one_line(e)) from None
        try:
            sim = Sim(
                preset_data(req.preset),
                req.population,
                req.days,
                req.seed,
                overrides=strings,
                workers=1,
                replicates=req.replicates,
            )
        except (RegimeError, ValueError) as e:
            raise ApiError(422, one_line(e)) from None
        name, folder = reserve(req.name, req.preset)
        job = Job(name, folder, req.preset, req.population, req.days, req.seed, req.overrides, sim)
        job.replicates = req.replicates
        try:
            job.estimate = round(float(sim.estimate().seconds) * req.replicates, 1)
        except Exception:  # an estimate is a courtesy; the run does not depend on it
            job.estimate = None
        try:
            position = runner.submit(job)
        except QueueFull as e:
            folder.rmdir()  # still empty: give the name back
            raise ApiError(429, str(e)) from None
        return {"name": name, "state": job.state, "queue_position": position}

    @app.get("/api/runs")
    def api_runs() -> dict[str, Any]:
        found: dict[str, dict[str, Any]] = {}
        names = set(runner.names())
        for entry in root.iterdir():
            if RUN_NAME.fullmatch(entry.name) and entry.is_dir() and not entry.is_symlink():
                names.add(entry.name)
        for name in names:
            try:
                found[name] = info(name)
            except ApiError:
                continue
        runs = sorted(found.values(), key=lambda d: -float(d["_created"] or 0))[:MAX_LISTED]
        return {"runs": [public(d) for d in runs]}

    @app.get("/api/runs/{name}")
    def api_run(name: str) -> dict[str, Any]:
        d = public(info(name))
        if d["state"] == "done":
            from credsim.explain import find_citizens
            from credsim.report import headline, interval_text, regime_of, value_text

            run = finished_run(name)
            d["summary"] = [
                {**f, "text": value_text(f), "interval_text": interval_text(f)}
                for f in headline(run)
            ]
            d["caption"] = caption(run.manifest)
            d["style"] = style_table(regime_of(run)[1])
            d["report"] = f"/api/runs/{name}/report"
            examples: dict[str, list[int]] = {}
            for kind in (
                "wrongful",
                "ever_wrongful",
                "escaped",
                "banned",
                "spillover",
                "permanent",
            ):
                try:
                    examples[kind] = find_citizens(run, kind, limit=3)
                except Exception:  # a run without citizens.parquet has no examples
                    examples[kind] = []
            d["examples"] = examples
            d["wall_seconds"] = run.manifest.get("wall_seconds")
        return clean(d)

    @app.get("/api/runs/{name}/report")
    def api_report(name: str) -> FileResponse:
        """The run's report.html as a download; written first if the run has none yet."""
        from credsim.report import write_report

        run = finished_run(name)
        path = run.path / "report.html"
        if path.is_symlink():
            raise ApiError(400, f"run {name!r} links outside the runs folder")
        with report_lock:
            if not path.is_file():
                try:
                    write_report(run)
                except (OSError, ValueError) as e:
                    raise ApiError(500, f"could not write the report: {one_line(e)}") from None
        return FileResponse(
            path,
            media_type="text/html",
            filename=f"{name}-report.html",
            content_disposition_type="attachment",
        )

    @app.get("/api/runs/{name}/status")
    def api_status(name: str) -> dict[str, Any]:
        d = info(name)
        keys = (
            "name",
            "state",
            "fraction",
            "days_done",
            "days",
            "replicates",
            "replicate_now",
            "queue_position",
            "error",
            "estimated_seconds",
            "elapsed_seconds",
            "phase",
        )
        return clean({k: d[k] for k in keys})

    @app.post("/api/runs/{name}/cancel")
    def api_cancel(name: str) -> dict[str, Any]:
        folder_of(name)
        job = runner.get(name)
        if job is None:
            d = info(name)
            raise ApiError(409, f"run {name!r} is {d['state']}: nothing to cancel")
        if job.state not in ("queued", "running"):
            raise ApiError(409, f"run {name!r} is {job.state}: nothing to cancel")
        runner.cancel(job)
        return {"name": name, "state": job.state, "cancelling": job.state == "running"}

    @app.get("/api/runs/{name}/metrics")
    def api_metrics(
        name: str,
        columns: Annotated[str | None, Query(max_length=4000)] = None,
    ) -> dict[str, Any]:
        d = info(name)
        out: dict[str, Any] = {
            "name": name,
            "state": d["state"],
            "days": d["days"],
            "days_done": d["days_done"],
            "complete": d["state"] == "done",
            "day": [],
            "series": {},
        }
        if d["state"] != "done":
            out["note"] = "The charts are drawn when the run has finished."
            return clean(out)
        run = finished_run(name)
        df = run.metrics
        available = [c for c in df.columns if c != "day"]
        if columns:
            wanted = [c.strip() for c in columns.split(",") if c.strip()]
            if len(wanted) > 64:
                raise ApiError(422, "columns: at most 64 at a time")
            for c in wanted:
                if not COLUMN.fullmatch(c) or c not in df.columns:
                    raise ApiError(422, f"columns: unknown column {_short(c)}")
        else:
            wanted = [
                c
                for c in available
                if c in DEFAULT_COLUMNS
                or (
                    c.startswith(DEFAULT_PREFIXES)
                    and (c.endswith("_cumulative") or not c.startswith("denied_"))
                )
            ]
        out["day"] = df["day"].tolist()
        out["series"] = {c: df[c].tolist() for c in wanted}
        out["available"] = available
        posts = _posts_ratio(run, df)
        if posts is not None and not columns:
            out["series"]["posts_vs_baseline_7d"] = posts
        return clean(out)

    @app.get("/api/runs/{name}/charts")
    def api_charts(
        name: str,
        dimension: Annotated[str, Query(pattern=r"^[a-z_]{1,20}$")] = "group",
    ) -> dict[str, Any]:
        """The dashboard's charts as plotly figures, made by credsim.report (one chart logic
        for the report, its PNGs and this page)."""
        from credsim.report import DIMENSIONS, charts
        from credsim.report.charts import spec

        if dimension not in DIMENSIONS:
            raise ApiError(422, f"dimension: one of {', '.join(DIMENSIONS)}")
        run = finished_run(name)
        made = charts(run, dashboard=True, dimension=dimension)
        return clean(
            {
                "name": name,
                "dimension": dimension,
                "dimensions": DIMENSIONS,
                "replicates": len(run.seeds),
                "charts": {c.name.split("-")[0]: spec(c) for c in made},
            }
        )

    @app.get("/api/runs/{name}/burden")
    def api_burden(
        name: str,
        dimension: Annotated[str, Query(pattern=r"^[a-z_]{1,20}$")] = "group",
    ) -> dict[str, Any]:
        from credsim.report import DIMENSIONS, burden

        if dimension not in DIMENSIONS:
            raise ApiError(422, f"dimension: one of {', '.join(DIMENSIONS)}")
        run = finished_run(name)
        b = burden(run.groups)
        b = b[b["dimension"] == dimension]
        keep = ["group", "population"] + [
            c for c in b.columns if c.endswith(("_per_1000", "_ratio"))
        ]
        from credsim.report import BURDEN_FLOWS, BURDEN_LEVELS

        keep += [*BURDEN_LEVELS, *BURDEN_FLOWS]
        return clean(
            {
                "name": name,
                "dimension": dimension,
                "label": DIMENSIONS[dimension],
                "dimensions": DIMENSIONS,
                "groups": b[keep].to_dict("records"),
            }
        )

    @app.get("/api/runs/{name}/causes")
    def api_causes(name: str) -> dict[str, Any]:
        """Which rules started the listings and what share of the restricted each explains."""
        from credsim.report.causes import causes

        run = finished_run(name)
        return clean({"name": name, "days": run.manifest.get("days"), "causes": causes(run)})

    @app.get("/api/runs/{name}/lifetime")
    def api_lifetime(name: str) -> dict[str, Any]:
        """Share of each birth cohort ever restricted, and through family, by 18 and 30."""
        from credsim.report.lifetime import lifetime

        run = finished_run(name)
        return clean({"name": name, "days": run.manifest.get("days"), "cohorts": lifetime(run)})

    @app.get("/api/runs/{name}/citizens/{citizen}")
    def api_citizen(
        name: str, citizen: Annotated[int, PathParam(ge=0, le=2**40)]
    ) -> dict[str, Any]:
        from credsim.explain import render

        run = finished_run(name)
        try:
            dossier = run.explain(citizen)
        except KeyError as e:
            raise ApiError(404, str(e.args[0]) if e.args else "no such citizen") from None
        dossier = clean(dossier)
        return {"name": name, "citizen": citizen, "dossier": dossier, "text": render(dossier)}

    @app.get("/api/compare")
    def api_compare(
        a: Annotated[str, Query(max_length=200)],
        b: Annotated[str, Query(max_length=200)],
    ) -> dict[str, Any]:
        from credsim.experiments.paired import compare_summaries, side_of_run
        from credsim.report.charts import spec
        from credsim.report.compare import both_restricted, compare

        if a == b:
            raise ApiError(422, "compare: choose two different runs")
        ra, rb = finished_run(a), finished_run(b)
        df, _ = compare([ra, rb])
        ca, cb = df.columns[0], df.columns[1]
        # with replicates: the mean paired (or Welch) difference and its 95% interval
        same_size = ra.manifest.get("population") == rb.manifest.get("population")
        found = {
            r.metric: r
            for r in compare_summaries(
                side_of_run(ra, "A"), side_of_run(rb, "B"), bool(df.attrs.get("paired"))
            )
        }
        rows = []
        for key in df.index:
            va, vb = df.at[key, ca], df.at[key, cb]
            row = {**figure(key).public(), "a": va, "b": vb, "difference": vb - va}
            r = found.get(key) if same_size else None  # else the interval is per 1,000
            row["ci_low"], row["ci_high"] = (r.ci_low, r.ci_high) if r else (None, None)
            row["replicates"] = r.replicates if r else 1
            rows.append(row)
        series = {}
        for label, run in (("a", ra), ("b", rb)):
            m = run.metrics
            series[label] = {
                "day": m["day"].tolist(),
                **{c: m[c].tolist() for c in ("restricted", "wrongful", "score_mean") if c in m},
            }
        return clean(
            {
                "a": public(info(a)),
                "b": public(info(b)),
                "paired": bool(df.attrs.get("paired")),
                "pairing": df.attrs.get("pairing", ""),
                "rows": rows,
                "series": series,
                "caption": caption_of_runs([("A: " + a, ra.manifest), ("B: " + b, rb.manifest)]),
                "chart": spec(both_restricted([ra, rb], ["A: " + a, "B: " + b])),
                "style": {
                    "series": {k: v.public() for k, v in SERIES.items()},
                    "palette": list(PALETTE),
                },
            }
        )

    return app


def _posts_ratio(run, df) -> list[float] | None:
    """Critical posts over those that would have been written without adaptation (7 days)."""
    from credsim.report import regime_of, speech_behaviours
    from credsim.report.charts import rolling_ratio

    speech = [b for b in speech_behaviours(regime_of(run)[1]) if f"acts_{b}" in df]
    if not speech:
        return None
    base = df[[f"baseline_acts_{b}" for b in speech]].sum(axis=1).to_numpy()
    if base.sum() <= 0:
        return None
    acts = df[[f"acts_{b}" for b in speech]].sum(axis=1).to_numpy()
    return rolling_ratio(acts, base).tolist()
