"""The batched multi-agent economy contract.

Every economy simulates ``num_envs`` independent copies at once, as tensors with a
leading economies dimension, on one device. Agents are grouped by type; a type with
``n`` agents has observations of shape ``[num_envs, n, obs_dim]`` and rewards of shape
``[num_envs, n]``. ``step`` never loops in Python over agents or economies: markets are
tensor operations (``macrobook.markets``).

    econ = CournotEconomy(CournotConfig(num_firms=2), num_envs=256)
    obs = econ.reset(seed=0)          # {"firm": [256, 2, obs_dim]}
    out = econ.step({"firm": a})      # a: [256, 2] long (Discrete)
    out.obs, out.reward, out.done, out.macro   # reward {"firm": [256, 2]}, done [256], macro {"price": [256], ...}
"""
from __future__ import annotations

from typing import Dict, Mapping

import torch

from ..config import ConfigError
from ..utils import resolve_device
from ..contract import AgentSpec, StepResult



class BatchedEconomy:
    """Base class for a batched economy. Subclasses set ``self.specs`` and implement
    ``_reset(generator) -> obs`` and ``_step(actions) -> StepResult``.

    The base class handles the device, the seeded generator, and action checking.
    """

    #: names of the aggregates in ``StepResult.macro``, with units, for readers and plots
    macro_units: Mapping[str, str] = {}

    def __init__(self, num_envs: int = 1, device: str | torch.device = "auto"):
        if not isinstance(num_envs, int) or isinstance(num_envs, bool) or num_envs < 1:
            raise ConfigError(f"num_envs must be an integer >= 1, got {num_envs!r}")
        self.num_envs = num_envs
        self.device = resolve_device(device)
        self.specs: Dict[str, AgentSpec] = {}
        self.generator = torch.Generator(device=self.device)
        self.generator.manual_seed(0)
        self.t = 0
        self.check_actions = True

    # ----------------------------------------------------------------- public API
    def reset(self, seed: int | None = None) -> Dict[str, torch.Tensor]:
        """Start every economy afresh; the same seed gives the same trajectory."""
        if seed is not None:
            if not isinstance(seed, int) or seed < 0:
                raise ConfigError(f"seed must be an integer >= 0, got {seed!r}")
            self.generator.manual_seed(seed)
        self.t = 0
        return self._reset()

    def step(self, actions: Mapping[str, torch.Tensor]) -> StepResult:
        """Advance every economy one period. ``actions[type]`` has shape ``[E, n, *event_shape]``."""
        if self.check_actions:
            self._validate_actions(actions)
        self.t += 1
        return self._step(actions)

    def sample_actions(self) -> Dict[str, torch.Tensor]:
        """Uniformly random actions for every agent type (useful for tests and baselines)."""
        return {
            k: s.action.sample((self.num_envs, s.count), generator=None, device=self.device)
            for k, s in self.specs.items()
        }

    @property
    def agent_types(self) -> list[str]:
        return list(self.specs)

    # ----------------------------------------------------------------- helpers
    def rand(self, *shape: int) -> torch.Tensor:
        """Uniform(0, 1) draws from this economy's own generator."""
        return torch.rand(shape, generator=self.generator, device=self.device)

    def randn(self, *shape: int) -> torch.Tensor:
        """Standard normal draws from this economy's own generator."""
        return torch.randn(shape, generator=self.generator, device=self.device)

    def _validate_actions(self, actions: Mapping[str, torch.Tensor]) -> None:
        missing = set(self.specs) - set(actions)
        extra = set(actions) - set(self.specs)
        if missing or extra:
            raise ConfigError(
                f"actions must have exactly the agent types {sorted(self.specs)}; "
                f"missing {sorted(missing)}, unexpected {sorted(extra)}"
            )
        for k, spec in self.specs.items():
            a = actions[k]
            want = (self.num_envs, spec.count) + tuple(spec.action.event_shape)
            if tuple(a.shape) != want:
                raise ConfigError(f"actions[{k!r}] must have shape {list(want)}, got {list(a.shape)}")
            if not spec.action.contains(a):
                raise ConfigError(f"actions[{k!r}] has values outside its space {spec.action}")

    def _reset(self) -> Dict[str, torch.Tensor]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _step(self, actions: Mapping[str, torch.Tensor]) -> StepResult:  # pragma: no cover - abstract
        raise NotImplementedError
