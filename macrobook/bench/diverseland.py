"""The per-agent reference loop of :mod:`macrobook.envs.diverseland` and its bench case.

``reference_quarter`` computes one quarter of one economy with plain Python floats, household by
household, good by good and variety by variety: the oracle of the batched
:meth:`~macrobook.envs.diverseland.Diverseland.transition` in the tests (batched == loop).
``bench_case`` times the batched step against a loop that steps each economy on its own and calls
the policies agent by agent (``python -m macrobook bench diverseland``).
"""
from __future__ import annotations

import math

import torch

from ..envs.diverseland import Diverseland, DiverselandConfig
from .core import economy_by_economy_case

NAME = "diverseland"


def _q(annual: float) -> float:
    return max(1 + annual, 1e-6) ** 0.25 - 1


def reference_quarter(econ: Diverseland, e: int, actions: dict, prod_draw, exp_draw) -> dict:
    """One quarter of economy ``e`` of ``econ`` (its current state), agent by agent in Python floats.

    ``actions`` as for :meth:`Diverseland.step` (tensors ``[E, n, ...]``); ``prod_draw`` and
    ``exp_draw`` the two ``[3]`` standard-normal draws of that economy this quarter (productivity,
    expectation noise). Returns a dict of Python numbers and lists: deposits, wages, prices
    (``[good][variety]``), sold (six varieties), inflation, output gap, the new expectations and the
    household rewards. No shocks, no currency reform (the tests stay within ``[1e-4, 1e4]``)."""
    c, s = econ.config, econ.state
    f = lambda x: float(x)  # noqa: E731
    taste = econ.taste.tolist()
    base = [f(econ.base_prices[g, 0]) for g in range(3)]
    A0 = econ.base_productivity.tolist()
    share = [f(actions["household"][e, i, 0]) for i in range(3)]
    markup = [f(actions["firm"][e, 0, g]) for g in range(3)]
    stim = f(actions["government"][e, 0, 0])
    rate = min(max(f(actions["central_bank"][e, 0, 0]), -0.05), 0.5)
    rq = _q(rate)
    expect = [min(max(f(s.expectation_annual[e, i]), -0.5), 1.0) for i in range(3)]
    infl_prev = f(s.inflation[e])
    wage, prices, prod = [], [], []
    for g in range(3):
        eq = _q(expect[g])
        growth = eq + c.catch_up * (infl_prev - f(s.contract_expectation[e, g])) + c.wage_phillips * (f(s.hours[e, g]) - 1)
        wage.append(f(s.wage[e, g]) * (1 + min(max(growth, -0.03), 0.06)))
        lp = c.productivity_rho * f(s.log_prod_shock[e, g]) + c.productivity_sigma * float(prod_draw[g])
        prod.append(A0[g] * math.exp(lp))
        ulc = wage[g] / prod[g]
        prices.append([(1 + markup[g]) * ulc, (1 + econ.fringe_markup) * ulc])
    deposits = [f(s.deposits[e, i]) for i in range(3)]
    interest = [d * rq for d in deposits]
    tax = sum(interest) / 3
    nominal_prev, debt = f(s.nominal_output[e]), f(s.debt[e])
    transfer = stim * nominal_prev
    repay = c.debt_repayment * (debt + transfer - econ.debt_ratio * nominal_prev)
    liquid = [deposits[i] + interest[i] - tax + (transfer - repay) / 3 for i in range(3)]
    cash = [liquid[i] + wage[i] + f(s.dividend[e]) / 3 for i in range(3)]
    spend = [share[i] * max(cash[i], 0.0) for i in range(3)]
    ev, eg = c.variety_elasticity, c.goods_elasticity
    # orders, household by household
    orders = [[0.0] * 6 for _ in range(3)]
    good_index = []
    for g in range(3):
        good_index.append((sum(p ** (1 - ev) for p in prices[g]) / 2) ** (1 / (1 - ev)))
    for i in range(3):
        w = [taste[i][g] * (good_index[g] / base[g]) ** (1 - eg) for g in range(3)]
        for g in range(3):
            wv = [p ** (1 - ev) for p in prices[g]]
            for v in range(2):
                orders[i][2 * g + v] = spend[i] * w[g] / sum(w) * wv[v] / sum(wv) / prices[g][v]
    capacity = [c.capacity_hours * prod[k // 2] / 2 for k in range(6)]
    sold, bought = [0.0] * 6, [[0.0] * 6 for _ in range(3)]
    for k in range(6):
        want = sum(orders[i][k] for i in range(3))
        fill = min(1.0, capacity[k] / want) if want > 0 else 1.0
        for i in range(3):
            bought[i][k] = orders[i][k] * fill
        sold[k] = want * fill
    paid = [sum(bought[i][k] * prices[k // 2][k % 2] for k in range(6)) for i in range(3)]
    hours = [(sold[2 * g] + sold[2 * g + 1]) / prod[g] for g in range(3)]
    profit = sum(sold[k] * prices[k // 2][k % 2] - wage[k // 2] * sold[k] / prod[k // 2] for k in range(6))
    new_deposits = [liquid[i] - paid[i] + wage[i] * hours[i] + profit / 3 for i in range(3)]
    cpi = math.exp(sum(math.log(prices[k // 2][k % 2] / base[k // 2]) for k in range(6)) / 6)
    inflation = cpi / f(s.cpi[e]) - 1
    infl_annual = (1 + inflation) ** 4 - 1
    real = sum((sold[2 * g] + sold[2 * g + 1]) * base[g] for g in range(3))
    potential = sum(prod[g] * base[g] for g in range(3))
    gains = list(c.expectation_gains)
    held = [f(s.expectation_annual[e, i]) for i in range(3)]
    new_exp = [min(max(held[i] + gains[i] * (infl_annual - held[i]) + c.expectation_noise * float(exp_draw[i]), -0.5), 1.0)
               for i in range(3)]
    reward = []
    for i in range(3):
        r = 0.0
        for g in range(3):
            q = (bought[i][2 * g] + bought[i][2 * g + 1]) / (A0[g] / 3)
            r += taste[i][g] * math.log(max(q, 1e-6))
        reward.append(r)
    return {"deposits": new_deposits, "wage": wage, "prices": prices, "sold": sold, "inflation": inflation,
            "output_gap": real / potential - 1, "expectation": new_exp, "reward_household": reward,
            "debt": debt + transfer - repay}


def bench_case(num_envs: int, device: torch.device, hidden: int = 64, config: DiverselandConfig | None = None):
    """For ``macrobook bench diverseland``: one quarter with the policy forward pass, batched vs a loop.

    Batched: one randomly initialised actor per agent type on ``[E, n, obs_dim]`` and one
    :meth:`Diverseland.step` for all economies. Loop: the same actors called once per agent, and
    each economy stepped on its own (``num_envs`` one-economy instances, on the CPU)."""
    cfg = config or DiverselandConfig(episode_len=1_000_000)
    return economy_by_economy_case(Diverseland, cfg, num_envs, device, hidden, agents_per_env=6)
