"""Adapters to the libraries readers already use.

* :func:`to_pettingzoo` (``macrobook[ecosystem]``): one economy of a batch as a PettingZoo
  ``ParallelEnv``, agents keyed by type and index (``firm_0``, ``household_12``), passing
  ``pettingzoo.test.parallel_api_test`` and ``parallel_seed_test``;
* :func:`to_tensordict` and :class:`TensorDictEconomy` (``macrobook[ecosystem]``): the whole batch in
  TorchRL's multi-agent layout, one nested group per agent type with ``[B, N, ...]`` tensors;
* :func:`to_torchrl` (``macrobook[ecosystem]``): the whole batch as a TorchRL ``EnvBase`` in that
  layout, passing ``torchrl.envs.utils.check_env_specs`` (TorchRL's collectors, losses and
  multi-agent modules then work unchanged: ``examples/torchrl_ppo.py``);
* :func:`sweep` (:mod:`.sweep`): seed x scenario x hyperparameter sweeps of a chapter's training,
  on a dependency-free local engine or on Ray Tune (``macrobook[ray]``), returning one pandas
  DataFrame either way.

Each adapter imports its outside library only when called, so ``import macrobook`` never needs them.
"""
from .pettingzoo import to_pettingzoo
from .tensordict import TensorDictEconomy, to_tensordict
from .torchrl import to_torchrl

__all__ = ["to_pettingzoo", "to_tensordict", "to_torchrl", "TensorDictEconomy"]
