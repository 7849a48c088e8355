"""The hybrid link graded: what a stated expectation and a rate move do to Diverseland (Chapter 5).

Paired experiments with common random numbers: the same economies (same seed, same productivity
and expectation draws, same actors) run twice, once as they are and once with one change, and the
difference is taken economy by economy. Because both runs see the same shocks, the difference is
the effect of the change alone, and its spread across economies gives a standard error.

* :func:`paired_effect` runs such a pair for a shock of :class:`~macrobook.envs.diverseland.Diverseland`
  (``stated_expectation_A``: household A states a higher expectation than its own forecast;
  ``policy_rate``: the central bank's rate is raised) and returns per-economy response paths.
* :func:`hybrid_checks` turns the responses and a simulation into checks with pass ranges fixed
  here, before any run, in the schema of :mod:`macrobook.analysis.scorecard`.
* :func:`diverseland_scorecard` adds the checks of the book's scorecard that apply to Diverseland
  (mean inflation, share of producers sold out) and returns the card.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Dict, Mapping

import numpy as np
import torch

from ..envs.diverseland import Diverseland
from .scorecard import Criterion, build_scorecard, check_mean_inflation, check_sold_out, make_check

INF = float("inf")

#: the series whose responses are measured: name -> (macro key, transform), in percent (log points x 100)
RESPONSES = {"wages": "wage_index", "prices": "cpi", "spending": "spending", "real_spending": "real_spending"}


@dataclass
class PairedEffect:
    """Per-economy responses (percent, shocked minus baseline) ``[horizon, E]`` for each series, from the
    quarter the shock starts; ``gap_pp`` and ``inflation_pp`` in percentage points."""

    shock: str
    value: float
    start: int
    duration: int
    paths: Dict[str, np.ndarray]

    def mean_se(self, series: str, first: int = 0, last: int | None = None) -> tuple[float, float]:
        """Mean over economies of the average response over quarters ``first..last`` (inclusive) after
        the shock starts (0 = the first shocked quarter), and its standard error across economies."""
        x = self.paths[series]
        last = x.shape[0] - 1 if last is None else last
        per_env = x[first:last + 1].mean(0)
        n = np.isfinite(per_env).sum()
        return float(np.nanmean(per_env)), float(np.nanstd(per_env, ddof=1) / math.sqrt(max(n, 1)))


def paired_effect(make_economy: Callable[[], Diverseland], policy: Callable, shock: str, value: float,
                  start: int = 8, duration: int = 4, horizon: int = 8, seed: int = 0) -> PairedEffect:
    """Run ``make_economy()`` twice from ``seed`` under ``policy(obs) -> actions``, the second time with
    shock ``shock`` set to ``value`` for ``duration`` quarters from quarter ``start``; return the
    responses over ``horizon`` quarters from ``start``. Both runs draw the same random numbers."""
    runs = []
    for shocked in (False, True):
        econ = make_economy()
        econ.check_actions = False
        obs = econ.reset(seed=seed)
        rows = []
        with torch.no_grad():
            for t in range(start + horizon):
                if shocked and t == start:
                    econ.set_shock(shock, value)
                if shocked and t == start + duration:
                    econ.clear_shocks()
                out = econ.step(policy(obs))
                obs = out.obs
                if t >= start:
                    m = out.macro
                    rows.append({k: m[v].double().cpu().numpy() for k, v in RESPONSES.items()}
                                | {"gap": m["output_gap"].double().cpu().numpy(),
                                   "inflation": m["inflation_annual"].double().cpu().numpy()})
        runs.append(rows)
    paths = {}
    for k in RESPONSES:
        base = np.stack([r[k] for r in runs[0]])
        shocked = np.stack([r[k] for r in runs[1]])
        paths[k] = 100 * (np.log(shocked) - np.log(base))
    paths["gap_pp"] = 100 * (np.stack([r["gap"] for r in runs[1]]) - np.stack([r["gap"] for r in runs[0]]))
    paths["inflation_pp"] = 100 * (np.stack([r["inflation"] for r in runs[1]])
                                   - np.stack([r["inflation"] for r in runs[0]]))
    return PairedEffect(shock, value, start, duration, paths)


# ----------------------------------------------------------------------------- checks
# a hybrid-link criterion has the same fields as the scorecard's: name, low, high, source, what
HybridCriterion = Criterion


#: pass ranges fixed before any run: signs, and more than 2 standard errors from zero
HYBRID_CRITERIA = {c.name: c for c in [
    HybridCriterion("expectation_to_wages", 0.0, INF, "Fischer 1977 (contracts set on expected inflation)",
                    "wage index response (%) to household A stating +1 pp, mean of the 4 quarters it states it; "
                    "pass if > 0 by 2 s.e."),
    HybridCriterion("expectation_to_prices", 0.0, INF, "Fischer 1977; markup pricing on unit labour cost",
                    "price level response (%) to household A stating +1 pp, mean of the 4 quarters it states it; "
                    "pass if > 0 by 2 s.e."),
    HybridCriterion("expectation_to_spending", 0.0, INF, "Euler equation: a lower own real rate",
                    "nominal spending response (%) to household A stating +1 pp, mean of the 4 quarters; "
                    "pass if > 0 by 2 s.e."),
    HybridCriterion("rate_to_spending", -INF, 0.0, "Christiano, Eichenbaum and Evans 2005 (sign)",
                    "real spending response (%) to +100 bp for 4 quarters, mean of those quarters; "
                    "pass if < 0 by 2 s.e."),
    HybridCriterion("output_gap_both_signs", 0.05, 0.95, "potential = output at normal hours",
                    "share of economy-quarters with a positive output gap; pass if in [5%, 95%]"),
]}


def _hybrid_check(name: str, value: float, passed: bool, interval=None, note: str = "", **extra) -> dict:
    c = HYBRID_CRITERIA[name]
    return make_check(name, value, c.low, c.high, passed, interval=interval, source=c.source, what=c.what,
                      note=note, **extra)


def _signed(name: str, effect: PairedEffect, series: str, sign: int) -> dict:
    mean, se = effect.mean_se(series, 0, effect.duration - 1)
    ok = (sign > 0 and mean - 2 * se > 0) or (sign < 0 and mean + 2 * se < 0)
    return _hybrid_check(name, mean, ok, (mean - 2 * se, mean + 2 * se),
                         note=f"s.e. {se:.4f}; {effect.paths[series].shape[1]} paired economies", se=se)


def hybrid_checks(expectation: PairedEffect, rate: PairedEffect, output_gap: np.ndarray) -> list:
    """The four hybrid-link checks: expectation -> wages, prices, spending; rate -> real spending;
    and the output gap takes both signs (``output_gap`` any shape, decimals)."""
    gap = np.asarray(output_gap, dtype=float).ravel()
    positive = float((gap > 0).mean())
    c = HYBRID_CRITERIA["output_gap_both_signs"]
    return [
        _signed("expectation_to_wages", expectation, "wages", +1),
        _signed("expectation_to_prices", expectation, "prices", +1),
        _signed("expectation_to_spending", expectation, "spending", +1),
        _signed("rate_to_spending", rate, "real_spending", -1),
        _hybrid_check("output_gap_both_signs", positive, c.low <= positive <= c.high, (gap.min(), gap.max()),
                      note=f"gap from {100 * gap.min():.1f}% to {100 * gap.max():.1f}% over {gap.size} economy-quarters"),
    ]


@torch.no_grad()
def simulate(make_economy: Callable[[], Diverseland], policy: Callable, quarters: int, seed: int = 0,
             burn_in: int = 4) -> Dict[str, np.ndarray]:
    """Run ``make_economy()`` for ``quarters`` under ``policy``; return macro series ``[T, E]`` after
    ``burn_in`` quarters, plus ``inflation_yoy`` (four-quarter inflation, decimals)."""
    econ = make_economy()
    econ.check_actions = False
    obs = econ.reset(seed=seed)
    rows = []
    for _ in range(quarters):
        out = econ.step(policy(obs))
        obs = out.obs
        rows.append({k: v.double().cpu().numpy() for k, v in out.macro.items()})
    series = {k: np.stack([r[k] for r in rows]) for k in rows[0]}
    log_p = np.log(series["cpi"])
    yoy = np.full_like(log_p, np.nan)
    yoy[4:] = np.exp(log_p[4:] - log_p[:-4]) - 1
    series["inflation_yoy"] = yoy
    return {k: v[burn_in:] for k, v in series.items()}


def diverseland_scorecard(expectation: PairedEffect, rate: PairedEffect, series: Mapping[str, np.ndarray],
                          inflation_target: float, seed: int) -> dict:
    """The card: the book scorecard's checks that apply to Diverseland (mean inflation, producers sold
    out at capacity) and the hybrid-link checks, in the scorecard's JSON schema. The others do not
    apply: Diverseland has no unemployment series, investment or learned price-change frequency (its
    prices follow unit labour cost every quarter), and its central bank's rule is not estimated here."""
    checks = [check_mean_inflation(series["inflation_yoy"], inflation_target),
              check_sold_out(series["sold_out_share"]),
              *hybrid_checks(expectation, rate, series["output_gap"])]
    return {**build_scorecard("diverseland", checks), "seed": int(seed)}
