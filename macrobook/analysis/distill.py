"""Distilling a learned policy into a rule a reader can read: least squares and a shallow tree.

Defined in Chapter 7. A policy ``pi(o)`` is queried on states ``o`` (``[S, d]``, e.g. the states its own
play visits); the readable rules are fitted to the answers and judged by how much of the policy's
variation they explain on states held out from the fit (``R^2``). A rule that explains little is a
finding too: the network does something a line or a few thresholds do not capture.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np


def r_squared(y: np.ndarray, fitted: np.ndarray) -> float:
    """1 - SS_res / SS_tot; 1.0 when ``y`` has no variation and the fit is exact, 0.0 when it has none and is not."""
    y, fitted = np.asarray(y, float), np.asarray(fitted, float)
    ss_res = float(((y - fitted) ** 2).sum())
    ss_tot = float(((y - y.mean()) ** 2).sum())
    if ss_tot <= 1e-18:
        return 1.0 if ss_res <= 1e-12 else 0.0
    return 1.0 - ss_res / ss_tot


@dataclass
class LinearRule:
    """``action = intercept + sum_k coef_k * feature_k``."""

    intercept: float
    coef: np.ndarray
    names: Sequence[str]

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.intercept + np.asarray(x, float) @ self.coef

    def __str__(self) -> str:
        terms = " ".join(f"{'+' if c >= 0 else '-'} {abs(c):.3g} {n}" for c, n in zip(self.coef, self.names))
        return f"{self.intercept:.3g} {terms}"


def fit_linear(x: np.ndarray, y: np.ndarray, names: Sequence[str] | None = None) -> LinearRule:
    """Ordinary least squares of ``y`` ``[S]`` on ``x`` ``[S, d]`` with an intercept."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    names = list(names) if names is not None else [f"x{k}" for k in range(x.shape[1])]
    design = np.column_stack([np.ones(len(x)), x])
    beta, *_ = np.linalg.lstsq(design, y, rcond=None)
    return LinearRule(float(beta[0]), beta[1:], names)


@dataclass
class TreeRule:
    """A regression tree of depth <= 2 as nested (feature, threshold, left, right) tuples; leaves are floats."""

    node: object
    names: Sequence[str]

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, float)
        return np.array([self._one(self.node, row) for row in x])

    def _one(self, node, row):
        while isinstance(node, tuple):
            k, thr, left, right = node
            node = left if row[k] <= thr else right
        return node

    def describe(self, node=None, depth: int = 0) -> str:
        node = self.node if node is None else node
        pad = "  " * depth
        if not isinstance(node, tuple):
            return f"{pad}-> {node:.3g}\n"
        k, thr, left, right = node
        return (f"{pad}if {self.names[k]} <= {thr:.3g}:\n" + self.describe(left, depth + 1)
                + f"{pad}else:\n" + self.describe(right, depth + 1))


def _best_split(x: np.ndarray, y: np.ndarray, min_leaf: int):
    best = None
    for k in range(x.shape[1]):
        order = np.argsort(x[:, k], kind="stable")
        xs, ys = x[order, k], y[order]
        csum, csq = np.cumsum(ys), np.cumsum(ys ** 2)
        n = len(ys)
        for i in range(min_leaf, n - min_leaf + 1):
            if xs[i - 1] == xs[min(i, n - 1)]:
                continue
            left_sse = csq[i - 1] - csum[i - 1] ** 2 / i
            right_sse = (csq[-1] - csq[i - 1]) - (csum[-1] - csum[i - 1]) ** 2 / (n - i)
            sse = left_sse + right_sse
            if best is None or sse < best[0]:
                best = (sse, k, 0.5 * (xs[i - 1] + xs[i]))
    return best


def fit_tree(x: np.ndarray, y: np.ndarray, depth: int = 2, min_leaf: int = 5,
             names: Sequence[str] | None = None) -> TreeRule:
    """A least-squares regression tree (CART, Breiman et al. 1984) of the given depth, grown greedily."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    names = list(names) if names is not None else [f"x{k}" for k in range(x.shape[1])]

    def grow(idx, d):
        if d == 0 or len(idx) < 2 * min_leaf:
            return float(y[idx].mean())
        split = _best_split(x[idx], y[idx], min_leaf)
        if split is None:
            return float(y[idx].mean())
        _, k, thr = split
        left, right = idx[x[idx, k] <= thr], idx[x[idx, k] > thr]
        return (k, float(thr), grow(left, d - 1), grow(right, d - 1))

    return TreeRule(grow(np.arange(len(y)), depth), names)


def distill(x: np.ndarray, y: np.ndarray, names: Sequence[str], holdout: float = 0.3, seed: int = 0,
            tree_depth: int = 2) -> dict:
    """Fit a linear rule and a depth-``tree_depth`` tree on part of the states; ``R^2`` on the rest.

    Returns ``{"linear": LinearRule, "tree": TreeRule, "r2_linear": float, "r2_tree": float}``.
    """
    x, y = np.asarray(x, float), np.asarray(y, float)
    rng = np.random.default_rng(seed)
    perm = rng.permutation(len(y))
    n_test = max(1, int(holdout * len(y)))
    test, train = perm[:n_test], perm[n_test:]
    lin = fit_linear(x[train], y[train], names)
    tree = fit_tree(x[train], y[train], tree_depth, names=names)
    return {"linear": lin, "tree": tree, "r2_linear": r_squared(y[test], lin(x[test])),
            "r2_tree": r_squared(y[test], tree(x[test]))}
