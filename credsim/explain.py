"""Why a citizen stands where they do: a dossier read from the run's ledger and final state."""

from __future__ import annotations

from typing import Any

from credsim.query import connect

FIND = {
    "wrongful": "wrongful",
    "ever_wrongful": "ever_wrongful",
    "escaped": "escaped",
    "spillover": "spillover AND NOT restricted",
    "wrongful_spillover": "wrongful_spillover",
    "banned": "restricted",
    "permanent": "permanent",
    "organisation": "restricted_via_organisation",
}
HEADING = {
    "wrongful": "Wrongfully restricted now (every listing of theirs rests on misattributed "
    "records)",
    "ever_wrongful": "Ever wrongfully listed",
    "escaped": "Escaped their own listing (never listed; their own records were put on lookalikes)",
    "spillover": "Restricted only through family",
    "wrongful_spillover": "Restricted only through a relative's wrongful listing",
    "banned": "Restricted now (a sanction of their own)",
    "permanent": "Marked for life (a permanent sanction or a lifetime ceiling)",
    "organisation": "Restricted through an organisation they represent or manage",
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
    """Example citizens of a kind (``FIND``): wrongful, ever_wrongful, escaped, spillover
    (restricted only through family), wrongful_spillover, banned (under a sanction now),
    permanent (marked for life) or organisation (restricted through one); of a replicated
    run, in one replicate (the first by default)."""
    if kind not in FIND:
        raise ValueError(f"--find {kind!r}: expected one of {', '.join(FIND)}")
    run, _ = one_replicate(run, replicate)
    con = connect(run.path)
    try:
        if kind == "organisation":
            cols = {r[0] for r in con.sql("DESCRIBE citizens").fetchall()}
            if "restricted_via_organisation" not in cols:
                raise ValueError("--find organisation: this run's regime has no organisations")
        rows = con.sql(
            f"SELECT citizen FROM citizens WHERE {FIND[kind]} ORDER BY citizen LIMIT {int(limit)}"
        ).fetchall()
    finally:
        con.close()
    return [int(r[0]) for r in rows]


def find_reasons(run, kind: str, limit: int = 5) -> tuple[str, int, list[tuple[int, str]]]:
    """The heading of ``--find kind``, how many citizens are of that kind, and (citizen, one
    reason) for the first ``limit``, each read from that citizen's dossier."""
    ids = find_citizens(run, kind, limit)
    con, regime = connect(run.path), run.regime()
    try:
        total = con.sql(f"SELECT count(*) FROM citizens WHERE {FIND[kind]}").fetchall()[0][0]
        rows = [(i, reason(dossier(run, i, con=con, regime=regime), kind)) for i in ids]
    finally:
        con.close()
    return HEADING[kind], int(total), rows


def reason(d: dict[str, Any], kind: str) -> str:
    """One line: why the citizen of dossier ``d`` is of kind ``kind`` (``FIND``)."""
    now = [x for x in d["listings"] if x["ended_day"] is None]
    without = f"score {d['score']}, without camera errors {d['score_without_errors']}"
    if kind == "wrongful":
        names = ", ".join(x["sanction"] for x in now)
        verb = "rests" if len(now) == 1 else "all rest"
        return f"{names} {verb} on misattributed records; {without}"
    if kind == "ever_wrongful":
        x = next(x for x in d["listings"] if x["ever_wrongful"])
        day = next(h["day"] for h in x["history"] if h["wrongful"])
        return f"{x['sanction']} wrongful from day {day}; {without}"
    if kind == "escaped":
        return (
            f"never listed; {d['points_on_others']:+d} points of their own records went to "
            f"lookalikes ({without})"
        )
    if kind in ("spillover", "wrongful_spillover"):
        who = [f for f in d["family"] if f["restricted"]]
        names = ", ".join(f"citizen {f['citizen']}" for f in who) or "a relative"
        if kind == "wrongful_spillover":
            return f"no listing of their own; only wrongful listings of {names} restrict them"
        return f"no listing of their own; restricted through {names}"
    if kind == "banned":
        names = ", ".join(f"{x['sanction']} since day {x['since_day']}" for x in now)
        return f"{names or 'a sanction'}; score {d['score']}"
    if kind == "organisation":
        because = (d.get("organisation") or {}).get("because") or []
        return because[0] if because else "through an organisation (not in the ledger sample)"
    if kind == "permanent":
        return d["marked_for_life"] or "marked for life (its listing is not in the ledger sample)"
    raise ValueError(kind)


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
        "other": row.get("other"),
        "listing": f" [listing {row['cause']}]" if row.get("cause") is not None else "",
        "rests": " (rests on misattributed records: wrongful)" if row.get("misattributed") else "",
        "wrongly": " (only by wrongful listings)" if row.get("misattributed") else "",
        "judged": "wrongful (it rests on misattributed records)"
        if row.get("misattributed")
        else "rightful (the citizen's own records hold it)",
        "sanction": row.get("sanction"),
        "privilege": row.get("privilege"),
        "target": row.get("sanction") or what,
    }
    if k.startswith("organisation_"):
        fields.update(_organisation_fields(row, labels))
    return template.explain.format(**fields)


def _organisation_fields(row: dict[str, Any], labels: dict[str, str]) -> dict[str, str]:
    """Which organisation an organisation row is about, which list and why (its rule is
    ``list/why``: an organisation behaviour, ``from_<list>``, ``repair`` or ``term``)."""
    lst, _, why = (row.get("rule") or "/").partition("/")
    if why == "repair":
        reason = "credit repair: it made good"
    elif why == "term":
        reason = "its term ended"
    elif why.startswith("from_"):
        reason = f"its term on {labels.get('list:' + why[5:], why[5:])} ended"
    else:
        reason = labels.get("organisation:" + why, why.replace("_", " "))
    joint = ""
    if row.get("sanction"):
        joint = f"; joint punishment of its people: {row['sanction']}"
    return {
        "organisation": str(row.get("other")),
        "list": labels.get("list:" + lst, f"the {lst.replace('_', ' ')} list"),
        "reason": reason,
        "joint": joint,
    }


def _listings(records: list[dict], causes: dict, regime, labels) -> list[dict[str, Any]]:
    """Every listing of the citizen, from its start to its end (or now): why it started,
    each judgement of whether it rests on misattributed records, renewals and marks."""
    by_name = {s.name: s for s in regime.sanctions}
    out: list[dict[str, Any]] = []
    open_: dict[str, dict[str, Any]] = {}
    for r in records:
        k, name = r["kind"], r.get("sanction")
        if k == "sanction_start":
            sx = by_name[name]
            cause = causes.get(r["cause"]) if r.get("cause") is not None else None
            x = {
                "sanction": name,
                "privileges": sx.privileges,
                "since_day": r["day"],
                "ended_day": None,
                "started_by": f"the tier {sx.tier}" if sx.tier and cause is None else "a record",
                "score_at_start": r["score_after"],
                "cause": None
                if cause is None
                else _sentence({a: (None if v != v else v) for a, v in cause.items()}, labels),
                "wrongful": bool(r["misattributed"]),
                "ever_wrongful": bool(r["misattributed"]),
                "history": [
                    {"day": r["day"], "event": "started", "wrongful": bool(r["misattributed"])}
                ],
                "renewals": [],
                "permanent": bool(sx.permanent),
                "ceiling": sx.ceiling,
            }
            if sx.tier and cause is not None:
                x["started_by"] = f"the tier {sx.tier}, reached by record {r['cause']}"
            if cause is not None and str(cause.get("kind", "")).startswith("organisation_"):
                x["started_by"] = f"the listing of organisation {cause.get('other')}"
            open_[name] = x
            out.append(x)
        elif name in open_ and k in ("sanction_renew", "judged"):
            x = open_[name]
            w = bool(r["misattributed"])
            x["wrongful"] = w
            x["ever_wrongful"] |= w
            x["history"].append(
                {
                    "day": r["day"],
                    "event": "renewed" if k == "sanction_renew" else "judged",
                    "wrongful": w,
                }
            )
            if k == "sanction_renew":
                x["renewals"].append(r["day"])
        elif name in open_ and k == "sanction_end":
            open_.pop(name)["ended_day"] = r["day"]
    for x in out:
        x["would_stand_without_misattributed_records"] = not x["wrongful"]
    return out


def dossier(run, citizen: int, replicate: int = 1, *, con=None, regime=None) -> dict[str, Any]:
    """Attributes, household, timeline, each listing judged on its own, the family.

    Of a replicated run, from one replicate (the first by default), named in ``replicate``.
    ``con`` (from ``credsim.query.connect``) and ``regime`` (``run.regime()``) may be given
    to explain many citizens of one run without opening it again for each."""
    run, which = one_replicate(run, replicate)
    regime = regime or run.regime()
    labels = {b.name: (b.label or b.name.replace("_", " ")) for b in regime.behaviours}
    labels.update({r.key: labels.get(r.behaviour, r.key) for r in regime.rules})
    if regime.organisations is not None:
        o = regime.organisations
        labels.update({"organisation:" + b.name: b.label or b.name for b in o.behaviours})
        labels.update({"list:" + x.name: x.label or x.name for x in o.lists})
    own = con is None
    con = connect(run.path) if own else con
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
            "SELECT citizen, sex, age_band, restricted, spillover, wrongful, wrongful_spillover "
            "FROM citizens "
            "WHERE household = ? AND citizen <> ? ORDER BY citizen",
            [int(person["household"]), int(citizen)],
        ).df()
        rows = con.execute(
            "SELECT * FROM ledger WHERE citizen = ? ORDER BY id", [int(citizen)]
        ).df()
        # the ties that mattered: who saw this citizen's listings, or paid for them
        seen_by = con.execute(
            "SELECT day, citizen, kind, delta FROM ledger WHERE other = ? "
            "AND kind IN ('tie_seen', 'association') ORDER BY id",
            [int(citizen)],
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
        if own:
            con.close()
    records = rows.to_dict("records")
    for r in records:
        for k, v in list(r.items()):
            if v is not None and v != v:  # NaN from pandas for missing values
                r[k] = None
            elif hasattr(v, "item"):
                r[k] = v.item()
    timeline = [_sentence(r, labels) for r in records]
    ties = [
        {
            "day": int(r["day"]),
            "citizen": int(r["citizen"]),
            "effect": "saw the listing and changed behaviour"
            if r["kind"] == "tie_seen"
            else f"score moved {int(r['delta']):+d} by the associates rule",
        }
        for r in seen_by.to_dict("records")
    ]
    ties += [
        {
            "day": int(r["day"]),
            "citizen": int(r["other"]),
            "effect": "their listing made this citizen change behaviour"
            if r["kind"] == "tie_seen"
            else f"their listing moved this citizen's score {int(r['delta']):+d}",
        }
        for r in records
        if r["kind"] in ("tie_seen", "association")
    ]
    listings = _listings(records, causes, regime, labels)
    sanctions = [x for x in listings if x["ended_day"] is None]
    marks = [x for x in listings if x["permanent"] or x["ceiling"] is not None]
    marked = ""
    if person.get("permanent"):
        if marks:
            x = marks[0]
            kind = "permanent" if x["permanent"] else f"lifetime ceiling {x['ceiling']}"
            marked = f"marked for life by {x['sanction']} from day {x['since_day']} ({kind})"
        else:
            marked = "marked for life (a permanent sanction or a lifetime ceiling)"
    mis_points = int(person.get("misattributed_points") or 0)
    on_others = int(person.get("points_on_others") or 0)
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
        "organisation": _organisation(person, listings),
        "score": int(person["score"]),
        "tier": person["tier"],
        "restricted": bool(person["restricted"]),
        "restricted_through_family": bool(person["spillover"]),
        "wrongful": bool(person["wrongful"]),
        "ever_listed": bool(person.get("ever_listed")),
        "ever_wrongful": bool(person.get("ever_wrongful")),
        "escaped": bool(person.get("escaped")),
        "wrongful_spillover": bool(person.get("wrongful_spillover")),
        "misattributed_points": mis_points,
        "points_on_others": on_others,
        "score_without_misattributed_records": int(person["score"]) - mis_points,
        "score_without_errors": int(person["score"]) - mis_points + on_others,
        "sanctions": sanctions,
        "listings": listings,
        "marked_for_life": marked,
        "family": family.to_dict("records"),
        "timeline": timeline,
        "ties": ties,
        "redress": redress,
        "ledgered": bool(len(records)) or run.manifest.get("ledger") == "full",
    }
    if which:
        out["replicate"] = which
    return out


def _organisation(person: dict[str, Any], listings: list[dict]) -> dict[str, Any] | None:
    """The citizen's employer and role, and the listings put on them because of it (a run
    with organisations; None otherwise)."""
    if "role" not in person:
        return None
    employer = person.get("employer")
    return {
        "employer": None if employer is None or employer < 0 else int(employer),
        "role": person["role"],
        "sector": person.get("employer_sector"),
        "rating": person.get("employer_rating"),
        "employer_listed": bool(person.get("employer_listed")),
        "restricted_via_organisation": bool(person.get("restricted_via_organisation")),
        "because": [x["cause"] for x in listings if x["cause"] and "organisation " in x["cause"]],
    }


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
        )
        + (
            f"; {d['points_on_others']:+d} of their own records' points went to lookalikes "
            f"(without camera errors: {d['score_without_errors']})"
            if d["points_on_others"]
            else ""
        ),
    ]
    org = d.get("organisation")
    if org and org["employer"] is not None:
        role = org["role"].replace("_", " ")
        lines.append(
            f"Works for organisation {org['employer']} ({org['sector'].replace('_', ' ')}, "
            f"rating {org['rating']}) as {role}"
            + ("; it is on a corporate list now" if org["employer_listed"] else "")
        )
        if org["restricted_via_organisation"]:
            lines.append("Restricted because of this organisation (joint punishment).")
    elif org:
        lines.append(f"No employer: {org['role'].replace('_', ' ')}")
    if d["listings"]:
        lines.append("Listings:")
        for x in d["listings"]:
            span = "now" if x["ended_day"] is None else f"day {x['ended_day']}"
            stand = (
                "would NOT stand without misattributed records (wrongful)"
                if x["wrongful"]
                else "would stand without misattributed records"
            )
            if x["ended_day"] is not None:
                stand = ("was wrongful" if x["wrongful"] else "was rightful") + " when it ended"
            lines.append(
                f"  {x['sanction']} from day {x['since_day']} to {span}, denies "
                f"{', '.join(x['privileges'])}; {stand}"
            )
            lines.append(f"    started by {x['started_by']} at score {x['score_at_start']}")
            if x["cause"]:
                lines.append(f"    cause: {x['cause']}")
            for h in x["history"][1:]:
                state = "wrongful" if h["wrongful"] else "rightful"
                lines.append(f"    day {h['day']}: {h['event']}, {state}")
            if x["permanent"]:
                lines.append("    permanent: never lifted, renewed for life")
            if x["ceiling"] is not None:
                lines.append(f"    lifetime ceiling: the score stays at or below {x['ceiling']}")
    if d["marked_for_life"]:
        lines.append(f"Marked for life: {d['marked_for_life']}")
    if not d["sanctions"]:
        if d["restricted_through_family"]:
            lines.append(
                "No sanction of their own; restricted through a family member's listing."
                + (" Only wrongful listings restrict them." if d["wrongful_spillover"] else "")
            )
        else:
            lines.append("No sanction now.")
    if d["escaped"]:
        lines.append(
            f"Escaped: never listed, while {d['points_on_others']:+d} points of their own records "
            "were put on lookalikes; with them the score would have listed them."
        )
    if d["ever_wrongful"]:
        lines.append("Ever wrongfully listed: yes.")
    if d["family"]:
        lines.append("Household:")
        for f in d["family"]:
            state = (
                "restricted"
                if f["restricted"]
                else ("restricted through family" if f["spillover"] else "not restricted")
            )
            if f["restricted"] and f["wrongful"]:
                state += ", wrongfully"
            elif not f["restricted"] and f["wrongful_spillover"]:
                state += ", only by wrongful listings"
            lines.append(f"  citizen {f['citizen']}: {f['sex']}, {f['age_band']}, {state}")
    if d.get("ties"):
        lines.append("Ties that mattered (friends, colleagues, neighbours):")
        for t in d["ties"]:
            lines.append(f"  day {t['day']}: citizen {t['citizen']}: {t['effect']}")
    lines.append("Timeline:" if d["timeline"] else "Timeline: no recorded events.")
    lines += [f"  {t}" for t in d["timeline"]]
    if not d["ledgered"]:
        lines.append("(this citizen's history is not in the ledger sample)")
    return "\n".join(lines)
