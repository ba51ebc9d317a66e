"""The dashboard's controls, declared as data and expanded for a preset.

Each ``Spec`` names a regime path, possibly with a selector over a list of components:
``sanctions[*].duration`` makes one control per sanction, ``sources[kind=camera].false_match``
one per camera, ``rules[redress].redress.accept`` one per rule that has a redress demand. A
control's bounds come from the regime schema's ``Field`` bounds (narrowed to a range a slider
can show), its default from the preset and its help text from the schema's ``Field``
description (or, where the schema has none, from the sentence declared here).

The same expanded controls validate what a page sends: an override must name one of the
preset's control paths and carry a value of the control's kind within its bounds.
"""

from __future__ import annotations

import functools
import json
import math
import re
import tomllib
import typing
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from importlib import resources
from typing import Any

from annotated_types import Ge, Gt, Le, Lt
from pydantic import BaseModel

from credsim.regime.load import load_regime, presets
from credsim.regime.schema import Adaptation, Meta, Redress, Regime, Rule, Sanction, Source

MAX_DAYS = 3650
MAX_SEED = 2**31 - 1
MIN_POPULATION = 100
DEFAULT_POPULATION = 20_000  # with DEFAULT_REPLICATES, a year runs in a few seconds
DEFAULT_DAYS = 365
DEFAULT_REPLICATES = 3  # enough for an interval; each one more costs one more run
MAX_REPLICATES = 10

Bound = float | Callable[[Regime, Any], float] | None


@dataclass(frozen=True)
class Spec:
    """A control template: a path (with an optional list selector) and how to show it."""

    path: str
    label: str
    widget: str  # slider | switch | select
    group: str
    model: type[BaseModel] | None = None  # where the bounds and description are declared
    field: str | None = None
    min: Bound = None  # narrower than the schema's bounds, for a usable slider
    max: Bound = None
    step: float | None = None
    help: str = ""  # used where the schema has no description
    about: str = ""  # a plain-language sentence shown under the schema's description


@dataclass
class Control:
    """One control as the page receives it (``on``/``off`` are the switch's override texts)."""

    path: str
    label: str
    widget: str
    group: str
    default: Any
    help: str
    min: float | None = None
    max: float | None = None
    step: float | None = None
    integer: bool = False
    options: list[str] = field(default_factory=list)
    on: str = field(default="true", repr=False)
    off: str = field(default="false", repr=False)

    def public(self) -> dict[str, Any]:
        """The control as JSON for the page (without the override texts)."""
        out = asdict(self)
        out.pop("on")
        out.pop("off")
        if self.widget != "slider":
            for k in ("min", "max", "step", "integer"):
                out.pop(k)
        if self.widget != "select":
            out.pop("options")
        return out


def _half_score_span(regime: Regime, _item: Any) -> float:
    return max(10, (regime.score.max - regime.score.min) // 2)


def _neg_half_score_span(regime: Regime, item: Any) -> float:
    return -_half_score_span(regime, item)


GROUPS = {
    "run": "Population and time",
    "system": "How the system works",
    "sensing": "Cameras and mistakes",
    "sanctions": "Sanctions",
    "redress": "Appeals and apologies",
    "points": "Points per record",
}

SPECS: list[Spec] = [
    Spec(
        "population",
        "Citizens",
        "slider",
        "run",
        min=MIN_POPULATION,
        step=100,
        help="How many synthetic citizens to simulate. More citizens give steadier figures "
        "but take longer (about 5 seconds per 100,000 citizens, year and replicate).",
    ),
    Spec(
        "days",
        "Days",
        "slider",
        "run",
        min=1,
        max=MAX_DAYS,
        step=1,
        help="How many days to simulate (365 = one year).",
    ),
    Spec(
        "seed",
        "Random seed",
        "slider",
        "run",
        min=0,
        max=1000,
        step=1,
        help="Runs with the same seed, citizens and days draw the same people and the same "
        "chance events, so differences between them come from the rules alone.",
    ),
    Spec(
        "replicates",
        "Replicates",
        "slider",
        "run",
        min=1,
        max=MAX_REPLICATES,
        step=1,
        help="How many times to run, with seeds seed, seed + 1, ... Every figure is then the "
        "average of the replicates with its 95% interval, and charts show it as a band; one "
        "replicate gives no interval. Each replicate adds the time of one run.",
    ),
    Spec(
        "regime.transparency",
        "How open the rules are",
        "select",
        "system",
        Meta,
        "transparency",
        help="Whether citizens know the rules: secret, partly known, or published. The less "
        "they know, the less they can steer clear of sanctions.",
    ),
    Spec(
        "adaptation.enabled",
        "Citizens change their behaviour",
        "switch",
        "system",
        Adaptation,
        "enabled",
        help="When on, citizens who are sanctioned (or see family sanctioned) commit fewer "
        "infractions and post less criticism. When off, behaviour never changes.",
    ),
    Spec(
        "sources[kind=camera].false_match",
        "{item}: false matches",
        "slider",
        "sensing",
        Source,
        "false_match",
        max=0.05,
        step=0.0005,
        about="A false match puts someone else's record on an innocent citizen.",
    ),
    Spec(
        "sanctions[*].duration",
        "{item}: how long (days)",
        "slider",
        "sanctions",
        Sanction,
        "duration",
        max=MAX_DAYS,
        step=1,
        help="How many days a listing lasts before it is reviewed or ends.",
    ),
    Spec(
        "sanctions[spillover].spillover",
        "{item}: family is punished too",
        "switch",
        "sanctions",
        Sanction,
        "spillover",
        about="When on, relatives of a listed citizen lose some privileges too.",
    ),
    Spec(
        "rules[redress].redress.accept",
        "{item}: chance redress is accepted",
        "slider",
        "redress",
        Redress,
        "accept",
        step=0.01,
        about="0 = never accepted, 1 = always; an accepted demand gives the points back.",
    ),
    Spec(
        "sanctions[redress].redress.accept",
        "{item}: chance redress is accepted",
        "slider",
        "redress",
        Redress,
        "accept",
        step=0.01,
        about="0 = never accepted, 1 = always; an accepted demand ends the listing.",
    ),
    Spec(
        "rules[delta].delta",
        "{item}",
        "slider",
        "points",
        Rule,
        "delta",
        min=_neg_half_score_span,
        max=_half_score_span,
        step=1,
        help="Points added to (or taken from) the score for each record of this behaviour.",
    ),
]

_SELECTOR = re.compile(r"^([a-z_]+)\[([^\]]+)\]\.(.+)$")


def _schema(model: type[BaseModel] | None, name: str | None) -> tuple[str, float, float, list]:
    """A field's description, bounds and allowed values (for Literal fields)."""
    if model is None or name is None:
        return "", -math.inf, math.inf, []
    info = model.model_fields[name]
    lo, hi = -math.inf, math.inf
    for m in info.metadata:
        if isinstance(m, Ge | Gt):
            lo = float(m.ge if isinstance(m, Ge) else m.gt)
        elif isinstance(m, Le | Lt):
            hi = float(m.le if isinstance(m, Le) else m.lt)
    options = (
        list(typing.get_args(info.annotation))
        if typing.get_origin(info.annotation) is (typing.Literal)
        else []
    )
    return (info.description or "").strip(), lo, hi, options


def _items(regime: Regime, kind: str, selector: str) -> list[tuple[str, Any]]:
    """(path key, component) of the list items a selector picks, keyed by name."""
    items = getattr(regime, kind)
    out = []
    for i, item in enumerate(items):
        if selector == "*":
            ok = True
        elif "=" in selector:
            attr, value = selector.split("=", 1)
            ok = str(getattr(item, attr)) == value
        else:
            value = getattr(item, selector)
            ok = bool(value) if not isinstance(value, int | float) else value != 0
        if not ok:
            continue
        key = item.key if kind == "rules" else item.name
        first = next(
            k
            for k, other in enumerate(items)
            if getattr(other, "name", None) == key or getattr(other, "behaviour", None) == key
        )
        out.append((key if first == i else str(i), item))
    return out


def _item_label(regime: Regime, kind: str, item: Any) -> str:
    if kind == "rules":
        b = regime.behaviours[regime.index("behaviours", item.behaviour)]
        text = b.label or b.name
    else:
        text = item.label if item.label and len(item.label) <= 32 else item.name
    text = text.replace("_", " ")
    return text[:1].upper() + text[1:]


def _get(obj: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        obj = getattr(obj, part)
    return obj


def _bound(b: Bound, regime: Regime, item: Any) -> float | None:
    return b(regime, item) if callable(b) else b


def _toml(value: Any) -> str:
    """A value as TOML inline text, for an override."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        if not value:
            return "{}"
        return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def _control(spec: Spec, path: str, label: str, default: Any, regime: Regime, item: Any) -> Control:
    description, lo, hi, options = _schema(spec.model, spec.field)
    if description:
        text = description.replace(" -> ", " → ")
        help_text = " ".join(t for t in (text[:1].upper() + text[1:] + ".", spec.about) if t)
    else:
        help_text = " ".join(t for t in (spec.help, spec.about) if t)
    c = Control(path, label, spec.widget, GROUPS[spec.group], default, help_text)
    if spec.widget == "slider":
        ui_lo, ui_hi = _bound(spec.min, regime, item), _bound(spec.max, regime, item)
        c.min = max(lo, ui_lo if ui_lo is not None else lo)
        c.max = min(hi, ui_hi if ui_hi is not None else hi)
        c.min, c.max = min(c.min, default), max(c.max, default)  # the preset's value fits
        c.step = spec.step
        c.integer = isinstance(default, int) and not isinstance(default, bool)
        if c.integer:
            c.min, c.max = int(c.min), int(c.max)
    elif spec.widget == "select":
        c.options = [str(o) for o in options]
    elif spec.widget == "switch" and not isinstance(default, bool):
        c.on, c.off = _toml(default), _toml({} if isinstance(default, dict) else [])
        c.default = bool(default)
    return c


def preset_data(preset: str) -> dict[str, Any]:
    """A shipped preset's raw table, read from the package (never from a file of that name).

    Raises KeyError for a name that is not a shipped preset.
    """
    if preset not in presets():
        raise KeyError(preset)
    entry = resources.files("credsim.regime").joinpath("presets").joinpath(f"{preset}.toml")
    return tomllib.loads(entry.read_text("utf-8"))


def controls(preset: str, max_population: int = 2_000_000) -> list[Control]:
    """The controls of a preset, in display order; raises KeyError for an unknown preset."""
    regime = load_regime(preset_data(preset))
    out: list[Control] = []
    for spec in SPECS:
        if spec.path == "population":
            c = Control(
                "population",
                spec.label,
                "slider",
                GROUPS["run"],
                min(DEFAULT_POPULATION, max_population),
                spec.help,
                min=MIN_POPULATION,
                max=max_population,
                step=spec.step,
                integer=True,
            )
            out.append(c)
            continue
        if spec.path in ("days", "seed", "replicates"):
            default = {"days": DEFAULT_DAYS, "seed": 1, "replicates": DEFAULT_REPLICATES}[spec.path]
            out.append(
                Control(
                    spec.path,
                    spec.label,
                    "slider",
                    GROUPS["run"],
                    default,
                    spec.help,
                    min=spec.min,  # type: ignore[arg-type]
                    max=spec.max,  # type: ignore[arg-type]
                    step=spec.step,
                    integer=True,
                )
            )
            continue
        m = _SELECTOR.match(spec.path)
        if not m:
            default = _get(regime, spec.path)
            out.append(_control(spec, spec.path, spec.label, default, regime, None))
            continue
        kind, selector, rest = m.groups()
        for key, item in _items(regime, kind, selector):
            value = _get(item, rest)
            label = spec.label.format(item=_item_label(regime, kind, item))
            out.append(_control(spec, f"{kind}.{key}.{rest}", label, value, regime, item))
    return out


RUN_FIELDS = ("population", "days", "seed", "replicates")


@functools.lru_cache(maxsize=32)
def labels(preset: str) -> dict[str, str]:
    """Control path -> label for a shipped preset (empty for any other name)."""
    try:
        return {c.path: c.label for c in controls(preset)}
    except (KeyError, ValueError):
        return {}


def override_strings(
    preset: str, overrides: dict[str, Any], max_population: int = 2_000_000
) -> list[str]:
    """Check each override against the preset's controls; return ``path=value`` strings.

    Raises ValueError with one line naming the first bad path or value.
    """
    by_path = {c.path: c for c in controls(preset, max_population) if c.path not in RUN_FIELDS}
    out = []
    for path, value in overrides.items():
        c = by_path.get(path)
        if c is None:
            shown = path if len(path) <= 80 else path[:77] + "..."
            raise ValueError(
                f"overrides: {shown!r} is not a control of preset {preset!r} "
                f"(see /api/controls?preset={preset})"
            )
        out.append(f"{path}={encode(c, value)}")
    return out


def encode(c: Control, value: Any) -> str:
    """One control's value as override text; ValueError if of the wrong kind or out of bounds."""
    if c.widget == "switch":
        if not isinstance(value, bool):
            raise ValueError(f"overrides: {c.path} takes true or false")
        return c.on if value else c.off
    if c.widget == "select":
        if value not in c.options:
            raise ValueError(f"overrides: {c.path} takes one of {', '.join(c.options)}")
        return json.dumps(value)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"overrides: {c.path} takes a number")
    if not c.min <= value <= c.max:  # type: ignore[operator]
        raise ValueError(f"overrides: {c.path} must be between {c.min:g} and {c.max:g}")
    if c.integer:
        if value != int(value):
            raise ValueError(f"overrides: {c.path} takes a whole number")
        return str(int(value))
    return repr(float(value))
