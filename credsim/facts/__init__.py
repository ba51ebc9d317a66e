"""Published figures with their sources, shipped with credsim (``china.toml``).

Every number a default uses is read from here, so that its source travels with it. Figures
marked ``confirmed = false`` may serve as defaults but never as calibration targets.
"""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources
from typing import Any


@cache
def china() -> dict[str, Any]:
    """The facts file as a dict (census, blacklist counts, rules, sensing, cases)."""
    return tomllib.loads(resources.files(__name__).joinpath("china.toml").read_text("utf-8"))
