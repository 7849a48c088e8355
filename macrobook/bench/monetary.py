"""The per-agent reference loop of :mod:`macrobook.envs.monetary` and its bench case.

``sell_to_order_loop`` clears the goods market of one economy with Python numbers, firm by firm
and buyer by buyer: the oracle of :func:`macrobook.markets.goods.sell_to_order` in the tests.
``bench_case`` times the batched step against a loop that steps each economy on its own and calls
the policies agent by agent (the benchmark's baseline, ``python -m macrobook bench monetary``).
"""
from __future__ import annotations


import torch

from ..envs.monetary import MonetaryConfig, MonetaryEconomy
from .core import economy_by_economy_case

NAME = "monetary"


def sell_to_order_loop(spend, price, capacity, elasticity: float, rounds: int = 3):
    """One economy's goods market, buyer by buyer and firm by firm (plain Python floats).

    ``spend`` (list, one budget per buyer), ``price`` and ``capacity`` (lists, one per firm).
    Returns ``(bought, spent, sold)`` lists, computed the long way: each round every buyer sends
    each firm with capacity left its CES share of its remaining budget; a firm fills orders up to
    its remaining capacity, pro rata when short; unfilled money stays with the buyer.
    """
    K, B = len(price), len(spend)
    room = [max(c, 0.0) for c in capacity]
    left = [max(s, 0.0) for s in spend]
    bought, spent, sold = [0.0] * B, [0.0] * B, [0.0] * K
    for _ in range(rounds):
        open_ = [f for f in range(K) if room[f] > 1e-12]
        w = {f: price[f] ** (1.0 - elasticity) for f in open_}
        tot = sum(w.values())
        if tot == 0:
            break
        orders = [[left[b] * w[f] / tot / price[f] if f in w else 0.0 for f in range(K)] for b in range(B)]
        for f in open_:
            want = sum(orders[b][f] for b in range(B))
            fill = min(1.0, room[f] / want) if want > 0 else 1.0
            for b in range(B):
                q = orders[b][f] * fill
                bought[b] += q
                spent[b] += q * price[f]
                left[b] -= q * price[f]
                sold[f] += q
            room[f] -= want * fill
    return bought, spent, sold

def bench_case(num_envs: int, device: torch.device, hidden: int = 64, config: MonetaryConfig | None = None):
    """For ``macrobook bench monetary``: one month with the policy forward pass, batched vs a loop.

    Batched: one (randomly initialised) actor per agent type on ``[E, n, obs_dim]`` and one
    :meth:`MonetaryEconomy.step` for all ``num_envs`` economies. Loop: the same actors called
    once per agent on a ``[1, obs_dim]`` observation, and each economy stepped on its own
    (``num_envs`` separate one-economy instances, on the CPU). Unlike the Cournot and RBC
    benches, the loop does not rewrite the markets in plain Python numbers: within one economy
    they stay vectorised over agents, so the ratio understates what a fully per-agent
    implementation would cost.
    """

    cfg = config or MonetaryConfig(sim_length=1_000_000)
    return economy_by_economy_case(MonetaryEconomy, cfg, num_envs, device, hidden,
                                   agents_per_env=1 + cfg.num_banks + cfg.num_households + cfg.num_firms)
