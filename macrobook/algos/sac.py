"""Soft actor-critic for every agent type of an economy (Haarnoja et al. 2018): a *stochastic*
policy baseline for Chapter 3, next to MADDPG and independent DDPG.

Deterministic actors trained through a critic saturate at an end of their action box whenever the
critic's slope points one way; a stochastic policy that is paid for its entropy keeps probability
mass inside the box unless the reward really favours the corner. Comparing where each lands tells a
reader whether box-end saturation is a learner problem (SAC stays interior, DDPG does not) or a game
problem (both go to the corner).

    from macrobook.algos.sac import SAC, SACConfig
    from macrobook.algos.maddpg import train, evaluate
    learner = SAC(econ.specs, SACConfig(), seed=0)
    log = train(econ, learner, iterations=200, seed=0)          # the same Controller as MADDPG
    hist, rewards = evaluate(econ, learner.policy(), steps=40, seed=1)

Per type (parameter sharing, independent learners: each critic sees its agent's own observation
and action): a tanh-squashed Gaussian actor mapped onto the Box, twin Q critics with target
copies, and a temperature ``alpha`` tuned to a target entropy of ``-action_dim``
(Haarnoja et al. 2018b). Key equations:

* critic target  y = r + gamma (min_j Q'_j(o', a') - alpha log pi(a'|o')),  a' ~ pi(.|o')
* actor          minimize E[alpha log pi(a|o) - min_j Q_j(o, a)],  a = f(mu, sigma, eps) (reparameterized)
* temperature    minimize E[-alpha (log pi(a|o) + target_entropy)]

Episodes end by a time limit only, so the target always bootstraps (as in ``maddpg``).
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from typing import Dict, Mapping

import torch
from torch import nn

from ..config import Config, ConfigError, check, check_float, check_int
from ..contract import AgentSpec, Box
from ..nets import mlp
from .ddpg import ReplayBuffer, soft_update


@dataclass
class SACConfig(Config):
    """Hyperparameters shared by every agent type."""

    actor_lr: float = 3e-4
    critic_lr: float = 1e-3
    alpha_lr: float = 3e-4
    gamma: float = 0.95
    tau: float = 0.01
    batch_size: int = 256
    buffer_size: int = 50_000           # rows = (economy, step) pairs
    learning_starts: int = 512
    init_alpha: float = 0.05
    hidden: tuple = (64, 64)
    max_grad_norm: float = 1.0
    exploration_sigma: float = 0.0      # unused (the policy explores by sampling); kept for ``maddpg.train``
    centralized: bool = False           # SAC here is an independent learner (for ``maddpg.train``'s label)
    reward_scale: dict = field(default_factory=dict)

    def validate(self) -> None:
        for f in ("actor_lr", "critic_lr", "alpha_lr", "init_alpha", "max_grad_norm"):
            check_float(self, f, min=0.0, min_open=True)
        check_float(self, "gamma", min=0.0, max=1.0, max_open=True)
        check_float(self, "tau", min=0.0, max=1.0, min_open=True)
        check_int(self, "batch_size", min=1)
        check_int(self, "buffer_size", min=1)
        check_int(self, "learning_starts", min=0)
        check(len(self.hidden) >= 1 and all(isinstance(h, int) and h >= 1 for h in self.hidden),
              self, "hidden", "a non-empty tuple of integers >= 1")
        check(self.centralized is False, self, "centralized", "False (SAC here is an independent learner)")
        check(isinstance(self.reward_scale, dict) and all(isinstance(v, (int, float)) for v in self.reward_scale.values()),
              self, "reward_scale", "a dict {agent_type: float}")


class SquashedPolicy(nn.Module):
    """``a = low + (high - low) (tanh(u) + 1) / 2`` with ``u ~ N(mu(o), sigma(o)^2)``."""

    def __init__(self, obs_dim: int, space: Box, hidden: tuple):
        super().__init__()
        self.dim = int(space.event_shape[0]) if space.event_shape else 1
        self.body = mlp(obs_dim, 2 * self.dim, hidden, out_gain=0.01)   # starts near the box's middle
        self.register_buffer("low", torch.as_tensor(space.low, dtype=torch.float32).expand(self.dim).clone())
        self.register_buffer("high", torch.as_tensor(space.high, dtype=torch.float32).expand(self.dim).clone())

    def forward(self, obs: torch.Tensor, deterministic: bool = False, generator=None):
        mu, log_std = self.body(obs).chunk(2, dim=-1)
        log_std = (log_std - 1.0).clamp(-5.0, 1.0)                          # initial sd about 0.37 in u
        std = log_std.exp()
        eps = torch.zeros_like(mu) if deterministic else torch.randn(mu.shape, generator=generator, device=mu.device)
        u = mu + std * eps
        t = torch.tanh(u)
        half = 0.5 * (self.high - self.low)
        a = self.low + half * (t + 1.0)
        # log density of a: Gaussian in u, minus log|da/du| = log(half) + log(1 - tanh^2)
        log_p = (-0.5 * eps ** 2 - log_std - 0.5 * math.log(2 * math.pi)).sum(-1)
        log_p = log_p - (torch.log(half) + torch.log((1 - t ** 2).clamp_min(1e-6))).sum(-1)
        return a, log_p


class SACType(nn.Module):
    def __init__(self, spec: AgentSpec, act_dim: int, hidden: tuple):
        super().__init__()
        self.actor = SquashedPolicy(spec.obs_dim, spec.action, hidden)
        self.q1 = mlp(spec.obs_dim + act_dim, 1, hidden)
        self.q2 = mlp(spec.obs_dim + act_dim, 1, hidden)
        self.q1_target, self.q2_target = copy.deepcopy(self.q1), copy.deepcopy(self.q2)
        for p in list(self.q1_target.parameters()) + list(self.q2_target.parameters()):
            p.requires_grad_(False)
        self.log_alpha = nn.Parameter(torch.zeros(()))


class SAC:
    """Soft actor-critic per agent type (independent learners with parameter sharing)."""

    def __init__(self, specs: Mapping[str, AgentSpec], config: SACConfig | None = None,
                 device: str | torch.device = "cpu", seed: int = 0):
        self.specs = dict(specs)
        self.config = config if config is not None else SACConfig()
        self.device = torch.device(device)
        c = self.config
        for k, s in self.specs.items():
            if not isinstance(s.action, Box):
                raise ConfigError(f"SAC needs Box action spaces; type {k!r} has {s.action!r}")
        unknown = set(c.reward_scale) - set(self.specs)
        if unknown:
            raise ConfigError(f"SACConfig.reward_scale has unknown agent types {sorted(unknown)}; "
                              f"the types are {sorted(self.specs)}")
        torch.manual_seed(seed)
        self.act_dim = {k: int(s.action.event_shape[0]) if s.action.event_shape else 1 for k, s in self.specs.items()}
        self.types = {k: SACType(s, self.act_dim[k], c.hidden).to(self.device) for k, s in self.specs.items()}
        for k, t in self.types.items():
            with torch.no_grad():
                t.log_alpha.fill_(math.log(c.init_alpha))
        self.actor_opt = {k: torch.optim.Adam(t.actor.parameters(), lr=c.actor_lr) for k, t in self.types.items()}
        self.critic_opt = {k: torch.optim.Adam(list(t.q1.parameters()) + list(t.q2.parameters()), lr=c.critic_lr)
                           for k, t in self.types.items()}
        self.alpha_opt = {k: torch.optim.Adam([t.log_alpha], lr=c.alpha_lr) for k, t in self.types.items()}
        self.buffer = ReplayBuffer(c.buffer_size, self.device, seed=seed)
        self.generator = torch.Generator(device="cpu")
        self.generator.manual_seed(seed + 1)
        self.sigma = c.exploration_sigma
        self.num_updates = 0

    # ------------------------------------------------------------------ acting
    @torch.no_grad()
    def act(self, obs: Mapping[str, torch.Tensor], deterministic: bool = False) -> Dict[str, torch.Tensor]:
        """Sampled actions (the tanh of the mean when ``deterministic``) for every type, ``[E, n, dim]``."""
        out = {}
        for k, t in self.types.items():
            o = obs[k].to(self.device)
            a, _ = t.actor(o, deterministic=deterministic, generator=self.generator)
            lo, hi = t.actor.low, t.actor.high
            out[k] = torch.minimum(torch.maximum(a, lo), hi)
        return out

    def __call__(self, obs):
        """The deterministic read-out as a policy (so ``maddpg.evaluate(econ, sac, ...)`` works)."""
        return self.act(obs, deterministic=True)

    def policy(self, deterministic: bool = True):
        """A callable ``obs -> actions`` (for evaluation, impulse responses and widgets)."""
        return lambda obs: self.act(obs, deterministic=deterministic)

    # ------------------------------------------------------------------ learning
    def store(self, obs, actions, rewards, next_obs, terminal) -> None:
        fields = {}
        for k in self.specs:
            fields[f"o/{k}"] = obs[k].to(self.device)
            fields[f"a/{k}"] = actions[k].to(self.device).float()
            fields[f"r/{k}"] = rewards[k].to(self.device).float() * float(self.config.reward_scale.get(k, 1.0))
            fields[f"o2/{k}"] = next_obs[k].to(self.device)
        fields["done"] = terminal.to(self.device).float()
        self.buffer.add(**fields)

    def learn(self, gradient_steps: int = 1) -> Dict[str, float]:
        c = self.config
        stats: Dict[str, float] = {}
        if len(self.buffer) < max(c.learning_starts, 1):
            return stats
        for _ in range(gradient_steps):
            b = self.buffer.sample(c.batch_size)
            for k, t in self.types.items():
                d = self.specs[k].obs_dim
                o = b[f"o/{k}"].reshape(-1, d)
                a = b[f"a/{k}"].reshape(-1, self.act_dim[k])
                r = b[f"r/{k}"].reshape(-1, 1)
                o2 = b[f"o2/{k}"].reshape(-1, d)
                n = self.specs[k].count
                done = b["done"].repeat_interleave(n).reshape(-1, 1)
                alpha = t.log_alpha.exp().detach()
                with torch.no_grad():
                    a2, logp2 = t.actor(o2, generator=self.generator)
                    x2 = torch.cat([o2, a2], -1)
                    q_next = torch.minimum(t.q1_target(x2), t.q2_target(x2)) - alpha * logp2[:, None]
                    y = r + c.gamma * (1 - done) * q_next
                x = torch.cat([o, a], -1)
                q1, q2 = t.q1(x), t.q2(x)
                critic_loss = ((q1 - y) ** 2).mean() + ((q2 - y) ** 2).mean()
                self.critic_opt[k].zero_grad()
                critic_loss.backward()
                nn.utils.clip_grad_norm_(list(t.q1.parameters()) + list(t.q2.parameters()), c.max_grad_norm)
                self.critic_opt[k].step()
                a_new, logp = t.actor(o, generator=self.generator)
                xn = torch.cat([o, a_new], -1)
                q_new = torch.minimum(t.q1(xn), t.q2(xn))
                actor_loss = (alpha * logp[:, None] - q_new).mean()
                self.actor_opt[k].zero_grad()
                actor_loss.backward()
                nn.utils.clip_grad_norm_(t.actor.parameters(), c.max_grad_norm)
                self.actor_opt[k].step()
                alpha_loss = -(t.log_alpha * (logp.detach() - self.act_dim[k])).mean()   # target entropy -dim
                self.alpha_opt[k].zero_grad()
                alpha_loss.backward()
                self.alpha_opt[k].step()
                soft_update(t.q1_target, t.q1, c.tau)
                soft_update(t.q2_target, t.q2, c.tau)
                stats[f"critic_loss/{k}"] = stats.get(f"critic_loss/{k}", 0.0) + 0.5 * critic_loss.item() / gradient_steps
                stats[f"alpha/{k}"] = float(t.log_alpha.detach().exp())
            self.num_updates += 1
        return stats

    # ------------------------------------------------------------------ checkpoints
    def modules(self) -> Dict[str, nn.Module]:
        return dict(self.types)

    def optimizers(self) -> Dict[str, torch.optim.Optimizer]:
        out = {f"actor/{k}": o for k, o in self.actor_opt.items()}
        out.update({f"critic/{k}": o for k, o in self.critic_opt.items()})
        out.update({f"alpha/{k}": o for k, o in self.alpha_opt.items()})
        return out
