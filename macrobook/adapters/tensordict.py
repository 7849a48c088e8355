"""The batched economies in TorchRL's multi-agent layout, as TensorDicts.

TorchRL (and VMAS) lay out a multi-agent batch as one TensorDict of batch size ``[B]`` with a
nested group per set of agents; inside a group every tensor is ``[B, N, ...]`` and reward, done,
terminated and truncated are per agent with a trailing dimension of 1::

    TensorDict(batch_size=[B])
      firm:       observation [B, N, d]   action [B, N, ...]
      ("next", "firm"): observation [B, N, d]  reward [B, N, 1]  done/terminated/truncated [B, N, 1] bool
      done/terminated/truncated [B, 1]     (the economy's own, shared by its agents)

The groups are the economy's agent types (``group_map="type"``); an economy with one type may
call its group ``"agents"`` (``group_map="agents"``, TorchRL's ``MarlGroupMapType.ALL_IN_ONE_GROUP``),
so a policy written for VMAS reads it unchanged. :class:`TensorDictEconomy` has TorchRL's
``reset``/``step``/``rollout`` shape (``rollout`` stacks steps into ``[B, T]``) and needs only
``tensordict``; :func:`macrobook.adapters.to_torchrl` is the same layout as a real TorchRL
``EnvBase`` (TorchRL's collectors, losses and transforms then apply).
"""
from __future__ import annotations

from typing import Callable, Dict, Mapping, Optional

import torch

from ..config import ConfigError


def _groups(economy, group_map: str) -> Dict[str, str]:
    """group name -> agent type"""
    if group_map == "type":
        return {k: k for k in economy.specs}
    if group_map == "agents":
        if len(economy.specs) != 1:
            raise ConfigError(f"group_map='agents' needs an economy with one agent type, this one has "
                              f"{sorted(economy.specs)}; use group_map='type'")
        return {"agents": next(iter(economy.specs))}
    raise ConfigError(f"group_map must be 'type' or 'agents', got {group_map!r}")


def to_tensordict(economy, obs: Mapping[str, torch.Tensor], group_map: str = "type"):
    """Observations ``{type: [B, N, d]}`` as a TensorDict ``[B]`` with one group per type."""
    from tensordict import TensorDict

    B = economy.num_envs
    groups = _groups(economy, group_map)
    return TensorDict({g: TensorDict({"observation": obs[k]}, batch_size=[B, economy.specs[k].count])
                       for g, k in groups.items()}, batch_size=[B], device=economy.device)


class TensorDictEconomy:
    """An economy that speaks TensorDict: ``reset() -> td``, ``step(td) -> td`` with ``"next"``."""

    def __init__(self, economy, group_map: str = "type"):
        self.economy = economy
        self.groups = _groups(economy, group_map)
        self.group_map = group_map
        self.batch_size = torch.Size([economy.num_envs])

    def reset(self, seed: Optional[int] = None):
        return to_tensordict(self.economy, self.economy.reset(seed=seed), self.group_map)

    def step(self, td):
        """Reads ``td[group, "action"]`` ([B, N, ...]); writes ``td["next"]``; returns ``td``."""
        from tensordict import TensorDict

        econ = self.economy
        actions = {k: td.get((g, "action")) for g, k in self.groups.items()}
        out = econ.step(actions)
        B = econ.num_envs
        done = out.done.reshape(B, 1).bool()
        nxt = {}
        for g, k in self.groups.items():
            n = econ.specs[k].count
            d = done.unsqueeze(1).expand(B, n, 1)
            nxt[g] = TensorDict({"observation": out.obs[k], "reward": out.reward[k].unsqueeze(-1).float(),
                                 "done": d.clone(), "terminated": torch.zeros_like(d), "truncated": d.clone()},
                                batch_size=[B, n])
        nxt.update({"done": done, "terminated": torch.zeros_like(done), "truncated": done.clone()})
        td.set("next", TensorDict(nxt, batch_size=[B], device=econ.device))
        return td

    def rand_action(self, td):
        for g, k in self.groups.items():
            s = self.economy.specs[k]
            td.set((g, "action"), s.action.sample((self.economy.num_envs, s.count), device=self.economy.device))
        return td

    @torch.no_grad()
    def rollout(self, max_steps: int, policy: Optional[Callable] = None, seed: Optional[int] = None):
        """``max_steps`` steps from a reset, stacked to batch size ``[B, max_steps]`` (TorchRL's
        ``EnvBase.rollout`` layout). ``policy(td) -> td`` writes each group's ``"action"``
        (random actions when None). The economies restart by themselves where one ends."""
        import tensordict

        td = self.reset(seed=seed)
        steps = []
        for _ in range(max_steps):
            td = (policy or self.rand_action)(td)
            td = self.step(td)
            steps.append(td)
            nxt = td.get("next")
            td = to_tensordict(self.economy, {k: nxt.get((g, "observation")) for g, k in self.groups.items()},
                               self.group_map)
        return tensordict.stack(steps, dim=1)
