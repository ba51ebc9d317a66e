"""One palette and one set of labels for tiers, sanctions, privileges, series and figures.

The HTML report, the PNGs and the dashboard (through its API) all take their colours and
names from here (headline figures' labels and meanings as their components declare them in
``credsim.figures``), so a tier has one colour and one name wherever it is drawn, a legend says
"private school" rather than ``private_school``, and every headline figure says which days it
covers: the last day, the whole run or the last 30 days.

Tier colours follow the score: the tier citizens start in is blue, tiers above it green
(darkest at the top), tiers below it amber to red (red at the bottom). Sanctions, privileges
and behaviours take the categorical ``PALETTE`` in regime order. Nothing here imports a
library heavier than NumPy: the functions take a parsed regime (the TOML table) and a run's
manifest.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "FIGURES",
    "PALETTE",
    "SERIES",
    "WINDOWS",
    "caption",
    "caption_of_experiment",
    "caption_of_runs",
    "component_styles",
    "figure",
    "label",
    "seeds_text",
    "style_table",
    "tier_colors",
]

# categorical colours (sanctions, privileges, behaviours, runs side by side)
PALETTE = (
    "#1f77b4",
    "#ff7f0e",
    "#9467bd",
    "#17becf",
    "#8c564b",
    "#e377c2",
    "#bcbd22",
    "#7f7f7f",
    "#2ca02c",
    "#d62728",
)
START_TIER = "#1c7ed6"  # the tier citizens start in
ABOVE_START = ("#2b8a3e", "#37b24d", "#74b816")  # top tier first
BELOW_START = ("#f59f00", "#e8590c", "#c92a2a")  # bottom tier last
MORE_BELOW = ("#fab005", "#f08c00")  # only for regimes with more than three tiers below


@dataclass(frozen=True)
class Style:
    """How one series is drawn: its label in legends and its colour."""

    label: str
    color: str

    def public(self) -> dict[str, str]:
        return {"label": self.label, "color": self.color}


# series that are the same thing in every regime, as their components declare them
# (``credsim.figures.series``)
def _series() -> dict[str, Style]:
    from credsim.figures import series

    return {name: Style(label, color) for name, (label, color) in series().items()}


SERIES: dict[str, Style] = _series()

# where a headline figure's days come from
WINDOWS = {
    "last_day": "last day",
    "whole_run": "whole run",
    "last_30_days": "last 30 days",
}
RECENT_DAYS = 30
RECENT_SUFFIX = "_last_30_days"


@dataclass(frozen=True)
class Figure:
    """A headline figure for people: its label, the days it covers, what it means."""

    key: str
    label: str
    window: str  # a key of WINDOWS
    explain: str

    @property
    def window_label(self) -> str:
        return WINDOWS[self.window]

    def public(self) -> dict[str, str]:
        return {
            "key": self.key,
            "label": self.label,
            "window": self.window,
            "window_label": self.window_label,
            "explain": self.explain,
        }


def _declared() -> dict[str, Figure]:
    """The headline figures without an item, as their components declare them."""
    from credsim.figures import headline_figures

    return {
        h.key: Figure(h.key, h.label, h.window, h.explain)
        for _, h in headline_figures()
        if h.per is None or "{item}" not in h.key  # one per regime, if its list is there
    }


FIGURES: dict[str, Figure] = _declared()


def label(item: Mapping[str, Any]) -> str:
    """A regime component's name for people: its ``label``, else its name without underscores."""
    text = item.get("label") or str(item.get("name", ""))
    return text.replace("_", " ")


def _starting_tier(regime: Mapping[str, Any]) -> int:
    tiers = regime.get("tiers", [])
    initial = (regime.get("score") or {}).get("initial", 1000)
    for i, t in enumerate(tiers):
        if t.get("min") is None or initial >= t["min"]:
            return i
    return max(len(tiers) - 1, 0)


def tier_colors(regime: Mapping[str, Any]) -> dict[str, str]:
    """tier name -> colour: blue where citizens start, green above, amber to red below."""
    tiers = [t["name"] for t in regime.get("tiers", [])]
    if not tiers:
        return {}
    start = _starting_tier(regime)
    above, below = tiers[:start], tiers[start + 1 :]
    ramp_up = list(ABOVE_START[: len(above)])
    ramp_up += [ABOVE_START[-1]] * (len(above) - len(ramp_up))
    ramp = MORE_BELOW + BELOW_START
    ramp_down = [ramp[0]] * (len(below) - len(ramp)) + list(ramp[-len(below) :] if below else ())
    out = dict(zip(above, ramp_up, strict=True))
    out[tiers[start]] = START_TIER
    out.update(zip(below, ramp_down, strict=True))
    return out


def component_styles(regime: Mapping[str, Any]) -> dict[str, dict[str, Style]]:
    """kind -> name -> Style for the tiers, sanctions, privileges and behaviours of a regime."""
    colors = tier_colors(regime)
    out: dict[str, dict[str, Style]] = {
        "tiers": {t["name"]: Style(label(t), colors[t["name"]]) for t in regime.get("tiers", [])}
    }
    for kind in ("sanctions", "privileges", "behaviours"):
        out[kind] = {
            x["name"]: Style(label(x), PALETTE[i % len(PALETTE)])
            for i, x in enumerate(regime.get(kind, []))
        }
    return out


def style_table(regime: Mapping[str, Any]) -> dict[str, Any]:
    """Everything the dashboard draws with, as plain JSON: components, series, palette."""
    return {
        **{
            kind: {name: s.public() for name, s in items.items()}
            for kind, items in component_styles(regime).items()
        },
        "series": {k: s.public() for k, s in SERIES.items()},
        "palette": list(PALETTE),
        "start_tier": regime["tiers"][_starting_tier(regime)]["name"]
        if regime.get("tiers")
        else None,
    }


def figure(key: str, regime: Mapping[str, Any] | None = None) -> Figure:
    """The label, window and meaning of a headline figure (``denied_<privilege>`` included)."""
    if key in FIGURES:
        return FIGURES[key]
    privileges = {x["name"]: label(x) for x in (regime or {}).get("privileges", [])}
    if key.endswith(RECENT_SUFFIX) and key[: -len(RECENT_SUFFIX)] in FIGURES:
        base = FIGURES[key[: -len(RECENT_SUFFIX)]]
        return Figure(
            key,
            f"{base.label}, last {RECENT_DAYS} days",
            "last_30_days",
            f"{base.explain} Counted over the last {RECENT_DAYS} days only.",
        )
    from credsim.figures import headline_template

    h, item = headline_template(key, privileges)
    if h is not None and item is not None:
        return Figure(key, h.label.format(label=item), h.window, h.explain.format(label=item))
    return Figure(key, key.replace("_", " ").capitalize(), "last_day", "")


def seeds_text(seeds: list[Any]) -> str:
    """ "seed 1 · 1 replicate" or "seeds 1 to 3 · 3 replicates" (consecutive seeds)."""
    if len(seeds) <= 1:
        return f"seed {seeds[0] if seeds else '?'} · 1 replicate"
    consecutive = all(
        isinstance(a, int) and isinstance(b, int) and b == a + 1
        for a, b in zip(seeds, seeds[1:], strict=False)
    )
    if consecutive:
        listed = f"{seeds[0]} to {seeds[-1]}"
    elif len(seeds) > 3:
        listed = f"{seeds[0]}, {seeds[1]}, … {seeds[-1]}"
    else:
        listed = ", ".join(str(s) for s in seeds)
    return f"seeds {listed} · {len(seeds)} replicates"


def caption_of_experiment(
    regime: str, population: int, days: int, seeds: list[int], what: str = ""
) -> str:
    """The caption of a sweep's or a sensitivity analysis's chart (``what``: the design)."""
    from credsim import __version__

    line = caption(
        {
            "regime": regime,
            "population": population,
            "days": days,
            "seeds": seeds,
            "credsim": __version__,
        }
    )
    return line.replace(" · credsim ", f" · {what} · credsim ") if what else line


def caption(manifest: Mapping[str, Any]) -> str:
    """The line every chart carries: synthetic citizens, regime, population, days, seed or
    seeds, replicates, credsim version."""
    population = manifest.get("population")
    pop = f"{population:,}" if isinstance(population, int) else str(population)
    seeds = manifest.get("seeds") or [manifest.get("seed", "?")]
    return (
        f"Synthetic citizens · regime {manifest.get('regime', '?')} · {pop} citizens · "
        f"{manifest.get('days', '?')} days · {seeds_text(list(seeds))} · "
        f"credsim {manifest.get('credsim', '?')}"
    )


def caption_of_runs(named: list[tuple[str, Mapping[str, Any]]]) -> str:
    """The caption of a chart that sets several runs side by side (name, manifest each)."""
    parts = []
    for name, m in named:
        population = m.get("population")
        pop = f"{population:,}" if isinstance(population, int) else str(population)
        seeds = seeds_text(list(m.get("seeds") or [m.get("seed", "?")])).replace(" · ", ", ")
        parts.append(
            f"{name}: regime {m.get('regime', '?')}, {pop} citizens, {m.get('days', '?')} days, "
            f"{seeds}"
        )
    versions = sorted({str(m.get("credsim", "?")) for _, m in named})
    return f"Synthetic citizens · {'; '.join(parts)} · credsim {', '.join(versions)}"
