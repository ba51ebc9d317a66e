"""Lifetime figures of a run with the life course: the share of each birth cohort ever
restricted, and restricted through family, by 18 and by 30 (computed by
``credsim.engine.components.life.cohorts`` from the final state of the citizens)."""

from __future__ import annotations

import html
from typing import Any

import numpy as np

from credsim.engine.components.life import COHORT_AGES


def lifetime(run) -> list[dict[str, Any]]:
    """One row per birth cohort born during the run (empty without the life course)."""
    import pandas as pd

    from credsim.engine.components.life import cohorts

    try:
        cit = run.query("SELECT born_day, first_listed_day, first_family_day FROM citizens")
    except Exception:  # a run without the life course has no such columns
        return []
    import tomllib

    path = run.path / "regime.toml"
    regime = tomllib.loads(path.read_text("utf-8")) if path.exists() else {}
    start = (regime.get("regime") or {}).get("start_date")
    df = cohorts(cit, start=start, days=run.manifest.get("days"))
    if df.empty:
        return []
    return [
        {k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in r.items()}
        for r in df.astype(object).where(pd.notna(df), None).to_dict("records")
    ]


def _share(row: dict[str, Any], key: str) -> str:
    v = row.get(key)
    if v is None:
        return "not yet reached"
    return f"{100 * v:.1f}% ({100 * row[key + '_low']:.1f}-{100 * row[key + '_high']:.1f}%)"


def lifetime_section(run, sampled: bool = False) -> str:
    """The report's HTML section (empty without the life course)."""
    from credsim.report.charts import table as html_table

    rows = lifetime(run)
    if not rows:
        return ""
    header = ["born in", "citizens born (run)"]
    for a in COHORT_AGES:
        header += [f"ever restricted by {a}", f"restricted through family by {a}"]
    body = html_table(
        header,
        [
            [r["cohort"], r["born"]]
            + [
                _share(r, f"{what}_by_{a}")
                for a in COHORT_AGES
                for what in ("restricted", "through_family")
            ]
            for r in rows
        ],
        "lifetime",
    )
    about = (
        "Of the citizens born in each calendar year of the run: the share restricted (by a "
        "listing of their own or through family) at any time before their 18th and 30th "
        "birthdays, and the share restricted through family (a household member's listing). "
        "A cohort is counted at an age only once every member born in it has reached that "
        "age within the run; before that the cell says so. In brackets: the 95% Wilson "
        "interval of the share (the cohort is a sample of what the regime does)."
    )
    if sampled:
        about += " The citizens table keeps a sample of citizens: shares are of that sample."
    return (
        f'<section id="lifetime"><h2>Lifetime figures</h2><p class="about">'
        f"{html.escape(about)}</p>{body}</section>"
    )
