"""The charts of one run's report and dashboard (``credsim.report.charts`` makes them): each
from the run's metrics, as means over replicates with their 95% bands, in the colours and
with the legend names of ``credsim.labels``, and the lines the components declare for it
(``credsim.figures.drawn_in``)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from credsim.figures import drawn_in
from credsim.labels import SERIES, caption, component_styles
from credsim.replicates import band
from credsim.report import (
    BURDEN_FLOWS,
    BURDEN_LABELS,
    BURDEN_LEVELS,
    DASHBOARD,
    DIMENSIONS,
    TEXT,
    Published,
    _starting_tier_name,
    burden,
    metrics_of,
    names,
    regime_of,
    speech_behaviours,
)
from credsim.report.charts import Chart, Series, fmt, rolling_ratio
from credsim.run import Run


class RunCharts:
    """The charts of one run, each from its metrics (means over replicates, with bands)."""

    def __init__(self, run: Run):
        self.run = run
        self.df = df = metrics_of(run)
        _, self.regime = regime_of(run)
        self.styles = component_styles(self.regime)
        self.line = caption(run.manifest)
        self.reps = [metrics_of(r) for r in run.replicates] if run.replicated else [df]
        self.many = len(self.reps) > 1
        self.over = (
            f" Lines and bars are means over {len(self.reps)} replicates; shaded bands and "
            "error bars are their 95% intervals (t over replicates)."
            if self.many
            else ""
        )
        self.day = df["day"].to_numpy()

    def parts(self) -> tuple:
        """What every chart is made with: the metrics, the days, the replicates' metrics, and
        the makers of a chart, a spread line, a styled line and a column."""
        return self.df, self.day, self.reps, self.chart, self.spread, self.styled, self.column

    def chart(self, key: str, xlabel: str, ylabel: str, series: list[Series], **kw: Any) -> Chart:
        label = kw.pop("label", "")
        title, about, zero = (t.format(label=label) for t in TEXT[key])
        cid = f"chart-{key}" + (f"-{kw.pop('dim')}" if "dim" in kw else "")
        about += kw.pop("over", self.over)
        return Chart(
            cid, title, about, xlabel, ylabel, series, zero_note=zero, caption=self.line, **kw
        )

    def spread(self, name: str, of: Any, color: str | None, dash: bool = False) -> list[Series]:
        """The mean over replicates of ``of(metrics)`` as a line, under it its 95% band."""
        mean, lo, hi = band([np.asarray(of(d), dtype=float) for d in self.reps])
        out = [Series(name, self.day, mean, color=color, dash=dash)]
        if self.many:
            out.insert(0, Series(f"{name}: 95% interval", self.day, hi, "band", y0=lo, color=color))
        return out

    def styled(self, group: str, name: str, of: Any, **kw: Any) -> list[Series]:
        s = self.styles[group].get(name)
        return self.spread(s.label if s else name.replace("_", " "), of, s and s.color, **kw)

    @staticmethod
    def column(name: str) -> Any:
        return lambda d: d[name]

    def score(self) -> Chart:
        """The score: median and mean, with its quartile and 5-95 percentile bands."""
        df, day, reps, chart, spread, styled, column = self.parts()
        many = self.many
        q = {p: df[f"score_p{p:02d}"] for p in (5, 25, 50, 75, 95)}
        band_color = SERIES["score_band"].color
        return chart(
            "score",
            "day",
            "score",
            [
                Series("5th to 95th percentile", day, q[95], "band", y0=q[5], color=band_color),
                Series("25th to 75th percentile", day, q[75], "band", y0=q[25], color=band_color),
                Series(
                    SERIES["score_median"].label, day, q[50], color=SERIES["score_median"].color
                ),
                Series(
                    SERIES["score_mean"].label,
                    day,
                    df["score_mean"],
                    color=SERIES["score_mean"].color,
                    dash=True,
                ),
            ],
            over=f" Each line and band edge is averaged over {len(reps)} replicates."
            if many
            else "",
        )

    def tiers(self) -> Chart:
        """Citizens in each tier (a log scale where tiny tiers sit beside huge ones)."""
        df, day, reps, chart, spread, styled, column = self.parts()
        tiers = names(df, "tier_")
        sizes = df[[f"tier_{t}" for t in tiers]].to_numpy(dtype=float)
        nz = sizes[sizes > 0]
        log = bool(nz.size and nz.max() / nz.min() > 100)  # tiny tiers next to huge ones
        return chart(
            "tiers",
            "day",
            "citizens" + (" (log scale)" if log else ""),
            [s for t in tiers for s in styled("tiers", t, column(f"tier_{t}"))],
            logy=log,
        )

    def sanctions(self) -> Chart:
        """Citizens under each sanction, and under any of their own."""
        df, day, reps, chart, spread, styled, column = self.parts()
        restricted = SERIES["restricted"]
        return chart(
            "sanctions",
            "day",
            "citizens",
            [
                *(
                    s
                    for k in names(df, "sanctioned_")
                    for s in styled("sanctions", k, column(f"sanctioned_{k}"))
                ),
                *spread(restricted.label, column("restricted"), restricted.color, dash=True),
            ],
        )

    def denied(self, published: Published | None) -> Chart:
        """Denied attempts of each privilege, cumulative, beside published figures."""
        df, day, reps, chart, spread, styled, column = self.parts()
        run, styles = self.run, self.styles
        privileges = names(df, "attempts_")
        pub = {k: [tuple(v) for v in vs] for k, vs in run.manifest.get("published", {}).items()}
        pub.update(published or {})
        series = [
            s for p in privileges for s in styled("privileges", p, column(f"denied_{p}_cumulative"))
        ]
        for key, points in pub.items():
            if points:
                x, y = zip(*sorted(points), strict=True)
                st = styles["privileges"].get(key)
                series.append(
                    Series(
                        f"published: {st.label if st else key.replace('_', ' ')}",
                        x,
                        y,
                        "markers",
                        color=st and st.color,
                        reference=True,
                    )
                )
        return chart("denied", "day", "denied attempts", series)

    def wrongful(self) -> Chart:
        """The harm figures the components declare for this chart, by day."""
        df, day, reps, chart, spread, styled, column = self.parts()
        return chart(
            "wrongful",
            "day",
            "citizens",
            [
                s
                for k in drawn_in("wrongful")
                if k in df
                for s in spread(SERIES[k].label, column(k), SERIES[k].color)
            ],
        )

    def burdens(self) -> list[Chart]:
        """The burden of each harm per 1000 in each group, one chart per dimension."""
        df, day, reps, chart, spread, styled, column = self.parts()
        run, many = self.run, self.many
        out = []
        burdens = [burden(r.groups) for r in run.replicates] if many else [burden(run.groups)]
        for dim, label in DIMENSIONS.items():
            ds = [b[b["dimension"] == dim] for b in burdens]
            d = ds[0]
            series = []
            for m in BURDEN_LEVELS + BURDEN_FLOWS:
                if not any(m in x and x[m].sum() > 0 for x in ds):
                    continue
                mean, lo, hi = band([x[f"{m}_per_1000"].to_numpy(dtype=float) for x in ds])
                ratio, _, _ = band([x[f"{m}_ratio"].to_numpy(dtype=float) for x in ds])
                series.append(
                    Series(
                        BURDEN_LABELS[m],
                        [str(g).replace("_", " ") for g in d["group"]],
                        mean,
                        "bar",
                        color=SERIES[m].color,
                        hover=[f"{r:.2f}× average" if np.isfinite(r) else "" for r in ratio],
                        error=(hi - lo) / 2 if many else None,
                    )
                )
            out.append(chart("burden", label, "per 1000 in group", series, label=label, dim=dim))

        return out

    def redress(self) -> Chart:
        """Redress demands, compliance and acceptance, cumulative."""
        df, day, reps, chart, spread, styled, column = self.parts()
        series = [
            s
            for c in drawn_in("redress")
            if c in df
            for s in spread(SERIES[c].label, lambda d, c=c: d[c].cumsum(), SERIES[c].color)
        ]
        return chart("redress", "day", "count (cumulative)", series)

    def organisations(self) -> list[Chart]:
        """Organisations on the lists and their people restricted; enterprises by rating (a
        regime with organisations; none otherwise)."""
        df, day, reps, chart, spread, styled, column = self.parts()
        if "organisations_listed" not in df:
            return []
        series = [
            s
            for c in drawn_in("organisations")
            for s in spread(SERIES[c].label, column(c), SERIES[c].color)
        ]
        series += [
            s
            for x in names(df, "organisations_on_")
            for s in spread(f"on {x.replace('_', ' ')}", column(f"organisations_on_{x}"), None)
        ]
        ratings = [
            s
            for r in names(df, "organisations_rated_")
            for s in spread(f"rated {r}", column(f"organisations_rated_{r}"), None)
        ]
        return [
            chart("organisations", "day", "organisations / citizens", series),
            chart("ratings", "day", "enterprises", ratings),
        ]

    def adaptation(self) -> Chart:
        """Each behaviour's acts over its acts without adaptation (7-day window)."""
        df, day, reps, chart, spread, styled, column = self.parts()
        acts = [
            x
            for x in names(df, "baseline_acts_")
            if any(d[f"baseline_acts_{x}"].sum() > 0 for d in reps)
        ]
        adapted = any((d[f"acts_{x}"] != d[f"baseline_acts_{x}"]).any() for x in acts for d in reps)
        series = [
            s
            for x in acts
            for s in styled(
                "behaviours",
                x,
                lambda d, x=x: rolling_ratio(d[f"acts_{x}"], d[f"baseline_acts_{x}"]),
            )
        ]
        return chart(
            "adaptation",
            "day",
            "acts / baseline",
            series,
            empty_note=None if adapted else TEXT["adaptation"][2],
        )

    def ties(self) -> Chart:
        """Ties beyond the household: who saw a listing (cumulative), who was chilled, who was
        penalised by association."""
        _, _, _, chart, spread, _, column = self.parts()
        lines = [
            ("saw a listing (cumulative)", lambda d: d["reach_ties"].cumsum()),
            ("chilled through ties", column("adapted_ties")),
            ("ever penalised by association", column("associated_ever_ties")),
        ]
        return chart("ties", "day", "citizens", [s for n, of in lines for s in spread(n, of, None)])

    def dashboard(self, out: list[Chart], dimension: str) -> list[Chart]:
        """The dashboard's charts: restricted in one chart, tiers other than the start, chilling."""
        df, day, reps, chart, spread, styled, column = self.parts()
        # the dashboard's views: restricted in one chart, tiers other than the start, chilling
        own = {c.id: c for c in out}
        tiers = names(df, "tier_")
        regime, styles = self.regime, self.styles
        restricted_chart = chart(
            "restricted",
            "day",
            "citizens",
            [
                s
                for k in drawn_in("restricted")
                for s in spread(SERIES[k].label, column(k), SERIES[k].color, dash=k == "wrongful")
            ],
        )
        start = _starting_tier_name(regime, tiers, df)
        moved = [t for t in tiers if t != start]
        sentence = ""
        if start is not None:
            st = styles["tiers"].get(start)
            sentence = (
                f" Everyone starts in “{st.label if st else start}” "
                f"({fmt(round(float(df[f'tier_{start}'].iloc[-1]), 1))} citizens there on the last "
                "day, not drawn); the lines count the citizens in every other tier."
            )
        moved_chart = chart(
            "moved",
            "day",
            "citizens",
            [s for t in moved for s in styled("tiers", t, column(f"tier_{t}"))],
            label=sentence,
        )
        moved_chart.id = "chart-tiers"
        speech = [
            b for b in speech_behaviours(regime) if all(f"baseline_acts_{b}" in d for d in reps)
        ]

        def posts_ratio(d: pd.DataFrame) -> np.ndarray:
            base = d[[f"baseline_acts_{b}" for b in speech]].sum(axis=1).to_numpy()
            acts = d[[f"acts_{b}" for b in speech]].sum(axis=1).to_numpy()
            return rolling_ratio(acts, base)

        has_posts = bool(speech) and all(
            d[[f"baseline_acts_{b}" for b in speech]].to_numpy().sum() > 0 for d in reps
        )
        ratio, none = SERIES["posts_vs_baseline"], SERIES["no_effect"]
        posts_chart = chart(
            "posts",
            "day",
            "posts / normal",
            [
                *(spread(ratio.label, posts_ratio, ratio.color) if has_posts else []),
                Series(
                    none.label,
                    [day[0], day[-1]],
                    [1, 1],
                    color=none.color,
                    dash=True,
                    reference=True,
                ),
            ],
            empty_note=None if has_posts else TEXT["posts"][2],
        )
        picked = {
            "restricted": restricted_chart,
            "score": own["chart-score"],
            "burden": own[f"chart-burden-{dimension}"],
            "moved": moved_chart,
            "denied": own["chart-denied"],
            "posts": posts_chart,
        }
        if "chart-ties" in own:  # a regime with ties: their chart after the six
            picked["ties"] = own["chart-ties"]
        extra = [own[k] for k in ("chart-organisations",) if k in own]  # with organisations
        return [picked[k] for k in (*DASHBOARD, "ties") if k in picked] + extra
