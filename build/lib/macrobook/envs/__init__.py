"""Batched economies. The contract they implement (spaces, ``AgentSpec``, ``StepResult``,
``History``) lives in :mod:`macrobook.contract`; the plumbing every economy shares (seeding,
action checks, auto-reset, ``final_obs``, shocks) in :mod:`macrobook.envs.base`."""
from ..contract import AgentSpec, Box, Discrete, History, MultiDiscrete, Space, StepResult
from .base import BatchedEconomy
from .rbc import RBCConfig, RBCEconomy
from .six_sector import SixSectorConfig, SixSectorEconomy

__all__ = ["AgentSpec", "BatchedEconomy", "StepResult", "History", "Box", "Discrete", "MultiDiscrete", "Space",
           "RBCConfig", "RBCEconomy", "SixSectorConfig", "SixSectorEconomy"]
