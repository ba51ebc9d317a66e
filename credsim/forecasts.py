"""Rolling-origin validation of the structural model (``credsim.structural``): from each
origin, fit to the figures published up to it, forecast the later ones, and compare with
naive forecasts (a straight line from the list's start, through the last two figures, and
their constant growth), by horizon."""

from __future__ import annotations

from datetime import timedelta

import numpy as np

from credsim.calibration import Targets, _to_date, target_days
from credsim.structural import (
    Emulator,
    Probe,
    Structure,
    _day,
    bootstrap,
    fit,
    fitting_targets,
    predict,
    until,
)

ORIGINS = ("2017-03-31", "2017-12-31", "2018-04-30", "2018-12-31")
BUCKETS = ((0, 6), (6, 12), (12, 18), (18, 36))
METHODS = ("model", "line_from_start", "last_segment", "constant_growth")
METHOD_LABELS = {
    "model": "structural model from the last figure",
    "line_from_start": "straight line from the list's start through the last figure",
    "last_segment": "straight line through the last two figures",
    "constant_growth": "constant growth of the last two figures",
}


def baselines(known: list[tuple[int, float]], day: int) -> dict[str, float]:
    """Naive forecasts of a cumulative series on ``day`` from its published (day, value)
    points before the origin: a straight line from (0, 0) through the last point, a straight
    line through the last two points, and constant (exponential) growth of the last two."""
    nan = float("nan")
    if not known:
        return {"line_from_start": nan, "last_segment": nan, "constant_growth": nan}
    (d1, y1) = known[-1]
    out = {"line_from_start": y1 * day / d1 if d1 > 0 else nan}
    if len(known) >= 2:
        d0, y0 = known[-2]
        out["last_segment"] = y1 + (y1 - y0) * (day - d1) / (d1 - d0)
        out["constant_growth"] = y1 * (y1 / y0) ** ((day - d1) / (d1 - d0)) if y0 > 0 else nan
    else:
        out["last_segment"] = out["constant_growth"] = nan
    return out


Z90 = 1.6449  # a central 90% normal interval: plus or minus 1.6449 standard deviations


def increments(t: Targets) -> Targets:
    """Each cumulative series as its first figure and the increments between successive
    figures (flows from the day after one figure to the next), each with the figure's
    relative tolerance. A structural model's error in a cumulative count accumulates (a
    missed flow stays missed), so successive cumulative figures are not independent
    measurements; their increments nearly are, and each weighs as one period's flow."""
    out, series = [], {}
    for x in t.targets:
        if x.kind == "cumulative":
            series.setdefault(x.metric, []).append(x)
        else:
            out.append(x)
    for xs in series.values():
        xs = sorted(xs, key=lambda x: _to_date(x.date))
        out.append(xs[0])
        for a, b in zip(xs, xs[1:]):
            if b.value <= a.value:
                continue  # a figure that does not grow carries no flow to fit
            begin = (_to_date(a.date) + timedelta(days=1)).isoformat()
            out.append(
                b.model_copy(
                    update={"kind": "flow", "period_start": begin, "value": b.value - a.value}
                )
            )
    return Targets(meta=t.meta, targets=out)


def discrepancy(em: Emulator, s: Structure, t: Targets) -> float:
    """The model's relative error on the flows it was fitted to: the spread of
    (fitted / published - 1) over the increments and flows of the fit targets in ``t``,
    estimated robustly (1.4826 times the median absolute value: the standard deviation where
    the errors are normal, not driven by the one or two figures the model is documented to
    miss). It is the spread of a forecast increment around the model's (the interval)."""
    inc = increments(fitting_targets(t))
    flows = [i for i, x in enumerate(inc.targets) if x.kind == "flow"]
    if not flows:
        return float("nan")
    pred = predict(em, s, inc)
    y = np.array([inc.targets[i].value for i in flows])
    return float(1.4826 * np.median(np.abs(pred[flows] / y - 1)))


def forecast(em: Emulator, s: Structure, t: Targets, o_day: int) -> tuple[np.ndarray, np.ndarray]:
    """Each target's forecast from an origin (day ``o_day``) and the increment the model adds:
    a cumulative series starts from its last published fit figure on or before the origin
    and adds the model's increment from that figure's day; anything else is the model's own
    figure (its "increment" is the whole figure)."""
    days = target_days(t)
    pred = predict(em, s, t)
    cum = {k: np.cumsum(v) for k, v in em.flows(s).items()}
    value, step = pred.copy(), pred.copy()
    for i, x in enumerate(t.targets):
        anchors = [
            (days[j][1], y.value)
            for j, y in enumerate(t.targets)
            if y.metric == x.metric
            and y.kind == "cumulative"
            and y.role == "fit"
            and days[j][1] <= o_day
        ]
        if x.kind == "cumulative" and anchors and days[i][1] > o_day:
            d0, y0 = max(anchors)
            step[i] = cum[x.metric][days[i][1]] - cum[x.metric][d0]
            value[i] = y0 + step[i]
    return value, step


def validate(
    probe: Probe,
    t: Targets,
    origins=ORIGINS,
    check_population: int = 200_000,
    bounds: dict[str, tuple[float, float]] | None = None,
    draws: int = 0,
    seed: int = 7,
):
    """Rolling-origin evaluation: for each origin, fit on the fit targets dated up to it and
    forecast every later target, against the naive baselines. One row per forecast.

    The model's forecast of a cumulative series starts from the series' last published
    figure at the origin and adds the model's increment from that figure's date to the
    target's (``forecast``; ``model_curve`` is the fitted curve itself). Its 90% interval
    takes the forecast increment as log-normal, 1.645 standard deviations of its logarithm
    either side: the fit's relative discrepancy (``discrepancy``), combined with the relative
    spread of the forecast over ``draws`` bootstrap refits at that origin (``bootstrap``;
    1.4826 times the median absolute deviation, robust to the odd refit that lands on a
    bound; none when 0).
    ``covered`` says whether the published figure fell in the interval."""
    import pandas as pd

    em = Emulator.from_probe(probe, t.meta.start_date)
    days = target_days(t)
    rows = []
    for k, origin in enumerate(origins):
        o_day = _day(origin, t.meta.start_date)
        past = until(fitting_targets(t), origin)
        if past is None:
            continue
        s, _ = fit(em, past, check_population=check_population, bounds=bounds)
        kappa = discrepancy(em, s, past)
        value, step = forecast(em, s, t, o_day)
        spread = np.zeros(len(t.targets))
        if draws:
            refits = bootstrap(probe, past, s, draws, seed + k, check_population, bounds)
            f = np.array([forecast(em, b, t, o_day)[0] for b in refits])
            spread = 1.4826 * np.median(np.abs(f - np.median(f, axis=0)), axis=0)
        # the increment's relative spread, as a log-normal (a count does not fall below the
        # figure it starts from)
        rel = np.sqrt(kappa**2 + (spread / np.maximum(step, 1e-9)) ** 2)
        low = value - step + step * np.exp(-Z90 * rel)
        high = value - step + step * np.exp(Z90 * rel)
        curve = predict(em, s, t)
        for i, x in enumerate(t.targets):
            first, last = days[i]
            if last <= o_day:
                continue
            known = [
                (days[j][1], y.value)
                for j, y in enumerate(t.targets)
                if y.metric == x.metric and y.kind == "cumulative" and days[j][1] <= o_day
            ]
            row = {
                "origin": origin,
                "target": x.name,
                "metric": x.metric,
                "kind": x.kind,
                "role": x.role,
                "date": x.date,
                "horizon_months": (last - o_day) / (365.25 / 12),
                "published": x.value,
                "model": float(value[i]),
                "model_low": float(low[i]),
                "model_high": float(high[i]),
                "covered": bool(low[i] <= x.value <= high[i]),
                "model_curve": float(curve[i]),
            }
            base = baselines(known, last) if x.kind == "cumulative" else {}
            for m in METHODS[1:]:
                row[m] = base.get(m, float("nan"))
            rows.append(row)
    df = pd.DataFrame(rows)
    for m in (*METHODS, "model_curve"):
        df[f"error_{m}"] = df[m] / df["published"] - 1
    return df


def validation_summary(df):
    """Mean absolute relative error by horizon (months) and method, over the forecasts that
    every baseline can make (cumulative series with two published figures before the
    origin), with the number of forecasts in each cell, the fitted curve's own error
    (``model_curve``, not started from the last figure) and the share of published figures
    inside the model's 90% interval (``coverage``)."""
    import pandas as pd

    ok = df.dropna(subset=[f"error_{m}" for m in METHODS])
    cells = [(f"{lo}-{hi} months", lo, hi) for lo, hi in BUCKETS]
    cells.append(("12 months (9-15)", 9, 15))
    out = []
    for name, lo, hi in cells:
        sel = ok[(ok["horizon_months"] >= lo) & (ok["horizon_months"] < hi)]
        row = {"horizon": name, "forecasts": len(sel)}
        for m in (*METHODS, "model_curve"):
            row[m] = float(sel[f"error_{m}"].abs().mean()) if len(sel) else float("nan")
        row["coverage"] = float(sel["covered"].mean()) if len(sel) else float("nan")
        out.append(row)
    return pd.DataFrame(out)


def validation_markdown(summary) -> str:
    """The summary as a Markdown table (mean absolute error and coverage, in percent)."""
    cols = (*METHODS, "model_curve", "coverage")
    labels = {
        **METHOD_LABELS,
        "model_curve": "fitted curve (not started from the last figure)",
        "coverage": "published inside the model's 90% interval",
    }
    head = "| horizon | forecasts | " + " | ".join(labels[m] for m in cols) + " |"
    sep = "| --- | ---: | " + " | ".join("---:" for _ in cols) + " |"
    lines = [head, sep]
    for _, r in summary.iterrows():
        cells = [f"{r[m]:.1%}" if r[m] == r[m] else "-" for m in cols]
        lines.append(f"| {r['horizon']} | {int(r['forecasts'])} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def validation_chart(df, path) -> None:
    """Absolute forecast error against horizon, one series of points per method (PNG)."""
    import os
    import tempfile

    os.environ.setdefault("MPLCONFIGDIR", tempfile.gettempdir())
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ok = df.dropna(subset=[f"error_{m}" for m in METHODS])
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for m, mark in zip(METHODS, "o^sv"):
        ax.scatter(
            ok["horizon_months"], 100 * ok[f"error_{m}"].abs(), marker=mark, label=METHOD_LABELS[m]
        )
    ax.axhline(10, color="grey", lw=0.8, ls="--")
    ax.set_xlabel("forecast horizon (months after the origin)")
    ax.set_ylabel("absolute error of the forecast (% of the published figure)")
    ax.set_title(
        "Rolling-origin forecasts of cumulative blocked purchases, listings and delistings\n"
        f"origins {', '.join(sorted(set(df['origin'])))}",
        fontsize=10,
    )
    ax.legend(fontsize=8)
    from credsim.files import atomic_path

    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, bbox_inches="tight", format="png")
    plt.close(fig)
