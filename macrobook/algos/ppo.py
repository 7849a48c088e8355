"""Proximal Policy Optimization (Schulman et al. 2017) for one agent type, with parameter sharing.

Defined in Chapter 1 (single agent) and used from Chapter 2 on (many agents): every agent of a
type shares one actor and one critic; each agent's own observation carries its heterogeneity.
A rollout of ``T`` steps in ``E`` economies with ``n`` agents is treated as ``E * n`` parallel
trajectories of length ``T``.

The objective, read top to bottom:

1. Generalized advantage estimation (Schulman et al. 2016, eq. 16):
   ``delta_t = r_t + gamma * V(s_{t+1}) * (1 - done_t) - V(s_t)``,
   ``A_t = delta_t + gamma * lambda * (1 - done_t) * A_{t+1}``; returns ``R_t = A_t + V(s_t)``.
2. Clipped surrogate (Schulman et al. 2017, eq. 7), ratio ``rho = pi(a|s) / pi_old(a|s)``:
   ``L_clip = E[min(rho * A, clip(rho, 1 - eps, 1 + eps) * A)]``.
3. Value loss with clipping (the "value clipping" of the PPO reference code, Engstrom et al. 2020):
   ``L_V = E[max((V - R)^2, (V_old + clip(V - V_old, -eps_v, eps_v) - R)^2)] / 2``.
4. Entropy bonus ``H[pi(.|s)]`` keeps exploration alive.
   Loss ``= -L_clip + c_v * L_V - c_H * H``, minimised for ``epochs`` passes over shuffled
   minibatches, gradients clipped to ``max_grad_norm`` in global norm.

Implementation details (CleanRL's list, the ones that matter here): advantages normalised per
minibatch; orthogonal initialisation (macrobook.nets.mlp); Adam with eps=1e-5; optional
linear learning-rate annealing is left to the caller (``ppo.set_lr``); optional reward scaling
``reward_scale`` (a fixed constant, not learned) because economic rewards come in many units;
``bootstrap_on_done``: treat ``done`` as a time limit, not a terminal state (Pardo et al. 2018,
"Time limits in reinforcement learning"): the TD target at a restart is
``r_t + gamma * V(final_obs_t)``, so an economy that restarts only to refresh its states (the
household's random "death" in Chapter 1 with ``gamma = beta``) adds no noise to the targets.

Two options for speed, both off by default: ``analytic_heads`` computes a MultiDiscrete policy's
log-probabilities and entropy with their gradients written out (:meth:`macrobook.nets.MultiCategorical.log_prob_entropy`;
Chapter 6's consumers use it), and ``matmul_dtype="bfloat16"`` runs the networks' matrix products in
bfloat16 under ``torch.autocast`` while distributions, losses and the optimiser stay in float32
(``python -m macrobook bench rbc`` measures both side by side).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, Sequence

import torch
from torch import nn

from ..config import Config, ConfigError, check, check_choice, check_float, check_int
from ..contract import AgentSpec
from ..nets import ACTIVATIONS, Actor, Critic, full_precision
from ..utils import resolve_device


@dataclass
class PPOConfig(Config):
    lr: float = 3e-4
    gamma: float = 0.99
    gae_lambda: float = 0.95
    clip_eps: float = 0.2
    epochs: int = 4
    minibatches: int = 4
    ent_coef: float = 0.01
    vf_coef: float = 0.5
    vf_clip: float | None = 0.2
    max_grad_norm: float = 0.5
    hidden: Sequence[int] = (64, 64)
    activation: str = "tanh"
    box_head: str = "beta"
    reward_scale: float = 1.0
    normalize_advantages: bool = True
    bootstrap_on_done: bool = False
    #: anneal the learning rate linearly from ``lr`` to ``lr * lr_floor`` over this many updates (None: constant)
    anneal_updates: int | None = None
    lr_floor: float = 0.05
    #: a MultiDiscrete policy's log-probabilities and entropy with gradients in closed form (fewer passes
    #: over the logits; equal to autograd's up to float rounding, so a run's numbers change in the last bits)
    analytic_heads: bool = False
    #: "bfloat16": the networks' matrix products in bfloat16 (``torch.autocast``; AMX or AVX-512 BF16 on recent
    #: CPUs, tensor cores on GPUs), in acting and in updates alike; outputs, losses and optimiser in float32
    matmul_dtype: str = "float32"

    def validate(self):
        check_float(self, "lr", min=0, min_open=True)
        check_float(self, "gamma", min=0, max=1)
        check_float(self, "gae_lambda", min=0, max=1)
        check_float(self, "clip_eps", min=0, min_open=True)
        check_int(self, "epochs", min=1)
        check_int(self, "minibatches", min=1)
        check_float(self, "ent_coef", min=0)
        check_float(self, "vf_coef", min=0)
        if self.vf_clip is not None:
            check_float(self, "vf_clip", min=0, min_open=True)
        check_float(self, "max_grad_norm", min=0, min_open=True)
        check(len(self.hidden) >= 1 and all(isinstance(h, int) and h >= 1 for h in self.hidden),
              self, "hidden", "a non-empty sequence of positive integers")
        check_choice(self, "activation", sorted(ACTIVATIONS))
        check_choice(self, "box_head", ["beta", "gaussian", "squashed"])
        check_float(self, "reward_scale", min=0, min_open=True)
        if self.anneal_updates is not None:
            check_int(self, "anneal_updates", min=1)
        check_float(self, "lr_floor", min=0, max=1)
        check(isinstance(self.analytic_heads, bool), self, "analytic_heads", "True or False")
        check_choice(self, "matmul_dtype", ["float32", "bfloat16"])


def gae(rewards: torch.Tensor, values: torch.Tensor, dones: torch.Tensor, last_value: torch.Tensor,
        gamma: float, lam: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Generalized advantage estimates and returns (Schulman et al. 2016, eq. 16).

    rewards, values: [T, B]; dones: [T, B] (1.0 where the episode ended at step t);
    last_value: [B], V(s_T). Returns (advantages [T, B], returns [T, B]).
    """
    T = rewards.shape[0]
    adv = torch.zeros_like(rewards)
    next_adv = torch.zeros_like(last_value)
    next_value = last_value
    for t in reversed(range(T)):  # a loop over time, not over agents
        nonterminal = 1.0 - dones[t]
        delta = rewards[t] + gamma * next_value * nonterminal - values[t]
        next_adv = delta + gamma * lam * nonterminal * next_adv
        adv[t] = next_adv
        next_value = values[t]
    return adv, adv + values


class PPO:
    """PPO learner for one agent type (all its agents share the networks)."""

    def __init__(self, spec: AgentSpec, config: PPOConfig | None = None, device="auto", seed: int | None = None):
        self.spec = spec
        self.config = config or PPOConfig()
        self.device = resolve_device(device)
        if seed is not None:
            torch.manual_seed(seed)
        c = self.config
        self.actor = Actor(spec.obs_dim, spec.action, c.hidden, c.activation, c.box_head).to(self.device)
        self.critic = Critic(spec.obs_dim, c.hidden, c.activation).to(self.device)
        self.num_updates = 0
        self.optimizer = torch.optim.Adam(
            list(self.actor.parameters()) + list(self.critic.parameters()), lr=c.lr, eps=1e-5, foreach=True
        )

    # -------------------------------------------------------------- Learner protocol
    @torch.no_grad()
    def act(self, obs: torch.Tensor, deterministic: bool = False):
        """obs [E, n, d] -> (env action [E, n, ...], extras {logp, value, action})."""
        with self._autocast():
            a, logp = self.actor.act(obs, deterministic)
            value = full_precision(self.critic(obs))
        return self.actor.to_env(a), {"action": a, "logp": logp, "value": value}

    def _autocast(self):
        """Matrix products in ``PPOConfig.matmul_dtype`` (a no-op context for float32)."""
        low = self.config.matmul_dtype == "bfloat16"
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=low)

    def policy(self, obs: torch.Tensor, deterministic: bool = True) -> torch.Tensor:
        """The action the economy receives, for evaluation and analysis."""
        return self.act(obs, deterministic)[0]

    def update(self, rollout, agent_type: str) -> Dict[str, float]:
        c = self.config
        if c.anneal_updates is not None:  # CleanRL's linear annealing, counted in calls to update()
            self.set_lr(c.lr * max(c.lr_floor, 1.0 - self.num_updates / c.anneal_updates))
        self.num_updates += 1
        obs = rollout.obs[agent_type]                       # [T+1, E, n, d]
        T, E, n = obs.shape[0] - 1, obs.shape[1], obs.shape[2]
        ex = rollout.extras[agent_type]
        actions = ex["action"]                              # [T, E, n, ...] as sampled
        old_logp, old_v = ex["logp"], ex["value"]           # [T, E, n]
        rewards = rollout.rewards[agent_type] * c.reward_scale
        dones = rollout.dones.float().unsqueeze(-1).expand(T, E, n)
        with torch.no_grad(), self._autocast():
            last_v = full_precision(self.critic(obs[-1]))
            if c.bootstrap_on_done:
                if rollout.final_obs is None:
                    raise ValueError("PPOConfig.bootstrap_on_done=True needs an economy that reports "
                                     "info['final_obs'] (the observation before a restart)")
                # r_t + gamma * V(s_final) where the episode restarted; GAE below then cuts the chain
                rewards = rewards + c.gamma * dones * full_precision(self.critic(rollout.final_obs[agent_type]))
        adv, ret = gae(rewards.reshape(T, E * n), old_v.reshape(T, E * n), dones.reshape(T, E * n),
                       last_v.reshape(E * n), c.gamma, c.gae_lambda)

        # Flatten time, economies and agents: parameter sharing makes every agent a sample.
        N = T * E * n
        b_obs = obs[:-1].reshape(N, -1)
        b_act = actions.reshape((N,) + tuple(actions.shape[3:]))
        b_logp, b_v = old_logp.reshape(N), old_v.reshape(N)
        b_adv, b_ret = adv.reshape(N), ret.reshape(N)

        mb_size = max(1, N // c.minibatches)
        stats = ("policy_loss", "value_loss", "entropy", "approx_kl", "clip_frac")
        acc: list = []
        n_updates = 0
        params = list(self.actor.parameters()) + list(self.critic.parameters())
        for _ in range(c.epochs):
            perm = torch.randperm(N, device=self.device)
            # one gather per epoch, then contiguous slices (the same samples as indexing every minibatch)
            # (index_select: the same rows as x[perm], without advanced indexing's overhead on the CPU)
            e_obs, e_act, e_logp, e_v, e_adv, e_ret = (x.index_select(0, perm)
                                                       for x in (b_obs, b_act, b_logp, b_v, b_adv, b_ret))
            for start in range(0, N, mb_size):
                sl = slice(start, start + mb_size)
                mb_obs = e_obs[sl]
                with self._autocast():
                    logp, ent = self.actor.evaluate(mb_obs, e_act[sl], c.analytic_heads)
                    v = full_precision(self.critic(mb_obs))
                a = e_adv[sl]
                if c.normalize_advantages and a.numel() > 1:
                    a = (a - a.mean()) / (a.std() + 1e-8)
                log_ratio = logp - e_logp[sl]
                ratio = log_ratio.exp()
                pg_loss = -torch.min(ratio * a, ratio.clamp(1 - c.clip_eps, 1 + c.clip_eps) * a).mean()

                ret, v_old = e_ret[sl], e_v[sl]
                if c.vf_clip is not None:
                    v_clipped = v_old + (v - v_old).clamp(-c.vf_clip, c.vf_clip)
                    v_loss = 0.5 * torch.max((v - ret) ** 2, (v_clipped - ret) ** 2).mean()
                else:
                    v_loss = 0.5 * ((v - ret) ** 2).mean()
                entropy = ent.mean()
                loss = pg_loss + c.vf_coef * v_loss - c.ent_coef * entropy

                self.optimizer.zero_grad(set_to_none=True)
                loss.backward()
                nn.utils.clip_grad_norm_(params, c.max_grad_norm, foreach=True)
                self.optimizer.step()

                with torch.no_grad():   # summed as tensors, read once (no per-minibatch .item())
                    acc.append(torch.stack([pg_loss.detach(), v_loss.detach(), entropy.detach(),
                                            ((ratio - 1) - log_ratio).mean(),   # Schulman's k3 estimator
                                            ((ratio - 1).abs() > c.clip_eps).float().mean()]))
                n_updates += 1
        totals = torch.stack(acc).double().sum(0).tolist()
        out = {k: v / n_updates for k, v in zip(stats, totals)}
        out["loss"] = out["policy_loss"] + c.vf_coef * out["value_loss"] - c.ent_coef * out["entropy"]
        out["lr"] = self.optimizer.param_groups[0]["lr"]
        return out

    def modules(self) -> Dict[str, nn.Module]:
        return {"actor": self.actor, "critic": self.critic}

    def optimizers(self) -> Dict[str, torch.optim.Optimizer]:
        return {"optimizer": self.optimizer}

    def set_lr(self, lr: float) -> None:
        for g in self.optimizer.param_groups:
            g["lr"] = lr
