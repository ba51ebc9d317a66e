"""The dashboard's API routes over the run folders (``credsim.web.folders``), added to the
application by ``credsim.web.app.create_app``: runs started and listed, a run's state,
report and progress, its metrics and charts, its burden, causes and dossiers, and two runs
compared. Every error is an ``ApiError``, answered as JSON ``{"error": "one line"}``."""

from __future__ import annotations

import re
import threading
from typing import Annotated, Any

from fastapi import FastAPI, Query
from fastapi import Path as PathParam
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt

from credsim.labels import PALETTE, SERIES, caption, caption_of_runs, figure, style_table
from credsim.web.controls import (
    DEFAULT_POPULATION,
    MAX_DAYS,
    MAX_REPLICATES,
    MAX_SEED,
    MIN_POPULATION,
    override_strings,
    preset_data,
)
from credsim.web.folders import PRESET_NAME, RUN_NAME, ApiError, RunFolders, _short, clean
from credsim.web.jobs import Job, QueueFull, one_line

COLUMN = re.compile(r"^[a-z0-9_]{1,80}$")
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


def add_start_routes(app: FastAPI, folders: RunFolders, max_population: int) -> None:
    """``POST /api/runs`` (start a run, or queue it) and ``GET /api/runs`` (the runs)."""
    from credsim.regime.load import presets

    info, public, reserve = folders.info, folders.public, folders.reserve
    root, runner = folders.root, folders.runner

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


def add_run_routes(app: FastAPI, folders: RunFolders) -> None:
    """A run: its parameters, state and headline figures, its report, its progress, and its
    cancellation."""
    info, public, finished_run = folders.info, folders.public, folders.finished_run
    folder_of, runner = folders.folder_of, folders.runner
    report_lock = threading.Lock()

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


def add_series_routes(app: FastAPI, folders: RunFolders) -> None:
    """A finished run's metrics by day, and the dashboard's charts (plotly figures)."""
    info, finished_run = folders.info, folders.finished_run

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


def add_group_routes(app: FastAPI, folders: RunFolders) -> None:
    """A finished run's burden by group, the causes of its listings, and dossiers."""
    finished_run = folders.finished_run

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

        keep += [m for m in (*BURDEN_LEVELS, *BURDEN_FLOWS) if m in b]
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


def add_compare_route(app: FastAPI, folders: RunFolders) -> None:
    """Two finished runs' headline figures side by side, with their differences."""
    info, public, finished_run = folders.info, folders.public, folders.finished_run

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
