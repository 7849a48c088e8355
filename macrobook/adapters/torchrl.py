"""A batched economy as a TorchRL environment (``torchrl.envs.EnvBase``), in TorchRL's multi-agent layout.

    from macrobook.adapters import to_torchrl
    env = to_torchrl(CournotEconomy(CournotConfig(), num_envs=64))
    td = env.rollout(20)                      # TensorDict [64, 20]: ("firm", "observation") [64, 20, N, d] ...
    torchrl.envs.utils.check_env_specs(env)   # passes

The whole batch is one TorchRL environment of batch size ``[B]`` (as VMAS environments are): each
agent type is a group (``group_map="type"``; ``"agents"`` for an economy with one type, TorchRL's
``MarlGroupMapType.ALL_IN_ONE_GROUP``) holding ``observation`` ``[B, N, d]``, ``action``
``[B, N, ...]`` and ``reward`` ``[B, N, 1]``; ``done``, ``terminated`` and ``truncated`` are the
economy's own, ``[B, 1]``. An episode ends by a time limit, so its end is a *truncation*, and the
``"next"`` observation at that step is the final one (the economy's ``info["final_obs"]``). The
economies restart by themselves; TorchRL's partial reset (``"_reset"``) then reads their fresh
state. Action spaces map to TorchRL specs one to one: ``Box`` -> ``Bounded``, ``Discrete`` ->
``Categorical``, ``MultiDiscrete`` -> ``MultiCategorical``.

TorchRL is imported only when :func:`to_torchrl` is called (``pip install 'macrobook[ecosystem]'``).
"""
from __future__ import annotations

from typing import Optional

import torch

from ..config import ConfigError
from ..contract import Box, Discrete, MultiDiscrete
from .tensordict import _groups


def _action_spec(space, shape, device):
    from torchrl.data import Bounded, Categorical, MultiCategorical

    if isinstance(space, Box):
        lo, hi = space.bounds(device)
        full = tuple(shape) + tuple(space.shape)
        return Bounded(low=lo.expand(full).clone(), high=hi.expand(full).clone(), shape=full,
                       dtype=torch.float32, device=device)
    if isinstance(space, Discrete):
        return Categorical(n=space.n, shape=tuple(shape), dtype=torch.int64, device=device)
    if isinstance(space, MultiDiscrete):
        return MultiCategorical(nvec=list(space.nvec), shape=tuple(shape) + (len(space.nvec),),
                                dtype=torch.int64, device=device)
    raise ConfigError(f"no TorchRL spec for the action space {space!r}")


def to_torchrl(economy, group_map: str = "type"):
    """``economy`` (any :class:`~macrobook.envs.base.BatchedEconomy`, its whole batch) as a TorchRL ``EnvBase``."""
    try:
        from tensordict import TensorDict
        from torchrl.data import Categorical, Composite, Unbounded
        from torchrl.envs import EnvBase
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ConfigError("to_torchrl needs torchrl: pip install 'macrobook[ecosystem]'") from e

    groups = _groups(economy, group_map)

    class EconomyTorchRLEnv(EnvBase):
        batch_locked = True

        def __init__(self):
            B = economy.num_envs
            super().__init__(device=economy.device, batch_size=torch.Size([B]))
            self.economy = economy
            self.group_map = dict(groups)
            dev = economy.device
            obs, act, rew = {}, {}, {}
            for g, k in groups.items():
                s = economy.specs[k]
                shp = (B, s.count)
                obs[g] = Composite(observation=Unbounded(shape=shp + (s.obs_dim,), dtype=torch.float32, device=dev),
                                   shape=shp, device=dev)
                act[g] = Composite(action=_action_spec(s.action, shp, dev), shape=shp, device=dev)
                rew[g] = Composite(reward=Unbounded(shape=shp + (1,), dtype=torch.float32, device=dev),
                                   shape=shp, device=dev)
            self.observation_spec = Composite(obs, shape=(B,), device=dev)
            self.action_spec = Composite(act, shape=(B,), device=dev)
            self.reward_spec = Composite(rew, shape=(B,), device=dev)
            flag = Categorical(n=2, shape=(B, 1), dtype=torch.bool, device=dev)
            self.done_spec = Composite(done=flag.clone(), terminated=flag.clone(), truncated=flag.clone(),
                                       shape=(B,), device=dev)
            self._started = False

        # -- what TorchRL calls
        def _obs_td(self, obs):
            B = economy.num_envs
            return {g: TensorDict({"observation": obs[k].float()}, batch_size=[B, economy.specs[k].count])
                    for g, k in groups.items()}

        def _flags(self, done):
            B = economy.num_envs
            done = done.reshape(B, 1).bool()
            return {"done": done, "terminated": torch.zeros_like(done), "truncated": done.clone()}

        def _reset(self, tensordict=None, **kwargs):
            # A first reset (or one of the whole batch) restarts every economy from the seeded
            # generator; a partial reset after an episode's end reads the state the economies
            # already restarted into by themselves (``BatchedEconomy.step`` auto-resets).
            partial = tensordict is not None and "_reset" in tensordict.keys() and self._started
            obs = economy.observe() if partial else economy.reset()
            self._started = True
            B = economy.num_envs
            return TensorDict({**self._obs_td(obs), **self._flags(torch.zeros(B, dtype=torch.bool, device=self.device))},
                              batch_size=[B], device=self.device)

        def _step(self, tensordict):
            actions = {k: tensordict.get((g, "action")) for g, k in groups.items()}
            out = economy.step(actions)
            B = economy.num_envs
            final = out.info["final_obs"]
            td = TensorDict(self._obs_td(final), batch_size=[B], device=self.device)
            for g, k in groups.items():
                td.set((g, "reward"), out.reward[k].reshape(B, economy.specs[k].count, 1).float())
            td.update(self._flags(out.done))
            return td

        def _set_seed(self, seed: Optional[int]):
            if seed is not None:
                economy.reset(seed=int(seed))
                self._started = True
            return seed

    return EconomyTorchRLEnv()
