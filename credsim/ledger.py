"""The append-only ledger: every score change, sanction, denied attempt and redress, with its cause.

Rows are kept in columnar batches and written as Parquet parts under ``ledger/``. In
``sample`` mode whole citizens are kept (chosen by a hash of their id), so every sampled
citizen's history is complete. Row ids are assigned to every row, kept or not, so they do not
depend on the sampling fraction; a sanction's ``cause`` is the id of the record that led to it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

KINDS = (
    "record",  # a record reached the score: delta, before, after, source, rule
    "ceiling",  # a lifetime ceiling lowered the score
    "sanction_start",
    "sanction_renew",
    "sanction_end",
    "spillover_start",  # a family member's sanction restricts this citizen
    "spillover_end",
    "denied",  # an attempt at a privilege was denied
    "redress_demand",
    "redress_complied",
    "redress_accepted",
    "redress_rejected",
    "refund",  # accepted redress restored points
)
PHASE_OF = {
    "record": "score",
    "ceiling": "sanction",
    "sanction_start": "sanction",
    "sanction_renew": "sanction",
    "sanction_end": "sanction",
    "spillover_start": "sanction",
    "spillover_end": "sanction",
    "denied": "attempt",
    "redress_demand": "redress",
    "redress_complied": "redress",
    "redress_accepted": "redress",
    "redress_rejected": "redress",
    "refund": "redress",
}
_PHASES = list(dict.fromkeys(PHASE_OF.values()))
_PHASE_CODE = np.array([_PHASES.index(PHASE_OF[k]) for k in KINDS], dtype=np.int8)
ROW_BITS = 40  # row id = shard << ROW_BITS | sequence
FLUSH_ROWS = 2_000_000


def citizen_hash(citizen: np.ndarray) -> np.ndarray:
    """A fixed pseudo-random number in [0, 1) per citizen id (splitmix64 finaliser)."""
    z = citizen.astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15)
    with np.errstate(over="ignore"):
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def parse_mode(mode: str) -> float:
    """``full`` -> 1.0, ``none`` -> 0.0, ``sample=F`` -> F (the fraction of citizens kept)."""
    if mode == "full":
        return 1.0
    if mode == "none":
        return 0.0
    if mode.startswith("sample="):
        try:
            f = float(mode.split("=", 1)[1])
        except ValueError:
            f = -1.0
        if 0.0 < f <= 1.0:
            return f
    raise ValueError(f"ledger mode {mode!r}: expected full, none or sample=FRACTION in (0, 1]")


class Ledger:
    """Collects rows of one shard and writes them as Parquet parts."""

    COLUMNS = (
        "id",
        "day",
        "citizen",
        "kind",
        "source",
        "rule",
        "sanction",
        "privilege",
        "delta",
        "score_before",
        "score_after",
        "misattributed",
        "cause",
        "other",
    )

    def __init__(
        self, fraction: float, shard: int, folder: Path | None, names: dict[str, list[str]]
    ):
        self.fraction = fraction
        self.shard = shard
        self.folder = folder
        self.names = names
        self.seq = 0
        self.parts = 0
        self.rows = 0
        self.bytes = 0
        self._batches: list[dict[str, np.ndarray]] = []
        self._pending = 0

    @property
    def active(self) -> bool:
        return self.fraction > 0.0

    def keep(self, citizen: np.ndarray) -> np.ndarray:
        """Which of these global citizen ids are ledgered."""
        if self.fraction >= 1.0:
            return np.ones(citizen.size, dtype=bool)
        return citizen_hash(citizen) < self.fraction

    def add(
        self,
        kind: str,
        day: int,
        citizen: np.ndarray,
        *,
        source=-1,
        rule=-1,
        sanction=-1,
        privilege=-1,
        delta=0,
        before=0,
        after=0,
        misattributed=False,
        cause=-1,
        other=-1,
    ) -> np.ndarray:
        """Append rows (arrays or scalars, broadcast to ``citizen``); return their ids."""
        n = citizen.size
        ids = (np.int64(self.shard) << ROW_BITS) + self.seq + np.arange(n, dtype=np.int64)
        self.seq += n
        if n == 0 or not self.active:
            return ids
        keep = None if self.fraction >= 1.0 else self.keep(citizen)
        if keep is not None:
            if not keep.any():
                return ids
            n = int(keep.sum())

        def col(v, dtype):
            a = np.asarray(v, dtype=dtype)
            if a.ndim == 0:
                return np.full(n, a, dtype=dtype)
            return a if keep is None else a[keep]

        batch = {
            "id": col(ids, np.int64),
            "day": np.full(n, day, dtype=np.int16),
            "citizen": col(citizen, np.int64),
            "kind": np.full(n, KINDS.index(kind), dtype=np.int8),
            "source": col(source, np.int8),
            "rule": col(rule, np.int16),
            "sanction": col(sanction, np.int8),
            "privilege": col(privilege, np.int8),
            "delta": col(delta, np.int16),
            "score_before": col(before, np.int16),
            "score_after": col(after, np.int16),
            "misattributed": col(misattributed, bool),
            "cause": col(cause, np.int64),
            "other": col(other, np.int64),
        }
        self._batches.append(batch)
        self._pending += batch["id"].size
        if self._pending >= FLUSH_ROWS:
            self.flush()
        return ids

    def table(self):
        """The pending rows as an Arrow table with readable labels."""
        import pyarrow as pa

        cols = {c: np.concatenate([b[c] for b in self._batches]) for c in self.COLUMNS}

        def labels(codes: np.ndarray, names: list[str]) -> pa.Array:
            if not names:
                return pa.nulls(codes.size, pa.dictionary(pa.int8(), pa.string()))
            idx = pa.array(codes.astype(np.int8), mask=codes < 0)
            return pa.DictionaryArray.from_arrays(idx, pa.array(names, pa.string()))

        def nullable(a: np.ndarray) -> pa.Array:
            return pa.array(a, mask=a < 0)

        return pa.table(
            {
                "id": cols["id"],
                "day": cols["day"],
                "citizen": cols["citizen"],
                "phase": labels(_PHASE_CODE[cols["kind"]], _PHASES),
                "kind": labels(cols["kind"], list(KINDS)),
                "source": labels(cols["source"], self.names["sources"]),
                "rule": labels(cols["rule"].astype(np.int8), self.names["rules"]),
                "sanction": labels(cols["sanction"], self.names["sanctions"]),
                "privilege": labels(cols["privilege"], self.names["privileges"]),
                "delta": cols["delta"],
                "score_before": cols["score_before"],
                "score_after": cols["score_after"],
                "misattributed": cols["misattributed"],
                "cause": nullable(cols["cause"]),
                "other": nullable(cols["other"]),
            }
        )

    def flush(self) -> None:
        """Write pending rows as one Parquet part (atomically)."""
        if not self._batches:
            return
        import pyarrow.parquet as pq

        table = self.table()
        self._batches, self._pending = [], 0
        self.rows += table.num_rows
        if self.folder is None:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"shard-{self.shard:05d}-part-{self.parts:04d}.parquet"
        tmp = path.with_suffix(".tmp")
        pq.write_table(table, tmp, compression="zstd")
        tmp.replace(path)
        self.bytes += path.stat().st_size
        self.parts += 1
