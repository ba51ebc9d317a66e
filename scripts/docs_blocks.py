"""Run the shell, SQL and Python blocks of the documentation pages, in order, page by page.

A page is a sequence: its blocks run one after another in one temporary folder, so a later
block may read a run folder an earlier block wrote. Blocks in other languages (text, toml)
are not run: text blocks that show output are written by ``scripts/docs_outputs.py``.

An HTML comment just above a block changes how it runs:

    <!-- credsim-docs: population=2000 days=60 -->     run at a reduced size
    <!-- credsim-docs: replicates=1 trials=2 -->        any option of a credsim command
    <!-- credsim-docs: run=runs/errors -->              the run folder an SQL block queries
    <!-- credsim-docs: skip="installs credsim" -->      not run, for the reason given

Size options replace the values of ``--population``/``-n``, ``--days``/``-d`` (and any other
named option) in every ``credsim`` command of a shell block, and are added to ``credsim run``,
``sweep`` and ``calibrate`` commands that do not give them. In a Python block they replace
``population=...`` and ``days=...`` arguments, and set ``CREDSIM_EXAMPLE_POPULATION`` and
``CREDSIM_EXAMPLE_DAYS`` for the examples a block runs.

``credsim ...`` and ``python -m ...`` commands run in this process, through the console
script's own entry point (``credsim.cli.main``) with the same arguments, so that a page does
not pay Python's start-up for every command; any other command runs in ``bash``. An SQL block
runs with ``credsim.Run(folder).query``, on the ``run=`` folder or else the run folder written
last. ``--8<-- "path"`` lines (snippets) are replaced by the file they name.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import runpy
import shlex
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGES = (
    "README.md",
    "docs/getting-started.md",
    "docs/classroom.md",
    *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "docs/tutorials").glob("*.md")),
)
LANGUAGES = {
    "bash": "shell",
    "sh": "shell",
    "shell": "shell",
    "console": "shell",
    "sql": "sql",
    "python": "python",
    "py": "python",
}
MARKER = re.compile(r"^\s*<!--\s*credsim-docs:(.*?)-->\s*$")
FENCE = re.compile(r"^(\s*)(`{3,})\s*([\w+-]*)")
SNIPPET = re.compile(r'^(\s*)--8<--\s+"([^"]+)"\s*$')
SHORT = {"population": "-n", "days": "-d", "seed": "-s", "out": "-o", "replicates": "-r"}
ADDED = {"population": {"run", "sweep", "calibrate"}, "days": {"run", "sweep"}}


@dataclass
class Block:
    """One fenced block of a page: where it starts, its language and its marker options."""

    page: str
    line: int
    language: str
    code: str
    options: dict[str, str] = field(default_factory=dict)

    @property
    def kind(self) -> str | None:
        """``shell``, ``sql``, ``python``, or None for a block that is not run."""
        return LANGUAGES.get(self.language)

    @property
    def skip(self) -> str | None:
        """The stated reason a block is not run, if it is marked so."""
        return self.options.get("skip")

    def __str__(self) -> str:
        return f"{self.page}:{self.line} ({self.language})"


def parse_options(text: str) -> dict[str, str]:
    """``key=value`` pairs of a marker (values may be quoted)."""
    options = {}
    for item in shlex.split(text):
        key, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"credsim-docs marker: '{item}' is not KEY=VALUE")
        options[key.strip()] = value
    return options


def blocks(page: str, text: str | None = None) -> list[Block]:
    """The fenced blocks of a page, in order, with the options of the markers above them."""
    if text is None:
        text = (ROOT / page).read_text("utf-8")
    lines = text.splitlines()
    found: list[Block] = []
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, ticks, language = m.groups()
        start = i
        body = []
        i += 1
        while i < len(lines) and not lines[i].strip().startswith(ticks):
            line = lines[i]
            body.append(line[len(indent) :] if line.startswith(indent) else line.lstrip())
            i += 1
        options: dict[str, str] = {}
        j = start - 1
        while j >= 0 and (not lines[j].strip() or lines[j].lstrip().startswith("<!--")):
            marker = MARKER.match(lines[j])
            if marker:
                options = {**parse_options(marker.group(1)), **options}
            j -= 1
        found.append(Block(page, start + 1, language.lower(), "\n".join(body) + "\n", options))
        i += 1
    return found


def expand_snippets(code: str) -> str:
    """Replace ``--8<-- "path"`` lines by the file they name (relative to the repository)."""

    def one(m: re.Match) -> str:
        return (ROOT / m.group(2)).read_text("utf-8")

    return SNIPPET.sub(one, code) if "--8<--" in code else code


def shell_commands(code: str) -> Iterator[list[str]]:
    """Each command of a shell block as arguments: continuations and quotes across lines
    joined, ``&&`` split."""
    text = re.sub(r"\\\n", " ", code)
    pending = ""
    for line in text.splitlines():
        pending = f"{pending}\n{line}" if pending else line
        try:
            words = shlex.split(pending, comments=True)
        except ValueError:  # a quotation that goes on over the next line
            continue
        pending = ""
        command: list[str] = []
        for word in words:
            if word == "&&":
                if command:
                    yield command
                command = []
            else:
                command.append(word)
        if command:
            yield command
    if pending:
        raise ValueError(f"a quotation is not closed: {pending!r}")


def reduce_command(argv: list[str], options: dict[str, str]) -> list[str]:
    """A credsim command with the marker's option values put in place or added."""
    argv = list(argv)
    sub = argv[1] if len(argv) > 1 else ""
    for key, value in options.items():
        if key in ("skip", "run"):
            continue
        names = {f"--{key}", SHORT.get(key, f"--{key}")}
        at = [k for k, a in enumerate(argv) if a in names]
        for k in at:
            argv[k + 1] = value
        if not at and sub in ADDED.get(key, ()) and "--resume" not in argv:
            argv += [f"--{key}", value]
    return argv


def reduce_python(code: str, options: dict[str, str]) -> str:
    """A Python block with ``population=`` and ``days=`` arguments set to the marker's values."""
    for key in ("population", "days"):
        if key in options:
            code = re.sub(rf"\b{key}=[\d_]+", f"{key}={options[key]}", code)
    return code


@contextlib.contextmanager
def environ(values: dict[str, str]) -> Iterator[None]:
    """Set environment variables for the duration of a block."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def run_credsim(argv: list[str]) -> int:
    """Run ``credsim ARGS`` through the console script's entry point; its exit status."""
    from credsim.cli import main

    saved = sys.argv
    sys.argv = ["credsim", *argv[1:]]
    try:
        main()
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    finally:
        sys.argv = saved
    return 0


def run_module(argv: list[str]) -> int:
    """Run ``python -m MODULE ARGS`` in this process; its exit status."""
    saved = sys.argv
    sys.argv = [argv[2], *argv[3:]]
    try:
        runpy.run_module(argv[2], run_name="__main__", alter_sys=False)
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    finally:
        sys.argv = saved
    return 0


def latest_run(folder: Path) -> Path:
    """The run folder written last under ``folder`` (the newest ``manifest.json``)."""
    manifests = sorted(folder.rglob("manifest.json"), key=lambda p: p.stat().st_mtime_ns)
    if not manifests:
        raise RuntimeError("an SQL block needs a run folder, and no earlier block made one")
    return manifests[-1].parent


class BlockFailed(AssertionError):
    """A documentation block did not run as written."""


def run_block(block: Block, folder: Path, namespace: dict) -> str:
    """Run one block in ``folder``; its printed output. Raises BlockFailed on failure."""
    options = block.options
    sizes = {
        f"CREDSIM_EXAMPLE_{k.upper()}": options[k] for k in ("population", "days") if k in options
    }
    out = io.StringIO()
    with environ(sizes), contextlib.redirect_stdout(out):
        if block.kind == "shell":
            for argv in shell_commands(block.code):
                if argv[0] == "credsim":
                    argv = reduce_command(argv, options)
                    status = run_credsim(argv)
                elif argv[:2] == ["python", "-m"]:
                    status = run_module(argv)
                else:
                    done = subprocess.run(
                        shlex.join(argv), shell=True, cwd=folder, capture_output=True, text=True
                    )
                    print(done.stdout, end="")
                    status = done.returncode
                if status != 0:
                    raise BlockFailed(f"{block}: `{shlex.join(argv)}` exited with {status}")
        elif block.kind == "sql":
            import credsim

            where = Path(options["run"]) if "run" in options else latest_run(folder)
            try:
                print(credsim.Run(folder / where).query(block.code).to_string())
            except Exception as e:  # the query as written fails: say where
                raise BlockFailed(f"{block}: {type(e).__name__}: {e}") from e
        elif block.kind == "python":
            code = reduce_python(expand_snippets(block.code), options)
            snippet = SNIPPET.match(block.code.strip())
            if snippet:  # a whole file: run as that file, in a namespace of its own
                namespace = {"__name__": "__main__", "__file__": str(ROOT / snippet.group(2))}
            try:
                exec(compile(code, str(block), "exec"), namespace)
            except Exception as e:
                raise BlockFailed(f"{block}: {type(e).__name__}: {e}") from e
    return out.getvalue()


def run_page(page: str, folder: Path) -> list[tuple[Block, str]]:
    """Run a page's blocks in order in ``folder``; (block, what happened) for each."""
    namespace: dict = {"__name__": "__main__"}
    done = []
    here = Path.cwd()
    os.chdir(folder)
    try:
        for block in blocks(page):
            if block.kind is None:
                continue
            if block.skip:
                done.append((block, f"skipped: {block.skip}"))
                continue
            run_block(block, folder, namespace)
            done.append((block, "ran"))
    finally:
        os.chdir(here)
    return done


if __name__ == "__main__":
    import tempfile

    for name in sys.argv[1:] or PAGES:
        with tempfile.TemporaryDirectory() as tmp:
            for block, what in run_page(name, Path(tmp)):
                print(f"{block}: {what}", file=sys.stderr)
