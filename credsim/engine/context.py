"""The day context: the typed batches of events components hand each other during a day.

A component reads the batches earlier phases wrote and appends its own; nothing passes
through another component's attributes. The context is cleared at the start of each day,
except ``pending`` records that a delayed source holds back.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

_EMPTY = np.empty(0, dtype=np.int64)


@dataclass
class Records:
    """Records of one behaviour by one source, as parallel columns."""

    citizen: np.ndarray
    actor: np.ndarray  # who acted (differs from ``citizen`` where misattributed)
    behaviour: int
    source: int
    mis: np.ndarray


@dataclass
class Scored:
    """Records one rule applied: the citizens, their ledger rows and the points they moved
    (``rule`` -1: the associates rule of ties, ``credsim.engine.components.ties``)."""

    citizen: np.ndarray
    rule: int
    rows: np.ndarray
    delta: np.ndarray
    mis: np.ndarray
    actor: np.ndarray | None = None  # who acted, where ``mis``


@dataclass
class Listings:
    """Listings starting (or renewed) today: citizen, sanction, the ledger row that caused
    each, whether a misattributed record did (``credsim.engine.components.harm`` then sets
    it to whether the listing rests on misattributed records); ``rows`` are their own ledger
    rows once written; ``actor`` who acted, for a rule's records."""

    citizen: np.ndarray
    sanction: np.ndarray
    cause: np.ndarray
    mis: np.ndarray
    rows: np.ndarray | None = None
    actor: np.ndarray | None = None
    by_rule: np.ndarray | None = None  # started by a rule's record (else by the tier)
    marked: np.ndarray | None = None  # marked for life before this listing started


@dataclass
class Judged:
    """Listings whose wrongfulness changed: citizen, sanction, now wrongful or not."""

    citizen: np.ndarray
    sanction: np.ndarray
    wrongful: np.ndarray


@dataclass
class Delistings:
    """Listings ending today: citizen and sanction."""

    citizen: np.ndarray
    sanction: np.ndarray


@dataclass
class Day:
    """What one day's phases hand each other."""

    acts: list[np.ndarray] = field(default_factory=list)  # packed acts, by behaviour
    records: list[Records] = field(default_factory=list)  # sensed today, shared at once
    pending: dict[int, list[Records]] = field(default_factory=lambda: defaultdict(list))
    batches: list[Records] = field(default_factory=list)  # reaching the score today
    gated: dict[tuple[int, int], Records] = field(default_factory=dict)  # (batch, rule)
    # (rule, actors) of misattributed records a rule did not take where the receiver lives
    withheld: list[tuple[int, np.ndarray]] = field(default_factory=list)
    touched: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)  # ids, after
    last_row: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)  # ids, rows
    rule_listings: list[Listings] = field(default_factory=list)
    tier_ids: np.ndarray = field(default_factory=lambda: _EMPTY)
    tier_of: np.ndarray = field(default_factory=lambda: _EMPTY)

    def clear(self) -> None:
        self.acts, self.records, self.batches = [], [], []
        self.gated, self.touched, self.last_row, self.rule_listings = {}, [], [], []
        self.withheld = []
        self.tier_ids = self.tier_of = _EMPTY
