"""Reports on finished runs: one self-contained HTML page per run, optional PNGs, comparisons.

Reports read run folders only (manifest.json, regime.toml, metrics.parquet,
metrics_groups.parquet), never the engine, so a report can be made from a copied folder.
``write_report(run)`` writes ``report.html``; ``credsim.report.compare`` sets runs side by side.
Colours, legend names, captions and the days each headline figure covers come from
``credsim.labels``, shared with the dashboard.
"""

from __future__ import annotations

import html
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from credsim.files import write_atomic
from credsim.labels import (
    RECENT_DAYS,
    RECENT_SUFFIX,
    SERIES,
    figure,
)
from credsim.labels import label as component_label
from credsim.metrics import GROUP_LEVELS, ORGANISATION_GROUP_LEVELS
from credsim.report.causes import causes_section
from credsim.report.charts import (
    Chart,
    fmt,
    output_path,
    page,
    section,
    write_pngs,
)
from credsim.report.charts import table as html_table
from credsim.report.lifetime import lifetime_section
from credsim.report.rollout import rollout_section
from credsim.run import Run

if TYPE_CHECKING:  # pandas is imported by the functions that use it: a run's summary does not
    import pandas as pd

__all__ = ["burden", "charts", "explain", "headline", "open_run", "write_report"]

DIMENSIONS = {
    "sex": "sex",
    "age_band": "age band",
    "region": "region (urban / rural)",
    "province": "province",
    "group": "population group",
}
# levels at the last day (ever_wrongful and escaped count the whole run up to it)
# restricted through an organisation: only a regime with organisations has it
BURDEN_LEVELS = GROUP_LEVELS + ORGANISATION_GROUP_LEVELS
BURDEN_FLOWS = ("denied", "wrongly_denied", "misattributed")  # summed over the run
BURDEN_LABELS = {
    "restricted": SERIES["restricted"].label,
    "spillover_only": SERIES["spillover_only"].label,
    "wrongful": SERIES["wrongful"].label,
    "wrongful_spillover": SERIES["wrongful_spillover"].label,
    "restricted_via_organisation": SERIES["restricted_via_organisation"].label,
    "ever_wrongful": SERIES["ever_wrongful"].label + " (whole run)",
    "escaped": SERIES["escaped"].label + " (whole run)",
    "denied": SERIES["denied"].label + " (whole run)",
    "wrongly_denied": SERIES["wrongly_denied"].label + " (whole run)",
    "misattributed": SERIES["misattributed"].label + " (whole run)",
}
Published = dict[str, list[tuple[int, float]]]


def explain(key: str) -> str:
    """One plain sentence saying what a headline figure means (see ``credsim.labels``)."""
    return figure(key).explain


def open_run(run_or_path: Run | str | Path) -> Run:
    """A ``Run`` for a run folder (or the run itself)."""
    return run_or_path if isinstance(run_or_path, Run) else Run(run_or_path)


def regime_of(run: Run) -> tuple[str, dict[str, Any]]:
    """The resolved regime of a run folder: its TOML text and the parsed table."""
    path = run.path / "regime.toml"
    text = path.read_text("utf-8") if path.exists() else ""
    return text, (tomllib.loads(text) if text else {})


def metrics_of(run: Run) -> pd.DataFrame:
    """The per-day metrics, or a clear error for a run that never wrote them."""
    if not (run.path / "metrics.parquet").exists():
        raise FileNotFoundError(
            f"{run.path}: no metrics.parquet (run status: "
            f"{run.manifest.get('status', 'unknown')}); nothing to report"
        )
    return run.metrics


def names(df: pd.DataFrame, prefix: str) -> list[str]:
    """Component names from column names: ``names(df, "tier_")`` -> tiers, in regime order."""
    return [c[len(prefix) :] for c in df.columns if c.startswith(prefix)]


def labels(regime: dict[str, Any], kind: str) -> dict[str, str]:
    """name -> label of the components of one kind in a parsed regime ("private school")."""
    return {x["name"]: component_label(x) for x in regime.get(kind, [])}


def recent_ratio(df: pd.DataFrame, behaviours: list[str], days: int = RECENT_DAYS) -> float | None:
    """Acts over baseline acts of some behaviours in the last ``days`` days (None: no baseline)."""
    cols = [b for b in behaviours if f"acts_{b}" in df and f"baseline_acts_{b}" in df]
    if not cols:
        return None
    base = sum(float(np.asarray(df[f"baseline_acts_{b}"])[-days:].sum()) for b in cols)
    if base <= 0:
        return None
    return round(sum(float(np.asarray(df[f"acts_{b}"])[-days:].sum()) for b in cols) / base, 4)


def headline(run: Run | str | Path) -> list[dict[str, Any]]:
    """The headline figures of a run, each with its label, value, window and meaning.

    The figures of ``manifest.json`` (last day or whole run), and right after each whole-run
    ratio of acts to baseline (``posts_vs_baseline``...) the same ratio over the last 30 days.
    Each carries ``replicates`` and, for a replicated run, ``ci_low`` and ``ci_high``: the 95%
    t interval over replicates of the mean ``value`` (None for a single run).
    """
    from credsim.replicates import INTERVAL, mean_interval

    run = open_run(run)
    _, regime = regime_of(run)
    reps = run.replicates
    recent: dict[str, dict[str, Any]] = {}
    if all((r.path / "metrics.parquet").exists() for r in reps):
        acts = [
            f"{prefix}{b['name']}"
            for b in regime.get("behaviours", [])
            for prefix in ("acts_", "baseline_acts_")
        ]
        frames = [r.metric_columns(acts) for r in reps]
        for kind, key in (
            ("speech", "posts_vs_baseline"),
            ("infraction", "infractions_vs_baseline"),
        ):
            names_ = [b["name"] for b in regime.get("behaviours", []) if b.get("kind") == kind]
            values = [recent_ratio(df, names_) for df in frames]
            if all(v is not None for v in values):
                recent[key] = mean_interval(values)
    intervals = run.intervals

    def entry(key: str, value: Any, spread: dict[str, Any] | None) -> dict[str, Any]:
        spread = spread or {}
        out = {**figure(key, regime).public(), "value": value, "replicates": len(reps)}
        out["ci_low"], out["ci_high"] = spread.get("ci_low"), spread.get("ci_high")
        out["interval"] = INTERVAL if out["ci_low"] is not None else ""
        return out

    out = []
    for key, value in run.summary.items():
        out.append(entry(key, value, intervals.get(key)))
        if key in recent:
            r = recent[key]
            value = r["mean"] if len(reps) > 1 else round(r["mean"], 4)
            out.append(entry(key + RECENT_SUFFIX, value, r))
    return out


def _decimals(half: float) -> int:
    """Decimals that show an interval's half-width to two significant digits (0 to 4)."""
    if not half or not np.isfinite(half):
        return 4
    return int(min(4, max(0, 1 - np.floor(np.log10(abs(half))))))


def value_text(f: dict[str, Any]) -> str:
    """A headline figure's value for people, to the precision its interval supports."""

    v = f["value"]
    if f.get("ci_low") is None or not isinstance(v, float) or f["ci_high"] == f["ci_low"]:
        return fmt(round(v, 4) if isinstance(v, float) else v)
    d = _decimals((f["ci_high"] - f["ci_low"]) / 2)
    return f"{v:,.{d}f}"


def interval_text(f: dict[str, Any]) -> str:
    """A headline figure's interval as "low to high", to two significant digits of its
    half-width (blank without one)."""

    lo, hi = f.get("ci_low"), f.get("ci_high")
    if lo is None:
        return ""
    if lo == hi:  # every replicate agrees
        return f"{fmt(round(lo, 4))} to {fmt(round(hi, 4))}"
    d = _decimals((hi - lo) / 2)
    return f"{lo:,.{d}f} to {hi:,.{d}f}"


def speech_behaviours(regime: dict[str, Any]) -> list[str]:
    """Behaviours of kind "speech" (posts)."""
    return [b["name"] for b in regime.get("behaviours", []) if b.get("kind") == "speech"]


def burden(groups: pd.DataFrame) -> pd.DataFrame:
    """Per dimension and group: counts, rate per 1000 in the group, and ratio to the average.

    Restricted, spillover-only, wrongful and wrongful spillover are counted on the last day;
    ever wrongful and escaped since day 0; denied and wrongly denied attempts and
    misattributed records over the whole run. The ratio is the group's rate over the rate of
    the whole population (1 = average burden). Restricted through an organisation, on the
    last day, only where the regime has organisations.
    """
    levels = [m for m in BURDEN_LEVELS if m not in ORGANISATION_GROUP_LEVELS or m in groups]
    missing = [m for m in levels + list(BURDEN_FLOWS) if m not in groups]
    if missing:  # a folder written before these figures: unknown, not zero
        groups = groups.assign(**dict.fromkeys(missing, np.nan))
    last = groups[groups["day"] == groups["day"].max()]
    keys = ["dimension", "group"]
    out = last[keys + ["population", *levels]].set_index(keys)
    flows = groups.groupby(keys, sort=False)[list(BURDEN_FLOWS)].sum()
    out = out.join(flows).reset_index()
    pop = out["population"].to_numpy(dtype=float)
    for m in levels + list(BURDEN_FLOWS):
        rate = 1000 * out[m].to_numpy(dtype=float) / np.maximum(pop, 1)
        total = out.groupby("dimension", sort=False)[m].transform("sum").to_numpy(dtype=float)
        tpop = out.groupby("dimension", sort=False)["population"].transform("sum")
        avg = 1000 * total / np.maximum(tpop.to_numpy(dtype=float), 1)
        out[f"{m}_per_1000"] = rate
        with np.errstate(invalid="ignore", divide="ignore"):
            out[f"{m}_ratio"] = np.where(avg > 0, rate / np.where(avg > 0, avg, 1), np.nan)
    return out


# chart id -> (title, the sentence under it, the note shown instead when all its data are zero)
TEXT = {
    "score": (
        "Score distribution over time",
        "Shaded bands hold the middle 90% (5th to 95th percentile) and the middle 50% of "
        "citizens' scores each day; the lines are the median and the mean.",
        "Every citizen's score is 0 on every day of the run.",
    ),
    "tiers": (
        "Tier sizes over time",
        "How many citizens each score tier holds each day.",
        "No tier holds any citizen.",
    ),
    "sanctions": (
        "Active sanctions by type",
        "Citizens on each sanction list each day; the dashed line counts citizens under any "
        "sanction of their own.",
        "No citizen was under any sanction during the run.",
    ),
    "denied": (
        "Denied attempts by privilege (cumulative)",
        "Refused attempts by restricted citizens (and their families) to use each privilege, "
        "added up from day 0; diamonds, if any, are published figures.",
        "No attempt to use a privilege was refused during the run.",
    ),
    "wrongful": (
        "Wrongful and spillover restrictions over time",
        "Wrongfully restricted: citizens every one of whose listings rests on records put on "
        "them by mistake, each day. Ever wrongfully listed: citizens under a wrongful listing "
        "at least once since day 0. Through a relative's wrongful listing: citizens restricted "
        "only because a relative's wrongful listing spills over to them, each day. Escaped: "
        "citizens never listed whose own records, put on lookalikes, would have listed them, "
        "since day 0. Spillover only: citizens restricted only through family, each day.",
        "No wrongful or spillover restriction occurred: every count is zero on every day.",
    ),
    "burden": (
        "Burden by {label} at the last day",
        "Per 1000 citizens of each {label}: restricted, spillover-only, wrongfully restricted "
        "and restricted through a relative's wrongful listing on the last day; ever wrongfully "
        "listed, escaped, denied and wrongly denied attempts and misattributed records over "
        "the whole run; hover for the ratio to the population average (1 = average).",
        "No burden to compare across {label}s: every count is zero.",
    ),
    "redress": (
        "Redress over time (cumulative)",
        "Demands made of sanctioned citizens (apologise, delete posts, repay), how many complied, "
        "and how many compliances were accepted, added up from day 0.",
        "No redress was demanded during the run.",
    ),
    "organisations": (
        "Organisations on the corporate lists, and their people restricted",
        "Organisations on at least one corporate list, and on each list, at the end of each "
        "day (organisations); citizens restricted because an organisation they represent or "
        "manage is listed (joint punishment), at the end of each day (citizens).",
        "No organisation was listed during the run.",
    ),
    "ratings": (
        "Enterprises by credit rating",
        "Enterprises in each credit rating (A best, D worst) at the end of each day; records "
        "of tax arrears and violations deduct rating points.",
        "No enterprise was rated.",
    ),
    "adaptation": (
        "Adaptation: acts relative to baseline",
        "For each behaviour, acts over those citizens would have committed had no one adapted, "
        "in a trailing 7-day window (1 = unchanged; below 1 = deterred or chilled).",
        "Citizens did not adapt: every behaviour's acts equal its baseline on every day.",
    ),
    "ties": (
        "Ties beyond the household",
        "Friends, colleagues and neighbours who saw a listing, added up from day 0 (one count "
        "per listing seen); citizens who changed behaviour after seeing a tie listed, with "
        "nobody of their household listed, each day; and citizens whose score the associates "
        "rule has moved at least once, since day 0.",
        "Nobody saw a tie listed during the run.",
    ),
    # the dashboard's own views of the same figures
    "restricted": (
        "Who is restricted, day by day",
        "Citizens under a sanction of their own; relatives restricted only because a family "
        "member is listed; and citizens whose listing rests on a record that was put on them "
        "by mistake (wrongfully restricted).",
        "Nobody was restricted on any day of this run.",
    ),
    "moved": (
        "Citizens who left the starting tier",
        "The score puts every citizen in a tier (a grade); sanctions and rewards follow the "
        "tiers.{label}",
        "Nobody left the starting tier.",
    ),
    "posts": (
        "Chilling: critical posts compared with normal",
        "Critical posts written, divided by how many would have been written if nobody had "
        "changed their behaviour (1 = no effect; 0.8 = one in five fewer), over a trailing "
        "7-day window. The figure for the whole run is among the headline figures.",
        "This regime has no critical posts to compare.",
    ),
}

DASHBOARD = ("restricted", "score", "burden", "moved", "denied", "posts")


def charts(
    run: Run | str | Path,
    published: Published | None = None,
    dashboard: bool = False,
    dimension: str = "group",
) -> list[Chart]:
    """Every chart of a run's report, in page order (ids ``chart-score``, ``chart-tiers``...).

    Colours and legend names come from ``credsim.labels``; every chart carries the run's
    caption (synthetic citizens, regime, population, days, seeds, replicates, credsim
    version). With ``dashboard``, the dashboard's charts instead (``DASHBOARD``: restricted,
    score, burden by ``dimension``, tiers other than the starting one, denied, posts), drawn
    by the page from these specifications.
    """
    from credsim.report.run_charts import RunCharts

    c = RunCharts(open_run(run))
    out = [c.score(), c.tiers(), c.sanctions(), c.denied(published), c.wrongful()]
    out += [*c.burdens(), c.redress(), *c.organisations(), c.adaptation()]
    if "reach_ties" in c.df:  # a regime with ties (credsim.engine.components.ties)
        out.append(c.ties())
    if not dashboard:
        return out
    return c.dashboard(out, dimension)


def _starting_tier_name(regime: dict[str, Any], tiers: list[str], df: pd.DataFrame) -> str | None:
    """The tier citizens start in (by the regime's initial score, else the largest on day 0)."""
    from credsim.labels import style_table

    start = style_table(regime).get("start_tier") if regime.get("tiers") else None
    if start in tiers:
        return start
    if not tiers:
        return None
    return max(tiers, key=lambda t: float(df[f"tier_{t}"].iloc[0]))


def _burden_tables(b: pd.DataFrame) -> dict[str, str]:
    out = {}
    for dim in DIMENSIONS:
        d = b[b["dimension"] == dim]
        metrics = [m for m in BURDEN_LEVELS + BURDEN_FLOWS if m in d and d[m].sum() > 0]
        if not metrics:
            continue
        header = ["group", "population"] + [
            h for m in metrics for h in (BURDEN_LABELS[m], "per 1000", "× average")
        ]
        rows = [
            [r["group"], int(r["population"])]
            + [
                v
                for m in metrics
                for v in (
                    round(float(r[m]), 2),
                    round(r[f"{m}_per_1000"], 3),
                    round(r[f"{m}_ratio"], 3),
                )
            ]
            for _, r in d.iterrows()
        ]
        out[f"chart-burden-{dim}"] = (
            f"<details><summary>Table</summary>{html_table(header, rows)}</details>"
        )
    return out


def write_report(
    run_or_path: Run | str | Path,
    out: Path | None = None,
    png_dir: Path | None = None,
    published: Published | None = None,
) -> Path:
    """Write ``report.html`` (self-contained, works offline) for a run; return its path.

    ``out`` is a folder or an .html file (default: the run folder). ``png_dir``, if given,
    also receives each non-empty chart as a PNG (score.png, tiers.png, ...). ``published``
    maps a privilege to (day, value) points drawn over the denied-attempts chart, in the
    run's own scale; a manifest entry ``"published"`` of the same shape is used too.
    """
    run = open_run(run_or_path)
    m = run.manifest
    text, regime = regime_of(run)
    figs = charts(run, published)
    extra = _burden_tables(burden(run.groups))
    meta = regime.get("regime", {})
    name = run.path.name
    info = [
        ("regime", m.get("regime", "")),
        ("description", meta.get("description", "")),
        ("seed", m.get("seed") if not run.replicated else None),
        ("replicates", len(run.seeds)),
        ("seeds", ", ".join(str(x) for x in run.seeds) if run.replicated else None),
        ("population", m.get("population")),
        ("days", m.get("days")),
        ("status", m.get("status")),
        ("shards", m.get("shards")),
        ("ledger", m.get("ledger")),
        ("started", m.get("started", "")),
        ("finished", m.get("finished", "")),
        ("wall seconds", m.get("wall_seconds")),
        ("credsim", m.get("credsim", "")),
    ]
    parts = [
        f"<h1>credsim run: {html.escape(name)}</h1>",
        '<p class="about">All citizens are synthetic. Figures count what the simulated '
        "regime does to them; they are not measurements of real people.</p>",
    ]
    if m.get("status") != "complete":
        parts.append(
            f'<p class="warn">This run is {html.escape(str(m.get("status")))}: '
            "figures cover only the days it completed.</p>"
        )
    parts.append(html_table(["", ""], [(k, v) for k, v in info if v not in (None, "")], "info"))
    nav = " ".join(f'<a href="#{c.id}">{html.escape(c.title)}</a>' for c in figs)
    parts.append(
        f'<nav>{nav} <a href="#causes">Causes</a> <a href="#rollout">Rollout</a> '
        '<a href="#regime">Regime</a></nav>'
    )
    found = headline(run)
    if run.replicated:
        k = len(run.seeds)
        header = ["figure", f"mean of {k} replicates", "95% interval", "days covered", "meaning"]
        rows = [
            (f["label"], value_text(f), interval_text(f), f["window_label"], f["explain"])
            for f in found
        ]
        intro = (
            f"This run holds {k} replicates (seeds {html.escape(', '.join(map(str, run.seeds)))}"
            "): each figure is their mean, with its 95% interval (Student's t over the "
            "replicates). "
        )
    else:
        header = ["figure", "value", "days covered", "what it means"]
        rows = [(f["label"], f["value"], f["window_label"], f["explain"]) for f in found]
        intro = "One replicate (one seed): no interval. "
    parts.append(
        f'<section id="headline"><h2>Headline figures</h2><p class="about">{intro}Each figure '
        "says which days it covers: the last day, the whole run, or the last "
        f"{RECENT_DAYS} days.</p>" + html_table(header, rows, "headline") + "</section>"
    )
    for c in figs:
        parts.append(section(c) + extra.get(c.id, ""))
    parts.append(causes_section(run, sampled=str(m.get("ledger", "full")) != "full"))
    parts.append(lifetime_section(run, sampled=float(m.get("citizens_fraction", 1.0)) < 1.0))
    parts.append(rollout_section(regime))
    parts.append(
        f'<section><h2>Resolved regime</h2><p class="about">The regime exactly as this '
        f"run used it (regime.toml, hash {html.escape(str(m.get('regime_hash', '')))})."
        f'</p><pre id="regime">{html.escape(text, quote=False)}</pre></section>'
    )
    path = output_path(run.path, out, "report.html")
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, page(f"credsim report: {name}", "\n".join(parts)))
    if png_dir is not None:
        write_pngs(figs, Path(png_dir))
    return path
