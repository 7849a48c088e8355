"""Action spaces: Discrete, MultiDiscrete and Box (PettingZoo-style, batched, on any device).

A space describes the action of *one* agent. Batched actions carry leading dimensions
``[num_envs, n_agents]``: Discrete actions are ``long`` tensors of shape ``[E, n]``,
MultiDiscrete ``[E, n, len(nvec)]``, Box ``[E, n, *shape]`` floats.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import torch

from ..config import ConfigError


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
