"""Batched economies. See :mod:`macrobook.envs.base` for the contract."""
from .base import AgentSpec, BatchedEconomy, StepResult
from .history import History
from .spaces import Box, Discrete, MultiDiscrete, Space

__all__ = ["AgentSpec", "BatchedEconomy", "StepResult", "History", "Box", "Discrete", "MultiDiscrete", "Space"]
from .six_sector import SixSectorConfig, SixSectorEconomy  # noqa: E402  (chapter 3)

__all__ += ["SixSectorConfig", "SixSectorEconomy"]
from .rbc import RBCConfig, RBCEconomy  # noqa: E402  (chapter 6)

__all__ += ["RBCConfig", "RBCEconomy"]
