"""The registry of figures: every metrics column and headline figure, as its component
declares it (``credsim.engine.components``), with its label, unit, window and explanation.

The metrics table's columns (``columns``), the headline figures of a run (``headline``), the
lists the sweep, sensitivity and threshold commands accept (``headline_names``), the labels
and colours reports and the dashboard show (``credsim.labels``, ``series``) and the figures
each report chart draws (``drawn_in``) all read it, so a figure's name
is written once, where the mechanism that makes it lives. Importing this module is light;
the components are read on first use.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

PER = ("behaviours", "sources", "privileges", "sanctions", "tiers", "amnesties", "life_course")


@dataclass(frozen=True)
class Figure:
    """One metrics column (or one per behaviour, source, privilege, sanction or tier).

    ``name`` may hold ``{item}``, filled with each name of the regime's list ``per``;
    ``order`` places the column in the metrics table: (section, position within an item).
    """

    name: str
    label: str
    unit: str
    kind: str  # "level": a count at the end of the day; "flow": events during the day
    explain: str
    order: tuple[int, int]
    per: str | None = None  # a list of PER
    chart: str | tuple[str, ...] | None = None  # the report chart(s) that draw it
    color: str | None = None  # its colour wherever it is drawn (credsim.labels.SERIES)

    @property
    def charts(self) -> tuple[str, ...]:
        """The report charts that draw it."""
        return (self.chart,) if isinstance(self.chart, str) else tuple(self.chart or ())


@dataclass(frozen=True)
class Series:
    """A line drawn in the report or the dashboard that is not one metrics column (a derived
    figure, or a sum over items): its name, its label in legends and its colour."""

    name: str
    label: str
    color: str


@dataclass(frozen=True)
class Headline:
    """A figure a reader asks first, computed from the metrics table at the end of a run.

    ``how``: ``last`` (the column on the last day), ``sum`` (over the run), ``days``,
    ``pct`` (the column on the last day as a percentage of citizens), ``ratio`` (acts of
    behaviours of kind ``when`` over their acts without adaptation, omitted when there are
    none). ``label`` and ``explain`` may hold ``{label}``, the item's label.
    """

    key: str
    label: str
    window: str  # "last_day" or "whole_run" (credsim.labels.WINDOWS)
    unit: str
    explain: str
    order: tuple[int, int]  # (section, position within an item)
    how: str = "last"
    of: str = ""  # the metrics column (a template with {item} when per is set)
    per: str | None = None
    when: str | None = None  # a behaviour kind the regime must have (for "ratio")
    digits: int | None = None


@dataclass(frozen=True)
class LedgerKind:
    """A kind of ledger row and the sentence ``explain`` tells of it."""

    kind: str
    explain: str


@cache
def components() -> tuple:
    """The built-in component classes, in plan order."""
    from credsim.engine.components import COMPONENTS

    return COMPONENTS


def metric_figures() -> list[tuple[str, Figure]]:
    """(component, figure) of every metrics column declaration."""
    return [(comp.name, f) for comp in components() for f in comp.figures]


def headline_figures() -> list[tuple[str, Headline]]:
    """(component, headline) of every headline declaration."""
    return [(comp.name, h) for comp in components() for h in comp.headlines]


def series() -> dict[str, tuple[str, str]]:
    """name -> (label, colour) of every series drawn the same way in every regime: the
    figures declared with a colour, then the components' other series."""
    out = {f.name: (f.label, f.color) for _, f in metric_figures() if f.color and not f.per}
    out.update((x.name, (x.label, x.color)) for comp in components() for x in comp.series)
    return out


def drawn_in(chart: str) -> list[str]:
    """The figures (without items) that report chart ``chart`` draws, in plan order."""
    return [f.name for _, f in metric_figures() if not f.per and chart in f.charts]


@cache
def ledger_kinds() -> dict[str, LedgerKind]:
    """kind -> declaration of every ledger kind a component writes."""
    return {k.kind: k for comp in components() for k in comp.ledger}


def _names(regime: Any, per: str) -> list[str]:
    """The names in list ``per`` of a compiled regime (lists of names) or a Regime."""
    items = getattr(regime, per)
    if per == "tiers" and not items:
        return ["all"]
    return [x if isinstance(x, str) else x.name for x in items]


def columns(c: Any) -> tuple[list[str], list[str]]:
    """The level and flow column names of a compiled regime's metrics, in table order."""
    rows = []
    for _, f in metric_figures():
        items = _names(c, f.per) if f.per else [None]
        for i, item in enumerate(items):
            name = f.name.format(item=item) if f.per else f.name
            rows.append(((f.order[0], i, f.order[1]), name, f.kind))
    rows.sort(key=lambda r: r[0])
    levels = [name for _, name, kind in rows if kind == "level"]
    flows = [name for _, name, kind in rows if kind == "flow"]
    return levels, flows


def metric_figure(name: str, c: Any) -> Figure:
    """The declaration of metrics column ``name`` of compiled regime ``c``."""
    for _, f in metric_figures():
        for item in _names(c, f.per) if f.per else [None]:
            if (f.name.format(item=item) if f.per else f.name) == name:
                return f
    raise KeyError(name)


def _applies(h: Headline, regime: Any) -> bool:
    """Whether headline ``h`` belongs to ``regime`` (a Regime)."""
    return h.when is None or any(b.kind == h.when for b in regime.behaviours)


def _headlines(regime: Any, names_of: Any) -> list[tuple[str, str, Headline]]:
    """(key, column, declaration) of each headline of ``regime``, in the order runs report
    them; ``names_of`` is where the lists of names are read (a Regime or a compiled one)."""
    rows = []
    for _, h in headline_figures():
        if not _applies(h, regime):
            continue
        for i, item in enumerate(_names(names_of, h.per) if h.per else [None]):
            key, of = (h.key.format(item=item), h.of.format(item=item)) if h.per else (h.key, h.of)
            rows.append(((h.order[0], i, h.order[1]), key, of, h))
    rows.sort(key=lambda r: r[0])
    return [(key, of, h) for _, key, of, h in rows]


def headline_names(regime: Any) -> list[str]:
    """The headline figures a run of ``regime`` (a Regime) may report, in order."""
    return [key for key, _, _ in _headlines(regime, regime)]


def headline(df: Any, c: Any) -> dict[str, Any]:
    """The headline figures of a run's metrics table ``df`` (compiled regime ``c``)."""
    last = df.iloc[-1]
    n = int(last["citizens"])
    out: dict[str, Any] = {}
    for key, of, h in _headlines(c.regime, c):
        if h.how == "last":
            value = last[of]
            out[key] = round(float(value), h.digits) if h.digits is not None else int(value)
        elif h.how == "sum":
            out[key] = int(df[of].sum())
        elif h.how == "days":
            out[key] = int(len(df))
        elif h.how == "pct":
            out[key] = round(100 * float(last[of]) / max(n, 1), h.digits or 4)
        elif h.how == "ratio":
            names = [b.name for b in c.regime.behaviours if b.kind == h.when]
            base = sum(float(df[f"baseline_acts_{b}"].sum()) for b in names)
            if base > 0:
                acts = sum(float(df[f"acts_{b}"].sum()) for b in names)
                out[key] = round(acts / base, h.digits or 4)
        else:
            raise ValueError(f"headline {h.key}: unknown computation {h.how!r}")
    return out


def headline_template(key: str, labels: dict[str, str] | None = None):
    """The headline declaration of ``key`` and its item's label (None if it has no item);
    (None, None) if no component declares it. ``labels``: item name -> label."""
    for _, h in sorted(headline_figures(), key=lambda x: -len(x[1].key)):
        if not h.per or "{item}" not in h.key:  # a list's presence only (life_course)
            if h.key == key:
                return h, None
            continue
        prefix, suffix = h.key.split("{item}")
        if key.startswith(prefix) and key.endswith(suffix) and len(key) > len(h.key) - 6:
            item = key[len(prefix) : len(key) - len(suffix)]
            return h, (labels or {}).get(item, item.replace("_", " "))
    return None, None
