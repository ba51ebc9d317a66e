"""The fault table in docs/faults.md is written from what the reliability tests observe.

Every reliability test that injects a fault records one row through a ``FaultLog``: an id,
the fault, how it was injected and the outcome the test saw (error lines as printed, with
temporary paths replaced by names such as ``DIR``). A row is recorded only after the test's
assertions passed. The last test of each module, ``test_faults_doc``, compares the rows of
that module with its section of docs/faults.md (between ``<!-- BEGIN faults:NAME -->`` and
``<!-- END faults:NAME -->``): every row recorded in the session must be in the page. With
``CREDSIM_UPDATE_FAULTS=1`` it rewrites the section from the rows instead. Regenerate the
whole page with::

    CREDSIM_UPDATE_FAULTS=1 python -m pytest tests/test_reliability_*.py

run as root with the dask extra installed, so that no fault is skipped.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[1] / "docs" / "faults.md"
UPDATE = os.environ.get("CREDSIM_UPDATE_FAULTS") == "1"
SECTIONS = ("input", "corpus", "crash", "concurrency", "resources", "determinism")
HEADER = "| id | fault | injected by | outcome |\n|---|---|---|---|\n"


def cell(text: str) -> str:
    """Text as one Markdown table cell."""
    return " ".join(str(text).split()).replace("|", "\\|")


def scrub(text: str, **paths: str | Path) -> str:
    """``text`` with each path replaced by its name (``scrub(s, DIR=tmp_path)``)."""
    for name, path in sorted(paths.items(), key=lambda kv: -len(str(kv[1]))):
        text = text.replace(str(path), name)
    return text


class FaultLog:
    """Rows of one section of docs/faults.md, recorded as the tests run."""

    def __init__(self, section: str):
        assert section in SECTIONS, section
        self.section = section
        self.rows: dict[str, str] = {}

    def add(self, fault_id: str, fault: str, injected: str, outcome: str) -> None:
        cells = [f"`{fault_id}`", cell(fault), cell(injected), cell(outcome)]
        self.rows[fault_id] = "| " + " | ".join(cells) + " |"

    def bounds(self, text: str) -> tuple[int, int]:
        begin = f"<!-- BEGIN faults:{self.section} -->\n"
        end = f"<!-- END faults:{self.section} -->"
        i, j = text.index(begin) + len(begin), text.index(end)
        return i, j

    def check(self) -> None:
        """Compare the recorded rows with the page, or rewrite the section (UPDATE)."""
        if not self.rows:
            pytest.skip(f"no fault of section {self.section!r} ran in this test run")
        text = DOC.read_text("utf-8")
        i, j = self.bounds(text)
        if UPDATE:
            body = HEADER + "".join(self.rows[k] + "\n" for k in sorted(self.rows))
            DOC.write_text(text[:i] + body + text[j:], "utf-8")
            return
        section = text[i:j].splitlines()
        missing = [row for row in self.rows.values() if row not in section]
        assert not missing, (
            f"docs/faults.md, section {self.section}: {len(missing)} row(s) differ from what "
            "the tests observed; regenerate with CREDSIM_UPDATE_FAULTS=1 python -m pytest "
            "tests/test_reliability_*.py\nfirst: " + missing[0]
        )


def test_faults_page_has_every_section_once_and_unique_ids():
    text = DOC.read_text("utf-8")
    assert "GENERATED" in text.split("<!-- BEGIN")[0]
    ids: list[str] = []
    for section in SECTIONS:
        assert text.count(f"<!-- BEGIN faults:{section} -->") == 1, section
        assert text.count(f"<!-- END faults:{section} -->") == 1, section
        i, j = FaultLog(section).bounds(text)
        body = text[i:j]
        assert body.startswith(HEADER), section
        rows = body[len(HEADER) :].splitlines()
        assert rows, f"section {section} is empty"
        ids += [re.match(r"^\| `([^`]+)` \|", row).group(1) for row in rows]
    assert len(ids) == len(set(ids)), "a fault id appears twice"
