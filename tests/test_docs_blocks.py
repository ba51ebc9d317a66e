"""Every shell, SQL and Python block of the README, getting started and tutorials runs.

Each page runs as a sequence in a temporary folder, at the reduced size its markers give
(``scripts/docs_blocks.py``); the outputs the pages show are what ``scripts/docs_outputs.py``
writes from fresh runs.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SKIPS_AT_MOST = 12  # blocks that need an install, a server, a cluster or hours


def load(name: str):
    path = ROOT / "scripts" / f"{name}.py"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


blocks = load("docs_blocks")
outputs = load("docs_outputs")


@pytest.mark.parametrize("page", blocks.PAGES)
def test_every_block_of_the_page_runs_in_order(page, tmp_path):
    done = blocks.run_page(page, tmp_path)
    assert done, f"{page}: no shell, SQL or Python block"
    for block, what in done:
        assert what == "ran" or block.skip.strip(), f"{block}: skipped without a reason"


def test_few_blocks_are_skipped_and_each_says_why():
    skipped = [
        b for page in blocks.PAGES for b in blocks.blocks(page) if b.kind and b.skip is not None
    ]
    assert len(skipped) <= SKIPS_AT_MOST, [str(b) for b in skipped]
    for block in skipped:
        assert len(block.skip.split()) >= 3, f"{block}: give the reason in a few words"


def test_the_pages_name_every_runnable_block_of_the_docs():
    pages = {"README.md", "docs/getting-started.md"}
    pages |= {str(p.relative_to(ROOT)) for p in (ROOT / "docs/tutorials").glob("*.md")}
    assert pages <= set(blocks.PAGES)
    for page in blocks.PAGES:
        for block in blocks.blocks(page):
            # a bare fence is neither run nor checked: say what it is (text for output)
            assert block.language, f"{block}: a block without a language"


def test_a_failing_block_fails_with_its_page_and_line(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(
        "# A page\n\n"
        "<!-- credsim-docs: population=300 days=5 -->\n"
        "```bash\ncredsim run press --population 100000 --out runs/p\n```\n\n"
        "```sql\nSELECT dimension, sum(misattributed) / population FROM groups GROUP BY ALL\n```\n",
        "utf-8",
    )
    found = blocks.blocks(str(page), page.read_text("utf-8"))
    assert [b.kind for b in found] == ["shell", "sql"]
    namespace: dict = {}
    here = Path.cwd()
    import os

    os.chdir(tmp_path)
    try:
        blocks.run_block(found[0], tmp_path, namespace)
        assert (tmp_path / "runs/p/manifest.json").is_file()
        with pytest.raises(blocks.BlockFailed, match=r"page.md:8 \(sql\): .*Cannot mix aggregates"):
            blocks.run_block(found[1], tmp_path, namespace)
    finally:
        os.chdir(here)


def test_markers_reduce_the_size_of_commands_and_python():
    options = {"population": "2000", "days": "60", "replicates": "1"}
    assert blocks.reduce_command(["credsim", "run", "press", "-n", "100000"], options) == [
        "credsim", "run", "press", "-n", "2000", "--days", "60",
    ]  # fmt: skip
    assert blocks.reduce_command(["credsim", "explain", "runs/p", "42"], options) == [
        "credsim", "explain", "runs/p", "42",
    ]  # fmt: skip
    assert blocks.reduce_command(["credsim", "sweep", "press", "--replicates", "3"], options)[
        -5:
    ] == ["1", "--population", "2000", "--days", "60"]
    code = 'credsim.Sim(regime="press", population=100_000, days=365, seed=1)'
    assert blocks.reduce_python(code, options) == (
        'credsim.Sim(regime="press", population=2000, days=60, seed=1)'
    )


def test_shell_commands_join_continuations_and_quotes_across_lines():
    code = 'credsim run press \\\n  --out runs/a && credsim query runs/a "SELECT 1\n  AS n"'
    code += "  # note\n"
    assert list(blocks.shell_commands(code)) == [
        ["credsim", "run", "press", "--out", "runs/a"],
        ["credsim", "query", "runs/a", "SELECT 1\n  AS n"],
    ]


def test_the_outputs_shown_are_what_the_script_writes_now():
    pages = {p: p.read_text("utf-8") for p in outputs.pages()}
    needed = {n for text in pages.values() for n in outputs.names_in(text)}
    assert needed == set(outputs.OUTPUTS), "every output the script knows is shown somewhere"
    fresh = outputs.generate(needed)
    stale = [
        str(p.relative_to(ROOT))
        for p, text in pages.items()
        if outputs.normalised(outputs.fill(text, fresh)) != outputs.normalised(text)
    ]
    assert not stale, f"out of date, run python scripts/docs_outputs.py: {stale}"


def test_durations_are_not_compared_but_figures_are():
    text = "<!-- credsim-output: presets -->\n```text\n4 shards, 21.048 s\n```\n"
    text += "<!-- /credsim-output -->\n"
    assert outputs.normalised(text) == outputs.normalised(text.replace("21.048 s", "3 s"))
    assert outputs.normalised(text) != outputs.normalised(text.replace("4 shards", "5 shards"))
