"""MkDocs hooks: regenerate the reference pages at build time, from the code.

The committed ``reference/*.md`` files are what ``docs/gen_reference.py`` writes; the build
replaces their content with a fresh generation, so the site never shows a stale reference.
"""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path

log = logging.getLogger("mkdocs.hooks.credsim")
_HERE = Path(__file__).resolve().parent

_spec = importlib.util.spec_from_file_location("credsim_docs_gen", _HERE / "gen_reference.py")
gen = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gen)

CLUSTER_PLACEHOLDER = """\
# Running on a cluster

The cluster guide (`docs/cluster.md`) is not part of this build. Meanwhile, see
[Running on a cluster](tutorials/on-a-cluster.md) and `credsim run --help`.
"""


def on_files(files, config):
    """Add a placeholder for the cluster guide when ``docs/cluster.md`` is absent."""
    from mkdocs.structure.files import File

    if files.get_file_from_path("cluster.md") is None:
        log.info("docs/cluster.md is absent: a placeholder page is built in its place")
        files.append(File.generated(config, "cluster.md", content=CLUSTER_PLACEHOLDER))
    return files


def on_page_markdown(markdown, page, config, files):
    """Replace a generated reference page by a fresh generation."""
    make = gen.PAGES.get(page.file.src_uri)
    return make() if make is not None else markdown
