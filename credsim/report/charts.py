"""Chart specifications drawn two ways: interactive (plotly, in HTML) and static (matplotlib PNG).

A ``Chart`` is plain data (series of x and y), so one description gives both renderings, and
a chart whose data are all zero becomes a one-line note instead of an empty plot. Every chart
carries a caption (synthetic citizens, regime, population, days, seed, credsim version), drawn
under its title in both renderings; colours and legend names come from ``credsim.labels``. ``page``
wraps sections into a self-contained HTML file with plotly.js embedded once.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from credsim import __version__
from credsim.labels import PALETTE

PLOTLY_CONFIG = {"displaylogo": False, "responsive": True}
CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2em auto;
max-width:1100px;padding:0 1em;color:#222;line-height:1.4}
h1{font-size:1.6em}h2{font-size:1.25em;margin-top:2em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.5em 0}th,td{padding:.25em .7em;border-bottom:1px solid #eee;
text-align:left;vertical-align:top}td.num{text-align:right;font-variant-numeric:tabular-nums}
.about{color:#555}.note{color:#666;font-style:italic}.warn{color:#a40000;font-weight:bold}
pre{background:#f6f6f6;padding:1em;overflow:auto;font-size:.85em}
nav a{margin-right:1em}.caption{color:#666;font-size:.85em}
th.window,td.window{white-space:nowrap}
"""


@dataclass
class Series:
    """One trace: a line, a shaded band between ``y0`` and ``y``, bars, or markers."""

    name: str
    x: Sequence
    y: Sequence
    kind: str = "line"  # line | band | bar | markers
    y0: Sequence | None = None
    color: str | None = None
    dash: bool = False
    hover: Sequence[str] | None = None
    reference: bool = False  # published figures: not counted when deciding a chart is empty
    error: Sequence | None = None  # bars: half-width of a 95% interval, drawn as error bars


@dataclass
class Chart:
    """A titled chart with a stable element id and one sentence saying what it shows."""

    id: str
    title: str
    about: str
    xlabel: str
    ylabel: str
    series: list[Series] = field(default_factory=list)
    zero_note: str = "All values are zero on every day of the run."
    logy: bool = False
    empty_note: str | None = None  # set to force the note (data present but uninformative)
    caption: str | None = None  # None: "Synthetic citizens · credsim VERSION"

    @property
    def name(self) -> str:
        return self.id.removeprefix("chart-")

    @property
    def empty(self) -> bool:
        if self.empty_note is not None:
            return True
        ys = [np.asarray(s.y, dtype=float) for s in self.series if not s.reference]
        return not any(np.nan_to_num(y).any() for y in ys)

    def note(self) -> str:
        return self.empty_note or self.zero_note

    @property
    def caption_text(self) -> str:
        """The line the chart carries wherever it is drawn."""
        return self.caption or f"Synthetic citizens · credsim {__version__}"


def _rgba(color: str, alpha: float) -> str:
    r, g, b = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def _colors(chart: Chart) -> list[str]:
    return [s.color or PALETTE[i % len(PALETTE)] for i, s in enumerate(chart.series)]


def _xs(x: Sequence) -> np.ndarray | list:
    """Numeric x as an array (plotly packs it compactly), anything else as a list."""
    arr = np.asarray(x)
    return arr if arr.dtype.kind in "iuf" else arr.tolist()


def to_plotly(chart: Chart):
    """The chart as a plotly Figure."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for s, color in zip(chart.series, _colors(chart), strict=True):
        x, y = _xs(s.x), np.asarray(s.y, dtype=float)
        if s.kind == "band":
            fig.add_trace(
                go.Scatter(
                    x=x,
                    y=np.asarray(s.y0, dtype=float),
                    mode="lines",
                    line={"width": 0},
                    showlegend=False,
                    hoverinfo="skip",
                    legendgroup=s.name,
                )
            )
            fig.add_trace(
                go.Scatter(
                    x=x,
                    y=y,
                    mode="lines",
                    line={"width": 0},
                    fill="tonexty",
                    fillcolor=_rgba(color, 0.25),
                    name=s.name,
                    legendgroup=s.name,
                    hoverinfo="skip",
                )
            )
        elif s.kind == "bar":
            fig.add_trace(
                go.Bar(
                    x=x,
                    y=y,
                    name=s.name,
                    marker_color=color,
                    hovertext=list(s.hover) if s.hover is not None else None,
                    error_y=None
                    if s.error is None
                    else {"type": "data", "array": list(np.asarray(s.error, dtype=float))},
                )
            )
        else:
            mode = "markers" if s.kind == "markers" else "lines"
            fig.add_trace(
                go.Scatter(
                    x=x,
                    y=y,
                    mode=mode,
                    name=s.name,
                    line={"color": color, "dash": "dash" if s.dash else "solid"},
                    marker={"color": color, "size": 9, "symbol": "diamond"},
                )
            )
    fig.update_layout(
        title={
            "text": chart.title,
            "subtitle": {"text": html.escape(chart.caption_text), "font": {"size": 11}},
        },
        xaxis_title=chart.xlabel,
        yaxis_title=chart.ylabel,
        template="plotly_white",
        height=430,
        barmode="group",
        hovermode="x unified" if chart.series and chart.series[0].kind != "bar" else "closest",
        margin={"t": 75, "b": 50, "l": 60, "r": 20},
    )
    if chart.logy:
        fig.update_yaxes(type="log")
    return fig


def png_figure(chart: Chart):
    """The chart as a matplotlib Figure (no display needed), its caption along the bottom."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 5.1))
    ax = fig.subplots()
    bars = [s for s in chart.series if s.kind == "bar"]
    width = 0.8 / max(len(bars), 1)
    nbar = 0
    for s, color in zip(chart.series, _colors(chart), strict=True):
        y = np.asarray(s.y, dtype=float)
        if s.kind == "band":
            ax.fill_between(
                list(s.x),
                np.asarray(s.y0, dtype=float),
                y,
                color=color,
                alpha=0.25,
                linewidth=0,
                label=s.name,
            )
        elif s.kind == "bar":
            pos = np.arange(len(s.x)) + (nbar - (len(bars) - 1) / 2) * width
            err = None if s.error is None else np.asarray(s.error, dtype=float)
            ax.bar(pos, y, width=width, color=color, label=s.name, yerr=err, capsize=3)
            nbar += 1
        elif s.kind == "markers":
            ax.plot(list(s.x), y, "D", color=color, label=s.name)
        else:
            ax.plot(list(s.x), y, color=color, linestyle="--" if s.dash else "-", label=s.name)
    if bars:
        ax.set_xticks(np.arange(len(bars[0].x)))
        ax.set_xticklabels(
            [str(v) for v in bars[0].x],
            rotation=60 if len(bars[0].x) > 8 else 0,
            ha="right" if len(bars[0].x) > 8 else "center",
        )
    if chart.logy:
        ax.set_yscale("log", nonpositive="mask")
    ax.set_title(chart.title)
    ax.set_xlabel(chart.xlabel)
    ax.set_ylabel(chart.ylabel)
    ax.grid(alpha=0.3)
    if chart.series:
        ax.legend(fontsize="small", loc="best")
    fig.text(0.01, 0.012, chart.caption_text, fontsize=8, color="#555555", ha="left", va="bottom")
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    return fig


def to_png(chart: Chart, path: Path) -> Path:
    """Draw the chart with matplotlib and save it as a PNG."""
    fig = png_figure(chart)
    path.parent.mkdir(parents=True, exist_ok=True)
    from credsim.files import atomic_path

    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    return path


def write_pngs(charts: list[Chart], folder: Path, prefix: str = "") -> list[Path]:
    """One PNG per non-empty chart, named after the chart id (``chart-score`` -> score.png)."""
    return [to_png(c, Path(folder) / f"{prefix}{c.name}.png") for c in charts if not c.empty]


def section(chart: Chart) -> str:
    """The chart's HTML: a heading, its sentence, and the plot (or the note if empty)."""
    if chart.empty:
        body = (
            f'<div id="{chart.id}" class="chart empty"><p class="note">'
            f'{html.escape(chart.note())}</p><p class="caption">'
            f"{html.escape(chart.caption_text)}</p></div>"
        )
    else:
        body = to_plotly(chart).to_html(
            full_html=False, include_plotlyjs=False, div_id=chart.id, config=PLOTLY_CONFIG
        )
    return (
        f"<section><h2>{html.escape(chart.title)}</h2>"
        f'<p class="about">{html.escape(chart.about)}</p>{body}</section>'
    )


def table(header: Sequence[str], rows: Sequence[Sequence], cls: str = "") -> str:
    """A small HTML table; numbers are right-aligned and formatted, text is escaped."""

    def cell(v) -> str:
        if isinstance(v, bool) or not isinstance(v, int | float | np.integer | np.floating):
            return f"<td>{html.escape(str(v))}</td>"
        return f'<td class="num">{html.escape(fmt(v))}</td>'

    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(cell(v) for v in r) + "</tr>" for r in rows)
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def fmt(v) -> str:
    """A number for people: thousands separators, up to 4 decimals, blank for missing."""
    if v is None or (isinstance(v, float | np.floating) and np.isnan(v)):
        return ""
    if isinstance(v, int | np.integer) or float(v).is_integer() and abs(v) < 1e15:
        return f"{int(v):,}"
    return f"{float(v):,.4f}".rstrip("0").rstrip(".")


def page(title: str, body: str) -> str:
    """A whole HTML document: plotly.js inline once, no external resource of any kind."""
    from plotly.offline import get_plotlyjs

    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{CSS}</style>\n"
        f'<script type="text/javascript">{get_plotlyjs()}</script>\n'
        f"</head><body>\n{body}\n</body></html>\n"
    )


def output_path(folder: Path, out: Path | str | None, default: str) -> Path:
    """``out`` if it names an .html file, ``out/default`` if it is a folder, else folder/default."""
    if out is None:
        return Path(folder) / default
    out = Path(out)
    return out if out.suffix.lower() in (".html", ".htm") else out / default


def rolling_ratio(acts: np.ndarray, base: np.ndarray, window: int = 7) -> np.ndarray:
    """Acts over baseline acts, each summed over a trailing window (NaN where no baseline)."""
    k = np.ones(window)
    a = np.convolve(np.asarray(acts, dtype=float), k)[: len(acts)]
    b = np.convolve(np.asarray(base, dtype=float), k)[: len(base)]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(b > 0, a / np.where(b > 0, b, 1), np.nan)
