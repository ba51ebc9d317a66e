"""Runs side by side: a headline table (one column per run) and overlaid charts.

Runs with the same seed, population, days and shard plan draw the same synthetic citizens and
the same random numbers, so their differences come from the regimes alone ("paired", common
random numbers); otherwise the comparison is "unpaired" and includes sampling noise.
"""

from __future__ import annotations

import html
import io
from pathlib import Path

import pandas as pd

from credsim.files import write_atomic
from credsim.labels import caption_of_runs, figure
from credsim.report import labels as labels_of
from credsim.report import metrics_of, names, open_run, regime_of, speech_behaviours
from credsim.report.charts import (
    PALETTE,
    Chart,
    Series,
    fmt,
    output_path,
    page,
    rolling_ratio,
    section,
    table,
)
from credsim.run import Run

__all__ = ["both_restricted", "compare", "compare_text", "pairing"]

PAIRED = "paired (common random numbers: same acts where behaviour did not adapt)"
PAIR_KEYS = ("seed", "seeds", "population", "days", "shard_size")  # seeds: of replicates


def run_names(runs: list[Run]) -> list[str]:
    """Column names: each run's folder name, with " (2)", " (3)"... for repeats."""
    out: list[str] = []
    for r in runs:
        name, k = r.path.name, 2
        while name in out:
            name, k = f"{r.path.name} ({k})", k + 1
        out.append(name)
    return out


def pairing(runs: list[Run]) -> tuple[bool, str]:
    """Whether the runs share seed, population, days and shard plan, and a sentence saying so."""
    if len(runs) < 2:
        return False, "single run (nothing to pair)"
    differ = [k for k in PAIR_KEYS if len({str(r.manifest.get(k)) for r in runs}) > 1]
    if not differ:
        return True, PAIRED
    return False, "unpaired (" + ", ".join(f"{k} differs" for k in differ) + ")"


def headline_table(runs: list[Run]) -> pd.DataFrame:
    """Rows = headline figures (in first-seen order), columns = run names."""
    names_ = run_names(runs)
    cols = {n: pd.Series(r.summary, dtype=float) for n, r in zip(names_, runs, strict=True)}
    longest_first = sorted(runs, key=lambda r: -len(r.summary))
    keys = list(dict.fromkeys(k for r in longest_first for k in r.summary))
    return pd.DataFrame(cols).reindex(keys)


def differences(df: pd.DataFrame) -> pd.DataFrame:
    """Each run after the first minus the first, as columns "Δ <name>"."""
    first = df.columns[0]
    return pd.DataFrame({f"Δ {c}": df[c] - df[first] for c in df.columns[1:]}, index=df.index)


def both_restricted(runs: list[Run], names: list[str]) -> Chart:
    """One chart of two or more runs: restricted citizens (solid) and the wrongfully
    restricted among them (dotted), a colour per run (the dashboard's comparison)."""
    frames = [metrics_of(r) for r in runs]
    series = []
    for dashed, col, label in (
        (False, "restricted", "restricted"),
        (True, "wrongful", "wrongfully restricted"),
    ):
        for i, (n, df) in enumerate(zip(names, frames, strict=True)):
            if col in df:
                series.append(
                    Series(f"{n}: {label}", df["day"], df[col], color=PALETTE[i], dash=dashed)
                )
    return Chart(
        "chart-compare",
        "Restricted citizens in both runs",
        "Solid lines: everyone restricted by a sanction of their own. Dashed lines: the "
        "wrongfully restricted among them."
        + (
            " Runs with replicates are drawn as their means."
            if any(r.replicated for r in runs)
            else ""
        ),
        "day",
        "citizens",
        series,
        zero_note="Nobody was restricted in either run.",
        caption=caption_of_runs([(n, r.manifest) for n, r in zip(names, runs, strict=True)]),
    )


def compare_charts(runs: list[Run]) -> list[Chart]:
    """Overlaid charts: restricted, wrongful, denied (cumulative), mean score, posts vs baseline."""
    frames = [metrics_of(r) for r in runs]
    labels = run_names(runs)
    color = {n: PALETTE[i % len(PALETTE)] for i, n in enumerate(labels)}

    def lines(col: str) -> list[Series]:
        return [
            Series(n, df["day"], df[col], color=color[n])
            for n, df in zip(labels, frames, strict=True)
            if col in df
        ]

    line = caption_of_runs([(n, r.manifest) for n, r in zip(labels, runs, strict=True)])
    privileges = list(dict.fromkeys(p for df in frames for p in names(df, "attempts_")))
    plabel: dict[str, str] = {}
    for r in reversed(runs):
        plabel.update(labels_of(regime_of(r)[1], "privileges"))
    denied = [
        Series(f"{n}: {plabel.get(p, p)}", df["day"], df[f"denied_{p}_cumulative"], dash=j > 0)
        for j, p in enumerate(privileges)
        for n, df in zip(labels, frames, strict=True)
        if f"denied_{p}_cumulative" in df
    ]
    if len(privileges) == 1:
        for s, n in zip(denied, labels, strict=False):
            s.color = color[n]
    posts: list[Series] = []
    for n, r, df in zip(labels, runs, frames, strict=True):
        speech = [b for b in speech_behaviours(regime_of(r)[1]) if f"acts_{b}" in df]
        if speech and df[[f"baseline_acts_{b}" for b in speech]].to_numpy().sum() > 0:
            acts = df[[f"acts_{b}" for b in speech]].sum(axis=1)
            base = df[[f"baseline_acts_{b}" for b in speech]].sum(axis=1)
            posts.append(Series(n, df["day"], rolling_ratio(acts, base), color=color[n]))
    return [
        Chart(
            "chart-restricted",
            "Restricted citizens over time",
            "Citizens under at least one sanction of their own, each day, in each run.",
            "day",
            "citizens",
            lines("restricted"),
            zero_note="No citizen was restricted in any run.",
            caption=line,
        ),
        Chart(
            "chart-wrongful",
            "Wrongfully restricted citizens over time",
            "Restricted citizens whose listing rests on records put on them by mistake.",
            "day",
            "citizens",
            lines("wrongful"),
            zero_note="No wrongful restriction in any run: zero on every day.",
            caption=line,
        ),
        Chart(
            "chart-denied",
            "Denied attempts by privilege (cumulative)",
            "Refused attempts to use each privilege, added up from day 0, per run; the first "
            "privilege is drawn solid, the others dashed.",
            "day",
            "denied attempts",
            denied,
            zero_note="No attempt to use a privilege was refused in any run.",
            caption=line,
        ),
        Chart(
            "chart-score",
            "Mean score over time",
            "The average score of all citizens each day.",
            "day",
            "score",
            lines("score_mean"),
            caption=line,
        ),
        Chart(
            "chart-posts",
            "Posts relative to baseline",
            "Critical posts written over those that would have been written without "
            "adaptation, in a trailing 7-day window (1 = no chilling).",
            "day",
            "posts / baseline",
            posts,
            empty_note=None if posts else "No run has posting (speech) behaviours.",
            caption=line,
        ),
    ]


def compare(
    runs: list[Run | str | Path], out: Path | None = None
) -> tuple[pd.DataFrame, Path | None]:
    """Headline figures of several runs side by side, and ``compare.html`` if ``out`` is given.

    Returns the table (rows = headline figures, columns = run folder names; ``df.attrs`` holds
    ``paired`` and ``pairing``) and the path of the HTML page (``None`` when ``out`` is None).
    ``out`` is a folder (the page is ``out/compare.html``) or an .html file.
    """
    opened = [open_run(r) for r in runs]
    if not opened:
        raise ValueError("compare needs at least one run")
    df = headline_table(opened)
    paired, sentence = pairing(opened)
    df.attrs.update(paired=paired, pairing=sentence)
    if out is None:
        return df, None
    labels = run_names(opened)
    params = [
        [
            n,
            r.manifest.get("regime", ""),
            *(r.manifest.get(k) for k in PAIR_KEYS),
            r.manifest.get("status", ""),
        ]
        for n, r in zip(labels, opened, strict=True)
    ]
    full = pd.concat([df, differences(df)], axis=1)
    figures = [figure(k) for k in full.index]
    rows = [[f.label, *full.loc[f.key].tolist(), f.window_label, f.explain] for f in figures]
    parts = [
        f"<h1>credsim comparison: {html.escape(', '.join(labels))}</h1>",
        f'<p class="pairing"><strong>{html.escape(sentence)}</strong></p>',
        table(["run", "regime", *PAIR_KEYS, "status"], params, "runs"),
        "<section><h2>Headline</h2>"
        + table(["figure", *full.columns, "days covered", "what it means"], rows, "headline")
        + "</section>",
        *(section(c) for c in compare_charts(opened)),
    ]
    path = output_path(Path.cwd(), out, "compare.html")
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, page("credsim comparison", "\n".join(parts)))
    return df, path


def compare_text(df: pd.DataFrame) -> str:
    """The comparison table for a terminal: figures, one column per run, differences."""
    from rich.console import Console
    from rich.table import Table

    full = pd.concat([df, differences(df)], axis=1) if df.shape[1] > 1 else df
    t = Table()
    t.add_column("figure")
    for c in full.columns:
        t.add_column(str(c), justify="right")
    for k, row in full.iterrows():
        t.add_row(str(k), *(fmt(v) for v in row.tolist()))
    buf = io.StringIO()
    Console(file=buf, width=10_000, color_system=None).print(t)
    lines = [df.attrs.get("pairing", ""), *buf.getvalue().splitlines()]
    return "\n".join(line.rstrip() for line in lines if line) + "\n"
