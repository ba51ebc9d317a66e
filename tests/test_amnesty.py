"""The worked example of docs/adding-a-mechanism.md: an amnesty lifts every listing of its
sanctions on its day, and changes nothing before it."""

from __future__ import annotations

import copy
import tomllib
from importlib import resources

import pytest
from pandas.testing import assert_frame_equal

from credsim.regime.load import RegimeError, load_regime
from credsim.sim import Sim

N, DAYS, DAY, SEED = 20_000, 240, 150, 3


def press() -> dict:
    entry = resources.files("credsim.regime.presets").joinpath("press.toml")
    return tomllib.loads(entry.read_text("utf-8"))


def run(data: dict, tmp_path, name: str):
    return Sim(data, N, DAYS, SEED, out=tmp_path / name, workers=1, ledger="full").run()


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("amnesty")
    base = press()
    with_amnesty = copy.deepcopy(base)
    with_amnesty["amnesties"] = [{"name": "repair", "day": DAY, "sanctions": ["defaulter"]}]
    return run(base, tmp, "base"), run(with_amnesty, tmp, "amnesty")


def test_the_amnesty_lifts_every_listing_of_its_sanction(runs):
    base, amnesty = runs
    m = amnesty.metrics
    held = int(m["sanctioned_defaulter"].iloc[DAY - 1])
    assert held > 0  # listings to lift (11 at this size and seed)
    assert int(m["amnestied_repair"].iloc[DAY]) == held
    assert int(m["amnestied_repair"].drop(index=DAY).sum()) == 0
    # at the end of the day only the listings started that day remain
    assert int(m["sanctioned_defaulter"].iloc[DAY]) == int(m["started_defaulter"].iloc[DAY])
    # the other sanction is untouched that day
    assert m["sanctioned_blacklist"].iloc[DAY] == base.metrics["sanctioned_blacklist"].iloc[DAY]


def test_nothing_changes_before_the_amnesty(runs):
    base, amnesty = runs
    shared = [c for c in base.metrics.columns if c in amnesty.metrics.columns]
    assert set(amnesty.metrics.columns) - set(shared) == {"amnestied_repair"}
    assert_frame_equal(base.metrics[shared].iloc[:DAY], amnesty.metrics[shared].iloc[:DAY])


def test_each_lifted_listing_is_in_the_ledger(runs):
    _, amnesty = runs
    rows = amnesty.query("SELECT count(*) AS n FROM ledger WHERE kind = 'amnesty'")
    assert int(rows["n"].iloc[0]) == int(amnesty.metrics["amnestied_repair"].sum())


def test_an_amnesty_after_the_run_is_a_placebo(tmp_path):
    data = press()
    data["amnesties"] = [{"name": "later", "day": DAYS + 10}]
    a = Sim(press(), 3_000, 60, SEED, out=tmp_path / "a", workers=1, ledger="full").run()
    b = Sim(data, 3_000, 60, SEED, out=tmp_path / "b", workers=1, ledger="full").run()
    assert_frame_equal(a.metrics, b.metrics.drop(columns=["amnestied_later"]))
    ledger = "SELECT * FROM ledger ORDER BY id"
    assert_frame_equal(a.query(ledger), b.query(ledger))


def test_an_unknown_sanction_is_one_clear_problem():
    data = press()
    data["amnesties"] = [{"name": "x", "day": 3, "sanctions": ["nope"]}]
    with pytest.raises(RegimeError, match=r"amnesties\[0\]\.sanctions: unknown sanction 'nope'"):
        load_regime(data)


def test_the_documented_model_is_the_schema_s():
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    page = (root / "docs" / "adding-a-mechanism.md").read_text("utf-8")
    block = page.split("```python\nclass Amnesty(Strict):", 1)[1].split("```", 1)[0]
    schema = (root / "credsim" / "regime" / "schema.py").read_text("utf-8")
    assert "class Amnesty(Strict):" + block in schema
