"""The dashboard's run folders: names checked against a strict pattern, every folder resolved
and checked to lie inside the runs folder, a new run's folder reserved with one ``mkdir``,
and a run's parameters and state read from memory or from its folder."""

from __future__ import annotations

import json
import math
import re
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from credsim.web.controls import labels
from credsim.web.jobs import STATE_FILE, Runner

RUN_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
PRESET_NAME = r"^[a-z][a-z0-9_-]{0,39}$"
ABSOLUTE_PATH = re.compile(r"(?<![\w.])/(?:[^\s'\"/:,;()]+/)*([^\s'\"/:,;()]*)")
MAX_JSON_FILE = 1_000_000


class ApiError(Exception):
    """An error answered as ``{"error": message}`` with an HTTP status."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


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


def no_paths(text: str) -> str:
    """A message with every absolute path cut to its last part: errors show no server paths."""
    return ABSOLUTE_PATH.sub(lambda m: m.group(1) or "(path)", text)


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


class RunFolders:
    """The run folders of one runs folder, and the runs of one ``Runner``."""

    def __init__(self, root: Path, runner: Runner):
        self.root = root
        self.runner = runner

    def folder_of(self, name: str) -> Path:
        """The run folder for a name, refused unless it is a plain folder inside the root."""
        if not isinstance(name, str) or not RUN_NAME.fullmatch(name):
            raise ApiError(
                400,
                f"invalid run name {_short(str(name))}: use 1 to 64 lowercase letters, "
                "digits, '-' or '_'",
            )
        path = self.root / name
        if path.is_symlink() or path.resolve().parent != self.root:
            raise ApiError(400, f"run {name!r} is not a folder inside the runs folder")
        return path

    def reserve(self, asked: str | None, preset: str) -> tuple[str, Path]:
        """A new run's name and folder, made here with one ``mkdir`` (atomic: never shared).

        A name asked for that is taken is refused (409); without a name, the preset and the
        time, with "-2", "-3"... while taken.
        """
        if asked is not None:
            folder = self.folder_of(asked)
            try:
                if self.runner.get(asked) is not None:
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
            folder = self.folder_of(name)
            if self.runner.get(name) is not None:
                continue
            try:
                folder.mkdir()
            except FileExistsError:
                continue
            return name, folder
        raise ApiError(409, "no free run name: name the run")

    def check_contents(self, folder: Path) -> None:
        """Refuse a run folder holding links that lead outside the runs folder."""
        for sub in (folder, folder / "ledger", folder / "parts"):
            if sub.is_symlink() and not sub.resolve().is_relative_to(self.root):
                raise ApiError(400, f"run {folder.name!r} links outside the runs folder")
            if not sub.is_dir():
                continue
            for entry in sub.iterdir():
                if entry.is_symlink() and not entry.resolve().is_relative_to(self.root):
                    raise ApiError(400, f"run {folder.name!r} links outside the runs folder")

    def info(self, name: str) -> dict[str, Any]:
        """A run's parameters and state, from memory or from its folder."""
        folder = self.folder_of(name)
        job = self.runner.get(name)
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
                "queue_position": self.runner.position(job),
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
        self.check_contents(folder)
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

    def public(self, d: dict[str, Any]) -> dict[str, Any]:
        """A run's info as JSON, with each changed setting's label."""
        out = {k: v for k, v in d.items() if not k.startswith("_")}
        names = labels(str(d.get("preset"))) if d.get("overrides") else {}
        out["changes"] = [
            {"path": k, "label": names.get(k, k), "value": v}
            for k, v in (d.get("overrides") or {}).items()
        ]
        return clean(out)

    def finished_run(self, name: str):
        """The ``Run`` of a finished run; 409 while it is not finished."""
        from credsim.run import Run

        d = self.info(name)
        if d["state"] != "done":
            raise ApiError(409, f"run {name!r} is {d['state']}, not finished")
        folder = self.folder_of(name)
        self.check_contents(folder)
        return Run(folder)
