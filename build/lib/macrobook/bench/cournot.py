"""The per-agent reference loop of :mod:`macrobook.envs.cournot` and its bench case.

The loop computes the same economics as the batched step with Python numbers, economy by economy
and agent by agent. It is slow on purpose: the benchmark's baseline (``python -m macrobook bench
cournot``) and the batched step's oracle in the tests.
"""
from __future__ import annotations

from typing import List, Sequence

import torch

from ..envs.cournot import CournotConfig, CournotEconomy
from .core import BenchCase, policy_actors  # noqa: F401

NAME = "cournot"

# ----------------------------------------------------------------- the per-agent loop reference
def cournot_step_loop(config: CournotConfig, quantities: Sequence[Sequence[float]]) -> tuple[List[float], List[List[float]]]:
    """One period of every market, written as a plain Python loop over markets and firms.

    This is how one would write the economy without tensors; ``macrobook bench`` times it
    against :class:`CournotEconomy` and the tests check that both give the same numbers.
    quantities: ``[E][n]`` nested lists. Returns (prices ``[E]``, profits ``[E][n]``).
    """
    prices: List[float] = []
    profits: List[List[float]] = []
    for market in quantities:
        total = 0.0
        for q in market:
            total += q
        price = max(0.0, config.demand_intercept - config.demand_slope * total)
        prices.append(price)
        profits.append([(price - config.marginal_cost) * q for q in market])
    return prices, profits


class CournotLoop:
    """The same economy written firm by firm and market by market in plain Python.

    The reference that ``macrobook bench cournot`` times against :class:`CournotEconomy`;
    the tests check that, fed the same quantities from the same start, both give the same
    prices, profits and observations. (Episode restarts draw from Python's ``random``, so the
    random start quantities after a restart differ from the batched economy's.)

    last_quantity: ``[E][n]`` the "previous period" quantities each market starts from.
    """

    def __init__(self, config: CournotConfig, last_quantity: Sequence[Sequence[float]], seed: int = 0):
        import random

        self.config = config
        self.q_max = config.quantity_cap
        self.last_quantity = [list(map(float, market)) for market in last_quantity]
        self.period = [0 for _ in self.last_quantity]
        self.rng = random.Random(seed)

    def observe(self) -> List[List[List[float]]]:
        """``[E][n][4]`` observations, the same entries as :class:`CournotEconomy`."""
        cfg = self.config
        obs = []
        for market, period in zip(self.last_quantity, self.period):
            n = len(market)
            total = sum(market)
            price = max(0.0, cfg.demand_intercept - cfg.demand_slope * total)
            firms = []
            for q in market:
                others_mean = (total - q) / max(n - 1, 1)
                firms.append([price / cfg.demand_intercept, q / self.q_max, others_mean / self.q_max,
                              period / cfg.episode_length])
            obs.append(firms)
        return obs

    def step(self, quantities: Sequence[Sequence[float]]) -> tuple[List[List[List[float]]], List[List[float]], List[bool]]:
        """One period: returns (observations ``[E][n][4]``, profits ``[E][n]``, done ``[E]``)."""
        prices, profits = cournot_step_loop(self.config, quantities)
        done = []
        for e, market in enumerate(quantities):
            self.period[e] += 1
            self.last_quantity[e] = list(map(float, market))
            ended = self.period[e] >= self.config.episode_length
            if ended:
                self.period[e] = 0
                self.last_quantity[e] = [self.rng.random() * self.q_max for _ in market]
            done.append(ended)
        return self.observe(), profits, done


def bench_case(num_envs: int, device: torch.device, num_firms: int = 10):
    """For ``macrobook bench cournot``: one period with the policy forward pass, batched vs a loop.

    Batched: one call of a (randomly initialised) categorical actor on ``[E, n, 4]`` and one
    :meth:`CournotEconomy.step`. Loop: the same actor called once per firm on a ``[1, 4]``
    observation, then :class:`CournotLoop` in plain Python, on the CPU.
    """
    
    from ..nets import Actor

    cfg = CournotConfig(num_firms=num_firms, episode_length=1_000_000)
    econ = CournotEconomy(cfg, num_envs=num_envs, device=device)
    actor = Actor(4, econ.specs["firm"].action).to(device)
    state = {"obs": econ.reset(seed=0)["firm"]}

    def batched_step():
        action, _ = actor.act(state["obs"])
        state["obs"] = econ.step({"firm": action}).obs["firm"]

    loop_actor = Actor(4, econ.specs["firm"].action)
    loop_actor.load_state_dict({k: v.cpu() for k, v in actor.state_dict().items()})
    grid = cfg.quantity_grid().tolist()
    loop = CournotLoop(cfg, econ.last_quantity.cpu().tolist())
    loop_state = {"obs": loop.observe()}

    def loop_step():
        quantities = []
        for market in loop_state["obs"]:
            row = []
            for firm_obs in market:
                a, _ = loop_actor.act(torch.tensor([firm_obs]))
                row.append(grid[int(a)])
            quantities.append(row)
        loop_state["obs"], _, _ = loop.step(quantities)

    sync = (lambda: torch.cuda.synchronize(device)) if device.type == "cuda" else (lambda: None)
    return BenchCase(batched_step=batched_step, loop_step=loop_step, agents_per_env=num_firms, sync=sync)
