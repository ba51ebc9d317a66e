"""DuckDB SQL over a run folder: views ``metrics``, ``groups``, ``citizens``, ``ledger``,
``rules`` and ``causes``.

``causes`` says which rules started the listings: one row per sanction and rule, with
``listings`` (listings whose triggering record came from that rule; they add up to the ledger's
``sanction_start`` rows), ``share_of_listings`` (within the sanction), ``points_lost`` (points
that rule took from the listed citizens up to the day of each listing) and
``share_of_points_lost`` (within the sanction), the rule's ``behaviour``, and
``listings_alone``: listings of citizens whose every deduction up to the listing came from
records of that behaviour alone (a jaywalker with no critical post and no debt; where two rules
score one behaviour, both rows show it). Where the ledger keeps a sample of citizens (large
runs), so does this view.
"""

from __future__ import annotations

from pathlib import Path

from credsim.ledger import LABELLED as LEDGER_LABELLED

LEDGER_EMPTY = (
    "SELECT NULL::BIGINT AS id, NULL::SMALLINT AS day, NULL::BIGINT AS citizen, "
    "NULL::VARCHAR AS phase, NULL::VARCHAR AS kind, NULL::VARCHAR AS source, "
    "NULL::VARCHAR AS rule, NULL::VARCHAR AS sanction, NULL::VARCHAR AS privilege, "
    "NULL::SMALLINT AS delta, NULL::SMALLINT AS score_before, NULL::SMALLINT AS score_after, "
    "NULL::BOOLEAN AS misattributed, NULL::BIGINT AS cause, NULL::BIGINT AS other WHERE false"
)


class QueryError(ValueError):
    """SQL that DuckDB could not run; the message is one line."""


READ_ONLY_STATEMENTS = ("SELECT", "EXPLAIN")


def connect(run_dir: str | Path):
    """A DuckDB connection with the run folder's tables as views, then locked read-only.

    After the views are made, DuckDB may read only inside the run folder, nothing can be
    attached, installed or written outside, and the configuration cannot be changed back.
    """
    import duckdb

    p = Path(run_dir)
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    for view, file in (
        ("metrics", "metrics.parquet"),
        ("groups", "metrics_groups.parquet"),
        ("citizens", "citizens.parquet"),
    ):
        if (p / file).exists():
            con.execute(f"CREATE VIEW {view} AS SELECT * FROM read_parquet('{_quote(p / file)}')")
    parts = _ledger_parts(p)
    if parts:
        files = ", ".join(f"'{_quote(f)}'" for f in parts)
        con.execute(f"CREATE VIEW ledger AS {ledger_sql(f'read_parquet([{files}])', parts[0])}")
    else:
        con.execute(f"CREATE VIEW ledger AS {LEDGER_EMPTY}")
    con.execute(f"CREATE VIEW rules AS {rules_sql(p / 'regime.toml')}")
    con.execute(f"CREATE VIEW causes AS {CAUSES_SQL}")
    allowed = _quote(p.resolve()) + "/"
    con.execute(f"SET allowed_directories = ['{allowed}']")
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
    return con


def _ledger_parts(p: Path) -> list[Path]:
    """The ledger parts of this run: those its manifest lists (foreign files are not read)."""
    try:
        from credsim.run import Run

        return Run(p).ledger_parts()
    except (OSError, ValueError):
        folder = p / "ledger"
        return sorted(folder.glob("*.parquet")) if folder.is_dir() else []


def check_read_only(sql: str) -> None:
    """Accept only statements that read: SELECT (WITH ... SELECT, VALUES), EXPLAIN, DESCRIBE."""
    import duckdb

    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as e:
        raise QueryError(f"SQL: {str(e).strip().splitlines()[0]}") from None
    if not statements:
        raise QueryError("SQL: no statement given")
    for st in statements:
        kind = st.type.name
        if kind == "EXPLAIN":  # EXPLAIN ANALYZE runs its statement: that must read only
            words = st.query.strip().split(None, 2)
            inner = " ".join(words[2 if len(words) > 2 and words[1].upper() == "ANALYZE" else 1 :])
            try:
                kinds = [s.type.name for s in duckdb.extract_statements(inner)]
            except duckdb.Error:
                kinds = []
            if kinds and all(k == "SELECT" for k in kinds):
                continue
        elif kind in READ_ONLY_STATEMENTS:
            continue
        raise QueryError(
            f"SQL: only SELECT, EXPLAIN and DESCRIBE are allowed ({kind} refused); "
            "credsim query reads a run folder and never changes it"
        )


def rules_sql(regime_toml: Path) -> str:
    """SELECT of the regime's rules: ``rule`` (its key), ``behaviour``, ``delta``."""
    import tomllib

    rows = []
    if regime_toml.exists():
        try:
            data = tomllib.loads(regime_toml.read_text("utf-8"))
        except (ValueError, OSError):
            data = {}
        for r in data.get("rules", []):
            if isinstance(r, dict) and "behaviour" in r:
                key = str(r.get("name") or r["behaviour"]).replace("'", "''")
                behaviour = str(r["behaviour"]).replace("'", "''")
                rows.append(f"('{key}', '{behaviour}', {int(r.get('delta', 0))})")
    if not rows:
        return "SELECT NULL::VARCHAR AS rule, NULL::VARCHAR AS behaviour, NULL::INTEGER AS delta "
        "WHERE false"
    return f"SELECT * FROM (VALUES {', '.join(rows)}) AS t(rule, behaviour, delta)"


# the rule of a score change: a record's rule, or "associates" for the associates rule of
# ties (credsim.engine.components.ties), whose rows name no rule
SCORED_BY = "CASE WHEN r.kind = 'association' THEN 'associates' ELSE r.rule END"

# the behaviour a deduction was lost on: its rule's, or "associates" for the associates rule
LOST_ON = "CASE WHEN r.kind = 'association' THEN 'associates' ELSE b.behaviour END"

CAUSES_SQL = f"""
WITH listing AS (
    SELECT l.id, l.day, l.citizen, l.sanction, {SCORED_BY} AS trigger
    FROM ledger l LEFT JOIN ledger r ON r.id = l.cause AND r.kind IN ('record', 'association')
    WHERE l.kind = 'sanction_start'
),
started AS (
    SELECT sanction, trigger AS rule, count(*) AS listings FROM listing GROUP BY ALL
),
lost AS (
    SELECT l.sanction, {SCORED_BY} AS rule, sum(-r.delta) AS points_lost
    FROM listing l JOIN ledger r
      ON r.citizen = l.citizen AND r.kind IN ('record', 'association') AND r.delta < 0
     AND r.day <= l.day
    GROUP BY ALL
),
joined AS (
    SELECT coalesce(s.sanction, p.sanction) AS sanction, coalesce(s.rule, p.rule) AS rule,
           coalesce(s.listings, 0) AS listings, coalesce(p.points_lost, 0) AS points_lost
    FROM started s FULL JOIN lost p
      ON s.sanction = p.sanction AND s.rule IS NOT DISTINCT FROM p.rule
),
alone AS (
    SELECT sanction, behaviour, count(*) AS listings_alone FROM (
        SELECT l.id, l.sanction, min({LOST_ON}) AS behaviour
        FROM listing l JOIN ledger r
          ON r.citizen = l.citizen AND r.kind IN ('record', 'association') AND r.delta < 0
         AND r.day <= l.day
        LEFT JOIN rules b ON b.rule = r.rule
        WHERE r.kind = 'association' OR b.behaviour IS NOT NULL
        GROUP BY l.id, l.sanction HAVING count(DISTINCT {LOST_ON}) = 1
    ) GROUP BY ALL
)
SELECT j.sanction, j.rule,
       coalesce(b.behaviour, CASE WHEN j.rule = 'associates' THEN 'associates' END) AS behaviour,
       j.listings,
       j.listings / sum(j.listings) OVER (PARTITION BY j.sanction) AS share_of_listings,
       j.points_lost,
       j.points_lost / nullif(sum(j.points_lost) OVER (PARTITION BY j.sanction), 0)
           AS share_of_points_lost,
       coalesce(a.listings_alone, 0) AS listings_alone
FROM joined j LEFT JOIN rules b ON b.rule = j.rule
LEFT JOIN alone a ON a.sanction = j.sanction
     AND a.behaviour = coalesce(b.behaviour, CASE WHEN j.rule = 'associates' THEN 'associates' END)
ORDER BY j.sanction, j.listings DESC, j.points_lost DESC, j.rule
"""


def ledger_sql(source: str, part: Path) -> str:
    """SELECT over ledger parts with the coded columns shown as labels (-1 as NULL)."""
    from credsim.ledger import PHASE_OF, labels

    names = labels(part)

    def decode(column: str, values: list[str]) -> str:
        items = ", ".join("'" + v.replace("'", "''") + "'" for v in values)
        return f"CASE WHEN {column} >= 0 THEN ([{items}]::VARCHAR[])[{column} + 1] END"

    phase = decode("kind", [PHASE_OF[k] for k in names["kind"]])
    coded = ", ".join(f"{decode(c, names[c])} AS {c}" for c in LEDGER_LABELLED)
    return (
        f"SELECT id, day, citizen, {phase} AS phase, {coded}, delta, score_before, "
        "(score_before + delta)::SMALLINT AS score_after, misattributed, "
        "NULLIF(cause, -1) AS cause, NULLIF(other, -1) AS other "
        f"FROM {source}"
    )


def _quote(path: Path) -> str:
    return str(path).replace("'", "''")


def query(run_dir: str | Path, sql: str):
    """Run SQL and return a pandas DataFrame; errors become a one-line QueryError."""
    import duckdb

    try:
        check_read_only(sql)
    except QueryError as e:
        raise QueryError(f"{run_dir}: {e}") from None
    try:
        con = connect(run_dir)
    except (duckdb.Error, ValueError, OSError) as e:
        raise QueryError(f"{run_dir}: {str(e).strip().splitlines()[0]}") from None
    try:
        rel = con.sql(sql)
        if rel is None:
            raise QueryError(f"{run_dir}: SQL: the statement returns no table; use SELECT")
        # sums of counts come back as 128-bit integers, which pandas would turn into floats
        huge = [str(t) == "HUGEINT" for t in rel.types]
        if any(huge):
            names = ['"' + c.replace('"', '""') + '"' for c in rel.columns]
            cols = [
                f"CAST({n} AS BIGINT) AS {n}" if h else n for n, h in zip(names, huge, strict=True)
            ]
            rel = rel.project(", ".join(cols))
        return rel.df()
    except (duckdb.Error, AttributeError) as e:
        msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise QueryError(f"{run_dir}: SQL: {msg}") from None
    finally:
        con.close()
