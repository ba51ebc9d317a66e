"""The page of a sweep (sweep.html): each metric's median over replicates per parameter set,
with a band, the parameter sets and the runs."""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from credsim.experiments.sweep import _is_number

if TYPE_CHECKING:
    import pandas as pd

MAX_BANDS = 10  # parameter sets drawn with a band; beyond that, medians only
MAX_TABLE_ROWS = 500  # rows of the runs table shown in the HTML page


def set_label(params: dict[str, Any]) -> str:
    """A parameter set as ``path=value, ...`` (``baseline`` if nothing is varied)."""
    from credsim.report.charts import fmt

    if not params:
        return "baseline"
    return ", ".join(f"{p}={fmt(v) if _is_number(v) else v}" for p, v in params.items())


def set_medians(
    runs: pd.DataFrame, days: pd.DataFrame, parameters: list[str], metrics: Sequence[str]
) -> pd.DataFrame:
    """Per parameter set: its values and, for each metric on the last day, the median over
    replicates with the lowest and highest replicate (``METRIC min``, ``METRIC max``)."""
    import pandas as pd

    last = days[days["day"] == days["day"].max()]
    g = last.groupby("set")[list(metrics)]
    med, lo, hi = g.median(), g.min(), g.max()
    cols = {}
    for m in metrics:
        cols[f"{m} median"] = med[m]
        cols[f"{m} min"] = lo[m]
        cols[f"{m} max"] = hi[m]
    first = runs.drop_duplicates("set").set_index("set")[parameters]
    out = first.join(pd.DataFrame(cols)).reset_index()
    out.insert(1, "replicates", runs.groupby("set").size().reindex(out["set"]).to_numpy())
    return out


PERCENTILE_REPLICATES = 20  # fewer replicates: the band is their range, and says so


def band_kind(replicates: int) -> tuple[float, float, str]:
    """The band's lower and upper quantile and what it is called, for ``replicates`` runs."""
    if replicates >= PERCENTILE_REPLICATES:
        return 0.05, 0.95, "5th to 95th percentile"
    return 0.0, 1.0, f"range (lowest to highest of {replicates} replicates)"


def band_charts(
    days: pd.DataFrame,
    labels: dict[int, str],
    metrics: Sequence[str],
    replicates: int,
    caption: str | None = None,
) -> list:
    """Per metric: each parameter set's median over replicates, with a band.

    The band is the 5th to 95th percentile with at least ``PERCENTILE_REPLICATES`` replicates
    and the range (lowest to highest) below that, and its legend says which.
    """
    from credsim.report.charts import PALETTE, Chart, Series

    charts = []
    sets = sorted(labels)
    bands = replicates > 1 and len(sets) <= MAX_BANDS
    lo_q, hi_q, band_name = band_kind(replicates)
    short = "5-95%" if hi_q < 1.0 else "range"
    for m in metrics:
        q = days.groupby(["set", "day"])[m].quantile([lo_q, 0.5, hi_q]).unstack()
        series = []
        for k, s in enumerate(sets):
            color = PALETTE[k % len(PALETTE)]
            qs = q.loc[s]
            x = qs.index.to_numpy()
            if bands:
                series.append(
                    Series(
                        f"{labels[s]} ({short})",
                        x,
                        qs[hi_q].to_numpy(),
                        "band",
                        qs[lo_q].to_numpy(),
                        color,
                    )
                )
            series.append(Series(labels[s], x, qs[0.5].to_numpy(), "line", color=color))
        about = (
            f"'{m}' on each day, per parameter set: the median over {replicates} replicates"
            + (f", with the band showing the {band_name}." if bands else ".")
            if replicates > 1
            else f"'{m}' on each day, one line per parameter set (one replicate each)."
        )
        charts.append(
            Chart(f"chart-{m}", m.replace("_", " "), about, "day", m, series, caption=caption)
        )
    return charts


def frame_table(df: pd.DataFrame, limit: int = MAX_TABLE_ROWS) -> str:
    """A DataFrame as a scrollable HTML table (at most ``limit`` rows, with a note if cut)."""
    from credsim.report.charts import table

    rows = [
        [v.item() if isinstance(v, np.generic) else ("" if v is None else v) for v in r]
        for r in df.head(limit).itertuples(index=False)
    ]
    note = (
        f'<p class="note">First {limit} of {len(df)} rows; all are in the Parquet file.</p>'
        if len(df) > limit
        else ""
    )
    return f'<div style="overflow-x:auto">{table(list(df.columns), rows)}</div>{note}'


def write_html(
    path: Path,
    regime_name: str,
    about: str,
    runs: pd.DataFrame,
    days: pd.DataFrame,
    parameters: list[str],
    metrics: Sequence[str],
    replicates: int,
    population: int = 0,
    length: int = 0,
) -> Path:
    """sweep.html: charts with bands over replicates, the parameter sets and the runs.

    Every chart's caption names the regime, ``population``, ``length`` (days), the replicates'
    seeds and the number of parameter sets.
    """
    from credsim.labels import caption_of_experiment
    from credsim.report.charts import page, section

    first = runs.drop_duplicates("set").set_index("set")
    labels = {int(s): set_label({p: first.loc[s, p] for p in parameters}) for s in first.index}
    body = [
        f"<h1>Sweep: {html.escape(regime_name)}</h1>",
        f'<p class="about">{html.escape(about)}</p>',
    ]
    seeds = runs.drop_duplicates("replicate").sort_values("replicate")["seed"].tolist()
    shown = regime_name
    if "regime" in parameters:  # the regime itself is what varies
        shown = ", ".join(dict.fromkeys(str(v) for v in runs["regime"]))
    line = caption_of_experiment(
        shown,
        population,
        length or int(days["day"].max()) + 1,
        [int(s) for s in seeds],
        f"{len(labels)} parameter set{'s' if len(labels) != 1 else ''}",
    )
    body += [section(c) for c in band_charts(days, labels, metrics, replicates, line)]
    body.append(
        '<section><h2>Parameter sets</h2><p class="about">Median over replicates of each '
        "chosen metric on the last day.</p>"
        f"{frame_table(set_medians(runs, days, parameters, metrics))}</section>"
    )
    body.append(
        '<section><h2>Runs</h2><p class="about">One row per run: parameter values, replicate, '
        "seed and headline figures (levels on the last day, flows summed over the run); each "
        f"run's folder is runs/&lt;run&gt;/.</p>{frame_table(runs)}</section>"
    )
    from credsim.files import write_atomic

    write_atomic(path, page(f"Sweep: {regime_name}", "\n".join(body)))
    return path
