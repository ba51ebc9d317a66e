"""Experiments over regimes: parameter sweeps with replicates, and global sensitivity analysis.

``sweep`` runs a regime over a grid or a sample of parameter values, each parameter set with
replicates paired by common random numbers; ``sensitivity`` computes Sobol' or Morris indices
of one headline figure with SALib. Both need the ``experiments`` extra (SALib).
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from credsim.experiments.sensitivity import sensitivity
    from credsim.experiments.sweep import ExperimentError, SweepResult, sweep

__all__ = ["ExperimentError", "SweepResult", "sensitivity", "sweep"]

_LAZY = {
    "ExperimentError": "credsim.experiments.sweep",
    "SweepResult": "credsim.experiments.sweep",
    "sweep": "credsim.experiments.sweep",
    "sensitivity": "credsim.experiments.sensitivity",
}


def __getattr__(name: str) -> Any:
    import importlib

    module = _LAZY.get(name)
    if module is None:  # a submodule, as an attribute of the package
        try:
            return importlib.import_module(f"credsim.experiments.{name}")
        except ModuleNotFoundError as e:
            if e.name != f"credsim.experiments.{name}":
                raise
            raise AttributeError(f"no attribute {name!r} in credsim.experiments") from None

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
