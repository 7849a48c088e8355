"""The contract between economies and learners: spaces, ``AgentSpec``, ``StepResult``, ``History``.

This is the neutral layer of the library. Learners (``macrobook.algos``), networks
(``macrobook.nets``) and economies (``macrobook.envs``) all import these names from here, so a
learner never needs to know which economy it is trained on (the PettingZoo habit: explicit
spaces in a module below both).

A space describes the action of *one* agent. Batched actions carry leading dimensions
``[num_envs, n_agents]``: Discrete actions are ``long`` tensors of shape ``[E, n]``,
MultiDiscrete ``[E, n, len(nvec)]``, Box ``[E, n, *shape]`` floats.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, Mapping, Sequence

import numpy as np
import torch

from .config import ConfigError

__all__ = ["Space", "Discrete", "MultiDiscrete", "Box", "AgentSpec", "StepResult", "History"]


# ----------------------------------------------------------------------------- spaces

class Space:
    """Base class of action spaces."""

    def sample(self, batch_shape: Sequence[int], generator: torch.Generator | None = None, device="cpu") -> torch.Tensor:
        raise NotImplementedError

    def contains(self, x: torch.Tensor) -> bool:
        """True when every entry of the batched tensor ``x`` is a valid action."""
        raise NotImplementedError

    @property
    def event_shape(self) -> tuple[int, ...]:
        """Shape of one agent's action (``()`` for Discrete)."""
        raise NotImplementedError


@dataclass(frozen=True)
class Discrete(Space):
    """``n`` actions ``0 .. n-1``; ``values`` optionally gives the economic meaning of each."""

    n: int
    values: tuple | None = None

    def __post_init__(self):
        if not isinstance(self.n, int) or self.n < 1:
            raise ConfigError(f"Discrete.n must be an integer >= 1, got {self.n!r}")
        if self.values is not None and len(self.values) != self.n:
            raise ConfigError(f"Discrete.values must have n={self.n} entries, got {len(self.values)}")

    @property
    def event_shape(self):
        return ()

    def sample(self, batch_shape, generator=None, device="cpu"):
        return torch.randint(0, self.n, tuple(batch_shape), generator=generator, device=device)

    def contains(self, x):
        return (not x.is_floating_point()) and bool(((x >= 0) & (x < self.n)).all())


@dataclass(frozen=True)
class MultiDiscrete(Space):
    """Several categorical choices at once, choice ``k`` in ``0 .. nvec[k]-1``."""

    nvec: tuple[int, ...]

    def __post_init__(self):
        if len(self.nvec) == 0 or any((not isinstance(n, int)) or n < 1 for n in self.nvec):
            raise ConfigError(f"MultiDiscrete.nvec must be a non-empty tuple of integers >= 1, got {self.nvec!r}")

    @property
    def event_shape(self):
        return (len(self.nvec),)

    def sample(self, batch_shape, generator=None, device="cpu"):
        nv = torch.tensor(self.nvec, device=device)
        u = torch.rand(tuple(batch_shape) + (len(self.nvec),), generator=generator, device="cpu").to(device)
        return (u * nv).long().clamp_max(nv - 1)

    def contains(self, x):
        nv = torch.tensor(self.nvec, device=x.device)
        return (not x.is_floating_point()) and x.shape[-1] == len(self.nvec) and bool(((x >= 0) & (x < nv)).all())


@dataclass(frozen=True)
class Box(Space):
    """Real actions in ``[low, high]`` (scalars or per-dimension tuples) of the given shape."""

    low: float | tuple
    high: float | tuple
    shape: tuple[int, ...] = (1,)

    def __post_init__(self):
        lo = torch.as_tensor(self.low, dtype=torch.float32)
        hi = torch.as_tensor(self.high, dtype=torch.float32)
        if not bool((lo < hi).all()):
            raise ConfigError(f"Box.low must be < Box.high, got low={self.low!r}, high={self.high!r}")

    @property
    def event_shape(self):
        return tuple(self.shape)

    def bounds(self, device="cpu") -> tuple[torch.Tensor, torch.Tensor]:
        lo = torch.as_tensor(self.low, dtype=torch.float32, device=device).expand(self.shape)
        hi = torch.as_tensor(self.high, dtype=torch.float32, device=device).expand(self.shape)
        return lo, hi

    def sample(self, batch_shape, generator=None, device="cpu"):
        lo, hi = self.bounds(device)
        u = torch.rand(tuple(batch_shape) + tuple(self.shape), generator=generator).to(device)
        return lo + (hi - lo) * u

    def contains(self, x):
        lo, hi = self.bounds(x.device)
        return x.is_floating_point() and tuple(x.shape[-len(self.shape):]) == tuple(self.shape) and bool(
            ((x >= lo - 1e-6) & (x <= hi + 1e-6)).all()
        )


# ----------------------------------------------------------------------------- agents and steps
@dataclass(frozen=True)
class AgentSpec:
    """What one agent type looks like to a learner.

    count:   number of agents of this type in each economy
    obs_dim: length of one agent's observation vector
    action:  the action space of one agent
    obs_names: optional names (with units) of the observation entries, for readers
    """

    count: int
    obs_dim: int
    action: Space
    obs_names: tuple[str, ...] | None = None

    def __post_init__(self):
        if self.count < 1:
            raise ConfigError(f"AgentSpec.count must be >= 1, got {self.count}")
        if self.obs_dim < 1:
            raise ConfigError(f"AgentSpec.obs_dim must be >= 1, got {self.obs_dim}")
        if self.obs_names is not None and len(self.obs_names) != self.obs_dim:
            raise ConfigError(f"AgentSpec.obs_names must have obs_dim={self.obs_dim} names, got {len(self.obs_names)}")


@dataclass
class StepResult:
    """What ``step`` returns.

    obs:    {type: [E, n, obs_dim]} observation after the step (after auto-reset where done)
    reward: {type: [E, n]}
    done:   [E] bool, the episode of that economy ended at this step
    macro:  {name: [E]} aggregates of this step (before any auto-reset)
    info:   anything else (e.g. ``{"final_obs": ...}``)
    """

    obs: Dict[str, torch.Tensor]
    reward: Dict[str, torch.Tensor]
    done: torch.Tensor
    macro: Dict[str, torch.Tensor]
    info: dict = field(default_factory=dict)


# ----------------------------------------------------------------------------- history
class History:
    """Records ``StepResult.macro`` (``{name: [num_envs]}``) each step.

    ``to_frame()`` gives the tidy (long) form, one row per (t, env, variable);
    ``wide()`` gives one row per (t, env) and a column per variable;
    ``mean()`` averages over economies: one row per t.
    """

    def __init__(self, precision: str = "float32") -> None:
        if precision not in ("float32", "float64"):
            raise ConfigError(f"History.precision must be 'float32' or 'float64', got {precision!r}")
        self._dtype = torch.float32 if precision == "float32" else torch.float64
        self._t: list[int] = []
        self._rows: list[Dict[str, np.ndarray]] = []

    def record(self, macro: Mapping[str, torch.Tensor], t: int | None = None) -> None:
        t = len(self._t) if t is None else int(t)
        self._t.append(t)
        self._rows.append({k: torch.as_tensor(v).detach().to(self._dtype).reshape(-1).cpu().numpy()
                           for k, v in macro.items()})

    def arrays(self) -> Dict[str, np.ndarray]:
        """``{variable: [T, num_envs]}`` arrays, one row per recorded period (in record order)."""
        names = list(self._rows[0]) if self._rows else []
        return {k: np.stack([row[k] for row in self._rows]) for k in names}

    def __len__(self) -> int:
        return len(self._t)

    def wide(self):
        import pandas as pd

        frames = []
        for t, row in zip(self._t, self._rows):
            n = max(len(v) for v in row.values()) if row else 0
            d = {"t": np.full(n, t), "env": np.arange(n)}
            d.update({k: np.broadcast_to(v, (n,)) for k, v in row.items()})
            frames.append(pd.DataFrame(d))
        if not frames:
            return pd.DataFrame(columns=["t", "env"])
        return pd.concat(frames, ignore_index=True)

    def to_frame(self):
        """Tidy form: columns ``t, env, variable, value``."""
        w = self.wide()
        return w.melt(id_vars=["t", "env"], var_name="variable", value_name="value")

    def mean(self):
        """Average over economies: one row per period, a column per variable."""
        w = self.wide()
        return w.drop(columns="env").groupby("t", as_index=False).mean()
