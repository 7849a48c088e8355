"""The per-agent reference loop of :mod:`macrobook.envs.monetary` and its bench case.

The loop computes the same economics as the batched step with Python numbers, economy by economy
and agent by agent. It is slow on purpose: the benchmark's baseline (``python -m macrobook bench
monetary``) and the batched step's oracle in the tests.
"""
from __future__ import annotations


import torch

from ..envs.monetary import MonetaryConfig, MonetaryEconomy
from .core import BenchCase, policy_actors  # noqa: F401

NAME = "monetary"

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
