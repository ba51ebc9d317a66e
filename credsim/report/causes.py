"""Causes at a glance: which rules and behaviours started the listings, and what share of the
citizens restricted on the last day each explains.

One row per sanction and rule, from the ledger (the ``causes`` view of ``credsim query``):
``listings`` started over the whole run by a record of that rule (they add up to the ledger's
``sanction_start`` rows), ``share_of_listings`` within the sanction, ``share_of_points_lost``
(points the rule took from the listed citizens up to their listing, within the sanction),
``listings_alone`` (listings of citizens who lost points on records of that behaviour alone),
``restricted_now`` (citizens whose listing under the sanction, open on the last day, was
started by that rule) and ``share_of_restricted`` (of all citizens restricted on the last day;
a citizen under two sanctions counts under each). Where the ledger keeps a sample of
citizens, so do these counts (the report says so).
"""

from __future__ import annotations

import html
from typing import Any

OPEN_SQL = """
WITH last AS (
    SELECT citizen, sanction, max(id) AS id FROM ledger
    WHERE kind IN ('sanction_start', 'sanction_end') GROUP BY ALL
),
open AS (
    SELECT l.citizen, l.sanction, r.rule
    FROM last JOIN ledger l ON l.id = last.id AND l.kind = 'sanction_start'
    LEFT JOIN ledger r ON r.id = l.cause AND r.kind = 'record'
)
SELECT o.sanction, o.rule, count(*) AS restricted_now,
       (SELECT count(DISTINCT citizen) FROM open) AS restricted
FROM open o GROUP BY ALL
"""


def causes(run) -> list[dict[str, Any]]:
    """Rows of the causes table of a run (see the module's docstring)."""
    table = run.query("SELECT * FROM causes")
    now = run.query(OPEN_SQL)
    total = int(now["restricted"].iloc[0]) if len(now) else 0
    key = {(r.sanction, r.rule): int(r.restricted_now) for r in now.itertuples()}
    rows = []
    for r in table.itertuples():
        rule = None if r.rule is None or r.rule != r.rule else r.rule
        n = key.get((r.sanction, rule), 0)
        rows.append(
            {
                "sanction": r.sanction,
                "rule": rule,
                "behaviour": None if r.behaviour != r.behaviour else r.behaviour,
                "listings": int(r.listings),
                "share_of_listings": _num(r.share_of_listings),
                "share_of_points_lost": _num(r.share_of_points_lost),
                "listings_alone": int(r.listings_alone),
                "restricted_now": n,
                "share_of_restricted": n / total if total else None,
            }
        )
    return rows


def _num(v) -> float | None:
    return None if v is None or v != v else float(v)


def _pct(v: float | None) -> str:
    return "" if v is None else f"{100 * v:.1f}%"


def causes_section(run, sampled: bool = False) -> str:
    """The report's HTML section: the causes table with what each column counts."""
    from credsim.report.charts import table as html_table

    rows = causes(run)
    days = run.manifest.get("days")
    about = (
        "Which rules started the listings (the record that tipped each citizen onto the list), "
        f"counted over the whole run (days 0-{days - 1 if days else '?'}), and the share of "
        "the citizens restricted on the last day whose open listing each rule started. "
        "Shares of points lost are the points the rule took from the listed citizens up to "
        "their listing; listings on the behaviour alone are those of citizens whose every "
        "deduction up to the listing came from records of that behaviour. A citizen under two "
        "sanctions counts under each."
    )
    if sampled:
        about += " The ledger keeps a sample of citizens: counts are of that sample."
    if not rows:
        body = "<p>No listing started in this run.</p>"
    else:
        body = html_table(
            [
                "sanction",
                "rule",
                "behaviour",
                "listings (run)",
                "share of the sanction's listings",
                "share of points lost",
                "listings on this behaviour alone (run)",
                "restricted on the last day (citizens)",
                "share of the restricted",
            ],
            [
                (
                    r["sanction"],
                    r["rule"] or "(no record: tier reached otherwise)",
                    r["behaviour"] or "",
                    r["listings"],
                    _pct(r["share_of_listings"]),
                    _pct(r["share_of_points_lost"]),
                    r["listings_alone"],
                    r["restricted_now"],
                    _pct(r["share_of_restricted"]),
                )
                for r in rows
            ],
            "causes",
        )
    return (
        f'<section id="causes"><h2>Causes at a glance</h2><p class="about">'
        f"{html.escape(about)}</p>{body}</section>"
    )
