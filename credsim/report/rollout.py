"""The rollout of a regime as the report shows it: from which day each source records, each
rule scores, each sanction lists, each privilege is checked against the lists, each green lane
serves its tier and each redress demand is made, in the cities and in the countryside."""

from __future__ import annotations

import html
from typing import Any

KINDS = (
    ("sources", "source"),
    ("rules", "rule"),
    ("sanctions", "sanction"),
    ("privileges", "privilege"),
    ("green_lanes", "green lane"),
)


def first_days(rollout: list[dict[str, Any]] | None) -> tuple[int | None, int | None]:
    """First active day in (cities, countryside); None where never active."""
    out: dict[str, int] = {}
    for r in rollout or [{"region": "all", "day": 0}]:
        for region in ("urban", "rural") if r.get("region", "all") == "all" else (r["region"],):
            out[region] = min(out.get(region, r.get("day", 0)), r.get("day", 0))
    return out.get("urban"), out.get("rural")


def rollout_rows(regime: dict[str, Any]) -> list[tuple[str, str, Any, Any, Any]]:
    """(kind, name, first day in cities, in the countryside, everywhere) of each component."""
    rows = []

    def row(kind: str, name: str, rollout: list[dict[str, Any]] | None) -> None:
        urban, rural = first_days(rollout)
        every = None if urban is None or rural is None else max(urban, rural)
        rows.append((kind, name, urban, rural, every))

    for key, kind in KINDS:
        for item in regime.get(key, []):
            name = item.get("name") or item.get("behaviour") or item.get("tier")
            row(kind, name, item.get("rollout"))
    for key, kind in (("rules", "rule"), ("sanctions", "sanction")):
        for item in regime.get(key, []):
            if item.get("redress"):
                name = item.get("name") or item.get("behaviour")
                row(
                    "redress",
                    f"{item['redress'].get('demand', 'apologise')} ({kind} {name})",
                    item["redress"].get("rollout"),
                )
    return rows


def rollout_section(regime: dict[str, Any]) -> str:
    """The report's HTML section: the rollout table."""
    from credsim.report.charts import table

    def day(v: Any) -> str:
        return "never" if v is None else f"day {v}"

    rows = [(k, n, day(u), day(r), day(e)) for k, n, u, r, e in rollout_rows(regime)]
    start = regime.get("regime", {}).get("start_date")
    about = (
        "From which simulated day each source records acts, each rule moves the score, each "
        "sanction starts listings, each privilege is checked against the lists, each green "
        "lane serves its tier and each redress demand is made, in the cities and in the "
        "countryside; 'everywhere' is the day the last region switches on."
    )
    if start:
        about += f" Day 0 is {start}."
    body = table(
        ["component", "name", "cities from", "countryside from", "everywhere from"], rows, "rollout"
    )
    return (
        f'<section id="rollout"><h2>Rollout</h2><p class="about">{html.escape(about)}</p>'
        f"{body}</section>"
    )
