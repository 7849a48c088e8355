"""macrobook: multi-agent deep reinforcement learning for economic policy simulation.

The library behind the book: batched economies (``macrobook.envs``), market clearing
(``macrobook.markets``), learners (``macrobook.algos``), a multi-type ``Trainer``,
analysis tools and plots.
"""
from .config import Config, ConfigError
from .utils import in_colab, resolve_device, seed_everything

from .version import __version__

__all__ = ["Config", "ConfigError", "seed_everything", "resolve_device", "in_colab", "__version__"]
