"""Batched economies. See :mod:`macrobook.envs.base` for the contract."""
from .base import AgentSpec, BatchedEconomy, StepResult
from .history import History
from .spaces import Box, Discrete, MultiDiscrete, Space

__all__ = ["AgentSpec", "BatchedEconomy", "StepResult", "History", "Box", "Discrete", "MultiDiscrete", "Space"]
