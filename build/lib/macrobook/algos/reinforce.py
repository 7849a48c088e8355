"""REINFORCE with a learned baseline (Williams 1992, {cite}`williams1992`) for one agent type.

Defined in Chapter 1 (notebooks/01_rl_fundamentals.ipynb). The simplest policy-gradient
method: it needs no model of the economy and no value of actions, only sampled returns.
Like ``macrobook.algos.ppo`` it shares one policy over all agents of a type and implements
the Trainer's Learner protocol.

The objective, read top to bottom (Sutton and Barto 2018, sec. 13.3-13.4):

1. Monte Carlo returns ``G_t = r_t + gamma * (1 - done_t) * G_{t+1}``.
2. The policy-gradient theorem gives an unbiased gradient of the expected return,
   ``grad J = E[ grad log pi(a_t | s_t) * (G_t - b(s_t)) ]``  (Williams 1992, eq. 11;
   subtracting any baseline ``b(s)`` that does not depend on the action leaves it unbiased
   and can cut its variance a lot).
3. The baseline is a learned state value ``b(s) = V_phi(s)``, fitted by least squares to the
   same returns: ``L_b = E[(G_t - V_phi(s_t))^2] / 2``. It only centres the returns; it is never
   used to bootstrap them (that is the step to actor-critic, ``macrobook.algos.a2c``).
4. Loss ``= -E[log pi(a|s) * (G - b(s))] - c_H * H[pi(.|s)] + L_b``; one gradient step per
   rollout, because the gradient is only valid for the policy that collected the data.

Implementation details:

1. Rollouts from the Trainer have a fixed length ``T``. Episodes that end inside the rollout get
   exact Monte Carlo returns; an episode still running at ``T`` has its return completed with
   ``V_phi(s_T)``, the baseline's estimate of what is left. Use ``rollout_len`` much longer than
   a typical episode so that this touches few steps (``tail_bootstrap=False`` drops those
   steps from the loss instead, at the price of favouring short episodes).
2. Separate Adam optimisers for the policy and the baseline (two learning rates), gradients
   clipped in global norm; advantages ``G - b`` optionally normalised per rollout.
3. ``reward_scale`` multiplies rewards (a change of units, for the baseline's regression).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Sequence

import torch
from torch import nn

from ..config import Config, check, check_choice, check_float, check_int
from ..contract import AgentSpec
from ..nets import ACTIVATIONS, Actor, Critic
from ..utils import resolve_device


@dataclass
class REINFORCEConfig(Config):
    lr: float = 1e-3
    baseline_lr: float = 3e-3
    gamma: float = 0.99
    ent_coef: float = 0.0
    #: gradient steps on the baseline per rollout (the baseline may be refitted; the policy may not)
    baseline_steps: int = 4
    max_grad_norm: float = 0.5
    hidden: Sequence[int] = (64, 64)
    activation: str = "tanh"
    box_head: str = "beta"
    reward_scale: float = 1.0
    normalize_advantages: bool = True
    tail_bootstrap: bool = True

    def validate(self):
        check_float(self, "lr", min=0, min_open=True)
        check_float(self, "baseline_lr", min=0, min_open=True)
        check_float(self, "gamma", min=0, max=1)
        check_float(self, "ent_coef", min=0)
        check_int(self, "baseline_steps", min=1)
        check_float(self, "max_grad_norm", min=0, min_open=True)
        check(len(self.hidden) >= 1 and all(isinstance(h, int) and h >= 1 for h in self.hidden),
              self, "hidden", "a non-empty sequence of positive integers")
        check_choice(self, "activation", sorted(ACTIVATIONS))
        check_choice(self, "box_head", ["beta", "gaussian", "squashed"])
        check_float(self, "reward_scale", min=0, min_open=True)


def discounted_returns(rewards: torch.Tensor, dones: torch.Tensor, tail_value: torch.Tensor,
                       gamma: float) -> torch.Tensor:
    """``G_t = r_t + gamma (1 - done_t) G_{t+1}`` with ``G_T = tail_value``; all ``[T, B]`` (tail ``[B]``)."""
    T = rewards.shape[0]
    out = torch.zeros_like(rewards)
    g = tail_value
    for t in reversed(range(T)):  # a loop over time, not over agents
        g = rewards[t] + gamma * (1.0 - dones[t]) * g
        out[t] = g
    return out


def finished_mask(dones: torch.Tensor) -> torch.Tensor:
    """1.0 at steps whose episode ends inside the rollout (some done at or after t), else 0.0; ``[T, B]``."""
    # reverse cumulative max of done along time
    return torch.flip(torch.cummax(torch.flip(dones, [0]), dim=0).values, [0])


class REINFORCE:
    """REINFORCE with a learned baseline for one agent type (all its agents share the networks)."""

    def __init__(self, spec: AgentSpec, config: REINFORCEConfig | None = None, device="auto", seed: int | None = None):
        self.spec = spec
        self.config = config or REINFORCEConfig()
        self.device = resolve_device(device)
        if seed is not None:
            torch.manual_seed(seed)
        c = self.config
        self.actor = Actor(spec.obs_dim, spec.action, c.hidden, c.activation, c.box_head).to(self.device)
        self.baseline = Critic(spec.obs_dim, c.hidden, c.activation).to(self.device)
        self.actor_optimizer = torch.optim.Adam(self.actor.parameters(), lr=c.lr, eps=1e-5, foreach=True)
        self.baseline_optimizer = torch.optim.Adam(self.baseline.parameters(), lr=c.baseline_lr, eps=1e-5, foreach=True)

    # -------------------------------------------------------------- Learner protocol
    @torch.no_grad()
    def act(self, obs: torch.Tensor, deterministic: bool = False):
        """obs [E, n, d] -> (env action [E, n, ...], extras {action, logp})."""
        a, logp = self.actor.act(obs, deterministic)
        return self.actor.to_env(a), {"action": a, "logp": logp}

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

        # 1. Monte Carlo returns, the unfinished tail completed by the baseline (detail 1).
        with torch.no_grad():
            tail = self.baseline(obs[-1]).reshape(B) if c.tail_bootstrap else torch.zeros(B, device=self.device)
            returns = discounted_returns(rewards, dones, tail, c.gamma)
            weight = torch.ones_like(returns) if c.tail_bootstrap else finished_mask(dones)

        N = T * B
        b_obs = obs[:-1].reshape(N, -1)
        b_act = actions.reshape((N,) + tuple(actions.shape[3:]))
        b_ret, b_w = returns.reshape(N), weight.reshape(N)
        wsum = b_w.sum().clamp_min(1.0)

        # 2. Policy gradient with the baseline, one step (on-policy).
        with torch.no_grad():
            adv = b_ret - self.baseline(b_obs)
            if c.normalize_advantages and N > 1:
                m = (adv * b_w).sum() / wsum
                s = (((adv - m) ** 2 * b_w).sum() / wsum).sqrt()
                adv = (adv - m) / (s + 1e-8)
        logp, ent = self.actor.evaluate(b_obs, b_act)
        pg_loss = -(logp * adv * b_w).sum() / wsum
        entropy = (ent * b_w).sum() / wsum
        self.actor_optimizer.zero_grad(set_to_none=True)
        (pg_loss - c.ent_coef * entropy).backward()
        nn.utils.clip_grad_norm_(self.actor.parameters(), c.max_grad_norm)
        self.actor_optimizer.step()

        # 3. Refit the baseline to the returns (least squares).
        for _ in range(c.baseline_steps):
            b_loss = 0.5 * (((self.baseline(b_obs) - b_ret) ** 2) * b_w).sum() / wsum
            self.baseline_optimizer.zero_grad(set_to_none=True)
            b_loss.backward()
            nn.utils.clip_grad_norm_(self.baseline.parameters(), c.max_grad_norm)
            self.baseline_optimizer.step()

        return {"policy_loss": pg_loss.item(), "baseline_loss": b_loss.item(), "entropy": entropy.item(),
                "loss": pg_loss.item() + b_loss.item() - c.ent_coef * entropy.item()}

    def modules(self) -> Dict[str, nn.Module]:
        return {"actor": self.actor, "baseline": self.baseline}

    def optimizers(self) -> Dict[str, torch.optim.Optimizer]:
        return {"actor_optimizer": self.actor_optimizer, "baseline_optimizer": self.baseline_optimizer}

    def set_lr(self, lr: float) -> None:
        for g in self.actor_optimizer.param_groups:
            g["lr"] = lr
