"""One shard of citizens run day by day: its state, its components and the plan.

The day is the phases ``behave -> sense -> share -> score -> tier -> sanction -> attempt ->
redress -> adapt`` (``credsim.engine.loop.PHASES``); each runs the components registered for
it (``credsim.engine.components``), which hand each other the day's events through the day
context. Each phase touches only the citizens involved in that day's events: acts are
sampled by geometric skips within propensity buckets and thinned, records and sanction
expiries wait in day buckets, and the per-day metrics are kept up to date incrementally, so
a citizen with no event costs nothing that day.
"""

from __future__ import annotations

import numpy as np

from credsim.engine.compiled import Compiled
from credsim.engine.components import COMPONENTS
from credsim.engine.context import Day
from credsim.engine.kernels import unpack_propensity
from credsim.engine.keyed import component_key
from credsim.engine.layout import EVER, EVER_WRONGFUL, HEAD, PERMANENT
from credsim.engine.loop import PHASES, Loop
from credsim.engine.state import State
from credsim.ledger import Ledger
from credsim.metrics import GROUP_LEVELS
from credsim.population import Population

__all__ = ["PHASES", "Shard"]

CITIZEN_ROWS = 1 << 16  # citizens a table (a row group) when the final state is written


class Shard:
    """The state of one shard, its components and its day loop."""

    def __init__(
        self,
        c: Compiled,
        pop: Population,
        seed: int,
        shard: int,
        offset: int,
        days: int,
        ledger: Ledger,
        components=COMPONENTS,
    ):
        self.c, self.seed, self.shard, self.offset, self.days = c, seed, shard, offset, days
        self.ledger = ledger
        self.life_plan = None
        if c.life_course:  # a row for every citizen born during the run, drawn now
            from credsim.engine.components.life import expand, headroom
            from credsim.engine.sampling import stream

            room = headroom(pop.n, days, c.regime.life.fertility)
            pop, self.life_plan = expand(c, pop, days, stream(seed, shard, "life"), room)
        self.state = State(c, pop, offset, days, ledger)
        self.m = self.state.m
        self.ctx = Day()
        names = [name for cls in components for name in cls.keys(c)]
        self.keys = {name: component_key(seed, name) for name in names}
        built = [cls(self) for cls in components]  # they read shard.loop only when a day runs
        self.components = [x for x in built if x.active()]
        self.loop = Loop(self.components)
        self.day = 0

    @property
    def timings(self) -> dict[str, float]:
        """Seconds spent in each phase so far (its components and the events they emitted)."""
        return dict(self.loop.phase_time)

    def component(self, name: str):
        """The component called ``name`` (``KeyError`` if this regime leaves it out)."""
        for x in self.components:
            if x.name == name:
                return x
        raise KeyError(name)

    def acts(self, day: int) -> list[np.ndarray]:
        """Sample one day's acts alone (behaviour sampling only), by behaviour."""
        self.ctx.clear()
        self.component("behave").behave(day)
        return self.ctx.acts

    def run_day(self, day: int) -> None:
        self.day = day
        self.ctx.clear()
        self.m.begin_day()
        self.loop.run_day(day)
        self.m.end_day(day)

    def propensity(self) -> np.ndarray:
        """Every citizen's propensity multiplier (float16), read back from the words."""
        out = np.empty(self.state.n, dtype=np.uint16)
        unpack_propensity(self.state.words, out)
        return out.view(np.float16)

    def citizens_tables(self, fraction: float = 1.0, rows: int | None = None):
        """The final state of (a sample of) the shard's citizens, as Arrow tables of at most
        ``rows`` citizens each (written one after another, so memory stays small)."""
        from credsim.ledger import citizen_hash

        rows = rows or CITIZEN_ROWS
        propensity = self.propensity()
        if fraction >= 1.0:
            for start in range(0, self.state.n, rows):
                idx = np.arange(start, min(start + rows, self.state.n))
                yield self.citizens_table(idx, propensity)
            return
        idx = np.flatnonzero(citizen_hash(self.state.gid(np.arange(self.state.n))) < fraction)
        for start in range(0, max(idx.size, 1), rows):
            yield self.citizens_table(idx[start : start + rows], propensity)

    def citizens_table(self, idx: np.ndarray, propensity: np.ndarray):
        """The final state of citizens ``idx`` (sorted local indices) as an Arrow table;
        ``propensity``: every citizen's (``self.propensity()``)."""
        import pyarrow as pa

        from credsim.regime.schema import AGE_BANDS, SEX

        c = self.c
        head = (self.state.flags[idx] & HEAD) != 0
        if idx.size and idx[-1] - idx[0] == idx.size - 1:  # a run of citizens: carry the head
            house = np.where(head, idx, -1)
            house[0] = self.state.household_ranges(idx[:1])[0][0]
            house = np.maximum.accumulate(house)
        else:  # the head: walk back to it
            house = self.state.household_ranges(idx)[0]

        def cat(codes: np.ndarray, names) -> pa.Array:
            return pa.DictionaryArray.from_arrays(
                pa.array(codes.astype(np.int8 if len(names) <= 127 else np.int16)),
                pa.array(list(names)),
            )

        score = self.state.score[idx]
        cols = {
            "citizen": self.state.gid(idx),
            "household": self.state.gid(house),
            "head": head,
            "sex": cat(self.state.bits(idx, "sex"), SEX),
            "age_band": cat(self.state.bits(idx, "age"), AGE_BANDS),
            "region": cat(self.state.bits(idx, "urban"), ("rural", "urban")),
            "province": cat(self.state.bits(idx, "province"), c.provinces),
            "group": cat(self.state.bits(idx, "group"), c.groups),
            "propensity": propensity[idx].astype(np.float32),
            "score": score,
            "tier": cat(c.tier_of(score), c.tiers),
            "misattributed_points": self.state.mis_points_of(idx),
            "points_on_others": self.state.mask_of(self.state.escape_points, idx, np.int32),
        }
        for k, name in enumerate(c.sanctions):
            cols[f"sanction_{name}"] = self.state.has(idx, k)
        cols["restricted"] = self.state.sanction[idx] != 0
        cols["spillover"] = self.state.spill[idx] != 0
        status = self.state.status(idx)
        flags = self.state.flags[idx]
        cols["wrongful"] = status[:, GROUP_LEVELS.index("wrongful")] != 0
        cols["wrongful_spillover"] = status[:, GROUP_LEVELS.index("wrongful_spillover")] != 0
        cols["ever_sanctioned"] = (flags & EVER) != 0
        cols["ever_listed"] = cols["ever_sanctioned"]
        cols["ever_wrongful"] = (flags & EVER_WRONGFUL) != 0
        cols["escaped"] = status[:, GROUP_LEVELS.index("escaped")] != 0
        cols["permanent"] = (self.state.flags[idx] & PERMANENT) != 0
        cols["adaptation"] = cat(self.state.level(idx), ("none", "household", "own"))
        denied = self.state.denied_ever[idx]
        for p, name in enumerate(c.privileges):
            cols[f"denied_{name}"] = ((denied >> denied.dtype.type(p)) & 1).astype(bool)
        if c.life_course:
            cols.update(self.component("life").columns_of(idx))
        return pa.table(cols)

    def core_bytes(self) -> int:
        """Bytes of the dense state the day loop keeps (16 per citizen at the defaults)."""
        return self.state.core_bytes()
