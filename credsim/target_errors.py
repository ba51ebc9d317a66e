"""The figures' errors in the structural fit: each figure's standard deviation (tolerance,
probe and checking-run sampling) and their covariance within a cumulative series (the
discrepancy a model accumulates between successive figures)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from credsim.calibration import Targets, target_days

if TYPE_CHECKING:
    from credsim.structural import Emulator


def sigma(t: Targets, em: Emulator, check_population: int) -> np.ndarray:
    """Each target's standard deviation in the objective: its tolerance, the probe's
    sampling error (relative variance of the coefficient it uses) and the Poisson sampling
    error of one checking run of ``check_population`` citizens scaled to the real one
    (overdispersed about twice for denied attempts)."""
    scale = t.meta.population / check_population
    out = []
    for x in t.targets:
        y = x.value
        mode = x.metric.removeprefix("denied_")
        rv = em.rel_var.get(mode, em.rel_var["listing"])
        phi = 2.0 if x.metric.startswith("denied_") else 1.0
        out.append(math.sqrt((x.tolerance * y) ** 2 + rv * y * y + phi * scale * y))
    return np.array(out) / np.sqrt([max(x.weight, 1e-9) for x in t.targets])


def covariance(t: Targets, sd: np.ndarray) -> np.ndarray:
    """The figures' error covariance: each figure's own error (``sigma``: reporting
    tolerance, probe and checking-run sampling) on the diagonal, plus, within each cumulative
    series, the model's accumulated discrepancy: a missed flow stays missed, so the error of a
    cumulative figure is the sum of independent errors of the increments before it, each of
    the figure's tolerance times the increment (a random walk, covariance = the variance
    accumulated up to the earlier of two figures)."""
    cov = np.diag(np.asarray(sd, dtype=np.float64) ** 2)
    days = target_days(t)
    series: dict[str, list[int]] = {}
    for i, x in enumerate(t.targets):
        if x.kind == "cumulative":
            series.setdefault(x.metric, []).append(i)
    for rows in series.values():
        rows = sorted(rows, key=lambda i: days[i][1])
        y = np.array([t.targets[i].value for i in rows])
        tol = np.array([t.targets[i].tolerance for i in rows])
        acc = np.cumsum((np.diff(y, prepend=0.0).clip(min=0.0) * tol) ** 2)
        k = np.arange(len(rows))
        cov[np.ix_(rows, rows)] += acc[np.minimum.outer(k, k)]
    return cov


def whitening(t: Targets, sd: np.ndarray) -> np.ndarray:
    """The matrix that turns errors of covariance ``covariance(t, sd)`` into independent
    unit ones (the inverse of its Cholesky factor); residuals are weighed through it."""
    return np.linalg.inv(np.linalg.cholesky(covariance(t, sd)))
