"""Rolling-origin validation of the structural model (``credsim.structural``): from each
origin, fit to the figures published up to it, forecast the later ones, and compare with
naive forecasts (a straight line from the list's start, through the last two figures, and
their constant growth), by horizon."""

from __future__ import annotations

from credsim.calibration import Targets, target_days
from credsim.structural import (
    Emulator,
    Probe,
    _day,
    fit,
    fitting_targets,
    predict,
    until,
)

ORIGINS = ("2017-03-31", "2017-12-31", "2018-04-30", "2018-12-31")
BUCKETS = ((0, 6), (6, 12), (12, 18), (18, 36))
METHODS = ("model", "line_from_start", "last_segment", "constant_growth")
METHOD_LABELS = {
    "model": "structural model",
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


def validate(
    probe: Probe,
    t: Targets,
    origins=ORIGINS,
    check_population: int = 200_000,
    bounds: dict[str, tuple[float, float]] | None = None,
):
    """Rolling-origin evaluation: for each origin, fit on the fit targets dated up to it and
    forecast every later target, against the naive baselines. One row per forecast."""
    import pandas as pd

    em = Emulator.from_probe(probe, t.meta.start_date)
    days = target_days(t)
    rows = []
    for origin in origins:
        o_day = _day(origin, t.meta.start_date)
        past = until(fitting_targets(t), origin)
        if past is None:
            continue
        s, _ = fit(em, past, check_population=check_population, bounds=bounds)
        pred = predict(em, s, t)
        for i, x in enumerate(t.targets):
            first, last = days[i]
            if last <= o_day:
                continue
            row = {
                "origin": origin,
                "target": x.name,
                "metric": x.metric,
                "kind": x.kind,
                "role": x.role,
                "date": x.date,
                "horizon_months": (last - o_day) / (365.25 / 12),
                "published": x.value,
                "model": float(pred[i]),
            }
            known = [
                (days[j][1], y.value)
                for j, y in enumerate(t.targets)
                if y.metric == x.metric and y.kind == "cumulative" and days[j][1] <= o_day
            ]
            base = baselines(known, last) if x.kind == "cumulative" else {}
            for m in METHODS[1:]:
                row[m] = base.get(m, float("nan"))
            rows.append(row)
    df = pd.DataFrame(rows)
    for m in METHODS:
        df[f"error_{m}"] = df[m] / df["published"] - 1
    return df


def validation_summary(df):
    """Mean absolute relative error by horizon (months) and method, over the forecasts that
    every baseline can make (cumulative series with two published figures before the
    origin), with the number of forecasts in each cell."""
    import pandas as pd

    ok = df.dropna(subset=[f"error_{m}" for m in METHODS])
    out = []
    for lo, hi in BUCKETS:
        sel = ok[(ok["horizon_months"] >= lo) & (ok["horizon_months"] < hi)]
        row = {"horizon": f"{lo}-{hi} months", "forecasts": len(sel)}
        for m in METHODS:
            row[m] = float(sel[f"error_{m}"].abs().mean()) if len(sel) else float("nan")
        out.append(row)
    twelve = ok[(ok["horizon_months"] >= 9) & (ok["horizon_months"] < 15)]
    row = {"horizon": "12 months (9-15)", "forecasts": len(twelve)}
    for m in METHODS:
        row[m] = float(twelve[f"error_{m}"].abs().mean()) if len(twelve) else float("nan")
    out.append(row)
    return pd.DataFrame(out)


def validation_markdown(summary) -> str:
    """The summary as a Markdown table (mean absolute error, in percent)."""
    head = "| horizon | forecasts | " + " | ".join(METHOD_LABELS[m] for m in METHODS) + " |"
    sep = "| --- | ---: | " + " | ".join("---:" for _ in METHODS) + " |"
    lines = [head, sep]
    for _, r in summary.iterrows():
        cells = [f"{r[m]:.1%}" if r[m] == r[m] else "-" for m in METHODS]
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
