"""Impulse responses with common random numbers (CRN), for any batched economy.

Two copies of the same economy are reset with the same seed and driven by the same
(deterministic) policies; at month ``shock_at`` one copy gets a shock. Because every random
draw inside ``step`` comes from the economy's own seeded generator in the same order, the two
copies see identical shocks otherwise, and their difference is the effect of the shock alone
(the agent-based IRF of, e.g., Dosi et al. 2015, averaged over economies).
"""
from __future__ import annotations

from typing import Callable, Mapping

import numpy as np
import torch


@torch.no_grad()
def crn_impulse_response(make_economy: Callable[[], object], learners: Mapping[str, object],
                         apply_shock: Callable[[object], None], steps: int, shock_at: int, seed: int = 0,
                         variables: list[str] | None = None, relative: tuple[str, ...] = ()):
    """Average response (shocked minus baseline) of the macro aggregates.

    make_economy: builds a fresh economy (called twice);
    learners: {type: learner with ``act(obs, deterministic=True)``};
    apply_shock: ``f(economy)`` called on the shocked copy just before step ``shock_at``.
    relative: names reported as percent differences ``100 (shocked / baseline - 1)`` instead of levels.
    Returns ``(mean_response, per_env_response)``: a DataFrame indexed by month (``t`` = months since
    the shock) and a dict of ``[steps, E]`` arrays.
    """
    import pandas as pd

    econs = [make_economy(), make_economy()]
    obs = [e.reset(seed=seed) for e in econs]
    paths = [dict(), dict()]
    for t in range(steps):  # time loop; both copies advance in lockstep
        for i, e in enumerate(econs):
            if i == 1 and t == shock_at:
                apply_shock(e)
            acts = {k: l.act(obs[i][k], deterministic=True)[0] for k, l in learners.items()}
            out = e.step(acts)
            obs[i] = out.obs
            for k, v in out.macro.items():
                if variables is None or k in variables:
                    paths[i].setdefault(k, []).append(v.double().cpu().numpy())
    per_env = {}
    for k in paths[0]:
        base, shocked = np.stack(paths[0][k]), np.stack(paths[1][k])
        per_env[k] = 100 * (shocked / np.where(np.abs(base) > 1e-12, base, np.nan) - 1) if k in relative else shocked - base
    mean = pd.DataFrame({k: np.nanmean(v, axis=1) for k, v in per_env.items()})
    mean.index = np.arange(steps) - shock_at
    mean.index.name = "months_since_shock"
    return mean, per_env
