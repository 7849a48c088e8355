"""A household's consumption response to the interest rate by value-function iteration (Chapter 4).

The learner-alone check of Chapter 4's households: what consumption rule, and what response of
consumption to a rate change, does a household with this economy's reward and budget choose when
it optimises exactly? The learned households are then measured against it
(:func:`learned_rate_response`).

The problem (one month per period, real units, cash on hand ``x`` = wealth plus this month's
income)::

    V(x) = max_{0 < c <= x}  u(c) + w log(1 + a') + beta V(x'),    a' = (1 + r)(x - c),   x' = a' + y

with ``u(c) = ((c + f)^(1-sigma) - 1)/(1 - sigma)`` (``log(c + f)`` at ``sigma = 1``), a
consumption floor ``f``, a weight ``w`` on end-of-month wealth, income ``y`` and a monthly real
rate ``r``; no borrowing (``a' >= 0``). Chapter 4's household has ``sigma = 1``, ``f = 0.05``
and ``w = savings_weight`` (seed 002's ``log c + savings`` reward; its labour term does not
depend on ``c``).

With ``y = f = w = 0`` the problem has a closed form (cake eating with interest; e.g. Stokey,
Lucas and Prescott 1989, ch. 4; Ljungqvist and Sargent 2018, ch. 3): consumption is a constant
share of cash on hand,

    c = (1 - beta^(1/sigma) (1 + r)^(1/sigma - 1)) x,

so with log utility ``c = (1 - beta) x`` whatever the rate (income and substitution effects
cancel), and with ``sigma > 1`` a higher rate *raises* consumption (the income effect wins).
:func:`closed_form_consumption` gives it; ``tests/test_household_dp.py`` holds the VFI to it.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def _utility(c: np.ndarray, sigma: float, floor: float) -> np.ndarray:
    z = np.maximum(c + floor, 1e-300)
    return np.log(z) if abs(sigma - 1.0) < 1e-12 else (z ** (1 - sigma) - 1) / (1 - sigma)


def _interp_loglinear(logx_grid: np.ndarray, values: np.ndarray, logx: np.ndarray) -> np.ndarray:
    """Linear interpolation in ``log x``, extrapolated linearly beyond both ends."""
    n = len(logx_grid)
    k = np.clip(np.searchsorted(logx_grid, logx) - 1, 0, n - 2)
    w = (logx - logx_grid[k]) / (logx_grid[k + 1] - logx_grid[k])
    return values[k] + w * (values[k + 1] - values[k])


@dataclass
class HouseholdDP:
    """A solved household problem: the grid, the value function and the consumption rule."""

    x: np.ndarray            # cash-on-hand grid
    value: np.ndarray        # V(x)
    c: np.ndarray            # optimal consumption on the grid
    beta: float
    rate_monthly: float
    income: float
    sigma: float
    floor: float
    wealth_weight: float
    iterations: int

    def consumption(self, x) -> np.ndarray:
        """The consumption rule at any ``x`` (interpolated in logs)."""
        x = np.asarray(x, dtype=float)
        return np.exp(_interp_loglinear(np.log(self.x), np.log(np.maximum(self.c, 1e-300)), np.log(x)))

    def share(self, x) -> np.ndarray:
        """Consumption as a share of cash on hand."""
        return self.consumption(x) / np.asarray(x, dtype=float)


def closed_form_consumption(x, beta: float, rate_monthly: float, sigma: float = 1.0) -> np.ndarray:
    """Cake eating with interest (no income, no floor, no wealth term):
    ``c = (1 - beta^(1/sigma) (1 + r)^(1/sigma - 1)) x``."""
    g = beta ** (1 / sigma) * (1 + rate_monthly) ** (1 / sigma - 1)
    if g >= 1:
        raise ValueError(f"beta^(1/sigma) (1 + r)^(1/sigma - 1) = {g:.4f} must be below 1 for a finite solution")
    return (1 - g) * np.asarray(x, dtype=float)


def solve_household_dp(beta: float, rate_monthly: float, income: float = 0.0, sigma: float = 1.0, floor: float = 0.0,
                       wealth_weight: float = 0.0, x_min: float | None = None, x_max: float | None = None,
                       n_x: int = 240, n_share: int = 400, tol: float = 1e-10, max_iter: int = 5000) -> HouseholdDP:
    """Value-function iteration on a geometric grid of cash on hand.

    The choice is the consumption share ``theta = c / x`` on a geometric grid in ``[1e-4, 1]``
    (``n_share`` points); the value at next month's ``x'`` is interpolated linearly in
    ``T(x) = x^(1-sigma)/(1-sigma)`` (``log x`` at ``sigma = 1``) and extrapolated beyond the grid,
    which is exact when ``V`` is affine in ``T``, as in the cake-eating case. After convergence (sup-norm change below ``tol``)
    the rule is refined point by point on a fine grid of shares between the neighbours of the
    best one, so it is accurate to about 0.05% of the share.
    """
    if not 0 < beta < 1:
        raise ValueError(f"beta must be in (0, 1), got {beta}")
    if rate_monthly <= -1:
        raise ValueError(f"rate_monthly must be above -1, got {rate_monthly}")
    if income < 0 or floor < 0 or wealth_weight < 0 or sigma <= 0:
        raise ValueError("income, floor and wealth_weight must be >= 0 and sigma > 0")
    lo = x_min if x_min is not None else (max(income, 1e-3) if income > 0 else 1e-3)
    hi = x_max if x_max is not None else (200.0 * max(income, 1.0) if income > 0 else 1e3)
    x = np.geomspace(lo, hi, n_x)
    # V is interpolated linearly in T(x) = u(x) without the floor: exact for the cake-eating case,
    # where V(x) = A T(x) + B
    T = (lambda z: np.log(z)) if abs(sigma - 1.0) < 1e-12 else (lambda z: z ** (1 - sigma) / (1 - sigma))
    lx = T(x)
    shares = np.geomspace(1e-4, 1.0, n_share)

    def parts(th):
        c = th * x[:, None]
        a_next = (1 + rate_monthly) * (x[:, None] - c)
        u = _utility(c, sigma, floor) + wealth_weight * np.log1p(np.maximum(a_next, 0.0))
        lxn = T(np.maximum(a_next + income, 1e-300))
        k = np.clip(np.searchsorted(lx, lxn) - 1, 0, n_x - 2)
        w = (lxn - lx[k]) / (lx[k + 1] - lx[k])
        return u, k, w

    u, k, w = parts(shares[None, :])
    V = _utility(x, sigma, floor) / (1 - beta)
    it = 0
    for it in range(1, max_iter + 1):
        EV = V[k] + w * (V[k + 1] - V[k])
        V_new = (u + beta * EV).max(1)
        diff = np.abs(V_new - V).max()
        V = V_new
        if diff < tol:
            break
    best = (u + beta * (V[k] + w * (V[k + 1] - V[k]))).argmax(1)
    lo_s = shares[np.maximum(best - 1, 0)]
    hi_s = shares[np.minimum(best + 1, n_share - 1)]
    fine = lo_s[:, None] + (hi_s - lo_s)[:, None] * np.linspace(0.0, 1.0, 401)[None, :]
    uf, kf, wf = parts(fine)
    qf = uf + beta * (V[kf] + wf * (V[kf + 1] - V[kf]))
    theta = fine[np.arange(n_x), qf.argmax(1)]
    return HouseholdDP(x=x, value=V, c=theta * x, beta=beta, rate_monthly=rate_monthly, income=income, sigma=sigma,
                       floor=floor, wealth_weight=wealth_weight, iterations=it)


def rate_response(beta: float, rate_annual: float, wealth: float, income: float, change_annual: float = 0.01,
                  **kw) -> dict:
    """The optimal consumption of a household with real wealth ``wealth`` (start of month) and
    income ``income``, at the real rate ``rate_annual`` and at ``rate_annual + change_annual``
    (permanently), by :func:`solve_household_dp`. Returns both levels and
    ``response_pct = 100 (log c1 - log c0)``."""
    x = wealth + income
    sols = [solve_household_dp(beta, (1 + r) ** (1 / 12) - 1, income=income, **kw) for r in (rate_annual, rate_annual + change_annual)]
    c0, c1 = (float(s.consumption(x)) for s in sols)
    return {"c0": c0, "c1": c1, "response_pct": 100 * (np.log(c1) - np.log(c0)), "share0": c0 / x, "share1": c1 / x,
            "solutions": sols}


def economy_household_response(config, beta: float, wealth: float, income: float, rate_annual: float,
                               change_annual: float = 0.01) -> dict:
    """:func:`rate_response` for Chapter 4's household: log utility with the reward's consumption
    floor (0.05) and ``config.savings_weight`` on ``log(1 + real deposits)``."""
    return rate_response(beta, rate_annual, wealth, income, change_annual, sigma=1.0, floor=0.05,
                         wealth_weight=config.savings_weight)


def learned_rate_response(learners, config, seed: int = 0, num_envs: int = 8, months: int = 36, burn_in: int = 12,
                          change_pp: float = 1.0, device="cpu") -> dict:
    """The learned households' consumption response to a permanent +``change_pp`` pp rate change.

    Runs the economy under ``learners`` and, in every household-month after ``burn_in``, reads the
    household's observation and its policy's expected consumption multiplier; then raises the
    rates it observes (its real deposit rate and its lending rate, both in pp) by ``change_pp``
    and reads the multiplier again. A household's consumption is the multiplier times its plan
    (eq. c-plan of Chapter 4), whose own long-run response to a permanent rate change is
    ``-rate_sensitivity * change`` in logs; the learned part is the change of the log expected
    multiplier. Returns both parts, their sum (``response_pct``, % per +``change_pp`` pp) and the
    median household's real wealth, permanent income and real deposit rate (the state at which
    to solve the DP)."""
    import dataclasses

    import torch

    from ..envs.monetary import CONSUMPTION_MULTIPLIERS, MonetaryEconomy
    from .transmission import PolicySampler

    cfg = dataclasses.replace(config, sim_length=max(config.sim_length, months) + 1)
    econ = MonetaryEconomy(cfg, num_envs=num_envs, device=device)
    obs = econ.reset(seed=seed)
    sampler = PolicySampler(learners, seed, False)
    actor = learners["household"].actor
    mult = torch.tensor(CONSUMPTION_MULTIPLIERS, dtype=torch.float32, device=econ.device)
    base, moved, wealth, perm, rate = [], [], [], [], []
    with torch.no_grad():
        for t in range(months):
            if t >= burn_in:
                o = obs["household"]
                o2 = o.clone()
                o2[..., 5] += change_pp
                o2[..., 6] += change_pp
                for oo, out in ((o, base), (o2, moved)):
                    p = actor.dist(oo.reshape(-1, o.shape[-1]).to(actor_device(actor))).log_p[:, 0, :len(mult)].exp()
                    out.append((p.to(mult.device) * mult).sum(-1).cpu().numpy())
                s = econ.state
                P = s["price_history"][:, -1:]
                wealth.append(((s["hh_deposits"] - s["hh_debt"]) / P).cpu().numpy().ravel())
                perm.append(s["permanent_income"].cpu().numpy().ravel())
                rate.append(o[..., 5].cpu().numpy().ravel() / 100)
            obs = econ.step(sampler(obs)).obs
    b, m = np.concatenate(base), np.concatenate(moved)
    learned = 100 * float(np.mean(np.log(m) - np.log(b)))
    built_in = 100 * (-config.rate_sensitivity * change_pp / 100)
    return {"learned_pct": learned, "built_in_pct": built_in, "response_pct": learned + built_in,
            "mean_multiplier": float(np.mean(b)), "wealth": float(np.median(np.concatenate(wealth))),
            "income": float(np.median(np.concatenate(perm))), "real_rate_annual": float(np.median(np.concatenate(rate))),
            "n": int(b.size)}


def actor_device(actor):
    return next(actor.parameters()).device
