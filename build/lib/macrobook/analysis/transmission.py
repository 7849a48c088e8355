"""Impulse responses with common random numbers (CRN), for any batched economy.

Two copies of the same economy are reset with the same seed and driven by the same
policies (greedy, or sampled with the same random draws: :class:`PolicySampler`); at month ``shock_at`` one copy gets a shock. Because every random
draw inside ``step`` comes from the economy's own seeded generator in the same order, the two
copies see identical shocks otherwise, and their difference is the effect of the shock alone
(the agent-based IRF of, e.g., Dosi et al. 2015, averaged over economies).
"""
from __future__ import annotations

import warnings
from typing import Callable, Mapping

import numpy as np
import torch


class PolicySampler:
    """Actions from trained policies with one random stream per agent type.

    ``sampler(obs) -> actions``. With ``deterministic=False`` each agent's action is drawn from its
    policy by inverse-CDF sampling with uniforms from its type's own generator (seeded from
    ``seed``), so two runs with the same seed use the same uniforms for every agent of every type,
    even if one run swaps one type for a rule that draws nothing (common random numbers for
    stochastic policies). ``deterministic=True`` takes each policy's most likely action. Learners
    without an ``actor`` (rules such as a Taylor rule) are called with ``act(obs, deterministic=True)``.
    """

    def __init__(self, learners: Mapping[str, object], seed: int = 0, deterministic: bool = False):
        self.learners = dict(learners)
        self.deterministic = deterministic
        self.generators = {k: torch.Generator().manual_seed(1000 * seed + i) for i, k in enumerate(sorted(learners))}

    @torch.no_grad()
    def __call__(self, obs: Mapping[str, torch.Tensor]) -> dict:
        acts = {}
        for k, learner in self.learners.items():
            actor = getattr(learner, "actor", None)
            if actor is None or self.deterministic:
                acts[k] = learner.act(obs[k], deterministic=True)[0]
                continue
            d = actor.dist(obs[k])
            multi = hasattr(d, "log_p")                 # MultiCategorical: heads padded to [..., H, K]
            p = (d.log_p.exp() if multi else d.probs).double()
            u = torch.rand(p.shape[:-1] + (1,), generator=self.generators[k], dtype=torch.float64).to(p.device)
            last = d.last if multi else torch.tensor(p.shape[-1] - 1, device=p.device)
            a = torch.minimum((p.cumsum(-1) < u).sum(-1), last)
            acts[k] = actor.to_env(a)
        return acts


@torch.no_grad()
def crn_impulse_response(make_economy: Callable[[], object], learners: Mapping[str, object],
                         apply_shock: Callable[[object], None], steps: int, shock_at: int, seed: int = 0,
                         variables: list[str] | None = None, relative: tuple[str, ...] = (),
                         deterministic: bool = True):
    """Average response (shocked minus baseline) of the macro aggregates.

    make_economy: builds a fresh economy (called twice);
    learners: {type: learner with ``act(obs, deterministic=True)``};
    apply_shock: ``f(economy)`` called on the shocked copy just before step ``shock_at``.
    deterministic: greedy policies (True) or policies sampled with a :class:`PolicySampler` per
    copy, both seeded with ``seed`` (so the two copies share the agents' random draws too).
    relative: names reported as percent differences ``100 (shocked / baseline - 1)`` instead of levels
    (NaN where the baseline is zero, e.g. investment in an economy where no firm invests).
    Returns ``(mean_response, per_env_response)``: a DataFrame indexed by month (``t`` = months since
    the shock) and a dict of ``[steps, E]`` arrays.
    """
    import pandas as pd

    econs = [make_economy(), make_economy()]
    obs = [e.reset(seed=seed) for e in econs]
    samplers = [PolicySampler(learners, seed, deterministic) for _ in econs]
    paths = [dict(), dict()]
    for t in range(steps):  # time loop; both copies advance in lockstep
        for i, e in enumerate(econs):
            if i == 1 and t == shock_at:
                apply_shock(e)
            acts = samplers[i](obs[i])
            out = e.step(acts)
            obs[i] = out.obs
            for k, v in out.macro.items():
                if variables is None or k in variables:
                    paths[i].setdefault(k, []).append(v.double().cpu().numpy())
    per_env = {}
    for k in paths[0]:
        base, shocked = np.stack(paths[0][k]), np.stack(paths[1][k])
        per_env[k] = 100 * (shocked / np.where(np.abs(base) > 1e-12, base, np.nan) - 1) if k in relative else shocked - base
    with warnings.catch_warnings():  # a relative response with a zero baseline everywhere is NaN, by design
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = pd.DataFrame({k: np.nanmean(v, axis=1) for k, v in per_env.items()})
    mean.index = np.arange(steps) - shock_at
    mean.index.name = "months_since_shock"
    return mean, per_env
