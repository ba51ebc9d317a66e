"""The built-in mechanisms, one module each, in the order they run within a phase.

The order matters only within a phase and for event handlers: a listing is marked for life
and judged wrongful or not before its ledger row is written (``marks``, ``harm``), then the
citizen adapts, the household's spillover is recomputed and redress is demanded, in that
order. The life course comes first: the day's births, deaths and birthdays happen before
anyone acts, and no record reaches a citizen not yet born or dead.
"""

from __future__ import annotations

from credsim.engine.components.adaptation import Adaptation
from credsim.engine.components.amnesty import Amnesty
from credsim.engine.components.attempts import Attempts
from credsim.engine.components.behave import Behave
from credsim.engine.components.green_lanes import GreenLanes
from credsim.engine.components.harm import Harm
from credsim.engine.components.life import Life
from credsim.engine.components.marks import Marks
from credsim.engine.components.redress import Redress
from credsim.engine.components.rollout import Rollout
from credsim.engine.components.sanctions import Sanctions
from credsim.engine.components.score import Score
from credsim.engine.components.sense import Sense
from credsim.engine.components.share import Share
from credsim.engine.components.spillover import Spillover
from credsim.engine.components.tiers import Tiers

COMPONENTS = (
    Life,
    Behave,
    Sense,
    Share,
    Rollout,
    Score,
    Tiers,
    Amnesty,
    Sanctions,
    Marks,
    Harm,
    Adaptation,
    Spillover,
    Attempts,
    GreenLanes,
    Redress,
)

__all__ = ["COMPONENTS"]
