"""Write the outputs shown in the documentation from real runs, in place, between markers.

    python scripts/docs_outputs.py            # rewrite every output block
    python scripts/docs_outputs.py --check    # exit 1 and name the stale blocks

An output block is a text block between ``<!-- credsim-output: NAME -->`` and
``<!-- /credsim-output -->``; NAME is one of ``OUTPUTS`` below, a function that runs the
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


OUTPUTS: dict[str, Callable[[], str]] = {
    "presets": presets,
    "first-run": first_run,
    "dossier": dossier,
    "replicates-run": replicates_run,
    "apologies-accepted": lambda: example("apologies_accepted"),
    "camera-errors": lambda: example("camera_errors_by_group"),
    "press-vs-national": lambda: example("press_vs_national"),
    "whole-country": lambda: example("whole_country"),
    "one-listing-chills": lambda: example("one_listing_chills"),
}


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
        return m.group(1) + fence(outputs[name]) + m.group(4)

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
