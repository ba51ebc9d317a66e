"""Experiments over regimes: parameter sweeps with replicates, and global sensitivity analysis.

``sweep`` runs a regime over a grid or a sample of parameter values, each parameter set with
replicates paired by common random numbers; ``sensitivity`` computes Sobol' or Morris indices
of one headline figure with SALib. Both need the ``experiments`` extra (SALib).
"""

from credsim.experiments.sensitivity import sensitivity
from credsim.experiments.sweep import ExperimentError, SweepResult, sweep

__all__ = ["ExperimentError", "SweepResult", "sensitivity", "sweep"]
