"""Chapter 4's form of the common-random-numbers impulse response: a one-time shock at month
``shock_at``, months before it included, relative responses in percent. A thin adapter over
:func:`macrobook.analysis.impulse.impulse_response` (the one CRN impulse response of the book);
:class:`~macrobook.replay.PolicySampler` gives stochastic policies common random numbers too.
"""
from __future__ import annotations

from typing import Callable, Mapping

import numpy as np

from ..replay import PolicySampler
from .impulse import impulse_response

__all__ = ["PolicySampler", "crn_impulse_response"]


def crn_impulse_response(make_economy: Callable[[], object], learners: Mapping[str, object],
                         apply_shock: Callable[[object], None], steps: int, shock_at: int, seed: int = 0,
                         variables: list[str] | None = None, relative: tuple[str, ...] = (),
                         deterministic: bool = True):
    """Average response (shocked minus baseline) of the macro aggregates to ``apply_shock(economy)``,
    called once just before month ``shock_at``; ``relative`` names are reported in percent,
    ``100 (shocked / baseline - 1)``. Returns ``(mean_response, per_env_response)``: a DataFrame
    indexed by months since the shock (negative before it) and a dict of ``[steps, E]`` arrays."""
    import pandas as pd

    def shock(economy, k):
        if k == shock_at:
            apply_shock(economy)

    policy = PolicySampler(learners, seed, deterministic)
    irf = impulse_response(make_economy(), policy, shock, horizon=steps, burn_in=0, seed=seed,
                           variables=variables, relative=relative)
    per_env = {k: (100.0 * v if k in relative else v) for k, v in irf.per_env.items()}
    mean = pd.DataFrame({k: irf.wide()[k].to_numpy() * (100.0 if k in relative else 1.0) for k in per_env})
    mean.index = np.arange(steps) - shock_at
    mean.index.name = "months_since_shock"
    return mean, per_env
