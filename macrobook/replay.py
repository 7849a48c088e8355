"""One policy replay for every chapter: run a policy on a batched economy and record its aggregates.

    from macrobook.replay import PolicySampler, replay

    hist = replay(economy, PolicySampler(trainer.learners, seed=1), steps=120, seed=7)   # a History
    hist.mean()                     # one row per period, the mean over economies
    hist.arrays()                   # {variable: [steps, num_envs] numpy array}

``Trainer.evaluate``, the common-random-numbers impulse response
(:func:`macrobook.analysis.impulse.impulse_response`) and the chapters' recipes all call
:func:`replay`; a policy is any callable ``obs {type: [E, n, d]} -> actions {type: [E, n, ...]}``.
"""
from __future__ import annotations

from typing import Callable, Iterable, Mapping, Optional

import torch

from .contract import History

Policy = Callable[[Mapping[str, torch.Tensor]], Mapping[str, torch.Tensor]]
Shock = Callable[[object, int], None]


class PolicySampler:
    """Actions from trained policies with one random stream per agent type.

    ``sampler(obs) -> actions``. With ``deterministic=False`` each agent's action is drawn from its
    policy by inverse-CDF sampling with uniforms from its type's own generator (seeded from
    ``seed``), so two runs with the same seed use the same uniforms for every agent of every type,
    even if one run swaps one type for a rule that draws nothing (common random numbers for
    stochastic policies). ``deterministic=True`` takes each policy's most likely action. Learners
    without an ``actor`` (rules such as a Taylor rule) are called with ``act(obs, deterministic=True)``.
    :meth:`reset` restarts every stream, so a replay can be repeated draw for draw.
    """

    def __init__(self, learners: Mapping[str, object], seed: int = 0, deterministic: bool = False):
        self.learners = dict(learners)
        self.deterministic = deterministic
        self.seed = seed
        self.reset()

    def reset(self) -> None:
        self.generators = {k: torch.Generator().manual_seed(1000 * self.seed + i)
                           for i, k in enumerate(sorted(self.learners))}

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


def learner_policy(learners: Mapping[str, object], deterministic: bool = True) -> Policy:
    """The learners' own ``act`` (greedy with ``deterministic=True``; else each learner's sampling)."""
    def policy(obs):
        return {k: lr.act(obs[k], deterministic=deterministic)[0] for k, lr in learners.items()}
    return policy


@torch.no_grad()
def replay(economy, policy: Policy, steps: int, seed: Optional[int] = 0, shock: Optional[Shock] = None,
           shock_from: int = 0, record_from: int = 0, variables: Optional[Iterable[str]] = None,
           precision: str = "float32", seed_torch: bool = False, on_step: Optional[Callable] = None) -> History:
    """Run ``policy`` on ``economy`` for ``steps`` periods from ``economy.reset(seed=seed)`` and record
    the macro aggregates of every period from ``record_from`` on (``t`` counts from there).

    ``shock(economy, k)`` is called before every step from ``shock_from`` on, ``k`` = periods since
    impact. ``seed_torch`` also reseeds torch's global generator (for policies that sample from it),
    inside a forked random state so the caller's stream is untouched. ``policy.reset()`` is called
    first when the policy has one (a :class:`PolicySampler`), so a replay repeats draw for draw.
    ``on_step(t, out)`` sees every ``StepResult``. Returns a :class:`~macrobook.contract.History`.
    """
    keep = None if variables is None else set(variables)
    hist = History(precision=precision)
    if hasattr(policy, "reset"):
        policy.reset()
    with torch.random.fork_rng(devices=[], enabled=seed_torch):
        if seed_torch:
            torch.manual_seed(seed or 0)
        obs = economy.reset(seed=seed)
        for t in range(steps):   # a loop over time; economies and agents are tensor dimensions
            if shock is not None and t >= shock_from:
                shock(economy, t - shock_from)
            out = economy.step(policy(obs))
            obs = out.obs
            if on_step is not None:
                on_step(t, out)
            if t >= record_from:
                hist.record({k: v for k, v in out.macro.items() if keep is None or k in keep}, t - record_from)
    if shock is not None and hasattr(economy, "clear_shocks"):
        economy.clear_shocks()
    return hist
