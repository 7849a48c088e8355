"""Chapter recipes: one module per economy with its configs, curricula, rule agents (a Taylor-rule
central bank, a fixed-tax government), trainer construction, figures and command-line flags.

``RECIPES`` maps the economy names of ``python -m macrobook train ECONOMY`` to their modules.
"""
from . import monetary, rbc

RECIPES = {monetary.NAME: monetary, rbc.NAME: rbc}

__all__ = ["RECIPES", "monetary", "rbc"]
