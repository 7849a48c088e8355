"""Business-cycle statistics of simulated economies, next to US stylized facts.

Simulated monthly series are averaged to quarters, logged where they are levels, and
detrended with the Hodrick-Prescott filter (lambda = 1600, Hodrick and Prescott 1997),
as in King and Rebelo (1999, sec. 2.1). Volatility is the standard deviation of the cyclical
component in percent (levels) or percentage points (rates); comovement is the correlation
with cyclical output.
"""
from __future__ import annotations

import numpy as np

#: King and Rebelo (1999), "Resuscitating real business cycles", Handbook of Macroeconomics
#: vol. 1B, Table 1: US quarterly data 1947:1-1996:4, HP-filtered (lambda = 1600).
#: sd in percent; corr = contemporaneous correlation with output.
US_FACTS = {
    "source": "King and Rebelo (1999), Handbook of Macroeconomics 1B, Table 1 (US, 1947-1996, HP 1600)",
    "output": {"sd": 1.81, "corr": 1.00},
    "consumption": {"sd": 1.35, "corr": 0.88},
    "investment": {"sd": 5.30, "corr": 0.80},
    "hours": {"sd": 1.79, "corr": 0.88},
}


def hp_filter(y: np.ndarray, lam: float = 1600.0) -> tuple[np.ndarray, np.ndarray]:
    """Hodrick-Prescott filter of a 1-D series: returns ``(trend, cycle)``.

    The trend minimises ``sum (y - tau)^2 + lam * sum (Delta^2 tau)^2``; solved as the linear
    system ``(I + lam D'D) tau = y`` with ``D`` the second-difference matrix.
    """
    y = np.asarray(y, dtype=float)
    n = len(y)
    if n < 3:
        return y.copy(), np.zeros_like(y)
    D = np.zeros((n - 2, n))
    i = np.arange(n - 2)
    D[i, i], D[i, i + 1], D[i, i + 2] = 1.0, -2.0, 1.0
    trend = np.linalg.solve(np.eye(n) + lam * D.T @ D, y)
    return trend, y - trend


def to_quarterly(x: np.ndarray) -> np.ndarray:
    """Average a monthly series ``[T, ...]`` over consecutive 3-month blocks (drops a partial quarter)."""
    x = np.asarray(x, dtype=float)
    q = x.shape[0] // 3
    return x[: 3 * q].reshape((q, 3) + x.shape[1:]).mean(1)


def cycle_stats(frame, burn_in: int = 12, lam: float = 1600.0) -> "pd.DataFrame":
    """Business-cycle table from a wide history (columns ``t, env`` and the macro names).

    For each economy: quarterly averages after ``burn_in`` months, HP cycles of log output,
    log consumption, log investment and log employment (100 * (1 - unemployment) is used as
    the employment index), and of the levels of inflation (12-month, pp) and unemployment
    (pp). Statistics are averaged over economies. Returns one row per variable with ``sd``,
    ``corr_with_output`` and the US figures where King and Rebelo report them.
    """
    import pandas as pd

    rows = {}
    per_env = []
    for _, g in frame[frame["t"] >= burn_in].groupby("env"):
        g = g.sort_values("t")
        series = {
            "output": 100 * np.log(np.maximum(to_quarterly(g["output"].to_numpy()), 1e-9)),
            "consumption": 100 * np.log(np.maximum(to_quarterly(g["consumption"].to_numpy()), 1e-9)),
            "investment": 100 * np.log(np.maximum(to_quarterly(g["investment"].to_numpy()), 1e-9)),
            "hours": 100 * np.log(np.maximum(to_quarterly(1 - g["unemployment"].to_numpy()), 1e-9)),
            "inflation": 100 * to_quarterly(g["inflation_yoy"].to_numpy()),
            "unemployment": 100 * to_quarterly(g["unemployment"].to_numpy()),
            "policy_rate": 100 * to_quarterly(g["policy_rate_annual"].to_numpy()),
        }
        cyc = {k: hp_filter(v, lam)[1] for k, v in series.items()}
        out = cyc["output"]
        d = {}
        for k, c in cyc.items():
            sd = float(np.std(c))
            corr = float(np.corrcoef(c, out)[0, 1]) if np.std(c) > 1e-12 and np.std(out) > 1e-12 else float("nan")
            d[k] = (sd, corr)
        per_env.append(d)
    for k in per_env[0]:
        sds = [d[k][0] for d in per_env]
        corrs = [d[k][1] for d in per_env]
        us = US_FACTS.get(k, {})
        rows[k] = {
            "sd": float(np.mean(sds)),
            "corr_with_output": float(np.nanmean(corrs)) if np.isfinite(corrs).any() else float("nan"),
            "us_sd": us.get("sd", float("nan")),
            "us_corr_with_output": us.get("corr", float("nan")),
        }
    return pd.DataFrame(rows).T


def price_change_frequency(price_change_share) -> dict:
    """Monthly share of firms that change their price, and the implied mean price duration
    ``1 / share`` months (the Calvo reading: each firm resets with probability ``1 - theta``)."""
    s = float(np.mean(price_change_share))
    return {"monthly_share": s, "implied_duration_months": (1 / s) if s > 0 else float("inf"),
            "calvo_theta_quarterly": (1 - s) ** 3}
