"""Two worlds on one seed, with camera errors and without: who was listed wrongly and who
escaped, by the difference between the two runs (the yardstick of the harm flags)."""

from __future__ import annotations

from typing import Any


def first_listed(run: Any) -> Any:
    """The first day each citizen was listed, by citizen (a pandas Series)."""
    d = run.query(
        "SELECT citizen, min(day) AS first FROM ledger WHERE kind = 'sanction_start' "
        "GROUP BY citizen"
    )
    return d.set_index("citizen")["first"]


def listed_by_errors(errors: Any, none: Any) -> tuple[Any, Any, Any]:
    """(citizens of the run with errors, wrongly listed, escaped): wrongly listed are those
    listed with errors at a time the world without errors had not listed them; escaped those
    listed only without errors. Both runs need a full ledger."""
    a = errors.citizens.set_index("citizen")
    b = none.citizens.set_index("citizen")
    fa = first_listed(errors).reindex(a.index)
    fb = first_listed(none).reindex(a.index)
    wrongly = fa.notna() & (fb.isna() | (fa < fb))
    escaped = b["ever_listed"] & ~a["ever_listed"]
    return a, wrongly, escaped


def agreement(flag: Any, truth: Any) -> float:
    """Citizens in both over citizens in either (1 = the same citizens)."""
    either = int((flag | truth).sum())
    return 1.0 if either == 0 else int((flag & truth).sum()) / either
