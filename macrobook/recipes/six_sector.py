"""Chapter 3's recipes: a small coordination task on which a centralized critic should help, and
one function that trains several learners on several seeds and measures them the same way
(evaluation reward, critic loss, spread across seeds).

    from macrobook.recipes.six_sector import SignalGame, compare_learners
    table = compare_learners(lambda: SignalGame(num_envs=32), {"MADDPG": make_maddpg, "DDPG": make_ddpg},
                             seeds=[0, 1, 2], iterations=300)

The coordination task (:class:`SignalGame`): a leader sees a signal ``x`` and is paid
``-(a_L - x)^2``; each follower sees the same signal and is paid ``-(a_i - a_L)^2``. The followers'
payoff moves with the leader's action, which keeps changing while the leader learns and explores:
an independent critic ``Q(o_i, a_i)`` must average over it (a moving, noisy target), a centralized
critic ``Q(o_i, a_i, a_L, ...)`` sees it (Lowe et al. 2017, section 4: the environment is stationary
given every agent's action). Theory therefore predicts a lower critic loss for the followers under
MADDPG, and faster coordination at a given budget.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import torch

from ..contract import AgentSpec, Box
from ..envs.base import BatchedEconomy, Transition


@dataclass
class SignalState:
    signal: torch.Tensor        # [E]
    noise: dict                 # {type: [E, n, 1]} observation noise


class SignalGame(BatchedEconomy):
    """Follow a leader who follows a signal: one leader, ``num_followers`` followers, one period a step."""

    macro_units = {"leader_gap": "|a_L - x|", "follower_gap": "mean |a_i - a_L|"}

    def __init__(self, num_followers: int = 3, num_envs: int = 32, device="cpu"):
        super().__init__(num_envs, device)
        self.specs = {"leader": AgentSpec(1, 2, Box(-1.0, 1.0, (1,)), obs_names=("signal", "noise")),
                      "follower": AgentSpec(num_followers, 2, Box(-1.0, 1.0, (1,)), obs_names=("signal", "noise"))}

    def initial_state(self, num_envs: int) -> SignalState:
        x = 0.8 * self.rand(num_envs) - 0.4
        return SignalState(x, {k: 0.1 * self.randn(num_envs, s.count, 1) for k, s in self.specs.items()})

    def observe(self, state=None):
        s = self.state if state is None else state
        return {k: torch.cat([s.signal[:, None, None].expand(-1, sp.count, 1), s.noise[k]], -1)
                for k, sp in self.specs.items()}

    def transition(self, state: SignalState, actions) -> Transition:
        a_l = actions["leader"][..., 0]                      # [E, 1]
        a_f = actions["follower"][..., 0]                    # [E, n]
        rew = {"leader": -(a_l - state.signal[:, None]) ** 2, "follower": -(a_f - a_l) ** 2}
        done = torch.zeros(self.num_envs, dtype=torch.bool, device=self.device)
        macro = {"leader_gap": (a_l[:, 0] - state.signal).abs(), "follower_gap": (a_f - a_l).abs().mean(1)}
        return Transition(self.initial_state(self.num_envs), rew, done, macro)


def compare_learners(make_economy: Callable[[], BatchedEconomy], make_learner: Mapping[str, Callable],
                     seeds: Sequence[int], iterations: int, eval_steps: int = 20, last_fraction: float = 0.2,
                     **train_kw):
    """Train every learner (``make_learner[name](specs, seed)``) on every seed with the same economy,
    budget and Controller (``maddpg.train``). Returns a pandas DataFrame with one row per (learner,
    seed): ``reward/<type>`` (deterministic evaluation, mean per agent per period) and
    ``critic_loss/<type>`` (mean over the last ``last_fraction`` of training)."""
    import pandas as pd

    from ..algos.maddpg import evaluate, train

    rows = []
    for name, make in make_learner.items():
        for seed in seeds:
            econ = make_economy()
            learner = make(econ.specs, seed)
            log = train(econ, learner, iterations=iterations, seed=seed, **train_kw)
            _, rew = evaluate(econ, learner.policy(), steps=eval_steps, seed=10_000 + seed)
            tail = log[log.iteration >= int((1 - last_fraction) * iterations)]
            row = {"learner": name, "seed": seed}
            row.update({f"reward/{k}": v for k, v in rew.items()})
            row.update({c: float(tail[c].mean()) for c in log.columns if c.startswith("critic_loss/")})
            rows.append(row)
    return pd.DataFrame(rows)
