"""Taylor-rule fits of a learned central bank. (The Taylor-rule central bank itself, a rule agent,
lives in :mod:`macrobook.recipes.monetary`.)

Taylor (1993) writes the rule as ``i = r* + pi + 0.5 (pi - pi*) + 0.5 y``: the total response to
inflation is ``1 + 0.5 = 1.5``. We fit the general form

    i_t = c + phi_pi pi_t + phi_y y_t + e_t           (c = r* - (phi_pi - 1) pi*)

by least squares, so ``phi_pi`` is the *total* response, and the Taylor principle is
``phi_pi > 1`` (a real-rate increase when inflation rises; Woodford 2003, ch. 4). With
``smoothing=True`` the fit is the partial-adjustment rule
``i_t = rho i_{t-1} + (1 - rho)(c + phi_pi pi_t + phi_y y_t) + e_t``; the long-run
coefficients and their standard errors come from the delta method.

Standard errors are Newey-West (HAC, Bartlett kernel) so that serially correlated residuals,
which a monthly policy rate has, do not make the intervals too narrow.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

Z95 = 1.959963984540054


@dataclass
class TaylorFit:
    phi_pi: float
    phi_y: float
    intercept: float
    r_star: float                      # implied neutral real rate, c + (phi_pi - 1) pi*
    se: dict = field(default_factory=dict)
    smoothing: float | None = None
    r2: float = float("nan")
    n: int = 0
    not_identified: tuple = ()         # regressors with (almost) no variation: their phi is NaN
    problems: tuple = ()               # why phi_pi is not identified (empty when it is)

    @property
    def identified(self) -> bool:
        """False when the data cannot pin down phi_pi: inflation did not vary (by spread or sd),
        or its standard error is so large that any answer fits (see :func:`fit_taylor_rule`)."""
        return not self.problems and "inflation" not in self.not_identified and bool(np.isfinite(self.phi_pi))

    def ci(self, name: str, level_z: float = Z95) -> tuple[float, float]:
        v = getattr(self, name)
        return v - level_z * self.se[name], v + level_z * self.se[name]

    @property
    def taylor_principle(self) -> str:
        """'holds' if the whole 95% interval of phi_pi is above 1, 'fails' if below, 'undetermined'
        if it straddles 1, and 'not identified' if inflation did not vary (no data can say)."""
        if not self.identified:
            return "not identified"
        lo, hi = self.ci("phi_pi")
        if lo > 1:
            return "holds"
        if hi < 1:
            return "fails"
        return "undetermined"

    def summary(self) -> str:
        lo, hi = self.ci("phi_pi")
        ylo, yhi = self.ci("phi_y")
        s = (f"phi_pi = {self.phi_pi:.2f} [95% CI {lo:.2f}, {hi:.2f}], phi_y = {self.phi_y:.2f} "
             f"[{ylo:.2f}, {yhi:.2f}], r* = {100 * self.r_star:.2f}%, R^2 = {self.r2:.2f}, n = {self.n}")
        if self.not_identified:
            s += f" (no variation in: {', '.join(self.not_identified)})"
        if self.problems:
            s += f" (not identified: {'; '.join(self.problems)})"
        if self.smoothing is not None:
            s += f", smoothing rho = {self.smoothing:.2f}"
        return s + f"; Taylor principle: {self.taylor_principle}"


def _hac_cov(X: np.ndarray, resid: np.ndarray, lags: int) -> np.ndarray:
    n = X.shape[0]
    XtX_inv = np.linalg.pinv(X.T @ X)  # pinv: a rate that never moves makes X'X singular
    u = X * resid[:, None]
    S = u.T @ u
    for l in range(1, lags + 1):
        w = 1 - l / (lags + 1)
        G = u[l:].T @ u[:-l]
        S += w * (G + G.T)
    return XtX_inv @ S @ XtX_inv


def fit_taylor_rule(rate, inflation, output_gap, inflation_target: float = 0.02, smoothing: bool = False,
                    lags: int | None = None, min_sd: float = 1e-5, min_spread: float = 0.005,
                    max_se: float = 1.0) -> TaylorFit:
    """Least-squares Taylor-rule fit with HAC confidence intervals.

    ``rate``, ``inflation`` (annual decimals) and ``output_gap`` (log deviation) are arrays
    ``[T]`` or ``[T, E]`` (economies stacked; the lag for smoothing is taken within each economy).
    A regressor whose standard deviation is below ``min_sd`` (default 0.001 pp) carries no
    information about its coefficient: it is dropped from the regression, its coefficient is NaN
    and named in ``not_identified`` (a rate regressed on a constant inflation rate would otherwise
    return an arbitrary number with a spuriously tight interval).

    The fit also flags itself as *not identified* (``problems``; ``taylor_principle`` then says
    "not identified") when inflation's range over the sample (5th to 95th percentile) is below
    ``min_spread`` (default 0.5 pp: a rule cannot be read off a flat line, however high R^2 is),
    or when the standard error of phi_pi exceeds ``max_se`` (default 1: the interval spans every
    answer the question cares about).
    """
    rate, infl, gap = (np.asarray(a, dtype=float) for a in (rate, inflation, output_gap))
    if rate.ndim == 1:
        rate, infl, gap = rate[:, None], infl[:, None], gap[:, None]
    T = rate.shape[0]
    if smoothing:
        y = rate[1:].T.reshape(-1)
        X = np.column_stack([np.ones_like(y), rate[:-1].T.reshape(-1), infl[1:].T.reshape(-1), gap[1:].T.reshape(-1)])
    else:
        y = rate.T.reshape(-1)
        X = np.column_stack([np.ones_like(y), infl.T.reshape(-1), gap.T.reshape(-1)])
    ok = np.isfinite(y) & np.isfinite(X).all(1)
    y, X = y[ok], X[ok]
    n = len(y)
    names = ["inflation", "output_gap"]
    cols = [X.shape[1] - 2, X.shape[1] - 1]
    flat = [nm for nm, j in zip(names, cols) if X[:, j].std() < min_sd]
    keep = [j for j in range(X.shape[1]) if j not in [c for nm, c in zip(names, cols) if nm in flat]]
    beta_k, *_ = np.linalg.lstsq(X[:, keep], y, rcond=None)
    resid = y - X[:, keep] @ beta_k
    r2 = 1 - resid.var() / max(y.var(), 1e-300)
    L = lags if lags is not None else int(np.floor(4 * (min(n, T) / 100) ** (2 / 9)))
    cov_k = _hac_cov(X[:, keep], resid, max(L, 0))
    beta = np.full(X.shape[1], np.nan)
    beta[keep] = beta_k
    cov = np.full((X.shape[1], X.shape[1]), np.nan)
    cov[np.ix_(keep, keep)] = cov_k
    if not smoothing:
        c, phi_pi, phi_y = beta
        se = {"intercept": np.sqrt(cov[0, 0]), "phi_pi": np.sqrt(cov[1, 1]), "phi_y": np.sqrt(cov[2, 2])}
        rho = None
    else:
        b0, rho, bp, by = beta
        k = 1 / (1 - rho) if abs(1 - rho) > 1e-9 else float("nan")  # a unit root has no long-run rule
        c, phi_pi, phi_y = b0 * k, bp * k, by * k
        # delta method: d(b/(1-rho))/d(b) = k, /d(rho) = b k^2
        def dm(idx, b):
            g = np.zeros(4)
            g[idx] = k
            g[1] = b * k * k
            return float(np.sqrt(g @ cov @ g))
        se = {"intercept": dm(0, b0), "phi_pi": dm(2, bp), "phi_y": dm(3, by), "smoothing": float(np.sqrt(cov[1, 1]))}
    problems = []
    x_pi = X[:, -2]
    spread = float(np.percentile(x_pi, 95) - np.percentile(x_pi, 5)) if n else 0.0
    if "inflation" not in flat and spread < min_spread:
        problems.append(f"inflation spread {100 * spread:.2f} pp < {100 * min_spread:.2f} pp")
    if np.isfinite(se["phi_pi"]) and se["phi_pi"] > max_se:
        problems.append(f"s.e. of phi_pi {se['phi_pi']:.2f} > {max_se:.2f}")
    r_star = c + (phi_pi - 1) * inflation_target
    se["r_star"] = float(np.sqrt(se["intercept"] ** 2 + (inflation_target * se["phi_pi"]) ** 2))  # ignoring covariance
    return TaylorFit(float(phi_pi), float(phi_y), float(c), float(r_star), {k: float(v) for k, v in se.items()},
                     None if rho is None else float(rho), float(r2), int(n), tuple(flat), tuple(problems))
