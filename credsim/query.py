"""DuckDB SQL over a run folder: views ``metrics``, ``groups``, ``citizens`` and ``ledger``."""

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


def connect(run_dir: str | Path):
    """A DuckDB connection with the run folder's tables as views."""
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
    parts = sorted((p / "ledger").glob("*.parquet")) if (p / "ledger").exists() else []
    if parts:
        files = ", ".join(f"'{_quote(f)}'" for f in parts)
        con.execute(f"CREATE VIEW ledger AS {ledger_sql(f'read_parquet([{files}])', parts[0])}")
    else:
        con.execute(f"CREATE VIEW ledger AS {LEDGER_EMPTY}")
    return con


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
        con = connect(run_dir)
    except (duckdb.Error, ValueError, OSError) as e:
        raise QueryError(f"{run_dir}: {str(e).strip().splitlines()[0]}") from None
    try:
        return con.sql(sql).df()
    except (duckdb.Error, AttributeError) as e:
        msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise QueryError(f"{run_dir}: SQL: {msg}") from None
    finally:
        con.close()
