"""The golden baseline: every preset's figures at a fixed size and seed are as checked in.

A change that should not move any figure (an optimisation, a refactoring) keeps these
digests; a change that moves figures on purpose rewrites them with
``python scripts/golden.py`` and says why in its commit.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("golden", ROOT / "scripts" / "golden.py")
golden = importlib.util.module_from_spec(spec)
spec.loader.exec_module(golden)


def test_every_preset_has_a_golden_file():
    assert sorted(p.stem for p in golden.GOLDEN.glob("*.json")) == golden.presets()


@pytest.mark.parametrize("preset", golden.presets())
def test_figures_match_the_golden_baseline(preset):
    expected = json.loads((golden.GOLDEN / f"{preset}.json").read_text())
    now = golden.measure(preset)
    assert now["headline"] == expected["headline"]
    assert now == expected, (
        f"{preset}: figures moved; if on purpose, run python scripts/golden.py and say why"
    )
