"""DuckDB SQL over a run folder: views ``metrics``, ``groups``, ``citizens`` and ``ledger``."""

from __future__ import annotations

from pathlib import Path

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
        con.execute(f"CREATE VIEW ledger AS SELECT * FROM read_parquet([{files}])")
    else:
        con.execute(f"CREATE VIEW ledger AS {LEDGER_EMPTY}")
    return con


def _quote(path: Path) -> str:
    return str(path).replace("'", "''")


def query(run_dir: str | Path, sql: str):
    """Run SQL and return a pandas DataFrame; errors become a one-line QueryError."""
    import duckdb

    con = connect(run_dir)
    try:
        return con.sql(sql).df()
    except (duckdb.Error, AttributeError) as e:
        msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise QueryError(f"{run_dir}: SQL: {msg}") from None
    finally:
        con.close()
