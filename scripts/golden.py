"""The golden baseline: a digest of each preset's metrics at a fixed size and seed.

    python scripts/golden.py           # rewrite tests/golden/<preset>.json on purpose
    python scripts/golden.py --check   # exit 1 and name the presets whose figures moved

A change that is meant to leave every figure as it is (an optimisation, a refactoring) must
leave these digests as they are; ``tests/test_golden.py`` checks them. A change that moves
figures on purpose rewrites them with this script, and its commit says why.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "golden"
POPULATION, DAYS, SEED = 20_000, 365, 1
SHOWN = ("restricted", "ever_sanctioned", "wrongful", "spillover_only", "misattributed_records")


def digest(frame) -> str:
    """sha256 of a table: column names, dtypes and every value (by value, not by address)."""
    import pandas as pd

    h = hashlib.sha256()
    for name in frame.columns:
        h.update(f"{name}:{frame[name].dtype}".encode())
        h.update(pd.util.hash_pandas_object(frame[name], index=False).to_numpy().tobytes())
    return h.hexdigest()


def measure(preset: str) -> dict:
    """Run ``preset`` at the golden size and seed; its digests and a few headline figures."""
    from credsim.sim import Sim

    with tempfile.TemporaryDirectory(prefix="credsim-golden-") as d:
        run = Sim(preset, POPULATION, DAYS, SEED, out=Path(d) / "run", workers=1).run()
        metrics = run.metrics
        groups = __import__("pandas").read_parquet(run.path / "metrics_groups.parquet")
        ledger = run.query("SELECT * FROM ledger ORDER BY id")
        citizens = run.query("SELECT * FROM citizens ORDER BY citizen")
        return {
            "preset": preset,
            "population": POPULATION,
            "days": DAYS,
            "seed": SEED,
            "metrics_sha256": digest(metrics),
            "groups_sha256": digest(groups),
            "ledger_sha256": digest(ledger),
            "ledger_rows": len(ledger),
            "citizens_sha256": digest(citizens),
            "headline": {k: run.summary[k] for k in SHOWN if k in run.summary},
        }


def presets() -> list[str]:
    """Every shipped preset, by name."""
    from credsim.regime.load import presets as _presets

    return sorted(_presets())


def main() -> int:
    """Write (or with --check, compare) the golden files."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="compare, write nothing")
    ap.add_argument("presets", nargs="*", help="presets to measure (default: all)")
    args = ap.parse_args()
    moved = []
    for preset in args.presets or presets():
        now = measure(preset)
        path = GOLDEN / f"{preset}.json"
        if args.check:
            old = json.loads(path.read_text()) if path.exists() else None
            if old != now:
                moved.append(preset)
                print(f"{preset}: moved", file=sys.stderr)
        else:
            GOLDEN.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(now, indent=2) + "\n")
            print(f"{path.relative_to(ROOT)}: {now['metrics_sha256'][:16]} {now['headline']}")
    return 1 if moved else 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
