"""Advantage actor-critic, A2C (the synchronous form of Mnih et al. 2016, {cite}`mnih2016a3c`).

Defined in Chapter 1 (notebooks/01_rl_fundamentals.ipynb). An actor (the policy) and a critic
(the state value) learn together: the critic's estimate replaces the tail of the Monte Carlo
return, trading a little bias for much less variance than REINFORCE. Like
``macrobook.algos.ppo`` it shares one policy over all agents of a type and implements the
Trainer's Learner protocol. PPO is this method plus a clipped objective that lets it reuse a
rollout for several epochs.

The objective, read top to bottom (Mnih et al. 2016, sec. 4 and Algorithm S3):

1. n-step returns from a rollout of ``T = t_max`` steps, bootstrapped from the critic:
   ``R_t = r_t + gamma * (1 - done_t) * R_{t+1}``, ``R_T = V(s_T)``; the advantage is
   ``A_t = R_t - V(s_t)``. (With ``gae_lambda < 1`` the advantage is GAE instead,
   Schulman et al. 2016, eq. 16; ``gae_lambda = 1`` is exactly the n-step form.)
2. Actor: ascend ``E[log pi(a_t | s_t) * A_t] + c_H * H[pi(.|s_t)]`` (the entropy term of
   Mnih et al. 2016, sec. 4, discourages premature convergence to a near-deterministic policy).
3. Critic: descend ``E[(R_t - V(s_t))^2] / 2``.
4. One combined loss ``-L_actor + c_v * L_critic``, one gradient step per rollout.

Implementation details:

1. Many economies stepped in lockstep play the role of A3C's asynchronous workers: their
   transitions decorrelate the batch (the "A2C" of the OpenAI Baselines).
2. Adam instead of the paper's shared RMSProp (same role, fewer knobs; eps=1e-5 as in PPO);
   gradients clipped in global norm.
3. Advantages optionally normalised per rollout; ``reward_scale`` multiplies rewards (units).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Sequence

import torch
from torch import nn

from ..config import Config, check, check_choice, check_float
from ..contract import AgentSpec
from ..nets import ACTIVATIONS, Actor, Critic
from ..utils import resolve_device
from .ppo import gae


@dataclass
class A2CConfig(Config):
    lr: float = 7e-4
    gamma: float = 0.99
    gae_lambda: float = 1.0
    ent_coef: float = 0.0
    vf_coef: float = 0.5
    max_grad_norm: float = 0.5
    hidden: Sequence[int] = (64, 64)
    activation: str = "tanh"
    box_head: str = "beta"
    reward_scale: float = 1.0
    normalize_advantages: bool = True

    def validate(self):
        check_float(self, "lr", min=0, min_open=True)
        check_float(self, "gamma", min=0, max=1)
        check_float(self, "gae_lambda", min=0, max=1)
        check_float(self, "ent_coef", min=0)
        check_float(self, "vf_coef", min=0)
        check_float(self, "max_grad_norm", min=0, min_open=True)
        check(len(self.hidden) >= 1 and all(isinstance(h, int) and h >= 1 for h in self.hidden),
              self, "hidden", "a non-empty sequence of positive integers")
        check_choice(self, "activation", sorted(ACTIVATIONS))
        check_choice(self, "box_head", ["beta", "gaussian", "squashed"])
        check_float(self, "reward_scale", min=0, min_open=True)


class A2C:
    """A2C learner for one agent type (all its agents share the actor and the critic)."""

    def __init__(self, spec: AgentSpec, config: A2CConfig | None = None, device="auto", seed: int | None = None):
        self.spec = spec
        self.config = config or A2CConfig()
        self.device = resolve_device(device)
        if seed is not None:
            torch.manual_seed(seed)
        c = self.config
        self.actor = Actor(spec.obs_dim, spec.action, c.hidden, c.activation, c.box_head).to(self.device)
        self.critic = Critic(spec.obs_dim, c.hidden, c.activation).to(self.device)
        self.optimizer = torch.optim.Adam(
            list(self.actor.parameters()) + list(self.critic.parameters()), lr=c.lr, eps=1e-5, foreach=True
        )

    # -------------------------------------------------------------- Learner protocol
    @torch.no_grad()
    def act(self, obs: torch.Tensor, deterministic: bool = False):
        """obs [E, n, d] -> (env action [E, n, ...], extras {action, logp, value})."""
        a, logp = self.actor.act(obs, deterministic)
        return self.actor.to_env(a), {"action": a, "logp": logp, "value": self.critic(obs)}

    def policy(self, obs: torch.Tensor, deterministic: bool = True) -> torch.Tensor:
        return self.act(obs, deterministic)[0]

    def update(self, rollout, agent_type: str) -> Dict[str, float]:
        c = self.config
        obs = rollout.obs[agent_type]                                  # [T+1, E, n, d]
        T, E, n = obs.shape[0] - 1, obs.shape[1], obs.shape[2]
        B = E * n
        actions = rollout.extras[agent_type]["action"]
        rewards = (rollout.rewards[agent_type] * c.reward_scale).reshape(T, B)
        dones = rollout.dones.float().unsqueeze(-1).expand(T, E, n).reshape(T, B)

        N = T * B
        b_obs = obs[:-1].reshape(N, -1)
        values = self.critic(b_obs)                                    # with gradient, for the critic loss
        with torch.no_grad():
            last_v = self.critic(obs[-1]).reshape(B)
            # 1. n-step returns bootstrapped from V(s_T) (gae_lambda = 1) or GAE.
            adv, ret = gae(rewards, values.detach().reshape(T, B), dones, last_v, c.gamma, c.gae_lambda)
            adv, ret = adv.reshape(N), ret.reshape(N)
            if c.normalize_advantages and N > 1:
                adv = (adv - adv.mean()) / (adv.std() + 1e-8)

        logp, ent = self.actor.evaluate(b_obs, actions.reshape((N,) + tuple(actions.shape[3:])))
        pg_loss = -(logp * adv).mean()                                 # 2. actor
        v_loss = 0.5 * ((values - ret) ** 2).mean()                    # 3. critic
        entropy = ent.mean()
        loss = pg_loss + c.vf_coef * v_loss - c.ent_coef * entropy     # 4. one combined step

        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(list(self.actor.parameters()) + list(self.critic.parameters()), c.max_grad_norm)
        self.optimizer.step()
        return {"policy_loss": pg_loss.item(), "value_loss": v_loss.item(), "entropy": entropy.item(),
                "loss": loss.item()}

    def modules(self) -> Dict[str, nn.Module]:
        return {"actor": self.actor, "critic": self.critic}

    def optimizers(self) -> Dict[str, torch.optim.Optimizer]:
        return {"optimizer": self.optimizer}

    def set_lr(self, lr: float) -> None:
        for g in self.optimizer.param_groups:
            g["lr"] = lr
