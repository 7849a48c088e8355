"""A stylized-facts scorecard for learned monetary economies (Chapter 4).

Twelve checks, each with a pass range fixed here *before* any run and a cited source (the table
of the book's market-design note). Each check returns ``name, value, low, high, pass`` plus the
interval it was judged on, the source and a note. The ranges are constants of this module; no
run can change them.

=== ======================================================== ======================== =====================================
 #  check                                                    pass                     source
=== ======================================================== ======================== =====================================
 1  Taylor principle: fitted phi_pi (Newey-West 95% CI)      CI above 1, identified   Taylor 1993; Clarida, Gali, Gertler 2000
 2  +100 bp shock: output, mean of months 1-12 (%)           < 0 by 2 s.e.; trough     Christiano, Eichenbaum, Evans 2005;
                                                             at 6-24 months           Romer and Romer 2004
 3  +100 bp shock: 12-month inflation, months 6-24 (pp)      < 0 by 2 s.e.            same
 4  mean 12-month inflation                                  in [0, 5]% and within    inflation-targeting practice
                                                             1 pp of the target
 5  monthly frequency of price changes                       5-30%                    Nakamura and Steinsson 2008; Bils and Klenow 2004
 6  Phillips: change of inflation on the unemployment gap    slope < 0, CI excl. 0    Hazell, Herreno, Nakamura, Steinsson 2022
 7  Okun: change of the output gap on change of unemployment -3.5 to -0.3             Okun 1962; Ball, Leigh, Loungani 2017
 8  sd(consumption) / sd(output)                             0.5-1.0                  King and Rebelo 1999
 9  sd(investment) / sd(output)                              2-4                      King and Rebelo 1999
10  min corr with output of consumption, investment, hours   > 0.5                    King and Rebelo 1999
11  share of firm-months sold out                            < 10%                    retail out-of-stock rates (about 8%)
12  best-response epsilon (max over types) and interior      epsilon < 5% and         Curry et al. 2022
    best one-month price deviation                           interior in > 50%
=== ======================================================== ======================== =====================================
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping, Optional

import numpy as np

from .business_cycles import hp_filter, to_quarterly
from .taylor import TaylorFit, _hac_cov

INF = float("inf")


@dataclass(frozen=True)
class Criterion:
    name: str
    low: float
    high: float
    source: str
    what: str


#: the pass ranges, fixed before any run (see the module docstring)
CRITERIA = {c.name: c for c in [
    Criterion("taylor_principle", 1.0, INF, "Taylor 1993; Clarida, Gali and Gertler 2000",
              "fitted phi_pi; pass if the whole 95% Newey-West interval is above 1 and the fit is identified"),
    Criterion("output_response", -INF, 0.0, "Christiano, Eichenbaum and Evans 2005; Romer and Romer 2004",
              "output response to +100 bp, mean of months 1-12 (%); pass if < 0 by 2 s.e. and the trough is at 6-24 months"),
    Criterion("inflation_response", -INF, 0.0, "Christiano, Eichenbaum and Evans 2005; Romer and Romer 2004",
              "12-month inflation response to +100 bp, mean of months 6-24 (pp); pass if < 0 by 2 s.e."),
    Criterion("mean_inflation", 0.0, 5.0, "inflation-targeting practice",
              "mean 12-month inflation (% a year); pass if in [0, 5] and within 1 pp of the target"),
    Criterion("price_change_frequency", 0.05, 0.30, "Nakamura and Steinsson 2008; Bils and Klenow 2004",
              "monthly share of firms changing their price"),
    Criterion("phillips_slope", -INF, 0.0, "Hazell, Herreno, Nakamura and Steinsson 2022",
              "slope of the quarterly change of 12-month inflation (pp) on the unemployment gap (pp); pass if the 95% interval is below 0"),
    Criterion("okun_coefficient", -3.5, -0.3, "Okun 1962; Ball, Leigh and Loungani 2017",
              "slope of the quarterly change of the output gap (%) on the change of unemployment (pp)"),
    Criterion("consumption_volatility", 0.5, 1.0, "King and Rebelo 1999 (0.74)", "sd(consumption) / sd(output), HP-filtered quarterly"),
    Criterion("investment_volatility", 2.0, 4.0, "King and Rebelo 1999 (2.93)", "sd(investment) / sd(output), HP-filtered quarterly"),
    Criterion("comovement", 0.5, 1.0, "King and Rebelo 1999 (0.88, 0.80, 0.88)",
              "smallest correlation with output of consumption, investment and hours, HP-filtered quarterly"),
    Criterion("sold_out_share", 0.0, 0.10, "retail out-of-stock rates, about 8%", "share of firm-months sold out at capacity"),
    Criterion("equilibrium", 0.0, 0.05, "Curry et al. 2022",
              "largest best-response epsilon over agent types; pass if < 5% and the best one-month price deviation is interior in > 50% of states"),
]}


#: months after the shock over which checks 2 and 3 average, and where check 2's trough must lie
OUTPUT_MONTHS = (1, 12)
INFLATION_MONTHS = (6, 24)
TROUGH_MONTHS = (6, 24)
#: check 12: the best one-month price deviation must be interior in more than this share of states
INTERIOR_SHARE_MIN = 0.5


def _check(name: str, value: float, passed: bool, interval=None, note: str = "", **extra) -> dict:
    c = CRITERIA[name]
    return make_check(name, value, c.low, c.high, passed, interval=interval, source=c.source, what=c.what,
                      note=note, **extra)


# ----------------------------------------------------------------------------- generic checks and cards
def make_check(name: str, value: float, low: float, high: float, passed: Optional[bool] = None, *,
               interval=None, source: str = "", what: str = "", note: str = "", **extra) -> dict:
    """One check of any economy's scorecard, in the shared schema: ``name, value, low, high, pass``
    (plus ``interval, source, what, note`` and any ``extra`` keys). ``passed`` defaults to
    ``low <= value <= high``; a non-finite value never passes. Use it for checks that are not
    among this module's :data:`CRITERIA` (the six-sector and Diverseland economies)."""
    v = float(value) if value is not None and np.isfinite(value) else float("nan")
    ok = (low <= v <= high) if passed is None else bool(passed)
    out = {"name": name, "value": v, "low": float(low), "high": float(high), "pass": bool(ok and np.isfinite(v)),
           "interval": None if interval is None else [float(interval[0]), float(interval[1])],
           "source": source, "what": what, "note": note}
    out.update(extra)
    return out


def build_scorecard(economy: str, checks) -> dict:
    """A scorecard from a list of checks (dicts made by :func:`make_check` or this module's
    ``check_*`` functions): the JSON object ``{"economy", "checks", "passed", "total"}`` that
    ``python -m macrobook scorecard`` prints and the book writes to ``_build/scorecards/``."""
    checks = list(checks)
    for c in checks:
        missing = {"name", "value", "low", "high", "pass"} - set(c)
        if missing:
            raise ValueError(f"check {c.get('name', '?')!r} lacks {sorted(missing)}")
    return {"economy": str(economy), "checks": checks, "passed": int(sum(bool(c["pass"]) for c in checks)),
            "total": len(checks)}


# ----------------------------------------------------------------------------- the twelve checks
def check_taylor(fit: TaylorFit) -> dict:
    """1. The Taylor principle: the fit must be identified and its 95% interval above 1."""
    principle = fit.taylor_principle
    lo, hi = fit.ci("phi_pi") if np.isfinite(fit.phi_pi) else (float("nan"), float("nan"))
    return _check("taylor_principle", fit.phi_pi, principle == "holds", (lo, hi), note=f"Taylor principle: {principle}")


def _paths(per_env: np.ndarray, shock_at: int) -> np.ndarray:
    """``[steps, E]`` -> responses from the shock month on, ``[H, E]``."""
    return np.asarray(per_env, dtype=float)[shock_at:]


def check_output_response(output_pct: np.ndarray, shock_at: int = 0) -> dict:
    """2. Output (percent difference, shocked minus baseline per economy ``[steps, E]``)."""
    x = _paths(output_pct, shock_at)
    m = x[OUTPUT_MONTHS[0]:OUTPUT_MONTHS[1] + 1].mean(0)
    mean, se = float(np.nanmean(m)), float(np.nanstd(m, ddof=1) / math.sqrt(max(np.isfinite(m).sum(), 1)))
    path = np.nanmean(x[:37], 1)
    trough = int(np.nanargmin(path)) if np.isfinite(path).any() else -1
    ok = mean < 0 and mean + 2 * se < 0 and TROUGH_MONTHS[0] <= trough <= TROUGH_MONTHS[1]
    return _check("output_response", mean, ok, (mean - 2 * se, mean + 2 * se),
                  note=f"trough at month {trough}; s.e. {se:.3f}", trough_month=trough)


def check_inflation_response(inflation_pp: np.ndarray, shock_at: int = 0) -> dict:
    """3. 12-month inflation (pp, shocked minus baseline ``[steps, E]``), months 6-24."""
    x = _paths(inflation_pp, shock_at)
    m = x[INFLATION_MONTHS[0]:INFLATION_MONTHS[1] + 1].mean(0)
    mean, se = float(np.nanmean(m)), float(np.nanstd(m, ddof=1) / math.sqrt(max(np.isfinite(m).sum(), 1)))
    return _check("inflation_response", mean, mean + 2 * se < 0, (mean - 2 * se, mean + 2 * se), note=f"s.e. {se:.3f}")


def check_mean_inflation(inflation_yoy: np.ndarray, target: float) -> dict:
    """4. Mean 12-month inflation (decimals ``[T, E]`` in, % out)."""
    x = 100 * np.asarray(inflation_yoy, dtype=float)
    per_env = np.nanmean(x, 0) if x.ndim == 2 else np.array([np.nanmean(x)])
    mean = float(np.nanmean(per_env))
    ok = 0.0 <= mean <= 5.0 and abs(mean - 100 * target) <= 1.0
    return _check("mean_inflation", mean, ok, (float(np.nanmin(per_env)), float(np.nanmax(per_env))),
                  note=f"target {100 * target:.1f}%; interval = range over economies")


def check_price_frequency(price_change_share: np.ndarray) -> dict:
    """5. Monthly frequency of price changes."""
    x = np.asarray(price_change_share, dtype=float)
    v = float(np.nanmean(x))
    c = CRITERIA["price_change_frequency"]
    return _check("price_change_frequency", v, c.low <= v <= c.high, note=f"implied duration {1 / v:.1f} months" if v > 0 else "no price changes")


def _ols_hac(y: np.ndarray, x: np.ndarray, lags: int = 2) -> tuple[float, float]:
    X = np.column_stack([np.ones_like(x), x])
    ok = np.isfinite(y) & np.isfinite(x)
    X, y = X[ok], y[ok]
    if len(y) < 5 or X[:, 1].std() < 1e-12:
        return float("nan"), float("nan")
    b, *_ = np.linalg.lstsq(X, y, rcond=None)
    cov = _hac_cov(X, y - X @ b, lags)
    return float(b[1]), float(np.sqrt(max(cov[1, 1], 0.0)))


def _quarterly(frame_env_series: Mapping[str, np.ndarray]) -> dict:
    return {k: to_quarterly(v) for k, v in frame_env_series.items()}


def check_phillips(inflation_yoy: np.ndarray, unemployment: np.ndarray, natural_rate: float) -> dict:
    """6. Quarterly change of 12-month inflation (pp) on the unemployment gap (pp), pooled over economies."""
    pi_q = 100 * to_quarterly(np.asarray(inflation_yoy, dtype=float))
    u_q = 100 * (to_quarterly(np.asarray(unemployment, dtype=float)) - natural_rate)
    dpi = np.diff(pi_q, axis=0)
    slope, se = _ols_hac(dpi.T.reshape(-1), u_q[1:].T.reshape(-1))
    lo, hi = slope - 1.96 * se, slope + 1.96 * se
    return _check("phillips_slope", slope, hi < 0, (lo, hi))


def check_okun(output_gap: np.ndarray, unemployment: np.ndarray) -> dict:
    """7. Quarterly change of the output gap (%) on the change of unemployment (pp)."""
    g_q = 100 * to_quarterly(np.asarray(output_gap, dtype=float))
    u_q = 100 * to_quarterly(np.asarray(unemployment, dtype=float))
    slope, se = _ols_hac(np.diff(g_q, axis=0).T.reshape(-1), np.diff(u_q, axis=0).T.reshape(-1))
    c = CRITERIA["okun_coefficient"]
    return _check("okun_coefficient", slope, c.low <= slope <= c.high, (slope - 1.96 * se, slope + 1.96 * se))


def cycle_moments(output, consumption, investment, hours, lam: float = 1600.0) -> dict:
    """HP-filtered (quarterly) log cycles per economy: sd ratios to output and correlations with
    output, averaged over economies. Inputs ``[T, E]`` monthly levels."""
    ratios_c, ratios_i, corr = [], [], {"consumption": [], "investment": [], "hours": []}
    arrs = {k: np.log(np.maximum(to_quarterly(np.asarray(v, dtype=float)), 1e-9))
            for k, v in dict(output=output, consumption=consumption, investment=investment, hours=hours).items()}
    E = arrs["output"].shape[1] if arrs["output"].ndim == 2 else 1
    for e in range(E):
        cyc = {k: hp_filter(v[:, e] if v.ndim == 2 else v, lam)[1] for k, v in arrs.items()}
        sy = cyc["output"].std()
        if sy < 1e-12:
            continue
        ratios_c.append(cyc["consumption"].std() / sy)
        ratios_i.append(cyc["investment"].std() / sy)
        for k in corr:
            s = cyc[k].std()
            corr[k].append(float(np.corrcoef(cyc[k], cyc["output"])[0, 1]) if s > 1e-12 else float("nan"))
    nan = float("nan")
    return {"sd_c_over_y": float(np.mean(ratios_c)) if ratios_c else nan,
            "sd_i_over_y": float(np.mean(ratios_i)) if ratios_i else nan,
            "corr": {k: (float(np.nanmean(v)) if v else nan) for k, v in corr.items()},
            "sd_output_pct": nan}


def check_volatility(moments: dict) -> list[dict]:
    """8-10. Relative volatilities and comovement (from :func:`cycle_moments`)."""
    c8, c9 = CRITERIA["consumption_volatility"], CRITERIA["investment_volatility"]
    vc, vi = moments["sd_c_over_y"], moments["sd_i_over_y"]
    corr = moments["corr"]
    mn = float(np.nanmin(list(corr.values()))) if np.isfinite(list(corr.values())).any() else float("nan")
    note = ", ".join(f"{k} {v:.2f}" for k, v in corr.items())
    return [_check("consumption_volatility", vc, c8.low <= vc <= c8.high),
            _check("investment_volatility", vi, c9.low <= vi <= c9.high),
            _check("comovement", mn, mn > 0.5, note=note)]


def check_sold_out(sold_out_share: np.ndarray) -> dict:
    """11. Share of firm-months sold out at capacity."""
    v = float(np.nanmean(np.asarray(sold_out_share, dtype=float)))
    return _check("sold_out_share", v, v < CRITERIA["sold_out_share"].high)


def check_equilibrium(epsilon: Optional[Mapping[str, float]], interior_share: Optional[float]) -> dict:
    """12. Best-response epsilon per type (a dict ``{type: epsilon}``, relative gains) and the share
    of states in which a firm's best one-month price deviation is interior."""
    eps = {k: float(v) for k, v in (epsilon or {}).items()}
    vmax = max(eps.values()) if eps else float("nan")
    interior = float("nan") if interior_share is None else float(interior_share)
    ok = bool(eps) and vmax < CRITERIA["equilibrium"].high and np.isfinite(interior) and interior > INTERIOR_SHARE_MIN
    note = ("epsilon not measured" if not eps else "epsilon " + ", ".join(f"{k} {v:.3f}" for k, v in eps.items()))
    note += "; interior share " + ("not measured" if not np.isfinite(interior) else f"{interior:.2f}")
    return _check("equilibrium", vmax, ok, note=note, epsilon=eps, interior_share=interior)


# ----------------------------------------------------------------------------- the card
def scorecard(*, frame, irf_per_env: Mapping[str, np.ndarray], shock_at: int, taylor: TaylorFit,
              inflation_target: float, natural_unemployment: float, epsilon: Optional[Mapping[str, float]] = None,
              interior_share: Optional[float] = None, economy: str = "monetary", burn_in: int = 12) -> dict:
    """All twelve checks from a simulation ``frame`` (wide history: ``t, env`` and macro columns),
    a rate-shock response (per-economy paths of :func:`~macrobook.analysis.transmission.rate_shock_irf`),
    a Taylor fit, and (optional) best-response epsilons and the interior share. Returns the JSON
    object ``{"economy", "checks": [...], "passed", "total"}``."""
    f = frame[frame["t"] >= burn_in]
    wide = lambda col: f.pivot(index="t", columns="env", values=col).to_numpy()  # noqa: E731  [T, E]
    hours = wide("employment") * wide("hours") if "employment" in f and "hours" in f else 1 - wide("unemployment")
    moments = cycle_moments(wide("output"), wide("consumption"), wide("investment"), hours)
    checks = [
        check_taylor(taylor),
        check_output_response(irf_per_env["output"], shock_at),
        check_inflation_response(100 * np.asarray(irf_per_env["inflation_yoy"]), shock_at),
        check_mean_inflation(wide("inflation_yoy"), inflation_target),
        check_price_frequency(wide("price_change_share")),
        check_phillips(wide("inflation_yoy"), wide("unemployment"), natural_unemployment),
        check_okun(wide("output_gap"), wide("unemployment")),
        *check_volatility(moments),
        check_sold_out(wide("sold_out_share")),
        check_equilibrium(epsilon, interior_share),
    ]
    return build_scorecard(economy, checks)


# ----------------------------------------------------------------------------- measuring a run
def _clone(economy):
    """A copy of a batched economy: same config, state tensors and random-number stream."""
    twin = type(economy)(economy.config, num_envs=economy.num_envs, device=economy.device)
    twin.state = {k: v.clone() for k, v in economy.state.items()}
    twin.generator.set_state(economy.generator.get_state())
    twin.t = economy.t
    return twin


def price_deviation_test(make_economy, learners, seed: int = 0, at_month: int = 36, horizon: int = 12,
                         gamma: float = 0.95, firm: int = 0, deterministic: bool = False) -> dict:
    """A firm's one-month price deviation, the old chapter's lesson made a measurement.

    Run ``make_economy()`` under ``learners`` for ``at_month`` months; then, in each economy, let
    firm ``firm`` take each of the five price changes for one month (everything else as its
    policy says, common random numbers) and follow the policies for ``horizon`` months. Returns
    the discounted real-profit gain of each price change over the policy's own choice
    ``gains [E, 5]``, the best change per economy, and ``interior_share``: the share of economies
    whose best change is not at an end of the grid (-2% or +2%). Under the old design the best
    reply was always a corner; with production to order and CES demand it should be interior.
    """
    import torch

    from ..envs.monetary import PRICE_CHANGES
    from .transmission import PolicySampler

    econ = make_economy()
    obs = econ.reset(seed=seed)
    sampler = PolicySampler(learners, seed, deterministic)
    with torch.no_grad():
        for _ in range(at_month):
            obs = econ.step(sampler(obs)).obs
        first = sampler(obs)
        gen_state = {k: g.get_state() for k, g in sampler.generators.items()}
        returns = []
        for j in range(-1, len(PRICE_CHANGES)):  # -1: the policy's own action
            e = _clone(econ)
            s = PolicySampler(learners, seed, deterministic)
            for k, g in s.generators.items():
                g.set_state(gen_state[k])
            acts = {k: v.clone() for k, v in first.items()}
            if j >= 0:
                acts["firm"][:, firm, 0] = j
            total = torch.zeros(e.num_envs, dtype=torch.float64, device=e.device)
            o = None
            for h in range(horizon):
                out = e.step(acts)
                total += (gamma ** h) * out.reward["firm"][:, firm].double()
                o = out.obs
                acts = s(o)
            returns.append(total)
    base = returns[0]
    gains = torch.stack([r - base for r in returns[1:]], -1).cpu().numpy()  # [E, 5]
    best = gains.argmax(-1)
    interior = float(np.mean((best > 0) & (best < len(PRICE_CHANGES) - 1)))
    return {"gains": gains, "best": best, "interior_share": interior,
            "mean_gain": gains.mean(0), "se_gain": gains.std(0, ddof=1) / math.sqrt(max(gains.shape[0], 1))}


def price_policy_against_dp(learners, config, seed: int = 0, num_envs: int = 8, months: int = 48, burn_in: int = 12,
                            beta: float = 0.95, deterministic: bool = False, device="cpu") -> dict:
    """Learned firms' price changes against the dynamic optimum with Chapter 4's adjustment costs.

    Solves one price setter's problem by value function iteration
    (:func:`~macrobook.analysis.dp.solve_price_dp`: CES demand, hours to order, menu and
    Rotemberg costs, the target inflation rate, discount ``beta``), then runs the economy under
    ``learners`` and, in every firm-month after ``burn_in``, reads the firm's gap to its static
    optimum (its observation) and the change it chose. Returns the DP's inaction band, the
    share of firm-months in which the learned firm chose the DP's change (``agreement``), in
    which it moved its price in the right direction or held where the DP holds
    (``direction_agreement``), the learned firms' hold share inside and outside the DP's band,
    and the static optimum's agreement for comparison (the change that lands nearest ``p*``).
    """
    import dataclasses

    import torch

    from ..envs.monetary import PRICE_CHANGES, MonetaryEconomy
    from .dp import solve_price_dp
    from .transmission import PolicySampler

    dp = solve_price_dp(config.demand_elasticity, config.capital_share, config.menu_cost, config.rotemberg_cost,
                        (1 + config.inflation_target_annual) ** (1 / 12) - 1, beta, PRICE_CHANGES)
    cfg = dataclasses.replace(config, sim_length=months + 1)
    econ = MonetaryEconomy(cfg, num_envs=num_envs, device=device)
    obs = econ.reset(seed=seed)
    sampler = PolicySampler(learners, seed, deterministic)
    gaps, acts = [], []
    with torch.no_grad():
        for t in range(months):
            a = sampler(obs)
            if t >= burn_in:
                gaps.append(obs["firm"][..., 1].double().cpu().numpy() / 10)
                acts.append(a["firm"][..., 0].cpu().numpy())
            obs = econ.step(a).obs
    gap, act = np.concatenate([g.ravel() for g in gaps]), np.concatenate([x.ravel() for x in acts])
    best = dp.policy(gap)
    ch = np.asarray(PRICE_CHANGES)
    static = np.abs(gap[:, None] + np.log1p(ch)[None, :]).argmin(1)
    hold = int(np.argmin(np.abs(ch)))
    lo, hi = dp.inaction_band()
    inside = (gap >= lo) & (gap <= hi)
    sgn = lambda j: np.sign(ch[j])  # noqa: E731
    return {"dp": dp, "band": (lo, hi), "n": int(gap.size),
            "agreement": float(np.mean(act == best)),
            "direction_agreement": float(np.mean(sgn(act) == sgn(best))),
            "static_agreement": float(np.mean(act == static)),
            "dp_hold_share": float(np.mean(best == hold)),
            "hold_inside_band": float(np.mean(act[inside] == hold)) if inside.any() else float("nan"),
            "hold_outside_band": float(np.mean(act[~inside] == hold)) if (~inside).any() else float("nan"),
            "share_inside_band": float(np.mean(inside)), "gap": gap, "action": act}


def measure_monetary(learners, config, seed: int = 0, num_envs: int = 16, months: int = 132, burn_in: int = 12,
                     irf_envs: int = 64, irf_months: int = 60, shock_at: int = 24, deterministic: bool = False,
                     device="cpu") -> dict:
    """Everything the scorecard needs from trained (or rule) agents: a simulation frame, the
    +100 bp rate-shock response per economy, the Taylor fit and the deviation test.

    ``config`` is the :class:`~macrobook.envs.monetary.MonetaryConfig`; its ``sim_length`` is
    raised so that no episode restarts inside the measurement. ``device`` is where the economies
    run (the learners' device)."""
    import dataclasses

    import torch

    from ..contract import History
    from ..envs.monetary import MonetaryEconomy
    from .taylor import fit_taylor_rule
    from .transmission import PolicySampler, rate_shock_irf

    cfg = dataclasses.replace(config, sim_length=max(config.sim_length, months, irf_months) + 1)
    econ = MonetaryEconomy(cfg, num_envs=num_envs, device=device)
    sampler = PolicySampler(learners, seed, deterministic)
    hist = History()
    obs = econ.reset(seed=seed)
    with torch.no_grad():
        for t in range(months):
            out = econ.step(sampler(obs))
            hist.record(out.macro, t)
            obs = out.obs
    frame = hist.wide()
    f = frame[frame["t"] >= burn_in]
    wide = lambda col: f.pivot(index="t", columns="env", values=col).to_numpy()  # noqa: E731
    fit = fit_taylor_rule(wide("policy_rate_annual"), wide("inflation_yoy"), wide("output_gap"),
                          inflation_target=cfg.inflation_target_annual)
    make = lambda n: (lambda: MonetaryEconomy(cfg, num_envs=n, device=device))  # noqa: E731
    irf, per_env = rate_shock_irf(make(irf_envs), learners, size=0.01, persistence=0.9, steps=irf_months,
                                  shock_at=shock_at, seed=seed + 1, deterministic=deterministic)
    dev = price_deviation_test(make(num_envs), learners, seed=seed + 2, at_month=burn_in + 12, deterministic=deterministic)
    return {"frame": frame, "irf": irf, "irf_per_env": per_env, "shock_at": shock_at, "taylor": fit,
            "deviation": dev, "config": cfg}


def card_from_measurement(m: dict, epsilon: Optional[Mapping[str, float]] = None, economy: str = "monetary") -> dict:
    """The scorecard JSON from :func:`measure_monetary`'s output (plus epsilons if measured)."""
    cfg = m["config"]
    return scorecard(frame=m["frame"], irf_per_env=m["irf_per_env"], shock_at=m["shock_at"], taylor=m["taylor"],
                     inflation_target=cfg.inflation_target_annual, natural_unemployment=cfg.natural_unemployment,
                     epsilon=epsilon, interior_share=m["deviation"]["interior_share"], economy=economy)


# ----------------------------------------------------------------------------- run directories
class RunDirError(ValueError):
    """A run directory the scorecard cannot read; the message is one line naming the problem."""


def read_run_dir(run_dir) -> tuple[dict, "Path", Optional[dict]]:
    """Check a run directory for the scorecard: ``(args, model_path, epsilon or None)``.

    Raises :class:`RunDirError` (one line) when it is missing, not a run directory, damaged,
    of another economy, or has no trained model. Epsilons come from ``RUN_DIR/logs/epsilon.json``
    (``{type: epsilon}``, ``null`` for an undefined one, read as infinite) when present; ``python -m
    macrobook train monetary`` writes it."""
    import json
    from pathlib import Path

    root = Path(run_dir)
    if not root.exists():
        raise RunDirError(f"{root} does not exist")
    if not root.is_dir():
        raise RunDirError(f"{root} is not a directory")
    info_path = root / "run.json"
    if not info_path.exists():
        raise RunDirError(f"{root} is not a macrobook run directory (no run.json)")
    try:
        info = json.loads(info_path.read_text())
        economy, args = info["economy"], dict(info["args"])
    except (ValueError, KeyError, TypeError) as e:
        raise RunDirError(f"{info_path} is damaged ({type(e).__name__}: {e})") from None
    if economy != "monetary":
        raise RunDirError(f"{root} is a {economy!r} run; the scorecard covers 'monetary' runs")
    model = next((p for p in (root / "models/best.safetensors", root / "models/last.safetensors") if p.exists()), None)
    if model is None:
        raise RunDirError(f"{root} has no trained model (models/best.safetensors or models/last.safetensors)")
    eps = None
    eps_path = root / "logs/epsilon.json"
    if eps_path.exists():
        try:
            # null: the type's training did not raise its reward, so its epsilon is undefined (a fail)
            eps = {k: (float("inf") if v is None else float(v)) for k, v in json.loads(eps_path.read_text()).items()}
        except (ValueError, AttributeError, TypeError) as e:
            raise RunDirError(f"{eps_path} is damaged ({type(e).__name__}: {e})") from None
    return args, model, eps


def card_json(card: dict, indent=None) -> str:
    """The card as strict JSON: non-finite numbers (an unmeasured check, an infinite bound) become
    ``null``, so any JSON reader can load it."""
    import json

    def clean(x):
        if isinstance(x, float) and not math.isfinite(x):
            return None
        if isinstance(x, dict):
            return {k: clean(v) for k, v in x.items()}
        if isinstance(x, (list, tuple)):
            return [clean(v) for v in x]
        if isinstance(x, (np.floating, np.integer, np.bool_)):
            return clean(x.item())
        return x
    return json.dumps(clean(card), indent=indent, allow_nan=False)


def format_card(card: dict) -> str:
    lines = [f"{'PASS' if c['pass'] else 'fail'}  {c['name']:<24} {c['value']:>9.3f}  [{c['low']}, {c['high']}]  {c['note']}"
             for c in card["checks"]]
    return "\n".join(lines + [f"{card['passed']} of {card['total']} checks pass"])
