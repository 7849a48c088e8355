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


# ----------------------------------------------------------------------------- a firm's price (Chapter 4)
@dataclass
class PriceDPResult:
    """A price setter's dynamic optimum on a grid of ``gap = log(p_prev / p*)`` (the price it
    enters the month with, relative to this month's static optimum)."""

    gap_grid: np.ndarray
    value: np.ndarray
    change_index: np.ndarray     # index into ``changes`` of the optimal change at each gap
    changes: np.ndarray
    iterations: int
    sup_change: float

    def policy(self, gap) -> np.ndarray:
        """The optimal change index at each ``gap`` (nearest grid point)."""
        g = np.asarray(gap, dtype=float)
        j = np.abs(self.gap_grid[None, :] - g.reshape(-1, 1)).argmin(1)
        return self.change_index[j].reshape(g.shape)

    def inaction_band(self) -> tuple[float, float]:
        """The smallest and largest gap at which not changing the price is optimal (NaN if never)."""
        hold = int(np.argmin(np.abs(self.changes)))
        g = self.gap_grid[self.change_index == hold]
        return (float(g.min()), float(g.max())) if g.size else (float("nan"), float("nan"))


def price_profit(x: np.ndarray, elasticity: float, capital_share: float) -> tuple[np.ndarray, np.ndarray]:
    """One month's variable profit and revenue of a firm whose price is ``x = log(p/p*)`` from
    its static optimum, both relative to the revenue at the optimum.

    CES demand ``y ~ p^-e`` and hours ``H ~ y^(1/(1-alpha))`` (capital fixed within the month)
    give revenue ``e^{(1-e) x}`` and labour cost ``(e-1)/eta e^{-eta x}`` with ``eta = e/(1-alpha)``;
    the first-order condition of the profit puts the optimum at ``x = 0``
    (``p* = e/(e-1) mc(y(p*))``, Chapter 4's eq. p-star)."""
    e, a = float(elasticity), float(capital_share)
    eta = e / (1 - a)
    rev = np.exp((1 - e) * x)
    return rev - (e - 1) / eta * np.exp(-eta * x), rev


def solve_price_dp(elasticity: float, capital_share: float, menu_cost: float, rotemberg_cost: float,
                   inflation_monthly: float, beta: float, changes, grid_size: int = 601, half_width: float = 0.2,
                   tol: float = 1e-10, max_iter: int = 20_000) -> PriceDPResult:
    """Value function iteration for one price setter with Chapter 4's adjustment costs.

    Each month the static optimum ``p*`` rises by ``inflation_monthly`` (steady inflation, costs
    growing with it), so a firm entering with ``gap = log(p_prev/p*)`` that changes its price by
    ``c`` (one of ``changes``, decimals) earns

        profit(gap + log(1+c)) - [menu 1{c != 0} + phi/2 c^2] revenue(gap + log(1+c))

    and enters next month with ``gap + log(1+c) - log(1+inflation)``. The cost terms are those
    of :mod:`macrobook.markets.pricing` (shares of revenue). Everything is relative to the
    revenue at the static optimum. ``V`` off the grid is linearly interpolated (clamped at the
    ends; the grid is wide enough that the optimum never leaves it). With no costs the optimum
    is the change that lands nearest ``p*`` (the static optimum); with a menu cost there is an
    inaction band around it (Sheshinski and Weiss 1977; Golosov and Lucas 2007).
    """
    if not 0 < beta < 1:
        raise ValueError(f"beta must be in (0, 1), got {beta}")
    ch = np.asarray(changes, dtype=float)
    x = np.linspace(-half_width, half_width, grid_size)
    post = x[:, None] + np.log1p(ch)[None, :]                         # [G, C] gap after the change
    prof, rev = price_profit(post, elasticity, capital_share)
    flow = prof - (menu_cost * (ch != 0)[None, :] + 0.5 * rotemberg_cost * ch[None, :] ** 2) * rev
    nxt = np.clip(post - math.log1p(inflation_monthly), x[0], x[-1])
    V = np.zeros(grid_size)
    sup = float("inf")
    it = 0
    for it in range(1, max_iter + 1):
        Q = flow + beta * np.interp(nxt, x, V)
        V_new = Q.max(1)
        sup = float(np.abs(V_new - V).max())
        V = V_new
        if sup < tol * (1 - beta):
            break
    Q = flow + beta * np.interp(nxt, x, V)
    return PriceDPResult(x, V, Q.argmax(1), ch, it, sup)
