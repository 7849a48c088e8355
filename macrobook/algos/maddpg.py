"""MADDPG: multi-agent DDPG with centralized critics (Lowe et al. 2017, {cite}`lowe2017maddpg`).

Seed 000's ``Agent`` (an Actor that "determines action based on state" and a Critic that
"evaluates actions") is one :class:`TypeLearner` here; the ``Controller`` and ``train()`` are
:func:`collect_and_learn` / :func:`train`. Defined in chapter 3 (notebooks/03_six_sector_maddpg.ipynb).

    from macrobook.algos.maddpg import MADDPG, MADDPGConfig, train, evaluate
    learner = MADDPG(econ.specs, MADDPGConfig(centralized=True), seed=0)
    log = train(econ, learner, iterations=200, steps_per_iteration=4, seed=0)   # pandas DataFrame
    hist, mean_rewards = evaluate(econ, learner, steps=40, seed=1)                # History, {type: float}
    actions = learner.act(obs, deterministic=True)                                # {type: [E, n, dim]}

Centralized training, decentralized execution (Lowe et al. 2017, section 4.1):

* one deterministic actor mu_k(o_i) per agent **type** k, shared by the type's agents
  (parameter sharing; an agent's own observation carries its heterogeneity);
* one critic Q_k per type that sees the agent's own observation and action **and every agent's
  observation and action** in the economy. With many households the joint input would grow
  with the population, so agents of a type with more than one member enter the critic as a
  fixed-size *summary*: the mean and the 10/50/90% quantiles (over the type's agents) of their
  concatenated (observation, action). Single agents (government, central bank, bank, foreign)
  enter as they are. This is a pooled, permutation-invariant variant of MADDPG's joint input
  (in the spirit of mean-field MARL, Yang et al. 2018), not the paper's literal concatenation.
  ``critic_input="full"`` gives the literal one: every agent's observation and action,
  concatenated (its size grows with the population).
* ``centralized=False`` gives **independent DDPG** with everything else identical (same
  networks, buffer, noise, schedule): Q_k sees only (o_i, a_i). This is the comparison of
  chapter 3.

Key equations (Lowe et al. 2017, eqs. 5-6; Lillicrap et al. 2015):

* critic target  y_i = r_i + gamma Q'_k(o'_i, a'_i, x'),  a'_m = mu'_m(o'_m) for every agent m
* critic loss    L = mean (y_i - Q_k(o_i, a_i, x))^2, x built from the replayed joint actions
* actor          ascend mean_i Q_k(o_i, mu_k(o_i), x[a_i := mu_k(o_i)]), every other action as replayed
  (``actor_gradient="own"``, the paper's eq. 5; ``"type"`` replaces the whole type's actions at once),
  other types' actions as replayed
* targets        theta' <- tau theta + (1 - tau) theta' (``soft_update`` from ``ddpg``)
* exploration    a = clip(mu(o) + N(0, (sigma (high - low))^2), low, high)

Implementation details:

1. One replay row per (economy, step) holds every type's observations, actions, rewards and
   next observations (``ReplayBuffer`` from ``ddpg``), so joint actions stay aligned.
2. Episodes end by a time limit only, so the bootstrap is never cut: at an auto-reset the
   stored next observation is the economy's ``final_obs`` (Pardo et al. 2018, time limits).
3. Per-type reward scale ``reward_scale`` (default 1) multiplies rewards before learning.
4. Networks, replay sampling and noise use the learner's own seeded generators.
5. Because the actor update uses the other types' actions *as replayed*, an agent whose best
   reply depends on another's action tracks the buffer's average of that action, which lags
   while the other is still learning (the buffer holds up to ``buffer_size`` rows of history);
   ``tests/test_maddpg.py`` checks this lag, and that it closes once the other agent settles.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Dict, Mapping

import torch
from torch import nn

from ..config import Config, ConfigError, check, check_choice, check_float, check_int
from ..contract import AgentSpec
from ..contract import Box
from ..nets import DeterministicActor, QCritic
from .ddpg import ReplayBuffer, gaussian_exploration, soft_update


@dataclass
class MADDPGConfig(Config):
    """Hyperparameters shared by every agent type."""

    centralized: bool = True            # False: independent DDPG (critic sees only own o, a)
    critic_input: str = "pooled"        # "full": every agent's (o, a) concatenated (Lowe et al.'s
                                        # literal critic); "pooled": mean and quantiles per type
    actor_lr: float = 1e-3
    critic_lr: float = 1e-3
    gamma: float = 0.95
    tau: float = 0.01
    batch_size: int = 256
    buffer_size: int = 50_000           # rows = (economy, step) pairs
    learning_starts: int = 512
    exploration_sigma: float = 0.1      # noise std as a fraction of each Box's width
    hidden: tuple = (64, 64)
    max_grad_norm: float = 1.0
    quantiles: tuple = (0.1, 0.5, 0.9)  # pooled summary of types with many agents (plus the mean)
    reward_scale: dict = field(default_factory=dict)
    # stabilisers from the literature (all off by default: the plain algorithm of the paper)
    normalize_actions: bool = False     # critics see actions rescaled from their Box to [-1, 1]
    action_l2: float = 0.0              # actor loss + action_l2 x mean squared pre-tanh output
                                        # (openai/maddpg uses 1e-3, Lowe et al. 2017's reference code)
    target_noise: float = 0.0           # target policy smoothing (Fujimoto et al. 2018): N(0, (x (high-low))^2) ...
    target_noise_clip: float = 0.5      # ... clipped at this many target_noise widths, on the target actions
    twin_critics: bool = False          # clipped double-Q (Fujimoto et al. 2018): two critics, target uses the min
    actor_gradient: str = "own"         # "own": agent i's critic sees mu(o_i) for its own action only, the
                                        # others as replayed (Lowe et al. 2017, eq. 5); "type": every agent of
                                        # the type at once (with a shared actor, a collective gradient)

    def validate(self) -> None:
        check(isinstance(self.centralized, bool), self, "centralized", "True or False")
        check_choice(self, "critic_input", ["pooled", "full"])
        check_float(self, "actor_lr", min=0.0, min_open=True)
        check_float(self, "critic_lr", min=0.0, min_open=True)
        check_float(self, "gamma", min=0.0, max=1.0, max_open=True)
        check_float(self, "tau", min=0.0, max=1.0, min_open=True)
        check_int(self, "batch_size", min=1)
        check_int(self, "buffer_size", min=1)
        check_int(self, "learning_starts", min=0)
        check_float(self, "exploration_sigma", min=0.0)
        check(len(self.hidden) >= 1 and all(isinstance(h, int) and h >= 1 for h in self.hidden),
              self, "hidden", "a non-empty tuple of integers >= 1")
        check_float(self, "max_grad_norm", min=0.0, min_open=True)
        check(all(isinstance(q, float) and 0.0 <= q <= 1.0 for q in self.quantiles), self, "quantiles",
              "a tuple of floats in [0, 1]")
        check(isinstance(self.reward_scale, dict) and all(isinstance(v, (int, float)) for v in self.reward_scale.values()),
              self, "reward_scale", "a dict {agent_type: float}")
        check(isinstance(self.normalize_actions, bool), self, "normalize_actions", "True or False")
        check(isinstance(self.twin_critics, bool), self, "twin_critics", "True or False")
        check_float(self, "action_l2", min=0.0)
        check_float(self, "target_noise", min=0.0, max=1.0)
        check_float(self, "target_noise_clip", min=0.0)
        check_choice(self, "actor_gradient", ["own", "type"])


class TypeLearner(nn.Module):
    """Seed 000's ``Agent``: the actor and critic of one agent type, with their targets."""

    def __init__(self, spec: AgentSpec, critic_in: int, hidden: tuple, twin: bool = False):
        super().__init__()
        self.actor = DeterministicActor(spec.obs_dim, spec.action, hidden)
        self.critic = QCritic(critic_in, hidden)
        self.actor_target = copy.deepcopy(self.actor)
        self.critic_target = copy.deepcopy(self.critic)
        frozen = list(self.actor_target.parameters()) + list(self.critic_target.parameters())
        if twin:   # clipped double-Q: a second critic (its own initialisation) and its target
            self.critic2 = QCritic(critic_in, hidden)
            self.critic2_target = copy.deepcopy(self.critic2)
            frozen += list(self.critic2_target.parameters())
        for p in frozen:
            p.requires_grad_(False)

    def critic_parameters(self):
        return list(self.critic.parameters()) + (list(self.critic2.parameters()) if hasattr(self, "critic2") else [])


class MADDPG:
    """Centralized-critic DDPG for every agent type of an economy (or independent DDPG)."""

    def __init__(self, specs: Mapping[str, AgentSpec], config: MADDPGConfig | None = None,
                 device: str | torch.device = "cpu", seed: int = 0):
        self.specs = dict(specs)
        self.config = config if config is not None else MADDPGConfig()
        self.device = torch.device(device)
        c = self.config
        for k, s in self.specs.items():
            if not isinstance(s.action, Box):
                raise ConfigError(f"MADDPG needs Box action spaces; type {k!r} has {s.action!r}")
        unknown = set(c.reward_scale) - set(self.specs)
        if unknown:
            raise ConfigError(f"MADDPGConfig.reward_scale has unknown agent types {sorted(unknown)}; "
                              f"allowed: {sorted(self.specs)}")
        self.act_dim = {k: int(torch.tensor(s.action.shape).prod()) for k, s in self.specs.items()}
        self.joint_dim = sum(self._pooled_dim(k) for k in self.specs)
        self.types: Dict[str, TypeLearner] = {}
        with torch.random.fork_rng(devices=[]):  # seeded init without touching the global stream
            torch.manual_seed(seed)
            for k, s in self.specs.items():
                own = s.obs_dim + self.act_dim[k]
                critic_in = own + (self.joint_dim if c.centralized else 0)
                self.types[k] = TypeLearner(s, critic_in, tuple(c.hidden), twin=c.twin_critics).to(self.device)
        self.actor_opt = {k: torch.optim.Adam(t.actor.parameters(), lr=c.actor_lr, foreach=True) for k, t in self.types.items()}
        self.critic_opt = {k: torch.optim.Adam(t.critic_parameters(), lr=c.critic_lr, foreach=True)
                           for k, t in self.types.items()}
        self.buffer = ReplayBuffer(c.buffer_size, self.device, seed=seed + 1)
        self.noise_generator = torch.Generator(device="cpu")
        self.noise_generator.manual_seed(seed + 2)
        self.bounds = {k: tuple(b.reshape(-1).to(self.device) for b in s.action.bounds()) for k, s in self.specs.items()}
        self.sigma = c.exploration_sigma
        self.num_updates = 0
        self.target_generator = torch.Generator(device="cpu")
        self.target_generator.manual_seed(seed + 3)

    def _norm(self, k: str, act_k: torch.Tensor) -> torch.Tensor:
        """The action as the critics see it: raw, or rescaled from its Box to [-1, 1]
        (``normalize_actions``; a box 0.03 wide otherwise enters a critic as a near-constant)."""
        if not self.config.normalize_actions:
            return act_k
        lo, hi = self.bounds[k]
        return 2.0 * (act_k - lo) / (hi - lo) - 1.0

    # ------------------------------------------------------------------ the critic's joint input
    def _pooled_dim(self, k: str) -> int:
        d = self.specs[k].obs_dim + self.act_dim[k]
        if self.specs[k].count == 1:
            return d
        if self.config.critic_input == "full":
            return d * self.specs[k].count
        return d * (1 + len(self.config.quantiles))

    def pooled(self, k: str, obs_k: torch.Tensor, act_k: torch.Tensor) -> torch.Tensor:
        """``[B, pooled_dim(k)]``: type k's (observation, action); a type with several agents is
        pooled into the mean and quantiles over its agents (fixed size whatever the head count),
        or, with ``critic_input="full"``, every agent's (o, a) concatenated in agent order."""
        x = torch.cat([obs_k, self._norm(k, act_k.reshape(act_k.shape[:2] + (-1,)))], dim=-1)  # [B, n, d+a]
        if self.specs[k].count == 1:
            return x[:, 0]
        if self.config.critic_input == "full":
            return x.flatten(1)
        q = torch.tensor(self.config.quantiles, dtype=x.dtype, device=x.device)
        return torch.cat([x.mean(1), torch.quantile(x, q, dim=1).transpose(0, 1).flatten(1)], dim=-1)

    def joint_summary(self, obs: Mapping[str, torch.Tensor], act: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """``[B, joint_dim]``: every type's pooled (observation, action), concatenated."""
        return torch.cat([self.pooled(k, obs[k], act[k]) for k in self.specs], dim=-1)

    def _q(self, net: nn.Module, k: str, obs_k, act_k, joint):
        """Q for every agent of type k: ``[B, n]``."""
        n = obs_k.shape[1]
        own = [obs_k, self._norm(k, act_k.reshape(act_k.shape[:2] + (-1,)))]
        if self.config.centralized:   # one joint input for all (``[B, J]``) or one per agent (``[B, n, J]``)
            own.append(joint[:, None, :].expand(joint.shape[0], n, joint.shape[1]) if joint.dim() == 2 else joint)
        return net(*own)

    def joint_own(self, k: str, obs_k, act_k, new_a, parts: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """``[B, n, J]``: for each agent i of type k, the joint input with agent i's action from the
        current policy (``new_a``) and every other agent's as replayed (Lowe et al. 2017, eq. 5:
        the gradient is with respect to a_i only)."""
        n = obs_k.shape[1]
        a_rep = self._norm(k, act_k.reshape(act_k.shape[:2] + (-1,)))
        a_new = self._norm(k, new_a.reshape(new_a.shape[:2] + (-1,)))
        x_rep, x_new = torch.cat([obs_k, a_rep], -1), torch.cat([obs_k, a_new], -1)     # [B, n, d]
        B = obs_k.shape[0]
        if n == 1:
            block = x_new
        else:
            eye = torch.eye(n, dtype=torch.bool, device=obs_k.device)[None, :, :, None]
            X = torch.where(eye, x_new[:, None], x_rep[:, None])                         # [B, i, m, d]
            if self.config.critic_input == "full":
                block = X.flatten(2)
            else:
                q = torch.tensor(self.config.quantiles, dtype=X.dtype, device=X.device)
                block = torch.cat([X.mean(2), torch.quantile(X, q, dim=2).permute(1, 2, 0, 3).flatten(2)], -1)
        return torch.cat([block if m == k else parts[m][:, None, :].expand(B, n, parts[m].shape[-1])
                          for m in self.specs], dim=-1)

    # ------------------------------------------------------------------ acting (decentralized)
    @torch.no_grad()
    def act(self, obs: Mapping[str, torch.Tensor], deterministic: bool = False) -> Dict[str, torch.Tensor]:
        """``{type: [E, n, obs_dim]} -> {type: [E, n, *box.shape]}``; each agent uses only its own
        observation; exploration noise unless ``deterministic``."""
        out = {}
        for k, t in self.types.items():
            a = t.actor(obs[k].to(self.device))
            if not deterministic:
                lo, hi = self.bounds[k]
                a = gaussian_exploration(a, self.sigma, lo, hi, self.noise_generator)
            out[k] = a.reshape(obs[k].shape[:-1] + tuple(self.specs[k].action.shape))
        return out

    def policy(self, deterministic: bool = True):
        """A callable ``obs -> actions`` (for :mod:`macrobook.analysis.impulse` and widgets)."""
        return lambda obs: self.act(obs, deterministic=deterministic)

    # ------------------------------------------------------------------ learning (centralized)
    def store(self, obs, actions, rewards, next_obs, terminal) -> None:
        """One row per economy: ``obs[k] [E, n, d]``, ``actions[k] [E, n, a]``, ``rewards[k] [E, n]``,
        ``terminal [E]`` (true only for a real end of the world, never for a time limit)."""
        fields = {}
        for k in self.specs:
            fields[f"obs/{k}"] = obs[k].float()
            fields[f"act/{k}"] = actions[k].reshape(actions[k].shape[:2] + (-1,)).float()
            fields[f"rew/{k}"] = rewards[k].float() * float(self.config.reward_scale.get(k, 1.0))
            fields[f"next/{k}"] = next_obs[k].float()
        fields["terminal"] = terminal.float()
        self.buffer.add(**fields)

    def learn(self, gradient_steps: int = 1) -> Dict[str, float]:
        """Gradient steps on replayed batches for every type; returns mean stats per type."""
        c = self.config
        if len(self.buffer) < max(c.learning_starts, 1) or gradient_steps < 1:
            return {}
        stats: Dict[str, float] = {}
        for _ in range(gradient_steps):
            b = self.buffer.sample(c.batch_size)
            obs = {k: b[f"obs/{k}"] for k in self.specs}
            act = {k: b[f"act/{k}"] for k in self.specs}
            nxt = {k: b[f"next/{k}"] for k in self.specs}
            with torch.no_grad():
                nxt_act = {k: self._target_action(k, t, nxt[k]) for k, t in self.types.items()}
                joint_next = self.joint_summary(nxt, nxt_act) if c.centralized else None
                parts = {k: self.pooled(k, obs[k], act[k]) for k in self.specs} if c.centralized else None
                joint = torch.cat(list(parts.values()), dim=-1) if c.centralized else None
            for k, t in self.types.items():
                # critic: y = r + gamma (1 - terminal) Q'(o', mu'(o'), x')  (Lowe et al. 2017, eq. 6);
                # with twin critics the smaller of the two target values (Fujimoto et al. 2018)
                with torch.no_grad():
                    q_next = self._q(t.critic_target, k, nxt[k], nxt_act[k], joint_next)
                    if c.twin_critics:
                        q_next = torch.minimum(q_next, self._q(t.critic2_target, k, nxt[k], nxt_act[k], joint_next))
                    y = b[f"rew/{k}"] + c.gamma * (1.0 - b["terminal"])[:, None] * q_next
                q = self._q(t.critic, k, obs[k], act[k], joint)
                critic_loss = ((y - q) ** 2).mean()
                if c.twin_critics:
                    critic_loss = critic_loss + ((y - self._q(t.critic2, k, obs[k], act[k], joint)) ** 2).mean()
                self.critic_opt[k].zero_grad()
                critic_loss.backward()
                nn.utils.clip_grad_norm_(t.critic_parameters(), c.max_grad_norm)
                self.critic_opt[k].step()
                # actor: ascend Q with this type's actions from the current policy (eq. 5)
                pre = t.actor.net(obs[k])                     # the pre-tanh output
                new_a = t.actor.low + (t.actor.high - t.actor.low) * (torch.tanh(pre) + 1) / 2
                if c.centralized and c.actor_gradient == "own":   # only agent i's own action changes
                    joint_new = self.joint_own(k, obs[k], act[k], new_a, parts)
                elif c.centralized:  # every agent of type k at once
                    joint_new = torch.cat([self.pooled(m, obs[m], new_a) if m == k else parts[m]
                                           for m in self.specs], dim=-1)
                else:
                    joint_new = None
                actor_loss = -self._q(t.critic, k, obs[k], new_a, joint_new).mean()
                if c.action_l2 > 0:   # openai/maddpg's p_reg: keeps the tanh off its flat ends
                    actor_loss = actor_loss + c.action_l2 * (pre ** 2).mean()
                self.actor_opt[k].zero_grad()
                actor_loss.backward()
                nn.utils.clip_grad_norm_(t.actor.parameters(), c.max_grad_norm)
                self.actor_opt[k].step()
                soft_update(t.critic_target, t.critic, c.tau)
                if c.twin_critics:
                    soft_update(t.critic2_target, t.critic2, c.tau)
                soft_update(t.actor_target, t.actor, c.tau)
                stats[f"critic_loss/{k}"] = stats.get(f"critic_loss/{k}", 0.0) + critic_loss.item() / gradient_steps
                stats[f"q/{k}"] = stats.get(f"q/{k}", 0.0) + q.mean().item() / gradient_steps
            self.num_updates += 1
        return stats

    def _target_action(self, k: str, t: TypeLearner, nxt_k: torch.Tensor) -> torch.Tensor:
        """mu'(o'), plus clipped Gaussian noise with ``target_noise`` (target policy smoothing)."""
        a = t.actor_target(nxt_k)
        c = self.config
        if c.target_noise <= 0:
            return a
        lo, hi = self.bounds[k]
        noise = torch.randn(a.shape, generator=self.target_generator).to(a.device) * c.target_noise
        noise = noise.clamp(-c.target_noise_clip, c.target_noise_clip) * (hi - lo)
        return torch.maximum(torch.minimum(a + noise, hi), lo)

    # ------------------------------------------------------------------ checkpoints
    def modules(self) -> Dict[str, nn.Module]:
        return {k: t for k, t in self.types.items()}

    def optimizers(self) -> Dict[str, torch.optim.Optimizer]:
        out = {f"actor/{k}": o for k, o in self.actor_opt.items()}
        out.update({f"critic/{k}": o for k, o in self.critic_opt.items()})
        return out


# --------------------------------------------------------------------------- seed 000's Controller and train()


def collect_and_learn(economy, learner: MADDPG, obs, steps: int, gradient_steps: int):
    """The Controller: ``steps`` periods of every economy with exploration, each transition
    stored, then ``gradient_steps`` updates. Returns ``(obs, per-type mean reward, macro means, stats)``."""
    rew_sum = {k: 0.0 for k in economy.specs}
    macro_sum: Dict[str, float] = {}
    for _ in range(steps):
        actions = learner.act(obs)
        out = economy.step(actions)
        nxt = out.obs
        if bool(out.done.any()):  # time limit: bootstrap from the final observation, not the reset one
            fin = out.info["final_obs"]
            m = out.done
            nxt = {k: torch.where(m[:, None, None], fin[k], v) for k, v in out.obs.items()}
        learner.store(obs, actions, out.reward, nxt, torch.zeros_like(out.done))
        for k, r in out.reward.items():
            rew_sum[k] += float(r.mean()) / steps
        for k, v in out.macro.items():
            macro_sum[k] = macro_sum.get(k, 0.0) + float(v.mean()) / steps
        obs = out.obs
    stats = learner.learn(gradient_steps)
    return obs, rew_sum, macro_sum, stats


def train(economy, learner: MADDPG, iterations: int, steps_per_iteration: int = 1, gradient_steps: int = 1,
          seed: int = 0, sigma_final: float | None = None, progress: bool = False):
    """Seed 000's ``train()``: ``iterations`` x (collect ``steps_per_iteration`` periods, learn).
    Exploration noise decays linearly to ``sigma_final`` (default: stays constant).
    Returns a pandas DataFrame: iteration, env_steps, reward/<type>, critic_loss/<type>, macro/<name>."""
    import pandas as pd

    if not isinstance(iterations, int) or iterations < 1:
        raise ConfigError(f"iterations must be an integer >= 1, got {iterations!r}")
    obs = economy.reset(seed=seed)
    sigma0 = learner.config.exploration_sigma
    rows = []
    it_range = range(iterations)
    if progress:
        from tqdm.auto import tqdm
        it_range = tqdm(it_range, desc="MADDPG" if learner.config.centralized else "DDPG")
    for it in it_range:
        if sigma_final is not None:
            learner.sigma = sigma0 + (sigma_final - sigma0) * it / max(iterations - 1, 1)
        obs, rew, macro, stats = collect_and_learn(economy, learner, obs, steps_per_iteration, gradient_steps)
        row = {"iteration": it, "env_steps": (it + 1) * steps_per_iteration * economy.num_envs}
        row.update({f"reward/{k}": v for k, v in rew.items()})
        row.update(stats)
        row.update({f"macro/{k}": v for k, v in macro.items()})
        rows.append(row)
    learner.sigma = sigma0
    return pd.DataFrame(rows)


@torch.no_grad()
def evaluate(economy, learner_or_policy, steps: int, seed: int = 12345):
    """Run the deterministic policies (no noise) for ``steps`` periods from ``reset(seed)``.
    Returns ``(History, {type: mean reward per agent per period})``."""
    from ..contract import History

    policy = learner_or_policy.policy() if isinstance(learner_or_policy, MADDPG) else learner_or_policy
    obs = economy.reset(seed=seed)
    hist = History()
    tot = {k: 0.0 for k in economy.specs}
    for _ in range(steps):
        out = economy.step(policy(obs))
        hist.record(out.macro)
        for k, r in out.reward.items():
            tot[k] += float(r.mean()) / steps
        obs = out.obs
    return hist, tot
