"""The registry of figures: each metrics column, headline figure and ledger kind is
declared once, by one component, and every list of figures is read from it."""

from __future__ import annotations

from collections import Counter

import pytest

from credsim import figures, labels
from credsim.engine.compiled import Compiled
from credsim.experiments.sensitivity import headline_names
from credsim.experiments.sweep import metric_names
from credsim.ledger import KINDS
from credsim.metrics import columns
from credsim.population import Census
from credsim.regime.load import load_regime, presets

PRESETS = sorted(presets())


def compiled(name: str) -> Compiled:
    census = Census.from_facts()
    return Compiled(load_regime(name), census.provinces, census.groups)


def declared_names(c: Compiled) -> Counter:
    """How many declarations produce each column name in regime ``c``."""
    out = Counter()
    for _, f in figures.metric_figures():
        items = figures._names(c, f.per) if f.per else [None]
        for item in items:
            out[f.name.format(item=item) if f.per else f.name] += 1
    return out


@pytest.mark.parametrize("preset", PRESETS)
def test_every_metrics_column_has_exactly_one_declaration(preset):
    c = compiled(preset)
    levels, flows = columns(c)
    counts = declared_names(c)
    assert sorted(levels + flows) == sorted(counts)
    assert all(n == 1 for n in counts.values()), [k for k, n in counts.items() if n > 1]
    for name in levels + flows:
        f = figures.metric_figure(name, c)
        assert f.label and f.unit and f.explain, name
        assert (f.kind == "level") == (name in levels)


@pytest.mark.parametrize("preset", PRESETS)
def test_lists_of_figures_come_from_the_registry(preset):
    r, c = load_regime(preset), compiled(preset)
    assert headline_names(r) == figures.headline_names(r)
    levels, flows = figures.columns(c)
    assert metric_names(r)[: len(levels + flows)] == levels + flows
    for key in figures.headline_names(r):
        f = labels.figure(key, r.model_dump())
        assert f.explain, key  # the fallback for an undeclared figure explains nothing


def test_headlines_are_declared_once_and_read_existing_columns():
    keys = Counter(h.key for _, h in figures.headline_figures())
    assert all(n == 1 for n in keys.values())
    # headlines without an item: one per regime (if its list, such as life_course, is there)
    plain = {h.key for _, h in figures.headline_figures() if not h.per or "{item}" not in h.key}
    assert set(labels.FIGURES) == plain
    c = compiled("press")
    levels, flows = figures.columns(c)
    for _, h in figures.headline_figures():
        if h.how in ("last", "sum", "pct") and h.of != "score_mean":
            names = [h.of.format(item=x) for x in figures._names(c, h.per)] if h.per else [h.of]
            assert set(names) <= set(levels + flows), h.key


def test_a_run_reports_the_declared_headline(tmp_path):
    from credsim.sim import Sim

    run = Sim("press", 2_000, 30, 1, out=tmp_path / "r", workers=1).run()
    names = figures.headline_names(load_regime("press"))
    assert list(run.summary) == names  # press has posts and infractions: nothing omitted


def test_every_ledger_kind_is_declared_by_one_component():
    by_kind = Counter(k.kind for comp in figures.components() for k in comp.ledger)
    assert set(by_kind) == set(KINDS)
    assert all(n == 1 for n in by_kind.values())
    for kind, decl in figures.ledger_kinds().items():
        assert decl.explain.startswith("{day}: "), kind


def test_the_explain_sentence_of_a_record_is_the_declared_one():
    from credsim.explain import _sentence

    row = {"kind": "record", "day": 3, "source": "camera", "rule": None, "delta": -5}
    row |= {"score_after": 995, "id": 12, "misattributed": False}
    assert _sentence(row, {}) == "day 3: camera record, , -5 -> 995 [record 12]"
    row = {"kind": "denied", "day": 4, "privilege": "flight"}
    assert _sentence(row, {}) == "day 4: denied flight"
