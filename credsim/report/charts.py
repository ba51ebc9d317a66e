"""Chart specifications drawn two ways: interactive (plotly, in HTML) and static (matplotlib PNG).

A ``Chart`` is plain data (series of x and y), so one description gives both renderings, and
a chart whose data are all zero becomes a one-line note instead of an empty plot. Every chart
carries a caption (synthetic citizens, regime, population, days, seed, credsim version), drawn
under its title in both renderings; colours and legend names come from ``credsim.labels``. ``page``
wraps sections into a self-contained HTML file with plotly.js embedded once.
"""

from __future__ import annotations

import base64
import html
import importlib.util
import json
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
    """Numeric x as an array (packed compactly in the figure), anything else as a list."""
    arr = np.asarray(x)
    return arr if arr.dtype.kind in "iuf" else arr.tolist()


# plotly.js typed arrays, as plotly's own JSON encoder writes them
_TYPED = {"int8": "i1", "uint8": "u1", "int16": "i2", "uint16": "u2", "int32": "i4"}
_TYPED |= {"uint32": "u4", "float32": "f4", "float64": "f8"}


def _array(v: np.ndarray | list) -> dict | list:
    """A numeric array as plotly.js's base64 typed array (int64 narrowed as plotly does)."""
    if not isinstance(v, np.ndarray):
        return v
    if v.size == 0:
        return []
    if v.dtype.kind in "iu" and v.dtype.itemsize == 8:
        lo, hi = int(v.min()), int(v.max())
        for t in ("int8", "int16", "int32") if v.dtype.kind == "i" else ("uint8", "uint16"):
            if np.iinfo(t).min <= lo and hi <= np.iinfo(t).max:
                v = v.astype(t)
                break
        else:
            if v.dtype.kind == "u" and hi <= np.iinfo("uint32").max:
                v = v.astype("uint32")
    code = _TYPED.get(str(v.dtype))
    if code is None:
        return v.tolist()
    return {"dtype": code, "bdata": base64.b64encode(np.ascontiguousarray(v)).decode("ascii")}


def _plotly_white() -> dict:
    """plotly's ``plotly_white`` template, read from the installed plotly package's data."""
    if not _TEMPLATE:
        _TEMPLATE.update(json.loads(_plotly_file("templates/plotly_white.json")))
    return _TEMPLATE


_TEMPLATE: dict = {}


def _plotly_file(name: str) -> str:
    """A file of the installed plotly package's data, read without importing plotly (whose
    figure classes take about a second to build a report's charts)."""
    spec = importlib.util.find_spec("plotly")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("the report needs plotly: pip install plotly")
    folder = Path(next(iter(spec.submodule_search_locations)))
    return (folder / "package_data" / name).read_text(encoding="utf-8")


def figure_dict(chart: Chart, compact: bool = False) -> dict:
    """The chart as a plotly figure in plain data (``data`` and ``layout``), as plotly.js
    draws it; ``plotly.graph_objects.Figure(figure_dict(chart))`` accepts it unchanged.
    ``compact``: the dashboard's card layout (no title, the page shows it and the caption;
    legend above the plot)."""
    data: list[dict] = []
    for s, color in zip(chart.series, _colors(chart), strict=True):
        x, y = _array(_xs(s.x)), _array(np.asarray(s.y, dtype=float))
        if s.kind == "band":
            data.append(
                {
                    "type": "scatter",
                    "x": x,
                    "y": _array(np.asarray(s.y0, dtype=float)),
                    "mode": "lines",
                    "line": {"width": 0},
                    "showlegend": False,
                    "hoverinfo": "skip",
                    "legendgroup": s.name,
                }
            )
            data.append(
                {
                    "type": "scatter",
                    "x": x,
                    "y": y,
                    "mode": "lines",
                    "line": {"width": 0},
                    "fill": "tonexty",
                    "fillcolor": _rgba(color, 0.25),
                    "name": s.name,
                    "legendgroup": s.name,
                    "hoverinfo": "skip",
                }
            )
        elif s.kind == "bar":
            bar = {"type": "bar", "x": x, "y": y, "name": s.name, "marker": {"color": color}}
            if s.hover is not None:
                bar["hovertext"] = list(s.hover)
            if s.error is not None:
                err = [float(e) for e in np.asarray(s.error, dtype=float)]
                bar["error_y"] = {"type": "data", "array": [None if e != e else e for e in err]}
            data.append(bar)
        else:
            data.append(
                {
                    "type": "scatter",
                    "x": x,
                    "y": y,
                    "mode": "markers" if s.kind == "markers" else "lines",
                    "name": s.name,
                    "line": {"color": color, "dash": "dash" if s.dash else "solid"},
                    "marker": {"color": color, "size": 9, "symbol": "diamond"},
                }
            )
    layout = {
        "template": _plotly_white(),
        "title": {
            "text": chart.title,
            "subtitle": {"text": html.escape(chart.caption_text), "font": {"size": 11}},
        },
        "xaxis": {"title": {"text": chart.xlabel}},
        "yaxis": {"title": {"text": chart.ylabel}},
        "height": 430,
        "barmode": "group",
        "hovermode": "x unified" if chart.series and chart.series[0].kind != "bar" else "closest",
        "margin": {"t": 75, "b": 50, "l": 60, "r": 20},
    }
    if compact:
        layout.pop("title")
        layout |= {
            "height": 340,
            "margin": {"t": 10, "r": 10, "b": 45, "l": 60},
            "legend": {
                "orientation": "h",
                "x": 0,
                "xanchor": "left",
                "y": 1.02,
                "yanchor": "bottom",
            },
            "paper_bgcolor": "rgba(0,0,0,0)",
            "plot_bgcolor": "rgba(0,0,0,0)",
            "font": {"family": "system-ui, -apple-system, Segoe UI, Roboto, Arial, sans-serif"},
        }
        # bands keep their colour and hover off the legend: the sentence under the title says
        # what they are, and a narrow screen keeps room for the plot
        for trace in data:
            if trace.get("fill") == "tonexty":
                trace["showlegend"] = False
        layout["xaxis"] |= {"automargin": True, "gridcolor": "#eef0f4", "zeroline": False}
        layout["yaxis"] |= {"gridcolor": "#eef0f4"}
    if chart.logy:
        layout["yaxis"]["type"] = "log"
    return {"data": data, "layout": layout}


def to_plotly(chart: Chart):
    """The chart as a plotly Figure."""
    import plotly.graph_objects as go

    return go.Figure(figure_dict(chart))


def figure_html(chart: Chart) -> str:
    """The chart's plot as an HTML fragment, as plotly's ``Figure.to_html(full_html=False,
    include_plotlyjs=False)`` writes it, without building plotly's figure objects."""
    figure = figure_dict(chart) | {"config": PLOTLY_CONFIG}
    data = json.dumps(figure, separators=(",", ":"), allow_nan=False)
    data = data.replace("</", "<\\/")  # no text in a chart can close the script element
    div = json.dumps(chart.id)
    return (
        '<div style="height:430px; width:100%;">'
        f'<div id={div} class="plotly-graph-div" style="height:100%; width:100%;"></div>'
        "<script>window.PLOTLYENV=window.PLOTLYENV || {};"
        f"if (document.getElementById({div})) {{Plotly.newPlot({div}, {data})}}</script></div>"
    )


def _plain(value):
    """Plotly JSON as plain lists and numbers (arrays unpacked, NaN as null)."""
    if isinstance(value, dict):
        if "bdata" in value and "dtype" in value:  # plotly's packed typed array
            arr = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
            if "shape" in value:
                arr = arr.reshape([int(n) for n in str(value["shape"]).split(",")])
            return _plain(arr)
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def spec(chart: Chart) -> dict:
    """The chart for the dashboard: its texts and, unless empty, the plotly figure (data and
    layout) the page draws as it is."""
    out = {
        "id": chart.id,
        "title": chart.title,
        "about": chart.about,
        "caption": chart.caption_text,
        "empty": chart.empty,
        "note": chart.note() if chart.empty else None,
        "figure": None,
    }
    if not chart.empty:
        fig = figure_dict(chart, compact=True)
        layout = dict(fig["layout"])
        layout.pop("template", None)  # the page's own look; keeps the answer small
        out["figure"] = {"data": _plain(fig["data"]), "layout": _plain(layout)}
    return out


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
        body = figure_html(chart)
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
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{CSS}</style>\n"
        f'<script type="text/javascript">{_plotly_file("plotly.min.js")}</script>\n'
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
