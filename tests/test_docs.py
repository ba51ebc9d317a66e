"""The documentation follows the code: ODD sections, generated references, a strict build."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from credsim.engine.shard import PHASES
from credsim.regime import schema

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
ODD = DOCS / "odd.md"
EXTRA_COMPONENTS = {"Schedule"}  # the [day, factor] knots: a type, not a model class


def load_generator():
    spec = importlib.util.spec_from_file_location("gen_reference", DOCS / "gen_reference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def headings(prefix: str) -> list[str]:
    return re.findall(rf"^### {prefix}: (\S+)\s*$", ODD.read_text("utf-8"), flags=re.M)


def regime_models() -> list[str]:
    """Model classes of credsim.regime.schema used in a Regime, the Regime included."""
    gen = load_generator()
    return [m.__name__ for m in gen.models(schema.Regime) if m.__module__ == schema.__name__]


# ---------------------------------------------------------------------------- (a) ODD
def test_every_phase_has_a_section_in_the_odd():
    documented = headings("Phase")
    missing = [p for p in PHASES if p not in documented]
    assert not missing, f"docs/odd.md has no '### Phase: NAME' section for {missing}"
    stale = [p for p in documented if p not in PHASES]
    assert not stale, f"docs/odd.md documents phases the engine does not have: {stale}"


def test_phase_sections_follow_the_day_order():
    documented = headings("Phase")
    assert documented == list(PHASES)


def test_every_regime_component_has_a_section_in_the_odd():
    models = regime_models()
    assert {"Regime", "Score", "Behaviour", "Source", "Rule", "Sanction"} <= set(models)
    documented = headings("Component")
    missing = [m for m in models if m not in documented]
    assert not missing, f"docs/odd.md has no '### Component: NAME' section for {missing}"
    stale = [c for c in documented if c not in models and c not in EXTRA_COMPONENTS]
    assert not stale, f"docs/odd.md documents components the schema does not have: {stale}"


def test_the_odd_has_the_protocol_sections():
    text = ODD.read_text("utf-8")
    for title in (
        "## 1. Purpose and patterns",
        "## 2. Entities, state variables and scales",
        "## 3. Process overview and scheduling",
        "## 4. Design concepts",
        "## 5. Initialisation",
        "## 6. Input data",
        "## 7. Submodels",
    ):
        assert title in text, title
    for concept in (
        "Basic principles",
        "Emergence",
        "Adaptation",
        "Objectives",
        "Learning",
        "Prediction",
        "Sensing",
        "Interaction",
        "Stochasticity",
        "Collectives",
        "Observation",
    ):
        assert f"**{concept}.**" in text, concept


# ---------------------------------------------------------------------------- (b) references
@pytest.mark.parametrize("page", ["reference/regime.md", "reference/targets.md"])
def test_generated_reference_is_current(page):
    gen = load_generator()
    expected = gen.PAGES[page]()
    committed = (DOCS / page).read_text("utf-8")
    assert committed == expected, f"docs/{page} is out of date: run python docs/gen_reference.py"


def test_regime_reference_lists_every_field():
    text = (DOCS / "reference/regime.md").read_text("utf-8")
    gen = load_generator()
    for model in gen.models(schema.Regime):
        assert f"## {model.__name__}\n" in text
        for name in model.model_fields:
            assert f"| `{name}` |" in text, f"{model.__name__}.{name}"


def test_cli_reference_names_every_command():
    import typer.main

    from credsim.cli import app

    gen = load_generator()
    text = gen.cli_reference()
    for name in typer.main.get_command(app).commands:
        assert f"## credsim {name}\n" in text
        assert f"Usage: credsim {name}" in text


# ---------------------------------------------------------------------------- (c) build
def test_mkdocs_build_strict(tmp_path):
    for module in ("mkdocs", "material", "mkdocstrings", "mkdocstrings_handlers.python"):
        pytest.importorskip(module)
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(tmp_path / "site")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    site = tmp_path / "site"
    for page in ("odd", "limits", "reference/regime", "reference/cli", "reference/python"):
        assert (site / page / "index.html").exists(), page
    api = (site / "reference/python/index.html").read_text("utf-8")
    for name in ("credsim.Sim", "credsim.Run", "credsim.load_regime", "credsim.calibration"):
        assert f'id="{name}"' in api, name
