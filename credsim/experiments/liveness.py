"""Liveness of a preset's parameters: perturb each one and see whether any figure moves.

A parameter is every number and switch of a regime file (scores, rates, probabilities,
coverages, delays, deltas, thresholds, durations, rollout days, adaptation strengths) and
every choice of a sanction's renewal rule. ``parameters(regime)`` lists them as paths
(``sources.camera.coverage_rural``, ``sanctions.blacklist.rollout.1.day``);
``perturbed(regime, path)`` is the regime with that one value moved (numbers by half again,
or halved where that is out of range; zeros to a small positive value; switches flipped;
renewal to the next rule); ``moved(a, b)`` names the daily figures that differ between two
runs on one seed (common random numbers: a parameter that cannot matter leaves every figure
identical). ``sweep(regime, stages)`` perturbs each parameter at the first stage (a population
and a horizon) and the ones no figure moved at every later, larger stage in turn, so that a
parameter is called inert only where it moved nothing at the largest size tried.
``benchmarks/liveness.py`` sweeps every parameter of every preset and records the result;
``reasons()`` reads why each inert parameter cannot matter (``docs/inert.toml``), and
``inert_table(preset)`` is the table the preset's docs page shows (``scripts/docs_outputs.py``).
"""

from __future__ import annotations

import copy
import fnmatch
import json
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from credsim.regime.load import RegimeError, load_regime
from credsim.regime.schema import Regime

RENEWALS = ("if_still_in_tier", "if_new_record", "never", "always")
SKIPPED = {"label", "name", "description", "kind", "who", "tier", "region", "demand"}


def _walk(node: Any, path: tuple) -> Iterator[tuple[tuple, Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in SKIPPED or key == "calibration":
                continue
            yield from _walk(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            name = value.get("name") or value.get("behaviour") if isinstance(value, dict) else None
            yield from _walk(value, (*path, name or i))
    elif isinstance(node, bool | int | float) or (path and path[-1] == "renewal"):
        yield path, node


def _data(regime: str | Regime | dict) -> dict:
    r = load_regime(regime)
    return r.model_dump(mode="json", exclude_none=True)


def parameters(regime: str | Regime | dict) -> list[str]:
    """Dotted paths of every number, switch and renewal rule of a regime."""
    return [".".join(map(str, p)) for p, v in _walk(_data(regime), ()) if v is not None]


def _locate(data: dict, path: str) -> tuple[Any, Any]:
    node: Any = data
    parts = path.split(".")
    for part in parts[:-1]:
        if isinstance(node, list):
            hit = [
                x
                for x in node
                if isinstance(x, dict) and part in (x.get("name"), x.get("behaviour"))
            ]
            node = hit[0] if hit else node[int(part)]
        else:
            node = node[part]
    last: Any = parts[-1]
    if isinstance(node, list):
        last = int(last)
    return node, last


def _candidates(value: Any, path: str) -> list[Any]:
    if path.endswith("renewal"):
        i = RENEWALS.index(value)
        return [RENEWALS[(i + j) % len(RENEWALS)] for j in (1, 2, 3)]
    if isinstance(value, bool):
        return [not value]
    if isinstance(value, int):
        if value == 0:
            return [30, 1, -1]  # -1 where nothing positive is valid (a minimum at 0)
        return [round(value * 1.5), round(value * 0.5), value + 1, value - 1]
    if value == 0:
        return [0.1, 0.01]
    return [value * 1.5, value * 0.5]


def perturbed(regime: str | Regime | dict, path: str) -> Regime:
    """The regime with the value at ``path`` moved (the first candidate that validates)."""
    base = _data(regime)
    node, key = _locate(base, path)
    for candidate in _candidates(node[key], path):
        data = copy.deepcopy(base)
        n, k = _locate(data, path)
        n[k] = candidate
        try:
            return load_regime(data)
        except RegimeError:
            continue
    raise ValueError(f"{path}: no perturbation of {node[key]!r} is a valid regime")


def moved(a, b) -> list[str]:
    """Names of the daily figures (metrics columns) that differ between two runs."""
    ma, mb = a.metrics, b.metrics
    out = [c for c in ma.columns if c not in mb.columns]
    for c in ma.columns:
        if c in mb.columns and not ma[c].equals(mb[c]):
            out.append(c)
    return out


ROOT = Path(__file__).resolve().parents[2]
RECORD = ROOT / "benchmarks" / "liveness.json"
REASONS = ROOT / "docs" / "inert.toml"


def _run(regime, population: int, days: int, seed: int, folder: Path):
    from credsim.sim import Sim

    return Sim(regime, population, days, seed, out=folder, ledger="none", workers=1).run()


def sweep(
    regime: str | Regime | dict,
    stages: list[tuple[int, int]],
    seed: int = 1,
    paths: list[str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Perturb each parameter (all, or ``paths``) at the first (population, days) stage, and
    the ones found inert at each later stage in turn.

    Returns ``{"live": {path: [figures moved, population, days]}, "inert": [path, ...]}``:
    a parameter is live at the first stage where some daily figure moved.
    """
    todo = list(paths if paths is not None else parameters(regime))
    live: dict[str, list[int]] = {}
    with tempfile.TemporaryDirectory(prefix="credsim-liveness-") as d:
        for stage, (population, days) in enumerate(stages):
            if not todo:
                break
            base = _run(regime, population, days, seed, Path(d) / f"base-{stage}")
            left = []
            for i, path in enumerate(todo):
                folder = Path(d) / f"p{stage}-{i}"
                figures = moved(base, _run(perturbed(regime, path), population, days, seed, folder))
                if figures:
                    live[path] = [len(figures), population, days]
                else:
                    left.append(path)
                if progress:
                    progress(f"{path} at {population:,} x {days} days: {len(figures)} moved")
            todo = left
    return {"live": live, "inert": todo}


def reasons(path: Path = REASONS) -> dict[str, list[dict[str, Any]]]:
    """Why each inert parameter cannot matter, by preset: ``[{parameters, why}, ...]``."""
    import tomllib

    return tomllib.loads(path.read_text("utf-8"))


def reason_of(preset: str, parameter: str, table: dict | None = None) -> str | None:
    """The declared reason a parameter of ``preset`` is inert (patterns as in fnmatch)."""
    for entry in (table if table is not None else reasons()).get(preset, []):
        if any(fnmatch.fnmatchcase(parameter, p) for p in entry["parameters"]):
            return entry["why"]
    return None


def inert_table(preset: str, record: Path = RECORD) -> str:
    """The preset's inert parameters (as measured and recorded) with their reasons, as a
    Markdown table; a recorded inert parameter without a declared reason is an error."""
    data = json.loads(record.read_text("utf-8"))
    result = data["presets"][preset]
    table = reasons()
    stages = " then ".join(f"{n:,} citizens x {d} days" for n, d in data["stages"])
    rows: dict[str, list[str]] = {}
    for parameter in result["inert"]:
        why = reason_of(preset, parameter, table)
        if why is None:
            raise KeyError(f"docs/inert.toml: no reason given for {preset} {parameter}")
        rows.setdefault(why, []).append(parameter)
    live = len(result["live"])
    lines = [
        f"Measured by `python benchmarks/liveness.py --presets {preset}` (seed {data['seed']}, "
        f"{stages}): {live} of {live + len(result['inert'])} parameters move some daily "
        f"figure; {len(result['inert'])} move none at the largest size.",
        "",
    ]
    if not rows:
        return "\n".join(lines[:1]) + "\n"
    lines += ["| parameter | why it moves nothing |", "| --- | --- |"]
    for why, params in rows.items():
        lines.append(f"| {', '.join(f'`{p}`' for p in params)} | {why} |")
    return "\n".join(lines) + "\n"
