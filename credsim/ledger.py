"""The append-only ledger: every score change, sanction, denied attempt and redress, with its cause.

Rows are kept in columnar buffers and written as Parquet parts under ``ledger/``. In
``sample`` mode whole citizens are kept (chosen by a hash of their id), so every sampled
citizen's history is complete. Row ids are assigned to every row, kept or not, so they do not
depend on the sampling fraction; a sanction's ``cause`` is the id of the record that led to it.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from credsim.compiled_cache import njit

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
    "amnesty",  # an amnesty lifted the listing
    "judged",  # a listing's wrongfulness changed: misattributed is its new state
    "born",  # the life course (credsim.engine.components.life)
    "died",
    "came_of_age",
)
PHASE_OF = {  # the phase that writes each kind
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
    "amnesty": "tier",
    "judged": "sanction",
    "born": "behave",
    "died": "behave",
    "came_of_age": "behave",
}
ROW_BITS = 40  # row id = shard << ROW_BITS | sequence
FLUSH_ROWS = 1_000_000  # rows a part; two parts' buffers at most


def citizen_hash(citizen: np.ndarray) -> np.ndarray:
    """A fixed pseudo-random number in [0, 1) per citizen id (splitmix64 finaliser)."""
    citizen = np.asarray(citizen)
    out = np.empty(citizen.shape, dtype=np.float64)
    _splitmix(citizen.astype(np.int64, copy=False).reshape(-1), out.reshape(-1))
    return out


@njit(cache=True, nogil=True)
def _splitmix(citizen, out):  # pragma: no cover
    for i in range(citizen.size):
        z = np.uint64(citizen[i]) + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
        out[i] = np.float64(z >> np.uint64(11)) / 9007199254740992.0


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


# column -> dtype of a ledger part; labelled columns hold codes (-1: none), named in the
# part's metadata and decoded by the ``ledger`` view (credsim.query)
COLUMNS = {
    "id": np.int64,
    "day": np.int16,
    "citizen": np.int64,
    "kind": np.int8,
    "source": np.int8,
    "rule": np.int16,
    "sanction": np.int8,
    "privilege": np.int8,
    "delta": np.int16,
    "score_before": np.int16,  # the score after the row is score_before + delta
    "misattributed": np.bool_,
    "cause": np.int64,  # -1: none
    "other": np.int64,  # -1: none
}
LABELLED = ("kind", "source", "rule", "sanction", "privilege")


def code_dtype(count: int, least=np.int8) -> np.dtype:
    """The smallest signed integer, at least ``least``, that holds codes 0 .. count - 1 and
    -1 (none): a regime with more sources, rules, sanctions or privileges widens its column."""
    for dt in (np.int8, np.int16, np.int32, np.int64):
        if np.dtype(dt).itemsize >= np.dtype(least).itemsize and count <= np.iinfo(dt).max:
            return np.dtype(dt)
    return np.dtype(np.int64)


LABELS_KEY = b"credsim.labels"


class Ledger:
    """Collects rows of one shard in preallocated columns and writes them as Parquet parts.

    Parts hold plain integer codes (delta-encoded, compressed): cheap to write and small.
    The labels of the coded columns are stored in each part's metadata; the DuckDB view
    ``ledger`` shows them as text, with -1 as NULL.
    """

    def __init__(
        self,
        fraction: float,
        shard: int,
        citizens: range,
        folder: Path | None,
        names: dict[str, list[str]],
    ):
        """``citizens``: the shard's global citizen ids; ``names``: the regime's ``sources``,
        ``rules``, ``sanctions`` and ``privileges``."""
        self.fraction = fraction
        self.shard = shard
        self.folder = folder
        self.labels = {"kind": list(KINDS)}
        self.labels.update({k: list(names[k + "s"]) for k in LABELLED[1:]})
        self.columns = dict(COLUMNS)
        for k in LABELLED[1:]:
            self.columns[k] = code_dtype(len(self.labels[k]), COLUMNS[k])
        self.seq = 0
        self.parts = 0
        self.written: list[tuple[str, int]] = []  # (part file name, rows) in order
        self.rows = 0
        self.bytes = 0
        self.write_seconds = 0.0  # encoding and writing parts (in the writer thread)
        self._cols: dict[str, np.ndarray] | None = None
        self._spare: dict[str, np.ndarray] | None = None
        self._writer = None
        self._inflight = None
        self._offset = citizens.start
        self._kept = None  # in sample mode, one bit per citizen of the shard: is it kept
        if 0.0 < fraction < 1.0:
            ids = np.arange(citizens.start, citizens.stop, dtype=np.int64)
            self._kept = np.packbits(citizen_hash(ids) < fraction, bitorder="little")
        self._pending = 0
        if self.active and folder is not None:
            # the first Arrow table imports pandas and pyarrow.parquet: done now, before the
            # day loop, so that the phase timings hold only the ledger's own work
            import pyarrow.parquet  # noqa: F401

            self.table()

    @property
    def active(self) -> bool:
        return self.fraction > 0.0

    def keep(self, citizen: np.ndarray) -> np.ndarray:
        """Which of these global citizen ids are ledgered."""
        if self.fraction >= 1.0:
            return np.ones(citizen.size, dtype=bool)
        local = citizen - self._offset
        return ((self._kept[local >> 3] >> (local & 7).astype(np.uint8)) & 1).astype(bool)

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
        misattributed=False,
        cause=-1,
        other=-1,
    ) -> np.ndarray:
        """Append rows (arrays or scalars, broadcast to ``citizen``); return their ids.

        ``before`` is the score before the row; the score after it is ``before + delta``.
        """
        n = citizen.size
        first = (self.shard << ROW_BITS) + self.seq
        ids = np.arange(first, first + n, dtype=np.int64)
        self.seq += n
        if n == 0 or not self.active:
            return ids
        values = {
            "id": ids,
            "day": day,
            "citizen": citizen,
            "kind": KINDS.index(kind),
            "source": source,
            "rule": rule,
            "sanction": sanction,
            "privilege": privilege,
            "delta": delta,
            "score_before": before,
            "misattributed": misattributed,
            "cause": cause,
            "other": other,
        }
        if self.fraction < 1.0:
            keep = np.flatnonzero(self.keep(citizen))
            if keep.size == 0:
                return ids
            values = {
                k: (v[keep] if isinstance(v, np.ndarray) and v.ndim else v)
                for k, v in values.items()
            }
            n = keep.size
        done = 0
        while done < n:  # in pieces of at most the room left before a flush
            if self._cols is None:
                self._cols = {c: np.empty(FLUSH_ROWS, dtype=t) for c, t in self.columns.items()}
            room = min(n - done, FLUSH_ROWS - self._pending)
            at, to = self._pending, self._pending + room
            for c, v in values.items():
                if isinstance(v, np.ndarray) and v.ndim:
                    self._cols[c][at:to] = v[done : done + room]
                else:
                    self._cols[c][at:to] = v
            self._pending = to
            done += room
            if self._pending >= FLUSH_ROWS:
                self.flush()
        return ids

    def table(self):
        """The pending rows as an Arrow table of codes, with the labels in its metadata."""
        import json

        import pyarrow as pa

        cols = {c: a[: self._pending] for c, a in (self._cols or {}).items()}
        if not cols:
            cols = {c: np.empty(0, dtype=t) for c, t in self.columns.items()}
        meta = {LABELS_KEY: json.dumps(self.labels).encode()}
        return pa.table(cols).replace_schema_metadata(meta)

    def flush(self) -> None:
        """Hand the pending rows to the writer thread: one Parquet part, written atomically.

        At most one part is in flight; its buffers become the next pending rows' buffers once
        it is written. The encoding runs beside the day loop (pyarrow releases the GIL).
        """
        if not self._pending:
            return
        self._wait()
        table = self.table()
        self.rows += table.num_rows
        if self.folder is not None:
            self.folder.mkdir(parents=True, exist_ok=True)
            path = self.folder / f"shard-{self.shard:05d}-part-{self.parts:04d}.parquet"
            self.parts += 1
            self.written.append((path.name, table.num_rows))
            if self._writer is None:
                from concurrent.futures import ThreadPoolExecutor

                self._writer = ThreadPoolExecutor(1, thread_name_prefix="credsim-ledger")
            self._inflight = self._writer.submit(_write_part, table, path)
            self._cols, self._spare = self._spare, self._cols
        self._pending = 0

    def close(self) -> None:
        """Write what is pending and wait until every part is on disk."""
        try:
            self.flush()
            self._wait()
        finally:
            if self._writer is not None:
                self._writer.shutdown(wait=True)
                self._writer = None

    def discard(self) -> None:
        """Stop without writing what is pending (the shard failed); errors are not raised."""
        self._pending = 0
        if self._writer is not None:
            self._writer.shutdown(wait=True)
            self._writer = None
        self._inflight = None

    def _wait(self) -> None:
        if self._inflight is not None:
            future, self._inflight = self._inflight, None
            size, seconds = future.result()  # a failed write raises here
            self.bytes += size
            self.write_seconds += seconds


def _write_part(table, path: Path) -> tuple[int, float]:
    """Encode and write one part to a temporary name, then rename it; (bytes, seconds)."""
    import pyarrow.parquet as pq

    from credsim.files import atomic_path

    t0 = time.perf_counter()
    with atomic_path(path) as tmp:
        pq.write_table(
            table,
            tmp,
            compression="zstd",
            use_dictionary=False,
            write_statistics=["day", "citizen", "kind"],
            column_encoding={c: "DELTA_BINARY_PACKED" for c in COLUMNS if c != "misattributed"},
        )
    return path.stat().st_size, time.perf_counter() - t0


def labels(part: Path) -> dict[str, list[str]]:
    """The labels of the coded columns, read from a ledger part's metadata."""
    import json

    import pyarrow.parquet as pq

    meta = pq.read_schema(part).metadata or {}
    found = json.loads(meta[LABELS_KEY]) if LABELS_KEY in meta else {}
    if not isinstance(found, dict) or any(not isinstance(found.get(c), list) for c in LABELLED):
        raise ValueError(f"{part}: not a credsim ledger part (no labels in its metadata)")
    return found
