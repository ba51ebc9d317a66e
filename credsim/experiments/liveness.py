"""Liveness of a preset's parameters: perturb each one and see whether any figure moves.

A parameter is every number and switch of a regime file (scores, rates, probabilities,
coverages, delays, deltas, thresholds, durations, rollout days, adaptation strengths) and
every choice of a sanction's renewal rule. ``parameters(regime)`` lists them as paths
(``sources.camera.coverage_rural``, ``sanctions.blacklist.rollout.1.day``);
``perturbed(regime, path)`` is the regime with that one value moved (numbers by half again,
or halved where that is out of range; zeros to a small positive value; switches flipped;
renewal to the next rule); ``moved(a, b)`` names the daily figures that differ between two
runs on one seed (common random numbers: a parameter that cannot matter leaves every figure
identical). ``benchmarks/liveness.py`` sweeps every parameter of every preset and compares the
parameters it finds inert with those each preset's docs page declares inert.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
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
            return [30, 1]
        return [round(value * 1.5), round(value * 0.5), value + 1]
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
