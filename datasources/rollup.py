"""Rolling values up the area hierarchy: sums where values add up, weighted means where not.

A city's congestion index is not the plain mean of its districts, and a city's
incident count is the sum of its grids: the catalogue says which rule applies.
"""

from __future__ import annotations

import numpy as np

from .errors import BadQuery


def roll_up(values: np.ndarray, members: np.ndarray, method: str,
            weights: np.ndarray | None = None, *, source: str = "rollup") -> np.ndarray:
    """Combine (T, G) base values into (T, A) area values.

    ``members`` is an (A, G) 0/1 matrix saying which base areas each area holds.
    NaN base values are left out (a grid without a sensor does not count as zero).
    """
    valid = ~np.isnan(values)
    v = np.where(valid, values, 0.0)
    m = members.T
    if method == "sum":
        return v @ m
    if method in {"mean", "latest"}:
        n = valid.astype(float) @ m
        return np.divide(v @ m, n, out=np.full(n.shape, np.nan), where=n > 0)
    if method == "weighted_mean":
        if weights is None:
            raise BadQuery(source, "weighted_mean needs the weights of the 'by' indicator")
        w = np.where(valid, np.nan_to_num(weights), 0.0)
        total = w @ m
        return np.divide((v * w) @ m, total, out=np.full(total.shape, np.nan), where=total > 0)
    if method in {"max", "min"}:
        fill = -np.inf if method == "max" else np.inf
        pick = np.max if method == "max" else np.min
        out = np.empty((values.shape[0], members.shape[0]))
        for a, row in enumerate(members.astype(bool)):
            picked = pick(np.where(valid[:, row], values[:, row], fill), axis=1)
            out[:, a] = np.where(np.isinf(picked), np.nan, picked)
        return out
    raise BadQuery(source, f"cannot roll up with method {method!r}")
