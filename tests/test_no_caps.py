"""No fixed caps: 12 sanctions, 12 privileges, 10 groups and 40 provinces run, and so do 100
sanctions, 100 privileges, 40 sources and 8 kinds of behaviour; each extra one behaves as the
shipped ones do; at the defaults the core state stays 16 bytes a citizen."""

from __future__ import annotations

import copy
import dataclasses
import tomllib
from importlib import resources

import numpy as np
import pyarrow as pa
import pytest

from credsim.engine.compiled import Compiled
from credsim.engine.sampling import stream
from credsim.engine.shard import Shard
from credsim.ledger import Ledger
from credsim.population import Census, demo_layout, synthesize
from credsim.regime.load import load_regime

N, DAYS, SEED = 20_000, 240, 7


def press() -> dict:
    entry = resources.files("credsim.regime.presets").joinpath("press.toml")
    return tomllib.loads(entry.read_text("utf-8"))


def add_privileges(data: dict, total: int) -> int:
    """Privileges ``extra_0``, ``extra_1``... like flights but attempted 60 times a year, up to
    ``total`` privileges in all; how many were added."""
    flight = next(p for p in data["privileges"] if p["name"] == "flight")
    extra = total - len(data["privileges"])
    for j in range(extra):
        p = copy.deepcopy(flight)
        p.update(name=f"extra_{j}", attempts_rural=60.0, attempts_urban=60.0)
        p.pop("schedule", None)
        data["privileges"].append(p)
    return extra


def wide() -> dict:
    """Press with 12 privileges and 12 sanctions: extra sanction j is started by every
    jaywalking record that reaches the score (a frequent record, so every extra sanction
    lists citizens on any seed) and denies extra privilege j % 7, attempted often."""
    data = press()
    add_privileges(data, 12)
    for j in range(12 - len(data["sanctions"])):
        name = f"list_{j}"
        data["sanctions"].append(
            {"name": name, "privileges": [f"extra_{j % 7}"], "duration": 60, "renewal": "never"}
        )
        data["rules"].append({"name": name, "behaviour": "jaywalking", "sanction": name})
    return data


def census(groups: int, provinces: int) -> Census:
    base = Census.from_facts()
    names = base.provinces + tuple(f"extra_{i}" for i in range(provinces - len(base.provinces)))
    w = np.ones(len(names)) / len(names)
    gnames = base.groups + tuple(f"group_{i}" for i in range(groups - len(base.groups)))
    shares = np.ones(groups) / groups
    return dataclasses.replace(
        base, provinces=names, province_weights=w, groups=gnames, group_shares=shares
    )


def run(data: dict, cen: Census, n: int = N, days: int = DAYS, ledger: float = 0.0) -> Shard:
    """One shard of ``n`` citizens of census ``cen`` under regime ``data`` for ``days`` days
    (``ledger``: the share of citizens ledgered)."""
    c = Compiled(load_regime(data), cen.provinces, cen.groups)
    pop = synthesize(n, stream(SEED, 0, "population"), cen)
    names = {k: getattr(c, k) for k in ("sources", "rules", "sanctions", "privileges")}
    shard = Shard(c, pop, SEED, 0, 0, days, Ledger(ledger, 0, range(n), None, names))
    for day in range(days):
        shard.run_day(day)
    return shard


@pytest.fixture(scope="module")
def big() -> Shard:
    return run(wide(), census(10, 40))


def test_twelve_sanctions_and_privileges_each_reach_citizens(big):
    c, m = big.c, big.m
    assert len(c.sanctions) == 12 and len(c.privileges) == 12
    rows = big.m.rows
    for k in c.sanctions[2:]:  # every extra sanction, the 9th to 12th too, lists citizens
        assert rows[:, m.col[f"started_{k}"]].sum() > 0, k
    for p in c.privileges[5:]:
        assert rows[:, m.col[f"denied_{p}"]].sum() > 0, p
    table = pa.concat_tables(big.citizens_tables())
    first = np.asarray(table["sanction_list_0"])
    assert first.sum() > 0
    # the same records start every extra listing, for the same days: the same citizens
    for k in c.sanctions[2:]:
        assert (np.asarray(table[f"sanction_{k}"]) == first).all(), k
    # a sanction's bit is its own: the 12th listing's count is its own column
    last = c.sanctions[-1]
    assert rows[-1, m.col[f"sanctioned_{last}"]] == int(np.asarray(table[f"sanction_{last}"]).sum())
    assert big.state.sanction.dtype == np.uint16 and big.state.denied_ever.dtype == np.uint16


def test_ten_groups_and_forty_provinces_are_kept_apart(big):
    table = pa.concat_tables(big.citizens_tables()).to_pandas()
    assert table["group"].nunique() == 10
    assert table["province"].nunique() == 40
    # every province holds about 1/40 of the citizens (households of ~2.6: a loose bound)
    share = table["province"].value_counts(normalize=True)
    assert share.min() > 0.4 / 40 and share.max() < 2.0 / 40
    # group metrics have a slot for each of the 40 provinces and 10 groups
    assert big.m.nslots == 2 + 4 + 2 + 40 + 10
    assert big.m.group_population.sum() == 5 * N


def test_layout_widens_only_when_needed():
    assert demo_layout(8, 32) == demo_layout(2, 31) == demo_layout()
    lay = demo_layout(10, 40)
    assert lay["group"] == (4, 4) and lay["province"] == (8, 6)
    with pytest.raises(ValueError, match="at most 16"):
        demo_layout(256, 256)


def test_core_state_is_sixteen_bytes_a_citizen_at_the_defaults():
    cen = Census.from_facts()
    c = Compiled(load_regime(press()), cen.provinces, cen.groups)
    pop = synthesize(5_000, stream(SEED, 0, "population"), cen)
    names = {k: getattr(c, k) for k in ("sources", "rules", "sanctions", "privileges")}
    s = Shard(c, pop, SEED, 0, 0, 10, Ledger(0.0, 0, range(5_000), None, names))
    assert s.state.core_bytes() == 16 * 5_000  # the dense state of every regime
    # press's ties add their graph (benchmarks/ties_memory.py: about 53 bytes a citizen)
    graph = s.core_bytes() - s.state.core_bytes()
    assert 0 < graph < 80 * 5_000


# --- beyond the widths of a machine word: 100 sanctions, 100 privileges, 40 sources, 8 kinds
WIDE_N, WIDE_DAYS = 5_000, 150
NEW_KINDS = {"nuisance": "deterred", "protest": "chilled", "donation": "boosted"}


def widest() -> dict:
    """Press with 100 privileges, 100 sanctions, 40 sources and 8 kinds of behaviour.

    Extra sanction j is started by every jaywalking record that reaches the score and denies
    extra privilege j % 95, attempted often; extra source i records jaywalking at 0.5%; one
    behaviour of each declared kind, observed by the last source."""
    data = press()
    extra_privileges = add_privileges(data, 100)
    for j in range(100 - len(data["sanctions"])):
        name = f"list_{j}"
        data["sanctions"].append(
            {
                "name": name,
                "privileges": [f"extra_{j % extra_privileges}"],
                "duration": 60,
                "renewal": "never",
            }
        )
        data["rules"].append({"name": name, "behaviour": "jaywalking", "sanction": name})
    data["kinds"] = [{"name": k, "response": r} for k, r in NEW_KINDS.items()]
    for k in NEW_KINDS:
        data["behaviours"].append({"name": f"act_{k}", "kind": k, "rate": 0.01})
    for i in range(40 - len(data["sources"])):
        data["sources"].append({"name": f"source_{i}", "observes": {"jaywalking": 0.005}})
    data["sources"][-1]["observes"].update({f"act_{k}": 0.5 for k in NEW_KINDS})
    return data


def run_widest() -> Shard:
    """The widest regime, run for ``WIDE_DAYS`` days on ``WIDE_N`` citizens, full ledger."""
    return run(widest(), Census.from_facts(), WIDE_N, WIDE_DAYS, 1.0)


@pytest.fixture(scope="module")
def widest_run() -> Shard:
    return run_widest()


def test_a_hundred_sanctions_and_privileges_run_past_a_machine_word(widest_run):
    s, c, m = widest_run, widest_run.c, widest_run.m
    assert (len(c.sanctions), len(c.privileges), len(c.sources)) == (100, 100, 40)
    assert s.state.sanction.dtype == np.dtype(object)  # wider than 64 bits
    rows = m.rows
    table = pa.concat_tables(s.citizens_tables())
    first = np.asarray(table["sanction_list_0"])
    assert first.sum() > 0
    # the last listings, bits 64 to 99, list the same citizens as the first extra one, and
    # their count is their own column
    for k in c.sanctions[64:]:
        assert rows[:, m.col[f"started_{k}"]].sum() == rows[:, m.col["started_list_0"]].sum(), k
        assert (np.asarray(table[f"sanction_{k}"]) == first).all(), k
        assert rows[-1, m.col[f"sanctioned_{k}"]] == int(first.sum()), k
    # every privilege beyond the 64th is denied to someone, and only to the listed
    for p in c.privileges[64:]:
        assert rows[:, m.col[f"denied_{p}"]].sum() > 0, p
        denied = np.asarray(table[f"denied_{p}"])
        assert denied.sum() > 0 and not (denied & ~np.asarray(table["ever_sanctioned"])).any()
    # the ledger names the 100th sanction and the 100th privilege by their own codes
    cols = s.ledger.table()
    assert cols["sanction"].type == pa.int8() and int(np.asarray(cols["sanction"]).max()) == 99
    assert int(np.asarray(cols["privilege"]).max()) == 99


def test_forty_sources_and_eight_kinds_of_behaviour(widest_run):
    c, m = widest_run.c, widest_run.m
    rows = m.rows
    assert len(c.kinds) == 8
    for k, response in NEW_KINDS.items():
        b = c.behaviours.index(f"act_{k}")
        built_in = {"deterred": "infraction", "chilled": "speech", "boosted": "purchase"}
        like = c.kinds.index(built_in[response])
        # a declared kind adapts as the built-in kind with the same response
        assert (c.adapt[c.kind[b]] == c.adapt[like]).all(), k
        assert c.province_sensitivity[c.kind[b]] == c.province_sensitivity[like], k
    last = c.sources[-1]
    assert rows[:, m.col[f"records_source_{last}"]].sum() > 0
    for b in (f"act_{k}" for k in NEW_KINDS):
        assert rows[:, m.col[f"records_{b}"]].sum() > 0, b


def test_an_undeclared_kind_names_the_kinds_there_are():
    data = press()
    data["behaviours"][0]["kind"] = "crime"
    with pytest.raises(Exception, match=r"behaviours\[0\]\.kind: Input should be 'infraction'"):
        load_regime(data)
