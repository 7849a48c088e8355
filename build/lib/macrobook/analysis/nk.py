"""The 3-equation New Keynesian model (Gali 2015, ch. 3), solved in closed form.

A benchmark for the learned monetary economy of Chapter 4. Quarterly model, variables in
log deviations (percent) from the zero-inflation steady state:

* Phillips curve (Gali 2015, eq. 3.22):  pi_t = beta E_t pi_{t+1} + kappa y_t + u_t
* Dynamic IS (eq. 3.23):                  y_t = E_t y_{t+1} - (1/sigma)(i_t - E_t pi_{t+1} - r^n_t)
* Taylor-type rule (eq. 3.25):            i_t = phi_pi pi_t + phi_y y_t + nu_t

with ``kappa = lambda (sigma + (phi + alpha)/(1 - alpha))``,
``lambda = (1 - theta)(1 - beta theta)/theta * Theta`` and
``Theta = (1 - alpha)/(1 - alpha + alpha epsilon)`` (eqs. 3.12-3.15). ``y`` is the output gap.

Shocks are AR(1) with persistence ``rho``. Guessing ``y_t = psi_y s_t`` and ``pi_t = psi_pi s_t``
(undetermined coefficients) and using ``E_t s_{t+1} = rho s_t`` gives, for the monetary shock
``nu`` (Gali 2015, eqs. 3.26-3.27):

    y = -(1 - beta rho) Lambda nu,   pi = -kappa Lambda nu,
    Lambda = 1 / [(1 - beta rho)(sigma (1 - rho) + phi_y) + kappa (phi_pi - rho)]

and for a cost-push shock ``u`` in the Phillips curve (the "inflation shock"):

    pi = (sigma (1 - rho) + phi_y) Lambda u,   y = -(phi_pi - rho) Lambda u.

Both are derived in the chapter; :func:`residuals` checks that they satisfy the three equations.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..config import Config, check_float


@dataclass
class NKParams(Config):
    """Gali (2015, ch. 3) baseline calibration (quarterly)."""

    beta: float = 0.99
    sigma: float = 1.0
    phi: float = 5.0          # inverse Frisch elasticity
    alpha: float = 0.25       # 1 - labor share in production
    epsilon: float = 9.0      # elasticity of substitution between goods
    theta: float = 0.75       # Calvo probability of keeping the price
    phi_pi: float = 1.5
    phi_y: float = 0.125      # 0.5 / 4: the rule is on quarterly rates
    rho: float = 0.5          # shock persistence (rho_nu)

    def validate(self):
        check_float(self, "beta", min=0.0, max=1.0, min_open=True, max_open=True)
        check_float(self, "sigma", min=0.0, min_open=True)
        check_float(self, "phi", min=0.0)
        check_float(self, "alpha", min=0.0, max=1.0, max_open=True)
        check_float(self, "epsilon", min=1.0, min_open=True)
        check_float(self, "theta", min=0.0, max=1.0, min_open=True, max_open=True)
        check_float(self, "phi_pi", min=0.0)
        check_float(self, "phi_y", min=0.0)
        check_float(self, "rho", min=0.0, max=1.0, max_open=True)

    @property
    def kappa(self) -> float:
        big_theta = (1 - self.alpha) / (1 - self.alpha + self.alpha * self.epsilon)
        lam = (1 - self.theta) * (1 - self.beta * self.theta) / self.theta * big_theta
        return lam * (self.sigma + (self.phi + self.alpha) / (1 - self.alpha))

    @property
    def determinate(self) -> bool:
        """Unique bounded equilibrium iff ``kappa (phi_pi - 1) + (1 - beta) phi_y > 0`` (Gali 2015, eq. 3.24)."""
        return self.kappa * (self.phi_pi - 1) + (1 - self.beta) * self.phi_y > 0


def coefficients(p: NKParams, shock: str = "monetary") -> tuple[float, float]:
    """``(psi_y, psi_pi)``: output gap and (quarterly) inflation per unit of the shock."""
    k, b, s, r = p.kappa, p.beta, p.sigma, p.rho
    lam = 1.0 / ((1 - b * r) * (s * (1 - r) + p.phi_y) + k * (p.phi_pi - r))
    if shock == "monetary":
        return -(1 - b * r) * lam, -k * lam
    if shock == "cost_push":
        return -(p.phi_pi - r) * lam, (s * (1 - r) + p.phi_y) * lam
    raise ValueError(f"shock must be 'monetary' or 'cost_push', got {shock!r}")


def residuals(p: NKParams, shock: str = "monetary") -> np.ndarray:
    """Residuals of the Phillips curve, the IS curve and the rule at the closed form (all ~0)."""
    psi_y, psi_pi = coefficients(p, shock)
    s = 1.0
    nu = s if shock == "monetary" else 0.0
    u = s if shock == "cost_push" else 0.0
    i = p.phi_pi * psi_pi * s + p.phi_y * psi_y * s + nu
    pc = psi_pi * s - (p.beta * p.rho * psi_pi * s + p.kappa * psi_y * s + u)
    is_ = psi_y * s - (p.rho * psi_y * s - (i - p.rho * psi_pi * s) / p.sigma)
    return np.array([pc, is_, 0.0])


def impulse_response(p: NKParams | None = None, shock: str = "monetary", size: float = 0.25, quarters: int = 12):
    """Impulse responses to a shock of ``size`` (percent, quarterly units: 0.25 = 25 bp = 1 pp annualized).

    Returns a pandas DataFrame indexed by quarter with ``output_gap`` (%), ``inflation_annual``
    (pp), ``nominal_rate_annual`` (pp), ``real_rate_annual`` (pp) and ``hours`` (%; for the
    monetary shock natural output is unchanged so ``n = y / (1 - alpha)``).
    """
    import pandas as pd

    p = p or NKParams()
    psi_y, psi_pi = coefficients(p, shock)
    q = np.arange(quarters)
    s = size * p.rho**q
    y = psi_y * s
    pi = psi_pi * s
    nu = s if shock == "monetary" else 0.0 * s
    i = p.phi_pi * pi + p.phi_y * y + nu
    real = i - p.rho * pi
    return pd.DataFrame({
        "quarter": q,
        "output_gap": y,
        "inflation_annual": 4 * pi,
        "nominal_rate_annual": 4 * i,
        "real_rate_annual": 4 * real,
        "hours": y / (1 - p.alpha),
    }).set_index("quarter")


def rule_loss(p: NKParams | None = None, shock: str = "monetary", size: float = 0.25, quarters: int = 40,
              output_gap_weight: float = 0.5, rate_change_weight: float = 0.1) -> float:
    """The learned central bank's loss (pp^2, annualized inflation) summed over an impulse response."""
    irf = impulse_response(p, shock, size, quarters)
    di = np.diff(np.r_[0.0, irf["nominal_rate_annual"].to_numpy()])
    return float((irf["inflation_annual"] ** 2 + output_gap_weight * irf["output_gap"] ** 2
                  + rate_change_weight * di**2).sum())
