"""The day loop as data: phases in order, each running the components registered for it.

A component is one mechanism (``credsim.engine.components``). It declares what it is made of
(its regime configuration, state columns, figures, ledger kinds and random keys) and which
phases it hooks into; it may also handle the events other components emit through the day
context (``credsim.engine.context``). The ``Loop`` turns a shard's components into a plan, a
list of (phase, component, method) entries run in order, each timed: ``Loop.to_df()`` prints
it with the seconds each entry took (own time: a handler's time is not counted twice).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from credsim.figures import Figure, Headline, LedgerKind, Series

__all__ = [
    "EVENTS",
    "PHASES",
    "Component",
    "Entry",
    "Figure",
    "Headline",
    "LedgerKind",
    "Loop",
    "Series",
]

PHASES = ("behave", "sense", "share", "score", "tier", "sanction", "attempt", "redress", "adapt")
EVENTS = ("scored", "listing", "listed", "renewed", "delisted", "refunded", "judged")


class Component:
    """One mechanism: its declarations, and the methods the loop calls.

    Subclasses set the class attributes and define ``<phase>(day)`` for each phase in
    ``phases`` and ``on_<event>(day, batch)`` for each event in ``events``.
    """

    name: str = ""
    config: str = ""  # the regime field(s) it reads (pydantic models in credsim.regime.schema)
    columns: tuple[str, ...] = ()  # state columns it writes (credsim.engine.state)
    phases: tuple[str, ...] = ()
    events: tuple[str, ...] = ()
    figures: tuple[Figure, ...] = ()  # its metrics columns
    headlines: tuple[Headline, ...] = ()  # the headline figures computed from them
    series: tuple[Series, ...] = ()  # lines it draws that are not one metrics column
    ledger: tuple[LedgerKind, ...] = ()

    def __init__(self, shard: Any):
        self.shard = shard
        self.c = shard.c
        self.s = shard.state
        self.m = shard.state.m
        self.ctx = shard.ctx

    @classmethod
    def keys(cls, c: Any) -> list[str]:
        """Names of this component's keyed random draws (credsim.engine.keyed)."""
        return []

    def active(self) -> bool:
        """Whether this regime needs the component at all (else it is left out of the plan)."""
        return True


@dataclass
class Entry:
    """One step of the plan."""

    phase: str
    component: str
    method: str
    func: Callable
    seconds: float = 0.0
    calls: int = 0


@dataclass
class Loop:
    """The plan of a shard's day: entries by phase, and handlers of the day's events."""

    components: list[Component]
    entries: list[Entry] = field(default_factory=list)
    handlers: dict[str, list[Entry]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for phase in PHASES:
            for comp in self.components:
                if phase in comp.phases:
                    self.entries.append(Entry(phase, comp.name, phase, getattr(comp, phase)))
        for event in EVENTS:
            self.handlers[event] = [
                Entry(f"on {event}", comp.name, f"on_{event}", getattr(comp, f"on_{event}"))
                for comp in self.components
                if event in comp.events
            ]
        self._stack: list[float] = []
        self.phase_time = dict.fromkeys(PHASES, 0.0)  # with the handlers each phase ran

    def _call(self, entry: Entry, *args: Any) -> None:
        self._stack.append(0.0)
        t = time.perf_counter()
        entry.func(*args)
        spent = time.perf_counter() - t
        inner = self._stack.pop()
        entry.seconds += spent - inner
        entry.calls += 1
        if self._stack:
            self._stack[-1] += spent

    def run_day(self, day: int) -> None:
        for entry in self.entries:
            t = time.perf_counter()
            self._call(entry, day)
            self.phase_time[entry.phase] += time.perf_counter() - t

    def emit(self, event: str, day: int, batch: Any) -> None:
        """Hand ``batch`` to every component handling ``event``, in plan order."""
        for entry in self.handlers[event]:
            self._call(entry, day, batch)

    def rows(self) -> list[Entry]:
        """Every entry: the phases' in order, then the event handlers'."""
        return self.entries + [e for event in EVENTS for e in self.handlers[event]]

    def to_df(self):
        """The plan as a table: phase, component, method, calls and seconds."""
        import pandas as pd

        return pd.DataFrame(
            [(e.phase, e.component, e.method, e.calls, e.seconds) for e in self.rows()],
            columns=["phase", "component", "method", "calls", "seconds"],
        )

    def plot_cpu(self):
        """The seconds of each step as horizontal bars (a matplotlib Figure; the viz extra)."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        df = self.to_df()
        names = [f"{p} / {c}" for p, c in zip(df["phase"], df["component"], strict=True)]
        fig, ax = plt.subplots(figsize=(7, 0.3 * len(df) + 1))
        ax.barh(names[::-1], df["seconds"].to_numpy()[::-1], color="#3451c6")
        ax.set_xlabel("seconds (own time, summed over the days run)")
        ax.set_title("time per step of the day")
        fig.tight_layout()
        return fig
