"""credsim: simulate "social credit" regimes on synthetic citizens, and count what they do.

Synthetic citizens only: credsim never ingests records of real people, never processes images,
video or social-media accounts, and offers no interface that enforces a sanction on anyone.
"""

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from credsim.regime import Regime, RegimeError, load_regime
    from credsim.regime.load import presets
    from credsim.run import Run
    from credsim.sim import Sim

# The public names are loaded on first use (PEP 562), so that ``import credsim`` and
# ``credsim --version`` do not import NumPy, Numba, pydantic, pyarrow or pandas.
_LAZY = {
    "Regime": "credsim.regime",
    "RegimeError": "credsim.regime",
    "load_regime": "credsim.regime",
    "presets": "credsim.regime.load",  # not credsim.regime: its presets/ folder shadows it
    "Run": "credsim.run",
    "Sim": "credsim.sim",
}


def __getattr__(name: str) -> Any:
    import importlib

    module = _LAZY.get(name)
    if module is None:  # a submodule, as ``import credsim`` then ``credsim.x`` expects
        try:
            return importlib.import_module(f"credsim.{name}")
        except ModuleNotFoundError as e:
            if e.name != f"credsim.{name}":
                raise
            raise AttributeError(f"module 'credsim' has no attribute {name!r}") from None

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


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
