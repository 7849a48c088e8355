"""Impulse responses with common random numbers, for any batched economy and any policy.

API (defined in chapter 3; reused by the monetary-policy chapter)::

    from macrobook.analysis.impulse import impulse_response, shock_path

    irf = impulse_response(
        economy,                    # any BatchedEconomy (num_envs economies are simulated at once)
        policy,                     # callable obs {type: [E, n, d]} -> actions {type: [E, n, ...]}
        shock,                      # callable (economy, k) -> None, called before every step from
                                    # the shock date on; k = periods since impact (0, 1, 2, ...)
        horizon=20,                 # periods recorded after impact
        burn_in=10,                 # periods simulated before impact (responses start at t = 0)
        seed=0,                     # the same seed drives both runs
        variables=("gdp", "inflation"),   # macro names to keep (default: all)
        relative=("gdp",),          # these are reported as (shocked / baseline - 1)
    )
    irf.frame      # tidy DataFrame: t, variable, response, se, n, baseline, shocked
                   # (n = economies whose response is defined: a relative response is
                   # undefined, NaN in per_env, where the baseline is zero)
    irf.wide()     # t x variable table of mean responses
    irf.per_env    # {variable: [horizon, E] numpy array} response economy by economy

    # the common case: a shock helper that decays geometrically
    shock = shock_path(lambda econ, size: econ.set_shock("policy_rate", size), size=0.01, persistence=0.8)

Method. Both runs are :func:`macrobook.replay.replay` calls: each calls ``economy.reset(seed=seed)``,
reseeds torch's global generator with the same seed and restarts a :class:`~macrobook.replay.PolicySampler`'s
streams before the run, so the economy's own draws (``economy.rand``/``randn``) and any
stochastic policy's draws are the same numbers in both (common random numbers, e.g. Glasserman
and Yao 1992). The economy must draw a fixed count of random numbers per step, whatever its
state, for the streams to stay aligned; the reported response of economy ``e`` at horizon ``h``
is ``shocked[e, h] - baseline[e, h]`` and the figure is the mean over economies, with the
standard error across economies. With common random numbers this difference has a far smaller
variance than comparing independent runs, which is the point.

Contract for ``shock``: it is called with the economy and ``k`` before each step from impact on,
and must be deterministic. For ``SixSectorEconomy`` use ``econ.set_shock(name, value)``; for
another economy anything that changes the economy's exogenous inputs works (e.g. setting an
attribute that its ``_step`` reads). The baseline run calls nothing.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Dict, Iterable, Optional

import numpy as np

from ..config import ConfigError
from ..replay import Policy, Shock, replay



@dataclass
class ImpulseResponse:
    """Result of :func:`impulse_response` (see the module docstring)."""

    frame: "object"                       # pandas DataFrame, tidy
    per_env: Dict[str, np.ndarray]        # {variable: [horizon, E]} shocked - baseline
    baseline: Dict[str, np.ndarray]       # {variable: [horizon, E]}
    shocked: Dict[str, np.ndarray]        # {variable: [horizon, E]}

    def wide(self, column: str = "response"):
        """``t`` x variable table of ``column`` (response, se, n, baseline or shocked)."""
        return self.frame.pivot(index="t", columns="variable", values=column)


def shock_path(apply: Callable[[object, float], None], size: float, persistence: float = 0.0,
               duration: Optional[int] = None) -> Shock:
    """A shock of ``size`` on impact decaying as ``size * persistence**k``; ``apply(econ, value)``
    installs the value for the next step. ``duration`` (optional) sets it to zero from then on."""
    if not 0.0 <= persistence <= 1.0:
        raise ConfigError(f"persistence must be in [0, 1], got {persistence!r}")

    def shock(economy, k: int) -> None:
        value = 0.0 if (duration is not None and k >= duration) else size * persistence ** k
        apply(economy, value)

    return shock


def _simulate(economy, policy: Policy, shock: Optional[Shock], horizon: int, burn_in: int, seed: int,
              variables: Optional[Iterable[str]]):
    hist = replay(economy, policy, burn_in + horizon, seed=seed, shock=shock, shock_from=burn_in, record_from=burn_in,
                  variables=variables, precision="float64", seed_torch=True)
    if hasattr(economy, "clear_shocks"):
        economy.clear_shocks()
    return hist.arrays()


def _mean_se(d: np.ndarray):
    """Mean and standard error across economies (axis 1) of the defined (finite) responses, and
    their count ``n``. A relative response is undefined where the baseline is zero (e.g. an economy
    whose output collapsed to nothing); such entries are left out, a horizon with none gets NaN
    as its mean and one with fewer than two gets NaN as its standard error."""
    finite = np.isfinite(d)
    n = finite.sum(axis=1)
    nan = np.full(d.shape[0], np.nan)
    mean = np.divide(np.where(finite, d, 0.0).sum(axis=1), n, out=nan.copy(), where=n > 0)
    sq = np.where(finite, d - np.where(n > 0, mean, 0.0)[:, None], 0.0) ** 2
    var = np.divide(sq.sum(axis=1), n - 1, out=nan.copy(), where=n > 1)
    se = np.sqrt(np.divide(var, n, out=nan.copy(), where=n > 1))
    return mean, se, n


def impulse_response(economy, policy: Policy, shock: Shock, horizon: int = 20, burn_in: int = 10, seed: int = 0,
                     variables: Optional[Iterable[str]] = None, relative: Iterable[str] = ()) -> ImpulseResponse:
    """Shocked minus baseline, economy by economy, under common random numbers (module docstring)."""
    import pandas as pd

    for name, v, lo in (("horizon", horizon, 1), ("burn_in", burn_in, 0), ("seed", seed, 0)):
        if not isinstance(v, int) or isinstance(v, bool) or v < lo:
            raise ConfigError(f"{name} must be an integer >= {lo}, got {v!r}")
    variables = None if variables is None else list(variables)
    base = _simulate(economy, policy, None, horizon, burn_in, seed, variables)
    shocked = _simulate(economy, policy, shock, horizon, burn_in, seed, variables)
    relative = set(relative)
    unknown = (set(variables or []) | relative) - set(base)
    if unknown:
        raise ConfigError(f"unknown macro variable(s) {sorted(unknown)}; the economy reports {sorted(base)}")
    per_env, rows = {}, []
    for k in base:
        if k in relative:
            d = shocked[k] / np.where(base[k] == 0, np.nan, base[k]) - 1.0
        else:
            d = shocked[k] - base[k]
        per_env[k] = d
        mean, se, n = _mean_se(d)
        for t in range(d.shape[0]):
            rows.append({"t": t, "variable": k, "response": mean[t], "se": se[t], "n": int(n[t]),
                         "baseline": base[k][t].mean(), "shocked": shocked[k][t].mean()})
    return ImpulseResponse(frame=pd.DataFrame(rows), per_env=per_env, baseline=base, shocked=shocked)
