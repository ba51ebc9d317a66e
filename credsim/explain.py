"""Why a citizen stands where they do: a dossier read from the run's ledger and final state."""

from __future__ import annotations

from typing import Any

from credsim.query import connect

FIND = {
    "wrongful": "wrongful",
    "spillover": "spillover AND NOT restricted",
    "banned": "restricted",
    "permanent": "permanent",
}


def one_replicate(run, replicate: int = 1):
    """(the run that holds the citizens, a phrase naming it): a replicated run's replicate
    ``replicate``, or a plain run itself (phrase None)."""
    if not getattr(run, "replicated", False):
        if replicate != 1:
            raise ValueError(f"{run.path}: one run, no replicate {replicate}")
        return run, None
    one = run.replicate(replicate)
    return one, f"replicate {replicate} of {len(run.seeds)} (seed {one.manifest.get('seed')})"


def find_citizens(run, kind: str, limit: int = 5, replicate: int = 1) -> list[int]:
    """Example citizens of a kind: wrongful, spillover (restricted only through family),
    banned (under a sanction now) or permanent (marked for life); of a replicated run, in
    one replicate (the first by default)."""
    if kind not in FIND:
        raise ValueError(f"--find {kind!r}: expected one of {', '.join(FIND)}")
    run, _ = one_replicate(run, replicate)
    con = connect(run.path)
    try:
        rows = con.sql(
            f"SELECT citizen FROM citizens WHERE {FIND[kind]} ORDER BY citizen LIMIT {int(limit)}"
        ).fetchall()
    finally:
        con.close()
    return [int(r[0]) for r in rows]


def _sentence(row: dict[str, Any], labels: dict[str, str]) -> str:
    """The sentence of one ledger row, as the component that writes its kind declares it."""
    from credsim.figures import ledger_kinds

    k = row["kind"]
    rule = row.get("rule")
    what = labels.get(rule, rule) if rule else ""
    template = ledger_kinds().get(k)
    if template is None:
        return f"day {row['day']}: {k}"
    lookalike = ""
    if row.get("misattributed"):
        lookalike = f" misattributed from a lookalike (citizen {row.get('other')})"
    fields = {
        "day": f"day {row['day']}",
        "source": row.get("source") or "a source",
        "lookalike": lookalike,
        "rule": what,
        "delta": row.get("delta") if row.get("delta") is not None else 0,
        "after": row.get("score_after"),
        "id": row.get("id"),
        "cause": f", caused by record {row['cause']}" if row.get("cause") is not None else "",
        "mis_cause": " (the causing record was misattributed)" if row.get("misattributed") else "",
        "sanction": row.get("sanction"),
        "privilege": row.get("privilege"),
        "target": row.get("sanction") or what,
    }
    return template.explain.format(**fields)


def dossier(run, citizen: int, replicate: int = 1) -> dict[str, Any]:
    """Attributes, household, timeline, sanctions with causes, and whether they would stand.

    Of a replicated run, from one replicate (the first by default), named in ``replicate``.
    """
    run, which = one_replicate(run, replicate)
    regime = run.regime()
    labels = {b.name: (b.label or b.name.replace("_", " ")) for b in regime.behaviours}
    labels.update({r.key: labels.get(r.behaviour, r.key) for r in regime.rules})
    con = connect(run.path)
    try:
        me = con.execute("SELECT * FROM citizens WHERE citizen = ?", [int(citizen)]).df()
        if me.empty:
            n = run.manifest["population"]
            if not 0 <= citizen < n:
                raise KeyError(f"citizen {citizen} does not exist (ids are 0 to {n - 1})")
            raise KeyError(
                f"citizen {citizen} is not in this run's sample of citizens; "
                "run with --ledger full to keep every citizen"
            )
        person = me.iloc[0].to_dict()
        family = con.execute(
            "SELECT citizen, sex, age_band, restricted, spillover FROM citizens "
            "WHERE household = ? AND citizen <> ? ORDER BY citizen",
            [int(person["household"]), int(citizen)],
        ).df()
        rows = con.execute(
            "SELECT * FROM ledger WHERE citizen = ? ORDER BY id", [int(citizen)]
        ).df()
        causes = {}
        starts = rows[rows["kind"] == "sanction_start"]
        ids = [int(x) for x in starts["cause"].dropna().tolist()]
        if ids:
            placeholders = ",".join("?" * len(ids))
            causes = {
                int(r["id"]): r
                for r in con.execute(f"SELECT * FROM ledger WHERE id IN ({placeholders})", ids)
                .df()
                .to_dict("records")
            }
    finally:
        con.close()
    records = rows.to_dict("records")
    for r in records:
        for k, v in list(r.items()):
            if v is not None and v != v:  # NaN from pandas for missing values
                r[k] = None
            elif hasattr(v, "item"):
                r[k] = v.item()
    timeline = [_sentence(r, labels) for r in records]
    sanctions = []
    for s in regime.sanctions:
        if person.get(f"sanction_{s.name}"):
            start = [
                r for r in records if r["kind"] in ("sanction_start",) and r["sanction"] == s.name
            ]
            last = start[-1] if start else None
            cause = causes.get(last["cause"]) if last and last.get("cause") is not None else None
            sanctions.append(
                {
                    "sanction": s.name,
                    "privileges": s.privileges,
                    "since_day": last["day"] if last else None,
                    "cause": None
                    if cause is None
                    else _sentence({k: (None if v != v else v) for k, v in cause.items()}, labels),
                    "would_stand_without_misattributed_records": not bool(person.get("wrongful")),
                }
            )
    mis_points = int(person.get("misattributed_points") or 0)
    redress = [
        t
        for t, r in zip(timeline, records)
        if r["kind"].startswith("redress_") or r["kind"] == "refund"
    ]
    out = {
        "citizen": int(citizen),
        "attributes": {
            k: (v.item() if hasattr(v, "item") else v)
            for k, v in person.items()
            if k
            in ("sex", "age_band", "region", "province", "group", "propensity", "household", "head")
        },
        "score": int(person["score"]),
        "tier": person["tier"],
        "restricted": bool(person["restricted"]),
        "restricted_through_family": bool(person["spillover"]),
        "wrongful": bool(person["wrongful"]),
        "misattributed_points": mis_points,
        "score_without_misattributed_records": int(person["score"]) - mis_points,
        "sanctions": sanctions,
        "family": family.to_dict("records"),
        "timeline": timeline,
        "redress": redress,
        "ledgered": bool(len(records)) or run.manifest.get("ledger") == "full",
    }
    if which:
        out["replicate"] = which
    return out


def render(d: dict[str, Any]) -> str:
    """The dossier as plain text."""
    a = d["attributes"]
    lines = [f"From {d['replicate']} of this run."] if d.get("replicate") else []
    lines += [
        f"Citizen {d['citizen']} (synthetic): {a['sex']}, age {a['age_band']}, {a['region']}, "
        f"{a['province'].replace('_', ' ')}, group {a['group']}; household {a['household']}",
        f"Score {d['score']}, tier {d['tier']}"
        + (
            f"; {d['misattributed_points']:+d} of it from misattributed records "
            f"(without them: {d['score_without_misattributed_records']})"
            if d["misattributed_points"]
            else ""
        ),
    ]
    if d["sanctions"]:
        lines.append("Sanctions now:")
        for s in d["sanctions"]:
            stand = (
                "would stand without misattributed records"
                if s["would_stand_without_misattributed_records"]
                else "would NOT stand without misattributed records (wrongful)"
            )
            lines.append(
                f"  {s['sanction']} since day {s['since_day']}, denies "
                f"{', '.join(s['privileges'])}; {stand}"
            )
            if s["cause"]:
                lines.append(f"    cause: {s['cause']}")
    elif d["restricted_through_family"]:
        lines.append("No sanction of their own; restricted through a family member's listing.")
    else:
        lines.append("No sanction now.")
    if d["family"]:
        lines.append("Household:")
        for f in d["family"]:
            state = (
                "restricted"
                if f["restricted"]
                else ("restricted through family" if f["spillover"] else "not restricted")
            )
            lines.append(f"  citizen {f['citizen']}: {f['sex']}, {f['age_band']}, {state}")
    lines.append("Timeline:" if d["timeline"] else "Timeline: no recorded events.")
    lines += [f"  {t}" for t in d["timeline"]]
    if not d["ledgered"]:
        lines.append("(this citizen's history is not in the ledger sample)")
    return "\n".join(lines)
