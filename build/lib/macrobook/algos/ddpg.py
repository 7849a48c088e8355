"""DDPG: deep deterministic policy gradient (Lillicrap et al. 2015, {cite}`lillicrap2015ddpg`).

One learner per agent type, with parameter sharing: every agent of the type uses the
same deterministic actor mu(o) and the same critic Q(o, a); heterogeneity enters through
each agent's own observation. Read top to bottom, it is Algorithm 1 of the paper.

API (also used by MADDPG, ``macrobook.algos.maddpg``)::

    from macrobook.algos.ddpg import DDPG, DDPGConfig, ReplayBuffer, soft_update

    learner = DDPG(spec, DDPGConfig(batch_size=128), device="cpu", seed=0)
    action, extras = learner.act(obs)            # obs [E, n, obs_dim] -> action [E, n, *box.shape], extras {}
    stats = learner.update(rollout, "household")  # Trainer's Learner protocol: store the rollout, then learn
    learner.store(obs, action, reward, next_obs, done)   # or feed transitions one step at a time ...
    stats = learner.learn()                       # ... and take gradient steps yourself
    learner.modules(), learner.optimizers()       # for checkpoints (macrobook.io)

    buf = ReplayBuffer(capacity=10_000, device="cpu", seed=0)
    buf.add(obs=o, action=a, reward=r)           # every field [B, *item_shape]; shapes fixed at first add
    batch = buf.sample(64)                       # {"obs": [64, *item_shape], ...}, seeded
    soft_update(target_net, net, tau=0.005)      # theta' <- tau theta + (1 - tau) theta'

Key equations (Lillicrap et al. 2015, Algorithm 1):

* critic target     y = r + gamma (1 - done) Q'(o', mu'(o'))
* critic loss       L = mean (y - Q(o, a))^2
* actor objective   maximise mean Q(o, mu(o)); the gradient flows through a = mu(o)
  (the deterministic policy gradient, Silver et al. 2014)
* target networks   theta' <- tau theta + (1 - tau) theta'   ("soft" updates)
* exploration       a = clip(mu(o) + N(0, (sigma (high - low))^2), low, high). The paper used
  Ornstein-Uhlenbeck noise; plain Gaussian noise works as well (Fujimoto et al. 2018, TD3)
  and is simpler to seed and to explain.

Implementation details:

1. Transitions of all ``n`` agents of the type go into one replay buffer (parameter sharing).
2. ``done`` masks the bootstrap: an economy that auto-resets gives the next episode's
   observation as ``o'``, which must not be valued as the continuation.
3. No learning until the buffer holds ``learning_starts`` transitions.
4. Noise, replay sampling and network initialisation use the learner's own seeded
   generators, so the same seed gives the same numbers.
5. Gradients are clipped to ``max_grad_norm`` (a stabiliser, not part of the paper).
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Dict, Mapping

import torch
from torch import nn

from ..config import Config, ConfigError, check_float, check_int, check
from ..contract import AgentSpec
from ..contract import Box
from ..nets import DeterministicActor, QCritic


# --------------------------------------------------------------------------- helpers
@torch.no_grad()
def soft_update(target: nn.Module, source: nn.Module, tau: float) -> None:
    """Polyak averaging of parameters: theta' <- tau theta + (1 - tau) theta' (Lillicrap et al.
    2015, Algorithm 1, last line). ``tau=1`` copies. Buffers (e.g. bounds) are copied as they are."""
    if not 0.0 <= tau <= 1.0:
        raise ConfigError(f"tau must be in [0, 1], got {tau!r}")
    for t, s in zip(target.parameters(), source.parameters()):
        t.mul_(1.0 - tau).add_(s, alpha=tau)
    for t, s in zip(target.buffers(), source.buffers()):
        t.copy_(s)


def hard_update(target: nn.Module, source: nn.Module) -> None:
    """Copy every parameter and buffer of ``source`` into ``target``."""
    soft_update(target, source, 1.0)


def gaussian_exploration(action: torch.Tensor, sigma: float, low: torch.Tensor, high: torch.Tensor,
                         generator: torch.Generator | None = None) -> torch.Tensor:
    """``clip(action + N(0, (sigma (high - low))^2), low, high)``: Gaussian noise scaled to the
    width of the Box, clipped back into it (the bounds are the economy's action space).
    ``action [..., dim]``, ``low``/``high`` ``[dim]``."""
    if sigma <= 0:
        return action
    noise = torch.randn(action.shape, generator=generator, device=generator.device if generator else "cpu")
    noise = noise.to(action.device) * sigma * (high - low)
    return torch.maximum(torch.minimum(action + noise, high), low)


class ReplayBuffer:
    """A ring buffer of transitions stored as preallocated tensors on one device.

    ``add(**fields)``: each field is a tensor ``[B, *item_shape]`` (the same B for all
    fields); the item shapes and dtypes are fixed by the first call. When full, the oldest
    rows are overwritten. ``sample(batch_size)`` draws rows uniformly with replacement
    from the buffer's own seeded generator, so the same seed gives the same batches.

    DDPG stores one row per (economy, agent); MADDPG stores one row per economy with the
    agents inside the item shape (``obs [B, n, d]``).
    """

    def __init__(self, capacity: int, device: str | torch.device = "cpu", seed: int = 0):
        if not isinstance(capacity, int) or isinstance(capacity, bool) or capacity < 1:
            raise ConfigError(f"ReplayBuffer.capacity must be an integer >= 1, got {capacity!r}")
        self.capacity = capacity
        self.device = torch.device(device)
        self.generator = torch.Generator(device="cpu")
        self.generator.manual_seed(int(seed))
        self.storage: Dict[str, torch.Tensor] = {}
        self.pos = 0  # next row to write
        self.size = 0  # rows filled

    def __len__(self) -> int:
        return self.size

    def add(self, **fields: torch.Tensor) -> None:
        if not fields:
            raise ValueError("ReplayBuffer.add needs at least one field")
        sizes = {k: int(v.shape[0]) for k, v in fields.items()}
        if len(set(sizes.values())) != 1:
            raise ValueError(f"ReplayBuffer.add: every field needs the same leading size, got {sizes}")
        if not self.storage:
            for k, v in fields.items():
                self.storage[k] = torch.zeros((self.capacity,) + tuple(v.shape[1:]), dtype=v.dtype, device=self.device)
        elif set(fields) != set(self.storage):
            raise ValueError(f"ReplayBuffer.add: fields must be {sorted(self.storage)}, got {sorted(fields)}")
        b = next(iter(sizes.values()))
        for k, v in fields.items():
            if tuple(v.shape[1:]) != tuple(self.storage[k].shape[1:]):
                raise ValueError(f"ReplayBuffer.add: field {k!r} has item shape {list(v.shape[1:])}, "
                                 f"expected {list(self.storage[k].shape[1:])}")
        if b >= self.capacity:  # only the newest `capacity` rows survive
            fields = {k: v[-self.capacity:] for k, v in fields.items()}
            b = self.capacity
        idx = (torch.arange(b) + self.pos) % self.capacity
        idx = idx.to(self.device)
        for k, v in fields.items():
            self.storage[k][idx] = v.detach().to(self.device, self.storage[k].dtype)
        self.pos = (self.pos + b) % self.capacity
        self.size = min(self.size + b, self.capacity)

    def sample(self, batch_size: int) -> Dict[str, torch.Tensor]:
        if self.size == 0:
            raise ValueError("ReplayBuffer.sample: the buffer is empty")
        idx = torch.randint(0, self.size, (batch_size,), generator=self.generator).to(self.device)
        return {k: v[idx] for k, v in self.storage.items()}


# --------------------------------------------------------------------------- learner
@dataclass
class DDPGConfig(Config):
    """Hyperparameters. Defaults follow Lillicrap et al. (2015), section 7, except the smaller
    networks and batch (economies here have a few inputs, not pixels)."""

    actor_lr: float = 1e-4
    critic_lr: float = 1e-3
    gamma: float = 0.99
    tau: float = 0.005
    batch_size: int = 128
    buffer_size: int = 100_000
    learning_starts: int = 256          # transitions in the buffer before the first update
    gradient_steps: int = 8             # gradient steps per ``update`` call
    exploration_sigma: float = 0.1      # noise std as a fraction of the Box width
    hidden: tuple = (64, 64)
    max_grad_norm: float = 10.0

    def validate(self) -> None:
        check_float(self, "actor_lr", min=0.0, min_open=True)
        check_float(self, "critic_lr", min=0.0, min_open=True)
        check_float(self, "gamma", min=0.0, max=1.0)
        check_float(self, "tau", min=0.0, max=1.0, min_open=True)
        check_int(self, "batch_size", min=1)
        check_int(self, "buffer_size", min=1)
        check_int(self, "learning_starts", min=0)
        check_int(self, "gradient_steps", min=0)
        check_float(self, "exploration_sigma", min=0.0)
        check(len(self.hidden) >= 1 and all(isinstance(h, int) and h >= 1 for h in self.hidden),
              self, "hidden", "a non-empty tuple of integers >= 1")
        check_float(self, "max_grad_norm", min=0.0, min_open=True)


class DDPG:
    """DDPG for one agent type with a Box action space (parameter sharing over its agents).

    Implements the Learner protocol of :class:`macrobook.train.Trainer`:
    ``act``, ``update``, ``modules``, ``optimizers``.
    """

    def __init__(self, spec: AgentSpec, config: DDPGConfig | None = None, device: str | torch.device = "cpu",
                 seed: int = 0):
        if not isinstance(spec.action, Box):
            raise ConfigError(f"DDPG needs a Box action space, got {spec.action!r}")
        self.spec = spec
        self.config = config or DDPGConfig()
        self.device = torch.device(device)
        c = self.config
        self.action_dim = int(torch.tensor(spec.action.shape).prod())
        init = torch.random.fork_rng(devices=[])  # seeded init without touching the global RNG stream
        with init:
            torch.manual_seed(seed)
            self.actor = DeterministicActor(spec.obs_dim, spec.action, tuple(c.hidden)).to(self.device)
            self.critic = QCritic(spec.obs_dim + self.action_dim, tuple(c.hidden)).to(self.device)
        self.actor_target = copy.deepcopy(self.actor)
        self.critic_target = copy.deepcopy(self.critic)
        for p in list(self.actor_target.parameters()) + list(self.critic_target.parameters()):
            p.requires_grad_(False)
        self.actor_opt = torch.optim.Adam(self.actor.parameters(), lr=c.actor_lr, foreach=True)
        self.critic_opt = torch.optim.Adam(self.critic.parameters(), lr=c.critic_lr, foreach=True)
        self.buffer = ReplayBuffer(c.buffer_size, self.device, seed=seed + 1)
        self.noise_generator = torch.Generator(device="cpu")
        self.noise_generator.manual_seed(seed + 2)
        self.low, self.high = (b.reshape(-1).to(self.device) for b in spec.action.bounds())
        self.num_updates = 0

    # ------------------------------------------------------------------ acting
    @torch.no_grad()
    def act(self, obs: torch.Tensor, deterministic: bool = False):
        """``obs [..., obs_dim] -> (action [..., *box.shape], {})``: mu(o), plus clipped Gaussian
        exploration noise unless ``deterministic``."""
        a = self.actor(obs.to(self.device))
        if not deterministic:
            a = gaussian_exploration(a, self.config.exploration_sigma, self.low, self.high, self.noise_generator)
        return a.reshape(obs.shape[:-1] + tuple(self.spec.action.shape)), {}

    # ------------------------------------------------------------------ learning
    def store(self, obs, action, reward, next_obs, done) -> None:
        """Add transitions with any leading shape: ``obs [..., d]``, ``action [..., *box.shape]``,
        ``reward [...]``, ``next_obs [..., d]``, ``done`` broadcastable to ``reward``."""
        d = self.spec.obs_dim
        reward = torch.as_tensor(reward, dtype=torch.float32, device=self.device)
        done = torch.as_tensor(done, device=self.device).float().expand_as(reward)
        self.buffer.add(
            obs=obs.reshape(-1, d).float(),
            action=action.reshape(-1, self.action_dim).float(),
            reward=reward.reshape(-1),
            next_obs=next_obs.reshape(-1, d).float(),
            done=done.reshape(-1),
        )

    def learn(self, gradient_steps: int | None = None) -> Dict[str, float]:
        """Take gradient steps on replayed batches (Algorithm 1, inner loop). Returns mean stats;
        empty-valued stats when the buffer is not yet warm."""
        c = self.config
        steps = c.gradient_steps if gradient_steps is None else gradient_steps
        if len(self.buffer) < max(c.learning_starts, 1) or steps == 0:
            return {"loss": float("nan"), "critic_loss": float("nan"), "actor_loss": float("nan"),
                    "q_mean": float("nan"), "buffer_size": float(len(self.buffer))}
        totals = {"critic_loss": 0.0, "actor_loss": 0.0, "q_mean": 0.0}
        for _ in range(steps):
            b = self.buffer.sample(c.batch_size)
            # critic: y = r + gamma (1 - done) Q'(o', mu'(o'))
            with torch.no_grad():
                q_next = self.critic_target(b["next_obs"], self.actor_target(b["next_obs"]))
                y = b["reward"] + c.gamma * (1.0 - b["done"]) * q_next
            q = self.critic(b["obs"], b["action"])
            critic_loss = ((y - q) ** 2).mean()
            self.critic_opt.zero_grad()
            critic_loss.backward()
            nn.utils.clip_grad_norm_(self.critic.parameters(), c.max_grad_norm)
            self.critic_opt.step()
            # actor: ascend Q(o, mu(o)) (deterministic policy gradient)
            actor_loss = -self.critic(b["obs"], self.actor(b["obs"])).mean()
            self.actor_opt.zero_grad()
            actor_loss.backward()
            nn.utils.clip_grad_norm_(self.actor.parameters(), c.max_grad_norm)
            self.actor_opt.step()
            # targets track slowly: theta' <- tau theta + (1 - tau) theta'
            soft_update(self.critic_target, self.critic, c.tau)
            soft_update(self.actor_target, self.actor, c.tau)
            totals["critic_loss"] += critic_loss.item()
            totals["actor_loss"] += actor_loss.item()
            totals["q_mean"] += q.detach().mean().item()
            self.num_updates += 1
        stats = {k: v / steps for k, v in totals.items()}
        stats["loss"] = stats["critic_loss"]
        stats["buffer_size"] = float(len(self.buffer))
        return stats

    def update(self, rollout, agent_type: str) -> Dict[str, float]:
        """Learner protocol: store the rollout's transitions of ``agent_type``, then ``learn()``.

        ``rollout.obs[type]`` is ``[T+1, E, n, d]``, ``actions[type]`` ``[T, E, n, *box]``,
        ``rewards[type]`` ``[T, E, n]``, ``dones`` ``[T, E]``.
        """
        obs = _get(rollout, "obs")[agent_type]
        actions = _get(rollout, "actions")[agent_type]
        rewards = _get(rollout, "rewards")[agent_type]
        dones = _get(rollout, "dones")
        done = dones.float().unsqueeze(-1).expand_as(rewards)
        self.store(obs[:-1], actions, rewards, obs[1:], done)
        return self.learn()

    def modules(self) -> Dict[str, nn.Module]:
        return {"actor": self.actor, "critic": self.critic,
                "actor_target": self.actor_target, "critic_target": self.critic_target}

    def optimizers(self) -> Dict[str, torch.optim.Optimizer]:
        return {"actor": self.actor_opt, "critic": self.critic_opt}


def _get(rollout, name: str):
    return rollout[name] if isinstance(rollout, Mapping) else getattr(rollout, name)
