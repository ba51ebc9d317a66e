"""credsim: simulate "social credit" regimes on synthetic citizens, and count what they do.

Synthetic citizens only: credsim never ingests records of real people, never processes images,
video or social-media accounts, and offers no interface that enforces a sanction on anyone.
"""

__version__ = "0.1.0"

from credsim.regime import Regime, RegimeError, load_regime, presets  # noqa: E402
from credsim.run import Run  # noqa: E402
from credsim.sim import Sim  # noqa: E402

__all__ = ["Regime", "RegimeError", "Run", "Sim", "__version__", "load_regime", "presets"]
