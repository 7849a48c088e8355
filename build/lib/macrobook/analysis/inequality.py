"""Inequality measures: the Gini coefficient and Lorenz curves (batched, torch or numpy)."""
from __future__ import annotations

import numpy as np
import torch


def gini(x) -> np.ndarray | torch.Tensor:
    """Gini coefficient over the last axis: the mean absolute difference over twice the mean,
    ``G = sum_ij |x_i - x_j| / (2 n^2 mean(x))`` (Gini 1912). 0 = equal, 1 = one has all.
    Defined for negative entries (net worth) too, where it can exceed 1."""
    if isinstance(x, torch.Tensor):
        from ..envs.monetary import gini as _g
        return _g(x)
    x = np.asarray(x, dtype=float)
    n = x.shape[-1]
    diff = np.abs(x[..., :, None] - x[..., None, :]).sum((-1, -2))
    return diff / (2 * n * n * np.maximum(np.abs(x.mean(-1)), 1e-12))


def lorenz(x) -> tuple[np.ndarray, np.ndarray]:
    """Lorenz curve of a 1-D sample: (population share, share of the total held)."""
    x = np.sort(np.asarray(x, dtype=float))
    cum = np.r_[0.0, np.cumsum(x)]
    return np.linspace(0, 1, len(x) + 1), cum / max(cum[-1], 1e-12)
