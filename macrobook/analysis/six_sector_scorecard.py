"""The six-sector economy's scorecard (Chapter 3): the checks the chapter's pass ranges name, fixed
before any run, built with the generic :func:`macrobook.analysis.scorecard.make_check` and
:func:`~macrobook.analysis.scorecard.build_scorecard` (the shared schema ``{"economy", "checks":
[{"name", "value", "low", "high", "pass", ...}], "passed", "total"}``, plus ``"seed"``;
:func:`~macrobook.analysis.scorecard.card_json` writes it as strict JSON).

Six-sector-specific: quarterly data, a fiscal and a rate experiment, money-stock drift and the
share of learned actions at an end of their box. Pure numpy; the chapter measures, this module judges.
"""
from __future__ import annotations

import math
from typing import Mapping

import numpy as np

from .scorecard import build_scorecard, make_check

#: name -> (low, high, source, what); a value passes inside [low, high] (or the stated sign test)
CRITERIA: Mapping[str, tuple] = {
    "sold_out_share": (0.0, 0.10, "retail out-of-stock rates, about 8%", "share of firm-quarters sold out at capacity"),
    "mean_inflation": (0.0, 5.0, "inflation-targeting practice", "mean CPI inflation, % a year"),
    "box_end_share": (0.0, 0.25, "a diagnostic of saturated deterministic actors",
                      "share of (agent type, action) means within 2% of an end of their box"),
    "money_drift": (1.0, 1.5, "a stable nominal anchor", "max / min of money / nominal GDP over the episode"),
    "fiscal_output_response": (0.0, math.inf, "Ramey 2011 (multipliers around 0.6-1)",
                               "real GDP response (pp of potential), quarters 0-3 after a spending rise; pass if > 2 s.e. above 0"),
    "rate_output_response": (-math.inf, 0.0, "Christiano, Eichenbaum and Evans 2005",
                             "real GDP response (pp of potential), quarters 0-3 after a rate rise; pass if > 2 s.e. below 0"),
    "price_foc": (-0.005, 0.005, "first-order condition of a price setter",
                  "mean change of a firm's reward from a one-point price rise (reward units a quarter)"),
}


def _check(name: str, value: float, passed: bool, interval=None, note: str = "") -> dict:
    low, high, source, what = CRITERIA[name]
    return make_check(name, value, low, high, passed, interval=interval, source=source, what=what, note=note)


def _in(name: str, v: float) -> bool:
    low, high = CRITERIA[name][:2]
    return bool(low <= v <= high)


def response_check(name: str, per_env: np.ndarray, quarters: int = 4) -> dict:
    """A sign test on an impulse response: ``per_env`` is ``[horizon, E]`` (shocked minus baseline,
    pp); the mean over the first ``quarters`` per economy, then its mean and s.e. across economies."""
    x = np.asarray(per_env, dtype=float)[:quarters].mean(0)
    x = x[np.isfinite(x)]
    n = len(x)
    mean = float(x.mean()) if n else float("nan")
    se = float(x.std(ddof=1) / math.sqrt(n)) if n > 1 else float("nan")
    sign = 1.0 if CRITERIA[name][1] == math.inf else -1.0
    ok = n > 1 and sign * mean - 2 * se > 0
    return _check(name, mean, ok, (mean - 2 * se, mean + 2 * se), note=f"s.e. {se:.3g} over {n} economies")


def six_sector_card(*, seed: int, sold_out_share: float, inflation_annual_pct: float, box_end_share: float,
                    money_drift: float, fiscal_response: np.ndarray, rate_response: np.ndarray,
                    price_gain: float) -> dict:
    """The card of one trained seed. ``fiscal_response``/``rate_response``: ``[horizon, E]`` real GDP
    responses in pp of potential."""
    checks = [
        _check("sold_out_share", sold_out_share, _in("sold_out_share", sold_out_share)),
        _check("mean_inflation", inflation_annual_pct, _in("mean_inflation", inflation_annual_pct)),
        _check("box_end_share", box_end_share, box_end_share < CRITERIA["box_end_share"][1]),
        _check("money_drift", money_drift, _in("money_drift", money_drift)),
        response_check("fiscal_output_response", fiscal_response),
        response_check("rate_output_response", rate_response),
        _check("price_foc", price_gain, _in("price_foc", price_gain)),
    ]
    card = build_scorecard("six_sector", checks)
    card["seed"] = int(seed)
    return card
