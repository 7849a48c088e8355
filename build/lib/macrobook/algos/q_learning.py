"""Tabular Q-learning (Watkins 1992, {cite}`watkins1992`), batched over many economies at once.

Defined in Chapter 1 (notebooks/01_rl_fundamentals.ipynb) on the consumption-savings problem.
The state is a point on a grid of ``num_states`` values (for the household: log wealth) and the
action is one of ``num_actions`` grid values (consumption shares). The learner keeps a table
``Q[state, action]`` and, from each observed transition ``(s, a, r, s')``, applies

    Q(s, a) <- Q(s, a) + alpha_n(s, a) * [ r + gamma * max_a' Q(s', a') - Q(s, a) ]     (Watkins 1992)

This is a stochastic-approximation step towards the Bellman optimality equation
``Q*(s, a) = E[r + gamma max_a' Q*(s', a')]`` (Sutton and Barto 2018, eq. 6.8). It is
*off-policy*: the table converges to ``Q*`` whatever exploratory behaviour generated the data,
provided every pair is visited infinitely often and the step sizes satisfy
``sum alpha = inf, sum alpha^2 < inf`` (Watkins and Dayan 1992).

Implementation details:

1. Step size ``alpha_n = max((1 + n(s, a))^(-omega), min_lr)`` with ``n`` the visit count: a
   polynomial rate, ``1/2 < omega <= 1``, which converges much faster than ``1/n`` when the
   targets themselves are still moving (Even-Dar and Mansour 2003); ``min_lr > 0`` keeps a
   constant step (fine when targets are nearly noiseless, as in deterministic cake eating).
2. Batching: ``E`` economies give ``E`` transitions per period. Transitions that hit the same
   ``(s, a)`` in one batch are averaged before the step (``index_add``), so the update is
   one tensor operation and its result does not depend on the order of the economies.
3. Behaviour: epsilon-greedy, epsilon decaying linearly from ``epsilon_start`` to
   ``epsilon_end`` over the run. Ties in the greedy choice go to the lowest index.
4. ``gamma`` and restarts: for the household, death (the end of an episode) is the survival
   form of discounting, so Q-learning uses ``gamma = beta`` and bootstraps through a restart
   from the pre-restart state ``info["final_obs"]``: the restart only gives fresh states to
   explore, and the target is free of the noise of sampled deaths (see ``macrobook.envs.cake``).
   Set ``bootstrap_through_done=False`` for an economy whose episodes truly end.
5. A continuous state between two grid points ``x_i <= x < x_{i+1}`` is read by linear
   interpolation, ``Q(x, a) = (1 - w) Q[i, a] + w Q[i+1, a]`` with ``w = (x - x_i) / (x_{i+1} - x_i)``,
   and the TD step is shared between the two entries in proportions ``(1 - w, w)``. Plain
   bins (nearest grid point) would turn the deterministic wealth dynamics into a noisy
   "which bin do I land in" lottery whose noise swamps the small value gaps between nearby
   consumption shares. Interpolating weights are an averager (non-negative, summing to one),
   so the Bellman backup stays a contraction and Q-learning stays stable (Gordon 1995).
   States beyond the ends of the grid are read at the nearest end.
6. ``visits`` counts the batches that touched an entry, so ``alpha`` falls per batch update
   (each batch update is already an average of many transitions).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Dict, Sequence

import numpy as np
import torch

from ..config import Config, check, check_float, check_int


@dataclass
class QLearningConfig(Config):
    #: gamma: the discount in the target
    gamma: float = 0.9
    #: omega: step size alpha = (1 + visits)^(-omega)
    lr_power: float = 0.7
    #: a floor under alpha: in a deterministic economy the batch-averaged target is nearly noiseless,
    #: so a constant step converges, and much faster than a vanishing one
    min_lr: float = 0.0
    epsilon_start: float = 1.0
    epsilon_end: float = 0.1
    #: the value every Q(s, a) starts at
    initial_q: float = 0.0
    bootstrap_through_done: bool = True

    def validate(self):
        check_float(self, "gamma", min=0.0, max=1.0)
        check_float(self, "lr_power", min=0.5, max=1.0, min_open=True)
        check_float(self, "min_lr", min=0.0, max=1.0)
        check_float(self, "epsilon_start", min=0.0, max=1.0)
        check_float(self, "epsilon_end", min=0.0, max=1.0)
        check_float(self, "initial_q", min=None)
        check(isinstance(self.bootstrap_through_done, bool), self, "bootstrap_through_done", "True or False")


class Grid:
    """``num_points`` evenly spaced values on [low, high] for a scalar state, read by linear interpolation."""

    def __init__(self, low: float, high: float, num_points: int):
        if not num_points >= 2 or not high > low:
            raise ValueError("Grid needs num_points >= 2 and high > low")
        self.low, self.high, self.num_points = float(low), float(high), int(num_points)
        self.points = torch.linspace(low, high, num_points)
        self.step = (self.high - self.low) / (self.num_points - 1)

    def __call__(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(left index i [B] long, weight w [B] on i+1) with x = (1 - w) x_i + w x_{i+1}, clamped to the grid."""
        u = ((x - self.low) / self.step).clamp(0.0, self.num_points - 1)
        i = u.floor().long().clamp_max(self.num_points - 2)
        return i, u - i


class QLearning:
    """A Q-table over ``num_states x num_actions`` and Watkins' update, for a batch of transitions.

    ``state_fn(obs) -> (index [B], weight [B])`` places observations on the state grid (a ``Grid``);
    ``action_values`` (tensor ``[num_actions]``) are what each action index means to the economy.
    """

    def __init__(self, num_states: int, action_values: torch.Tensor, config: QLearningConfig | None = None,
                 seed: int = 0, device="cpu"):
        self.config = config or QLearningConfig()
        self.device = torch.device(device)
        self.action_values = torch.as_tensor(action_values, dtype=torch.float32, device=self.device)
        self.num_states, self.num_actions = int(num_states), len(self.action_values)
        self.q = torch.full((self.num_states, self.num_actions), float(self.config.initial_q), device=self.device)
        self.visits = torch.zeros_like(self.q)
        self.generator = torch.Generator(device=self.device)
        self.generator.manual_seed(seed)

    # ---------------------------------------------------------------- behaviour
    def values(self, state) -> torch.Tensor:
        """Q(x, .) ``[B, num_actions]`` at interpolated states ``state = (i, w)``."""
        i, w = state
        return (1.0 - w).unsqueeze(-1) * self.q[i] + w.unsqueeze(-1) * self.q[i + 1]

    def greedy(self, state) -> torch.Tensor:
        """argmax_a Q(x, a) for each state ``(i, w)``; ``[B]``."""
        return self.values(state).argmax(-1)

    def act(self, state, epsilon: float) -> torch.Tensor:
        """Epsilon-greedy action indices ``[B]``."""
        B = state[0].shape[0]
        explore = torch.rand(B, generator=self.generator, device=self.device) < epsilon
        random_a = torch.randint(0, self.num_actions, (B,), generator=self.generator, device=self.device)
        return torch.where(explore, random_a, self.greedy(state))

    # ---------------------------------------------------------------- learning
    def update(self, state, action: torch.Tensor, reward: torch.Tensor,
               next_state, terminal: torch.Tensor | None = None) -> float:
        """One Watkins step from ``B`` transitions (``state = (i, w)``, others ``[B]``); returns mean |TD error|."""
        c = self.config
        bootstrap = self.values(next_state).max(-1).values
        if terminal is not None:
            bootstrap = torch.where(terminal, torch.zeros_like(bootstrap), bootstrap)
        target = reward + c.gamma * bootstrap                       # r + gamma max_a' Q(s', a')
        td = target - self.values(state).gather(-1, action.unsqueeze(-1)).squeeze(-1)
        # Share each TD error between the two grid points (detail 5) and average what lands on
        # the same entry in this batch (detail 2).
        i, w = state
        flat = torch.cat([i * self.num_actions + action, (i + 1) * self.num_actions + action])
        wts = torch.cat([1.0 - w, w])
        td_sum = torch.zeros(self.q.numel(), device=self.device).index_add_(0, flat, wts * td.repeat(2))
        hits = torch.zeros(self.q.numel(), device=self.device).index_add_(0, flat, wts)
        seen = hits > 1e-6
        self.visits.view(-1)[seen] += 1.0
        alpha = ((1.0 + self.visits.view(-1)[seen]) ** (-c.lr_power)).clamp_min(c.min_lr)
        self.q.view(-1)[seen] += alpha * td_sum[seen] / hits[seen]
        return float(td.abs().mean())


def train_q_learning(economy, state_fn: Callable[[torch.Tensor], torch.Tensor], learner: QLearning,
                     num_steps: int, agent_type: str = "household", seed: int = 0, log_every: int = 100,
                     progress: bool = False):
    """Run ``learner`` on every economy and agent of ``agent_type`` for ``num_steps`` periods.

    Each period: observe -> epsilon-greedy action -> step all economies -> one batched update.
    Returns a pandas DataFrame log (step, env_steps, epsilon, mean reward, mean |TD error|).
    """
    import pandas as pd
    from tqdm.auto import tqdm

    c = learner.config
    obs = economy.reset(seed=seed)[agent_type]                     # [E, n, d]
    E, n = obs.shape[0], obs.shape[1]
    rows, rew_acc, td_acc, k = [], 0.0, 0.0, 0
    for t in tqdm(range(num_steps), disable=not progress, leave=False, desc="Q-learning"):
        frac = t / max(1, num_steps - 1)
        epsilon = c.epsilon_start + (c.epsilon_end - c.epsilon_start) * frac
        state = state_fn(obs.reshape(E * n, -1))
        a_idx = learner.act(state, epsilon)
        action = learner.action_values[a_idx].reshape(E, n, 1)
        out = economy.step({agent_type: action})
        if c.bootstrap_through_done:
            next_obs, terminal = out.info["final_obs"][agent_type], None
        else:
            next_obs, terminal = out.obs[agent_type], out.done.unsqueeze(-1).expand(E, n).reshape(-1)
        reward = out.reward[agent_type].reshape(-1)
        td_acc += learner.update(state, a_idx, reward, state_fn(next_obs.reshape(E * n, -1)), terminal)
        rew_acc += float(reward.mean())
        k += 1
        obs = out.obs[agent_type]
        if (t + 1) % log_every == 0 or t == num_steps - 1:
            rows.append({"step": t + 1, "env_steps": (t + 1) * E, "epsilon": epsilon,
                         "reward": rew_acc / k, "abs_td_error": td_acc / k})
            rew_acc, td_acc, k = 0.0, 0.0, 0
    return pd.DataFrame(rows)
