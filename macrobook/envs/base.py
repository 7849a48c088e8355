"""The plumbing every batched economy shares: seeding, action checks, auto-reset, ``final_obs``
and shocks. An economy supplies only its economics.

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

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Dict, Mapping

import numpy as np
import torch

from ..config import ConfigError
from ..contract import AgentSpec, Box, StepResult
from ..utils import resolve_device


@dataclass
class Transition:
    """What an economy's :meth:`BatchedEconomy.transition` returns: the state after one period
    (before any restart), and that period's rewards, episode ends, aggregates and extras."""

    state: Any
    reward: Dict[str, torch.Tensor]
    done: torch.Tensor
    macro: Dict[str, torch.Tensor]
    info: dict = field(default_factory=dict)


def state_where(mask: torch.Tensor, fresh: Any, current: Any) -> Any:
    """Per economy, ``fresh`` where ``mask`` [E] is true, else ``current``: the masked restart of a
    state (a dataclass, or a dict, of tensors with the economies dimension first; no Python loop)."""
    out = {}
    is_dict = isinstance(current, dict)
    names = list(current) if is_dict else [f.name for f in dataclasses.fields(current)]
    for name in names:
        cur, new = (current[name], fresh[name]) if is_dict else (getattr(current, name), getattr(fresh, name))
        if isinstance(cur, torch.Tensor) and cur.dim() > 0 and cur.shape[0] == mask.shape[0]:
            m = mask.reshape(mask.shape + (1,) * (cur.dim() - 1))
            out[name] = torch.where(m, new, cur)
        else:
            out[name] = cur
    return out if is_dict else type(current)(**out)


class EconomyDiverged(RuntimeError):
    """An economy's rewards or aggregates left the floating-point range (inf or NaN): the run stops
    with this one-line error rather than carrying infinities on silently."""


def _is_integer(t: torch.Tensor) -> bool:
    return t.dtype in (torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64)


class BatchedEconomy:
    """Base class for a batched economy.

    An economy supplies its economics and nothing else:

    * ``self.specs`` (set in ``__init__``) and a config dataclass;
    * ``initial_state(num_envs) -> State``: a fresh state (a dataclass of tensors, economies first),
      drawn from this economy's generator (:meth:`rand`, :meth:`randn`);
    * ``observe(state) -> {type: [E, n, obs_dim]}``;
    * ``transition(state, actions) -> Transition``: one period, as named pure stages.

    The base class owns the plumbing, once for every economy: the device, the seeded generator,
    action checks, the period counter ``t``, auto-reset (economies whose episode ended restart from
    a fresh state, by a masked overwrite), ``info["final_obs"]`` (the observation *before* that
    restart, for learners that treat an episode's end as a time limit) and shocks (``SHOCKS`` names
    the shocks an economy understands; :meth:`set_shock` adds to one in every following period
    until :meth:`clear_shocks`; ``transition`` reads ``self.shocks``).
    """

    #: names of the aggregates in ``StepResult.macro``, with units, for readers and plots
    macro_units: Mapping[str, str] = {}
    #: the shocks this economy understands: name -> what a value of 1 means (units)
    SHOCKS: Mapping[str, str] = {}
    #: draw a fresh state every period, restarted or not, so that the random stream does not depend
    #: on whether an economy restarted (economies with random restarts, e.g. a death probability)
    redraw_every_step: bool = False

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
        self.state: Any = None
        self.shocks: Dict[str, torch.Tensor] = {}
        self.clear_shocks()

    # ----------------------------------------------------------------- public API
    def reset(self, seed: int | None = None) -> Dict[str, torch.Tensor]:
        """Start every economy afresh; the same seed gives the same trajectory."""
        if seed is not None:
            if not isinstance(seed, int) or seed < 0:
                raise ConfigError(f"seed must be an integer >= 0, got {seed!r}")
            self.generator.manual_seed(seed)
        self.t = 0
        self.clear_shocks()
        self.state = self.initial_state(self.num_envs)
        return self.observe(self.state)

    def step(self, actions: Mapping[str, torch.Tensor]) -> StepResult:
        """Advance every economy one period. ``actions[type]`` has shape ``[E, n, *event_shape]``.

        Returns the observation after the step, *after* the restart of every economy whose episode
        ended (``done``); ``info["final_obs"]`` is the observation before that restart.
        """
        if self.check_actions:
            actions = self._validate_actions(actions)
        self.t += 1
        tr = self.transition(self.state, actions)
        final_obs = self.observe(tr.state)
        nxt, restarted = tr.state, bool(tr.done.any())
        if restarted or self.redraw_every_step:
            nxt = state_where(tr.done, self.initial_state(self.num_envs), nxt)
        self.state = nxt
        if restarted and bool(tr.done.all()):
            self.t = 0
        obs = self.observe(nxt) if restarted else final_obs
        info = dict(tr.info)
        info["final_obs"] = final_obs
        return self._check_finite(StepResult(obs=obs, reward=tr.reward, done=tr.done, macro=tr.macro, info=info))

    #: check every step that rewards and aggregates are finite (a few microseconds a step)
    check_finite: bool = True

    def _check_finite(self, out: StepResult) -> StepResult:
        if not self.check_finite:
            return out
        checks = [torch.isfinite(v).all() for d in (out.reward, out.macro) for v in d.values()]
        if not checks or bool(torch.stack(checks).all()):    # one device sync a step, not one per series
            return out
        for group, values in (("reward", out.reward), ("macro", out.macro)):
            for k, v in values.items():
                ok = torch.isfinite(v)
                if not bool(ok.all()):
                    env = int((~ok).reshape(ok.shape[0], -1).any(1).nonzero()[0, 0])
                    raise EconomyDiverged(
                        f"{type(self).__name__}: economy {env} of {self.num_envs} left the floating-point range at "
                        f"period {self.t} ({group}[{k!r}] is {v.reshape(v.shape[0], -1)[env].flatten()[0].item()}); "
                        "the policies drove it where the model has no finite state: use shorter episodes, "
                        "other policies or a config with smaller shocks")
        return out

    # ----------------------------------------------------------------- what an economy supplies
    def initial_state(self, num_envs: int) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def observe(self, state: Any = None) -> Dict[str, torch.Tensor]:  # pragma: no cover - abstract
        raise NotImplementedError

    def transition(self, state: Any, actions: Mapping[str, torch.Tensor]) -> Transition:  # pragma: no cover
        raise NotImplementedError

    # ----------------------------------------------------------------- shocks
    def set_shock(self, name: str, value, mask: torch.Tensor | None = None) -> None:
        """Set shock ``name`` to ``value`` (a float or an ``[E]`` tensor; only where ``mask`` [E] is true)
        in every following period, until it is set again or :meth:`clear_shocks`."""
        if name not in self.SHOCKS:
            raise ConfigError(f"shock must be one of {sorted(self.SHOCKS)}, got {name!r}")
        v = torch.as_tensor(value, dtype=self.shocks[name].dtype, device=self.device)
        if not bool(torch.isfinite(v).all()):
            raise ConfigError(f"shock {name!r} must be finite, got {value!r}")
        new = torch.zeros_like(self.shocks[name]) + v
        if mask is not None:
            new = torch.where(mask.to(self.device), new, self.shocks[name])
        self.shocks[name] = new

    def clear_shocks(self) -> None:
        """Every shock back to zero."""
        dtype = getattr(self, "dtype", torch.float32)
        self.shocks = {k: torch.zeros(self.num_envs, dtype=dtype, device=self.device) for k in self.SHOCKS}

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

    def _validate_actions(self, actions: Mapping[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
        """Check ``actions`` and return them as tensors of the space's dtype on this device.

        NumPy arrays, lists and other integer dtypes (uint8, int32) are converted; a bool, a None,
        a float for a discrete space, a wrong shape or a value outside the space is a ConfigError
        that names the agent type and what is allowed (never a TypeError deep inside a market)."""
        if not isinstance(actions, Mapping):
            raise ConfigError(f"actions must be a dict {{agent type: tensor}} with types {sorted(self.specs)}, "
                              f"got {type(actions).__name__}")
        missing = set(self.specs) - set(actions)
        extra = set(actions) - set(self.specs)
        if missing or extra:
            raise ConfigError(
                f"actions must have exactly the agent types {sorted(self.specs)}; "
                f"missing {sorted(missing)}, unexpected {sorted(extra, key=str)}"
            )
        out: Dict[str, torch.Tensor] = {}
        for k, spec in self.specs.items():
            discrete = not isinstance(spec.action, Box)
            want = (self.num_envs, spec.count) + tuple(spec.action.event_shape)
            allowed = (f"{'integer' if discrete else 'real'} actions of shape {list(want)} in {spec.action}")
            a = actions[k]
            if a is None or isinstance(a, (bool, str, bytes)):
                raise ConfigError(f"actions[{k!r}] must be {allowed}, got {type(a).__name__}")
            if not isinstance(a, torch.Tensor):
                try:
                    a = torch.as_tensor(np.asarray(a))
                except (TypeError, ValueError, RuntimeError) as e:
                    raise ConfigError(f"actions[{k!r}] must be {allowed}, got {type(a).__name__} ({e})") from None
            if a.dtype == torch.bool or a.is_complex() or not (a.is_floating_point() or _is_integer(a)):
                raise ConfigError(f"actions[{k!r}] must be {allowed}, got dtype {a.dtype}")
            if tuple(a.shape) != want:
                raise ConfigError(f"actions[{k!r}] must have shape {list(want)}, got {list(a.shape)}")
            if discrete:
                if a.is_floating_point():
                    raise ConfigError(f"actions[{k!r}] must be {allowed} (indices), got dtype {a.dtype}")
                a = a.to(device=self.device, dtype=torch.long)
            else:
                a = a.to(device=self.device, dtype=torch.float64 if a.dtype == torch.float64 else torch.float32)
            if not spec.action.contains(a):
                raise ConfigError(f"actions[{k!r}] has values outside its space {spec.action} (NaN included)")
            out[k] = a
        return out

