"""Write the outputs shown in the documentation from real runs, in place, between markers.

    python scripts/docs_outputs.py            # rewrite every output block
    python scripts/docs_outputs.py --check    # exit 1 and name the stale blocks

An output block is a text block (a Markdown table for the names in ``MARKDOWN``) between
``<!-- credsim-output: NAME -->`` and ``<!-- /credsim-output -->``; NAME is one of ``OUTPUTS``
below, a function that runs the
command or example the page describes, at the size and seed the page states, and returns what
it prints. When the model changes, this one command brings every shown output up to date;
the test suite fails while a page differs from what it would write. Durations (the time a run
took) differ from one run to the next: they are written as measured, and not compared.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from docs_blocks import ROOT, environ, run_credsim  # noqa: E402

BLOCK = re.compile(
    r"(<!-- credsim-output: (?P<name>[\w-]+) -->\n)(?P<body>.*?)(<!-- /credsim-output -->)",
    re.S,
)
DURATION = re.compile(r"\b\d+(\.\d+)? s\b")


def captured(function: Callable[[], object]) -> str:
    """What ``function`` prints, at a fixed terminal width."""
    out = io.StringIO()
    with environ({"COLUMNS": "80", "TERM": "dumb"}), contextlib.redirect_stdout(out):
        function()
    return out.getvalue()


def credsim(*args: str) -> str:
    """What ``credsim ARGS`` prints (the console script's entry point, in this process)."""

    def one() -> None:
        status = run_credsim(["credsim", *args])
        if status != 0:
            raise RuntimeError(f"credsim {' '.join(args)} exited with {status}")

    return captured(one)


def example(name: str) -> str:
    """What ``python -m credsim.examples.NAME.run`` prints, at its default size."""
    import importlib

    module = importlib.import_module(f"credsim.examples.{name}.run")
    return captured(module.main)


def presets() -> str:
    """README: the shipped presets."""
    return "$ credsim presets\n" + credsim("presets")


def first_run() -> str:
    """Getting started: the default ``credsim run`` (press, 1,000,000 citizens, a year)."""
    return credsim("run")


def dossier() -> str:
    """How many are restricted, and why: citizen 10606 of the 100,000-citizen press run (on
    the blacklist after critical posts, two children restricted through the listing)."""
    credsim("run", "press", "--population", "100000", "--out", "runs/press")
    return credsim("explain", "runs/press", "10606")


def replicates_run() -> str:
    """Comparing regimes: three replicates of the press regime at 20,000 citizens."""
    return credsim(
        "run",
        "press",
        "--population",
        "20000",
        "--replicates",
        "3",
        "--out",
        "runs/press-r3",
        "--no-report",
    )


def threshold_jaywalking() -> str:
    """What would have to be true: the jaywalking deduction at which 1 in 100,000 citizens
    with no other record is blacklisted within a year (three replicates, bounds given)."""
    args = ["threshold", "press", "--figure", "ever_sanctioned", "--target", "1"]
    args += ["--vary", "rules.jaywalking.delta", "--lo", "-300", "--hi", "-5"]
    args += ["-n", "100000", "-d", "365", "--replicates", "3"]
    for path in NO_OTHER_RECORD:
        args += ["--set", path]
    return credsim(*args)


# the tutorial's regime "with no other record": every other rule's points at 0, no debts
NO_OTHER_RECORD = (
    "rules.smoking_in_nonsmoking_area.delta=0",
    "rules.critical_post.delta=0",
    "rules.buy_domestic.delta=0",
    "rules.fare_evasion.delta=0",
    "rules.workplace_violation.delta=0",
    "rules.school_violation.delta=0",
    "rules.good_deed.delta=0",
    "behaviours.debt_default.rate=0",
)


def inert(preset: str) -> Callable[[], str]:
    """Presets page: the preset's inert parameters, as measured by benchmarks/liveness.py
    (read from benchmarks/liveness.json) with their reasons from docs/inert.toml."""

    def table() -> str:
        from credsim.experiments.liveness import inert_table

        return inert_table(preset, ROOT / "benchmarks" / "liveness.json")

    return table


def _num(v: float | None, digits: int = 3) -> str:
    return "undefined" if v is None else f"{v:.{digits}g}"


def sensitivity_morris() -> str:
    """Sensitivity page: the Morris ranking recorded by scripts/sensitivity.py."""
    import json

    data = json.loads((ROOT / "docs" / "sensitivity.json").read_text("utf-8"))
    lines = [
        f"Morris screening, {data['trajectories']} trajectories ({data['morris_runs']} runs) "
        f"of {data['population']:,} citizens over {data['days']} days, seed {data['seed']}: "
        "mu* is the mean absolute change of the figure when the parameter moves across its "
        "range (in the figure's unit), ± its 95% half-width (bootstrap over the trajectories); "
        "sigma is the spread of those changes.",
        "",
        "| figure (unit, window) | rank | parameter | range | mu* | ± | sigma |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for output, result in data["morris"].items():
        if result["min"] == result["max"]:
            lines.append(f"| {FIGURES[output]} | | {CONSTANT.format(**result)} | | | | |")
            continue
        for i, r in enumerate(result["rows"], 1):
            lines.append(
                f"| {FIGURES[output]} | {i} | `{r['parameter']}` | {r['lo']} to {r['hi']} | "
                f"{_num(r['mu_star'])} | {_num(r['mu_star_conf'])} | {_num(r['sigma'])} |"
            )
    return "\n".join(lines) + "\n"


def sensitivity_sobol() -> str:
    """Sensitivity page: the Sobol' indices recorded by scripts/sensitivity.py."""
    import json

    data = json.loads((ROOT / "docs" / "sensitivity.json").read_text("utf-8"))
    lines = [
        f"Sobol' indices of the {len(data['chosen'])} parameters the screening ranks first, "
        f"{data['sobol_n']} base samples ({data['sobol_runs']} runs), same size and seed: S1 "
        "is the share of the figure's variance over the design due to the parameter alone, ST "
        "with its interactions, each ± its 95% half-width (bootstrap).",
        "",
        "| figure (unit, window) | parameter | range | S1 | ± | ST | ± |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for output, result in data["sobol"].items():
        if result["min"] == result["max"]:
            lines.append(f"| {FIGURES[output]} | {CONSTANT.format(**result)} | | | | | |")
            continue
        for r in result["rows"]:
            lines.append(
                f"| {FIGURES[output]} | `{r['parameter']}` | {r['lo']} to {r['hi']} | "
                f"{_num(r['S1'], 2)} | {_num(r['S1_conf'], 2)} | {_num(r['ST'], 2)} | "
                f"{_num(r['ST_conf'], 2)} |"
            )
    return "\n".join(lines) + "\n"


CONSTANT = "{min:g} in every run: nothing to rank"
FIGURES = {
    "restricted": "`restricted` (citizens, last day)",
    "ever_wrongful": "`ever_wrongful` (citizens, whole run)",
    "posts_vs_baseline": "`posts_vs_baseline` (ratio, whole run)",
}


OUTPUTS: dict[str, Callable[[], str]] = {
    "presets": presets,
    "first-run": first_run,
    "dossier": dossier,
    "replicates-run": replicates_run,
    "apologies-accepted": lambda: example("apologies_accepted"),
    "camera-errors": lambda: example("camera_errors_by_group"),
    "press-vs-national": lambda: example("press_vs_national"),
    "whole-country": lambda: example("whole_country"),
    "threshold-jaywalking": threshold_jaywalking,
    "sensitivity-morris": sensitivity_morris,
    "sensitivity-sobol": sensitivity_sobol,
    **{
        f"inert-{p}": inert(p)
        for p in ("press", "national", "national-calibrated", "rongcheng", "ref1")
    },
}
# outputs that are Markdown (tables), put on the page as they are rather than as text blocks
MARKDOWN = {n for n in OUTPUTS if n.startswith(("inert-", "sensitivity-"))}


def pages() -> list[Path]:
    """Every page that may hold output blocks."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def names_in(text: str) -> list[str]:
    """The output blocks of a page, by name."""
    return [m.group("name") for m in BLOCK.finditer(text)]


def fence(output: str) -> str:
    """An output as a text block (no trailing spaces, one final newline)."""
    lines = [line.rstrip() for line in output.rstrip("\n").splitlines()]
    return "```text\n" + "\n".join(lines) + "\n```\n"


def fill(text: str, outputs: dict[str, str]) -> str:
    """A page with each output block replaced by ``outputs[name]``."""

    def one(m: re.Match) -> str:
        name = m.group("name")
        if name not in OUTPUTS:
            raise KeyError(f"unknown credsim-output block '{name}' (known: {', '.join(OUTPUTS)})")
        body = outputs[name].rstrip("\n") + "\n" if name in MARKDOWN else fence(outputs[name])
        return m.group(1) + body + m.group(4)

    return BLOCK.sub(one, text)


def normalised(text: str) -> str:
    """A page with the durations inside output blocks blanked, for comparison."""
    return BLOCK.sub(lambda m: DURATION.sub("<duration>", m.group(0)), text)


def generate(names: set[str] | None = None) -> dict[str, str]:
    """Run the commands behind the named outputs (all by default) in a temporary folder."""
    wanted = sorted(names if names is not None else OUTPUTS)
    here = Path.cwd()
    results = {}
    with tempfile.TemporaryDirectory(prefix="credsim-docs-") as tmp:
        os.chdir(tmp)
        try:
            for name in wanted:
                results[name] = OUTPUTS[name]()
        finally:
            os.chdir(here)
    return results


def main(argv: list[str]) -> int:
    """Rewrite (or with ``--check``, compare) every page's output blocks."""
    check = "--check" in argv
    texts = {p: p.read_text("utf-8") for p in pages()}
    needed = {n for t in texts.values() for n in names_in(t)}
    outputs = generate(needed)
    stale = []
    for path, text in texts.items():
        new = fill(text, outputs)
        if normalised(new) != normalised(text):
            stale.append(path.relative_to(ROOT))
            if not check:
                path.write_text(new, "utf-8")
    for path in stale:
        print(f"{path}: {'out of date' if check else 'rewritten'}")
    return 1 if check and stale else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
