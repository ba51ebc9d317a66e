"""credsim: simulate "social credit" regimes on synthetic citizens, and count what they do.

Synthetic citizens only: credsim never ingests records of real people, never processes images,
video or social-media accounts, and offers no interface that enforces a sanction on anyone.
"""

__version__ = "0.1.0"

from credsim.regime import Regime, RegimeError, load_regime, presets  # noqa: E402
from credsim.run import Run  # noqa: E402
from credsim.sim import Sim  # noqa: E402

__all__ = [
    "Regime",
    "RegimeError",
    "Run",
    "Sim",
    "__version__",
    "calibrate",
    "compare",
    "load_regime",
    "presets",
    "sensitivity",
    "sweep",
]


def compare(runs, out=None):
    """Compare runs side by side: (headline DataFrame, path of compare.html or None)."""
    from credsim.report.compare import compare as _compare

    return _compare(runs, out)


def sweep(regime, **kwargs):
    """Run a regime over a grid or sample of parameters (see credsim.experiments.sweep)."""
    from credsim.experiments import sweep as _sweep

    return _sweep(regime, **kwargs)


def sensitivity(regime, params, **kwargs):
    """Sobol or Morris indices of a headline figure (see credsim.experiments.sensitivity)."""
    from credsim.experiments import sensitivity as _sensitivity

    return _sensitivity(regime, params, **kwargs)


def calibrate(regime, targets, fit, **kwargs):
    """Fit regime parameters to published figures (see credsim.calibration.calibrate)."""
    from credsim.calibration import calibrate as _calibrate

    return _calibrate(regime, targets, fit, **kwargs)
