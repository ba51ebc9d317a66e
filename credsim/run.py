"""The run folder: manifest, resolved regime, metrics, citizens, ledger; written atomically.

A run folder is the one thing reports, the dashboard and ``explain`` read. ``Run`` opens one.
"""

from __future__ import annotations

import json
import os
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from credsim.files import write_atomic, write_table  # noqa: F401 (re-exported)
from credsim.metrics import GROUP_METRICS, ShardMetrics, columns, dimension_labels

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
# every entry a run writes into its folder (besides its lock file)
RUN_FILES = (
    "manifest.json",
    "regime.toml",
    "metrics.parquet",
    "metrics_groups.parquet",
    "citizens.parquet",
    "ledger",
    "parts",
    "report.html",
    "replicates",
)
MAX_MANIFEST_BYTES = 64 << 20


class RunFolderError(ValueError):
    """A run folder that cannot be used as asked; the message is one line naming it."""


def platform_info() -> dict[str, Any]:
    """Versions and machine, for the manifest."""
    return {
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "machine": platform.machine(),
        "system": platform.platform(),
        "cpus": os.cpu_count(),
    }


def now() -> str:
    """The current UTC time, ISO 8601."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def start_manifest(folder: Path, regime: Any, fields: dict[str, Any]) -> dict[str, Any]:
    """Write the resolved regime and a first manifest (status incomplete) into ``folder``:
    version, regime name and hash, then ``fields``, then status, start time and platform.
    Returns the manifest."""
    from credsim import __version__
    from credsim.regime.load import dump_regime, regime_hash

    manifest = {
        "credsim": __version__,
        "regime": regime.regime.name,
        "regime_hash": regime_hash(regime),
        **fields,
        "status": "incomplete",
        "started": now(),
        "platform": platform_info(),
    }
    write_atomic(folder / "regime.toml", dump_regime(regime))
    write_atomic(folder / "manifest.json", json.dumps(manifest, indent=2))
    return manifest


def metrics_frame(c, m: ShardMetrics):
    """One row per day: every count, plus the score mean and quantiles from the histogram."""
    import pandas as pd

    levels, flows = columns(c)
    df = pd.DataFrame(m.rows, columns=levels + flows)
    df.insert(0, "day", np.arange(len(df), dtype=np.int32))
    n = df["citizens"].to_numpy()
    df["score_mean"] = df["score_sum"] / np.maximum(n, 1)
    width = -(-(c.score_max - c.score_min + 1) // m.hist.shape[1])
    cum = np.cumsum(m.hist, axis=1)
    for q in QUANTILES:
        idx = (cum < (q * n)[:, None]).sum(axis=1)
        df[f"score_p{int(q * 100):02d}"] = c.score_min + idx * width
    for p in c.privileges:
        df[f"denied_{p}_cumulative"] = df[f"denied_{p}"].cumsum()
    return df


def groups_frame(c, m: ShardMetrics):
    """Long table: day, dimension, group, population and each group metric."""
    import pandas as pd

    labels = dimension_labels(c)
    days, _, slots = m.groups.shape
    day = np.repeat(np.arange(days), slots)
    data = {
        "day": day.astype(np.int32),
        "dimension": np.tile([d for d, _ in labels], days),
        "group": np.tile([g for _, g in labels], days),
        "population": np.tile(m.group_population, days),
    }
    for j, name in enumerate(GROUP_METRICS):
        data[name] = m.groups[:, j, :].ravel()
    return pd.DataFrame(data)


def headline(df, c) -> dict[str, Any]:
    """The figures a reader asks first (declared by the components, ``credsim.figures``)."""
    from credsim.figures import headline as declared

    return declared(df, c)


class Run:
    """A finished (or interrupted) run, read from its folder."""

    def __init__(self, path: str | Path):
        from credsim.files import FileProblem, read_bounded

        self.path = Path(path)
        mf = self.path / "manifest.json"
        if not self.path.is_dir():
            raise FileNotFoundError(f"{self.path}: no such run folder")
        if not mf.exists():
            raise FileNotFoundError(f"{self.path}: not a credsim run folder (no manifest.json)")
        try:
            self.manifest = json.loads(read_bounded(mf, MAX_MANIFEST_BYTES, "manifest"))
        except FileProblem as e:
            raise RunFolderError(str(e)) from None
        except ValueError as e:
            raise RunFolderError(f"{mf}: not a valid manifest ({e})") from None
        if not isinstance(self.manifest, dict):
            raise RunFolderError(f"{mf}: not a valid manifest (not a JSON object)")
        for key, kind in (("population", int), ("days", int), ("seed", int), ("status", str)):
            if key not in self.manifest:
                continue  # readers say what they miss; resume requires every key
            value = self.manifest[key]
            if not isinstance(value, kind) or isinstance(value, bool):
                raise RunFolderError(f"{mf}: {key}: missing or not a valid value ({value!r})")
        self._metrics = None
        self._groups = None

    def problems(self) -> list[tuple[bool, str]]:
        """What is wrong with the folder against its manifest, as ``(damaged, line)``.

        Damaged: a file the manifest lists that is missing or of another size. Warnings: an
        incomplete run, a ledger part the manifest does not list (it is not read).
        """
        out: list[tuple[bool, str]] = []
        if not self.complete:
            out.append(
                (
                    False,
                    f"{self.path}: the run is {self.manifest.get('status')} (interrupted?): "
                    "its figures cover only the shards that finished; continue it with "
                    f"credsim run --resume {self.path}",
                )
            )
            return out
        files = self.manifest.get("files")
        if not isinstance(files, dict):
            return out  # written by a credsim that did not record its files
        for name, rec in files.items():
            p = self.path / name
            if not p.is_file():
                out.append((True, f"{p}: missing (the manifest lists it); the folder is damaged"))
            elif isinstance(rec, dict) and p.stat().st_size != rec.get("bytes"):
                out.append((True, f"{p}: size differs from the manifest's; the folder is damaged"))
        ledger = self.path / "ledger"
        if ledger.is_dir():
            for p in sorted(ledger.iterdir()):
                if f"ledger/{p.name}" not in files:
                    out.append((False, f"{p}: not part of this run (not in the manifest); ignored"))
        return out

    def read_table(self, name: str):
        """A table file of the run as a DataFrame; one clear line if it is missing or torn."""
        import pandas as pd

        p = self.table_path(name)
        try:
            return pd.read_parquet(p)
        except Exception as e:  # pyarrow raises several kinds for a torn or foreign file
            msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise RunFolderError(f"{p}: not a readable Parquet table ({msg})") from None

    def ledger_parts(self) -> list[Path]:
        """The ledger's part files: those the manifest lists when it lists them."""
        folder = self.path / "ledger"
        files = self.manifest.get("files")
        if isinstance(files, dict):
            parts = [self.path / k for k in files if k.startswith("ledger/")]
            return sorted(p for p in parts if p.is_file())
        return sorted(folder.glob("*.parquet")) if folder.is_dir() else []

    def table_path(self, name: str) -> Path:
        """A table file of the run; one clear line if it is missing."""
        p = self.path / name
        if not p.is_file():
            raise RunFolderError(f"{p}: missing; the run folder is incomplete or damaged")
        return p

    def __repr__(self) -> str:
        m = self.manifest
        return (
            f"Run({str(self.path)!r}, regime={m['regime']}, population={m['population']}, "
            f"days={m['days']}, seed={m['seed']}, status={m['status']})"
        )

    @property
    def complete(self) -> bool:
        return self.manifest.get("status") == "complete"

    @property
    def metrics(self):
        """Per-day metrics as a pandas DataFrame."""
        if self._metrics is None:
            self._metrics = self.read_table("metrics.parquet")
        return self._metrics

    @property
    def groups(self):
        """Per-day metrics by group (sex, age band, region, province, group), read once."""
        if self._groups is None:
            self._groups = self.read_table("metrics_groups.parquet")
        return self._groups

    @property
    def citizens(self):
        """Final state of the citizens (or of the sample kept), as a DataFrame."""
        return self.read_table("citizens.parquet")

    def regime(self):
        from credsim.regime.load import load_regime

        return load_regime(self.path / "regime.toml")

    @property
    def summary(self) -> dict[str, Any]:
        """The headline figures; of a replicated run, their means over the replicates."""
        return self.manifest.get("headline", {})

    @property
    def replicated(self) -> bool:
        """Whether this folder holds several replicates (``credsim run --replicates R``)."""
        return isinstance(self.manifest.get("replicates"), int) and bool(
            self.manifest.get("replicate_folders")
        )

    @property
    def seeds(self) -> list[int]:
        """The seed of each replicate (one seed for a plain run)."""
        return list(self.manifest.get("seeds") or [self.manifest.get("seed")])

    @property
    def replicates(self) -> list[Run]:
        """The replicates' own run folders, in seed order (``[self]`` for a plain run)."""
        if not self.replicated:
            return [self]
        return [Run(self.path / f) for f in self.manifest["replicate_folders"]]

    def replicate(self, k: int = 1) -> Run:
        """Replicate ``k`` (1 = the first seed); a plain run is its own replicate 1."""
        reps = self.replicates
        if not 1 <= k <= len(reps):
            raise ValueError(f"{self.path}: no replicate {k} (this run has {len(reps)})")
        return reps[k - 1]

    @property
    def summaries(self) -> list[dict[str, Any]]:
        """The headline figures of each replicate."""
        return [r.summary for r in self.replicates]

    @property
    def intervals(self) -> dict[str, dict[str, Any]]:
        """Per headline figure: mean, 95% t interval over replicates (ci_low, ci_high), sd.

        A plain run has no interval: its bounds are None.
        """
        if self.replicated:
            return self.manifest.get("intervals", {})
        return {
            k: {"mean": v, "ci_low": None, "ci_high": None, "sd": None, "replicates": 1}
            for k, v in self.summary.items()
            if isinstance(v, int | float)
        }

    def ledger(self, sql: str | None = None):
        """The ledger as a DataFrame (optionally filtered by a DuckDB WHERE clause)."""
        from credsim.query import query

        where = f" WHERE {sql}" if sql else ""
        return query(self.path, f"SELECT * FROM ledger{where} ORDER BY id")

    def query(self, sql: str, replicate: int = 1):
        """DuckDB SQL over the views ``metrics``, ``groups``, ``citizens`` and ``ledger``.

        Of a replicated run, over one replicate's tables (the first by default).
        """
        from credsim.query import query

        return query(self.replicate(replicate).path, sql)

    def plot(self, chart: str = "wrongful"):
        """One of the report's charts as a plotly figure (``score``, ``tiers``, ``sanctions``,
        ``denied``, ``wrongful``, ``burden-group``, ``adaptation``, ...)."""
        from credsim.report import charts
        from credsim.report.charts import to_plotly

        found = {c.name: c for c in charts(self)}
        if chart not in found:
            raise KeyError(f"no chart {chart!r}; charts: {', '.join(found)}")
        return to_plotly(found[chart])

    def report(self, png_dir: str | Path | None = None) -> Path:
        """Write report.html (and PNG figures if asked); return its path."""
        from credsim.report import write_report

        return write_report(self, png_dir=Path(png_dir) if png_dir else None)

    def explain(self, citizen: int, replicate: int = 1) -> dict[str, Any]:
        """One citizen's dossier: attributes, household, timeline, sanctions and why.

        Of a replicated run, from one replicate (the first by default); the dossier says which.
        """
        from credsim.explain import dossier

        return dossier(self, citizen, replicate)
