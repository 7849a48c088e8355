"""Chapter 4's form of the common-random-numbers impulse response: a one-time shock at month
``shock_at``, months before it included, relative responses in percent. A thin adapter over
:func:`macrobook.analysis.impulse.impulse_response` (the one CRN impulse response of the book);
:class:`~macrobook.replay.PolicySampler` gives stochastic policies common random numbers too.
"""
from __future__ import annotations

import warnings
from typing import Callable, Mapping

import numpy as np

from ..replay import PolicySampler
from .impulse import impulse_response

__all__ = ["PolicySampler", "crn_impulse_response", "rate_shock_irf"]


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


def rate_shock_irf(make_economy: Callable[[], object], learners: Mapping[str, object], size: float = 0.01,
                   persistence: float = 0.8, steps: int = 60, shock_at: int = 24, seed: int = 0,
                   relative: tuple[str, ...] = ("output", "consumption", "investment", "price_level"),
                   deterministic: bool = True):
    """Response to a persistent monetary-policy shock, shocked minus baseline, common random numbers.

    The shock is a deviation ``v_k = size * persistence^k`` (``k`` months after ``shock_at``) of the
    policy rate from what the central bank would otherwise choose, as in the monetary-shock
    experiments of Christiano, Eichenbaum and Evans (2005): each month the shocked copy's central
    bank sees the rate net of ``v_k`` (so a rule or a learned policy reacts to the economy, not to
    the shock itself) and the economy adds the change in ``v_k`` on top of its move. Works with
    any central bank whose observation carries the policy rate in pp at column 5
    (:class:`~macrobook.envs.monetary.MonetaryEconomy`). Returns ``(mean, per_env)`` like
    :func:`crn_impulse_response`.
    """
    import pandas as pd

    econs = [make_economy(), make_economy()]
    obs = [e.reset(seed=seed) for e in econs]
    samplers = [PolicySampler(learners, seed, deterministic) for _ in econs]
    paths = [dict(), dict()]
    v_prev = 0.0
    for t in range(steps):
        k = t - shock_at
        v = size * persistence**k if k >= 0 else 0.0
        for i, e in enumerate(econs):
            o = obs[i]
            if i == 1 and v != 0.0:
                o = dict(o)
                cb = o["central_bank"].clone()
                cb[..., 5] -= 100 * v_prev
                o["central_bank"] = cb
            acts = samplers[i](o)
            if i == 1 and (v - v_prev) != 0.0:
                e.shock("policy_rate", v - v_prev)
            out = e.step(acts)
            obs[i] = out.obs
            for name, val in out.macro.items():
                paths[i].setdefault(name, []).append(val.double().cpu().numpy())
        v_prev = v
    per_env = {}
    for name in paths[0]:
        base, shocked = np.stack(paths[0][name]), np.stack(paths[1][name])
        per_env[name] = (100 * (shocked / np.where(np.abs(base) > 1e-12, base, np.nan) - 1) if name in relative
                         else shocked - base)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = pd.DataFrame({name: np.nanmean(v, axis=1) for name, v in per_env.items()})
    mean.index = np.arange(steps) - shock_at
    mean.index.name = "months_since_shock"
    return mean, per_env
