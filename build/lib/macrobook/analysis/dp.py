"""Value function iteration (VFI) for the consumption-savings problem: the ground truth.

Defined in Chapter 1 (notebooks/01_rl_fundamentals.ipynb). Solves the Bellman equation of
``macrobook.envs.cake`` on a grid of wealth (cash on hand) ``W``:

    V(W) = max_{s in [s_min, s_max]}  log(s W) + beta * sum_j p_j V(R (1 - s) W + y_j)

(Bellman 1957; Stokey and Lucas 1989, ch. 4). ``T V`` is a contraction with modulus ``beta``,
so iterating ``V <- T V`` from any start converges, and ``||V_k - V*|| <= ||V_k - V_{k-1}|| beta / (1 - beta)``.

Method, and why:

* The grid is in log wealth (the problem is scale-free) and wider than the reader's wealth
  range, because deterministic cake eating only ever moves down; ``V`` off the grid is
  extrapolated linearly in log wealth, which is exact for the deterministic case
  (``V = A + log W / (1 - beta)``) and close to it at the top of the stochastic one.
* Off-grid values in between grid points are linear interpolation in log wealth.
* The maximisation over the share is a golden-section search run on every grid point at once
  (the objective is concave in ``s``: log utility, concave ``V``), so the policy is not limited
  to a grid of shares.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..envs.cake import CakeConfig


@dataclass
class VFIResult:
    """The solution on ``wealth_grid`` (float64 arrays of the same length)."""

    wealth_grid: np.ndarray
    value: np.ndarray
    share: np.ndarray
    iterations: int
    sup_change: float  # ||V_k - V_{k-1}||_inf at the last iteration

    @property
    def consumption(self) -> np.ndarray:
        return self.share * self.wealth_grid

    def policy_share(self, wealth) -> np.ndarray:
        """The optimal share c / W at any wealth (interpolated in log wealth)."""
        return np.interp(np.log(np.asarray(wealth, dtype=np.float64)), np.log(self.wealth_grid), self.share)

    def policy_consumption(self, wealth) -> np.ndarray:
        w = np.asarray(wealth, dtype=np.float64)
        return self.policy_share(w) * w

    def value_at(self, wealth) -> np.ndarray:
        return _interp_extrap(np.log(np.asarray(wealth, dtype=np.float64)), np.log(self.wealth_grid), self.value)


def _interp_extrap(x: np.ndarray, xp: np.ndarray, fp: np.ndarray) -> np.ndarray:
    """Piecewise-linear interpolation with linear extrapolation beyond both ends."""
    y = np.interp(x, xp, fp)
    lo_slope = (fp[1] - fp[0]) / (xp[1] - xp[0])
    hi_slope = (fp[-1] - fp[-2]) / (xp[-1] - xp[-2])
    y = np.where(x < xp[0], fp[0] + lo_slope * (x - xp[0]), y)
    y = np.where(x > xp[-1], fp[-1] + hi_slope * (x - xp[-1]), y)
    return y


def bellman_objective(share: np.ndarray, wealth: np.ndarray, log_grid: np.ndarray, value: np.ndarray,
                      config: CakeConfig) -> np.ndarray:
    """log(s W) + beta * E V(R (1 - s) W + y): the right-hand side of the Bellman equation."""
    cont = np.zeros_like(share)
    for y, p in config.income_values():  # a loop over the (two) income states, not over households
        next_wealth = config.gross_return * (1.0 - share) * wealth + y
        cont = cont + p * _interp_extrap(np.log(next_wealth), log_grid, value)
    return np.log(share * wealth) + config.beta * cont


def _golden_max(f, lo: np.ndarray, hi: np.ndarray, iters: int = 45) -> np.ndarray:
    """Vectorised golden-section search for the maximiser of a unimodal f on [lo, hi]."""
    g = (math.sqrt(5.0) - 1.0) / 2.0
    a, b = lo.copy(), hi.copy()
    c, d = b - g * (b - a), a + g * (b - a)
    fc, fd = f(c), f(d)
    for _ in range(iters):
        left = fc > fd  # maximiser lies in [a, d]
        b = np.where(left, d, b)
        a = np.where(left, a, c)
        new_c, new_d = b - g * (b - a), a + g * (b - a)
        fc, fd = f(new_c), f(new_d)
        c, d = new_c, new_d
    x = (a + b) / 2.0
    # The corners: the maximiser may sit on a bound (e.g. the borrowing limit binds at low cash).
    cand = np.stack([lo, x, hi])
    vals = np.stack([f(lo), f(x), f(hi)])
    return cand[vals.argmax(0), np.arange(len(x))]


def solve_vfi(config: CakeConfig, grid_size: int = 300, wealth_low: float | None = None,
              wealth_high: float | None = None, tol: float = 1e-8, max_iter: int = 5000) -> VFIResult:
    """Solve the Bellman equation of ``config``'s economy by value function iteration.

    The grid is ``grid_size`` log-spaced wealth levels on ``[wealth_low, wealth_high]`` (defaults:
    a range that contains ``[wealth_min, wealth_max]`` with room below for cake that is eaten
    and above for savers). Iterates until the sup-norm change is below ``tol * (1 - beta)``,
    i.e. until V is within ``tol`` of the fixed point.
    """
    lo = wealth_low if wealth_low is not None else min(config.wealth_min, config.income_low if config.income == "iid" else config.wealth_min) / 100.0
    hi = wealth_high if wealth_high is not None else config.wealth_max * 10.0
    grid = np.geomspace(lo, hi, grid_size)
    log_grid = np.log(grid)
    # Start from "consume the closed-form share forever" would smuggle in the answer; start from 0.
    value = np.zeros(grid_size)
    share = np.full(grid_size, 0.5)
    s_lo = np.full(grid_size, config.share_min)
    s_hi = np.full(grid_size, config.share_max)
    change = np.inf
    it = 0
    for it in range(1, max_iter + 1):
        f = lambda s: bellman_objective(s, grid, log_grid, value, config)  # noqa: E731
        share = _golden_max(f, s_lo, s_hi)
        new_value = f(share)
        change = float(np.max(np.abs(new_value - value)))
        value = new_value
        if change < tol * (1.0 - config.beta):
            break
    return VFIResult(wealth_grid=grid, value=value, share=share, iterations=it, sup_change=change)
