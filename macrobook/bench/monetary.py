"""The per-agent reference loop of :mod:`macrobook.envs.monetary` and its bench case.

``sell_to_order_loop`` clears the goods market of one economy with Python numbers, firm by firm
and buyer by buyer: the oracle of :func:`macrobook.markets.goods.sell_to_order` in the tests.
``bench_case`` times the batched step against a loop that steps each economy on its own and calls
the policies agent by agent (the benchmark's baseline, ``python -m macrobook bench monetary``).
"""
from __future__ import annotations


import torch

from ..envs.monetary import MonetaryConfig, MonetaryEconomy
from .core import BenchCase, policy_actors  # noqa: F401

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
    econ = MonetaryEconomy(cfg, num_envs=num_envs, device=device)
    batched_step, loop_actors = policy_actors(econ, hidden, device)

    singles = [MonetaryEconomy(cfg, num_envs=1, device="cpu") for _ in range(num_envs)]
    loop_obs = [e.reset(seed=i) for i, e in enumerate(singles)]

    def loop_step():
        for i, e in enumerate(singles):
            acts = {}
            for k, spec in e.specs.items():
                rows = [loop_actors[k].act(loop_obs[i][k][0, j][None])[0][0] for j in range(spec.count)]
                acts[k] = torch.stack(rows).unsqueeze(0)
            loop_obs[i] = e.step(acts).obs

    sync = (lambda: torch.cuda.synchronize(device)) if device.type == "cuda" else (lambda: None)
    return BenchCase(batched_step=batched_step, loop_step=loop_step,
                     agents_per_env=1 + cfg.num_banks + cfg.num_households + cfg.num_firms, sync=sync)
