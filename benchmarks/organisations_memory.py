"""What organisations add to a shard's memory, per citizen, at 1,000,000 citizens: the dense
state the day loop keeps (``Shard.core_bytes``) and the peak resident memory of a whole run,
national with and without its organisations.

python benchmarks/organisations_memory.py     # about a minute on two cores
"""

import copy
import json
import subprocess
import sys
import tomllib
from importlib import resources

N, DAYS = 1_000_000, 30

RUN = """
import json, resource, sys, tempfile
from pathlib import Path
from credsim.engine.compiled import Compiled
from credsim.engine.sampling import stream
from credsim.engine.shard import Shard
from credsim.ledger import Ledger
from credsim.population import Census, synthesize
from credsim.regime.schema import Regime
from credsim.sim import Sim
data, n, days = json.loads(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
if sys.argv[4] == "core":
    census = Census.from_facts()
    c = Compiled(Regime.model_validate(data), census.provinces, census.groups)
    pop = synthesize(n, stream(1, 0, "population"), census)
    names = {"sources": c.sources, "rules": c.ledger_rules, "sanctions": c.sanctions,
             "privileges": c.privileges}
    shard = Shard(c, pop, 1, 0, 0, days, Ledger(0.0, 0, range(n), None, names))
    print(json.dumps({"core": shard.core_bytes() / n}))
else:
    with tempfile.TemporaryDirectory() as d:
        Sim(data, n, days, 1, out=Path(d) / "r", workers=1, ledger="none").run()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"peak": peak / n}))
"""


def measure(data: dict, what: str) -> float:
    out = subprocess.run(
        [sys.executable, "-c", RUN, json.dumps(data), str(N), str(DAYS), what],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])[what]


def main() -> None:
    entry = resources.files("credsim.regime.presets").joinpath("national.toml")
    on = tomllib.loads(entry.read_text("utf-8"))
    off = copy.deepcopy(on)
    off.pop("organisations")
    off["sanctions"] = [s for s in off["sanctions"] if s["name"] != "entity_ban"]
    rows = {}
    for what in ("core", "peak"):
        runs = {
            name: sorted(measure(d, what) for _ in range(3))
            for name, d in (("off", off), ("on", on))
        }
        rows[what] = {k: v[1] for k, v in runs.items()}  # medians of 3
        print(
            f"{what:4s} bytes per citizen at {N:,}: without organisations {rows[what]['off']:.2f}, "
            f"with {rows[what]['on']:.2f}, added {rows[what]['on'] - rows[what]['off']:.2f} "
            "(medians of 3 runs)"
        )


if __name__ == "__main__":
    main()
