"""One economy of a batch as a PettingZoo ``ParallelEnv`` (PettingZoo 1.27 API).

    from macrobook.adapters import to_pettingzoo
    env = to_pettingzoo(RBCEconomy(RBCConfig()))
    obs, infos = env.reset(seed=0)              # {"consumer_0": array([...], float32), ..., "government_0": ...}
    obs, rewards, terminations, truncations, infos = env.step(
        {a: env.action_space(a).sample() for a in env.agents})

Agents are keyed ``<type>_<index>`` in the economy's type order. An economy's episode ends by a
time limit (``episode_length`` periods; the cake economy's random restart included), so the
end is reported as a *truncation* of every agent; ``agents`` is then empty until ``reset``.
``state()`` concatenates every agent's observation (for centralised critics). The batch is not
used: the adapter builds its own copy of the economy with ``num_envs=1`` on the CPU.
"""
from __future__ import annotations

from typing import Any, Dict, Optional

import numpy as np
import torch

from ..config import ConfigError
from ..contract import Box, Discrete, MultiDiscrete, Space


def _gym_space(space: Space):
    from gymnasium import spaces

    if isinstance(space, Discrete):
        return spaces.Discrete(space.n)
    if isinstance(space, MultiDiscrete):
        return spaces.MultiDiscrete(np.asarray(space.nvec, dtype=np.int64))
    if isinstance(space, Box):
        lo, hi = space.bounds()
        return spaces.Box(low=lo.numpy().astype(np.float32), high=hi.numpy().astype(np.float32),
                          shape=tuple(space.shape), dtype=np.float32)
    raise ConfigError(f"no gymnasium space for {space!r}")


def single_economy(economy):
    """A copy of ``economy`` with one economy (num_envs=1) on the CPU, or ``economy`` itself if it is one."""
    if economy.num_envs == 1 and economy.device.type == "cpu":
        return economy
    return type(economy)(economy.config, num_envs=1, device="cpu")


def to_pettingzoo(economy, render_mode: Optional[str] = None):
    """``economy`` (any :class:`~macrobook.envs.base.BatchedEconomy`) as a PettingZoo ParallelEnv."""
    try:
        from pettingzoo import ParallelEnv
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ConfigError("to_pettingzoo needs pettingzoo: pip install 'macrobook[ecosystem]'") from e

    class EconomyParallelEnv(ParallelEnv):
        metadata = {"name": f"macrobook_{type(economy).__name__.lower()}_v0", "render_modes": [],
                    "is_parallelizable": True}

        def __init__(self):
            self.economy = single_economy(economy)
            self.economy.check_actions = True
            self.render_mode = render_mode
            specs = self.economy.specs
            self._index = {}  # agent name -> (type, index)
            for k, spec in specs.items():
                for i in range(spec.count):
                    self._index[f"{k}_{i}"] = (k, i)
            self.possible_agents = list(self._index)
            self.agents: list = []
            self._obs_spaces: Dict[str, Any] = {}
            self._act_spaces: Dict[str, Any] = {}
            from gymnasium import spaces

            for a, (k, i) in self._index.items():
                self._obs_spaces[a] = spaces.Box(-np.inf, np.inf, shape=(specs[k].obs_dim,), dtype=np.float32)
                self._act_spaces[a] = _gym_space(specs[k].action)
            dim = sum(s.obs_dim * s.count for s in specs.values())
            self.state_space = spaces.Box(-np.inf, np.inf, shape=(dim,), dtype=np.float32)
            self._last: Optional[Dict[str, torch.Tensor]] = None

        # PettingZoo asks for the same object every call (action-space seeding relies on it)
        def observation_space(self, agent):
            return self._obs_spaces[agent]

        def action_space(self, agent):
            return self._act_spaces[agent]

        def _split(self, obs: Dict[str, torch.Tensor]) -> Dict[str, np.ndarray]:
            arrays = {k: v[0].detach().to(torch.float32).cpu().numpy() for k, v in obs.items()}
            return {a: arrays[k][i] for a, (k, i) in self._index.items()}

        def reset(self, seed: Optional[int] = None, options: Optional[dict] = None):
            obs = self.economy.reset(seed=seed)
            self._last = obs
            self.agents = list(self.possible_agents)
            return self._split(obs), {a: {} for a in self.agents}

        def step(self, actions: Dict[str, Any]):
            if not self.agents:
                raise ConfigError("step() after the episode ended: call reset() first")
            missing = sorted(set(self.agents) - set(actions))
            if missing:
                raise ConfigError(f"actions are missing for agents {missing[:5]}{' ...' if len(missing) > 5 else ''}")
            batched = {}
            for k, spec in self.economy.specs.items():
                rows = [np.asarray(actions[f"{k}_{i}"]) for i in range(spec.count)]
                dtype = torch.float32 if isinstance(spec.action, Box) else torch.long
                t = torch.as_tensor(np.stack(rows), dtype=dtype)
                batched[k] = t.reshape((1, spec.count) + tuple(spec.action.event_shape))
            out = self.economy.step(batched)
            final = (out.info or {}).get("final_obs") if bool(out.done[0]) else None
            obs = final if final is not None else out.obs
            self._last = obs
            observations = self._split(obs)
            rewards = {a: float(out.reward[k][0, i]) for a, (k, i) in self._index.items()}
            done = bool(out.done[0])
            terminations = {a: False for a in self.agents}
            truncations = {a: done for a in self.agents}
            infos = {a: {} for a in self.agents}
            if done:
                self.agents = []
            return observations, rewards, terminations, truncations, infos

        def state(self) -> np.ndarray:
            if self._last is None:
                raise ConfigError("state() before reset()")
            return np.concatenate([v[0].detach().to(torch.float32).cpu().numpy().reshape(-1) for v in self._last.values()])

        def render(self):
            return None

        def close(self):
            pass

    return EconomyParallelEnv()
