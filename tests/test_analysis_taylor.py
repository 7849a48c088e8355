"""Taylor-rule fits, the New Keynesian benchmark, Gini and business-cycle tools."""
import numpy as np
import pytest
import torch

from macrobook.analysis import business_cycles as bc
from macrobook.analysis import nk
from macrobook.analysis.inequality import gini, lorenz
from macrobook.analysis.taylor import fit_taylor_rule
from macrobook.recipes.monetary import TaylorRuleCentralBank


def _synthetic(phi_pi, phi_y, rho=None, n=600, seed=0, noise=0.001):
    rng = np.random.default_rng(seed)
    pi = 0.02 + 0.01 * rng.standard_normal(n)
    gap = 0.01 * rng.standard_normal(n)
    target = 0.04 + phi_pi * (pi - 0.02) + phi_y * gap
    i = np.empty(n)
    prev = 0.04
    for t in range(n):
        i[t] = target[t] if rho is None else rho * prev + (1 - rho) * target[t]
        i[t] += noise * rng.standard_normal()
        prev = i[t]
    return i, pi, gap


def test_fit_recovers_a_known_rule_and_its_interval_covers_it():
    i, pi, gap = _synthetic(1.5, 0.5)
    f = fit_taylor_rule(i, pi, gap)
    lo, hi = f.ci("phi_pi")
    assert lo < 1.5 < hi and abs(f.phi_pi - 1.5) < 0.05
    assert abs(f.phi_y - 0.5) < 0.1
    assert abs(f.r_star - 0.02) < 0.003
    assert f.taylor_principle == "holds"


def test_fit_says_when_the_taylor_principle_fails_or_is_undetermined():
    i, pi, gap = _synthetic(0.6, 0.3)
    assert fit_taylor_rule(i, pi, gap).taylor_principle == "fails"
    i, pi, gap = _synthetic(1.0, 0.3, n=40, noise=0.02)
    assert fit_taylor_rule(i, pi, gap).taylor_principle == "undetermined"


def test_smoothed_fit_recovers_long_run_coefficients():
    i, pi, gap = _synthetic(1.8, 0.4, rho=0.7, n=2000, noise=0.0005)
    f = fit_taylor_rule(i, pi, gap, smoothing=True)
    assert abs(f.smoothing - 0.7) < 0.05
    assert abs(f.phi_pi - 1.8) < 0.15
    lo, hi = f.ci("phi_pi")
    assert lo < 1.8 < hi


def test_taylor_rule_bank_moves_toward_the_rule_rate():
    bank = TaylorRuleCentralBank()
    # obs: [infl pp, yoy pp, target pp, gap %, u, policy pp, credit growth, spread]
    obs = torch.tensor([[[4.0, 4.0, 2.0, 0.0, 0.5, 3.0, 0.0, 3.0]]])  # rule: 2 + 4 + 0.5*2 = 7% -> +50 bp
    a, _ = bank.act(obs)
    assert a.item() == 4
    obs[..., 5] = 7.1
    assert bank.act(obs)[0].item() == 2  # already there: hold


def test_nk_closed_form_matches_gali_calibration():
    p = nk.NKParams()
    assert abs(p.kappa - 0.171667) < 1e-5
    assert p.determinate
    irf = nk.impulse_response(p, "monetary", 0.25)
    # derived in the chapter: y = -(1-beta rho) Lambda nu, pi = -kappa Lambda nu
    assert irf["output_gap"].iloc[0] == pytest.approx(-0.2591, abs=2e-4)
    assert irf["inflation_annual"].iloc[0] == pytest.approx(-0.3523, abs=2e-4)
    assert irf["nominal_rate_annual"].iloc[0] == pytest.approx(0.3421, abs=2e-4)
    assert irf["real_rate_annual"].iloc[0] == pytest.approx(0.5182, abs=2e-4)
    assert irf["hours"].iloc[0] == pytest.approx(-0.3455, abs=2e-4)
    # responses halve every quarter (rho = 0.5)
    np.testing.assert_allclose(irf["output_gap"].iloc[1:].to_numpy() / irf["output_gap"].iloc[:-1].to_numpy(), 0.5)
    for shock in ("monetary", "cost_push"):
        np.testing.assert_allclose(nk.residuals(p, shock), 0.0, atol=1e-12)


def test_nk_closed_form_matches_a_numerical_solution():
    """Independent check: solve the three equations as one linear system over 80 quarters
    (perfect foresight, zero terminal condition) and compare with the undetermined-coefficients
    closed form, for both shocks."""
    p = nk.NKParams()
    T = 80
    for shock in ("monetary", "cost_push"):
        s = 0.25 * p.rho ** np.arange(T)
        nu = s if shock == "monetary" else 0 * s
        u = s if shock == "cost_push" else 0 * s
        A = np.zeros((2 * T, 2 * T))   # unknowns: y_0..y_{T-1}, pi_0..pi_{T-1}
        b = np.zeros(2 * T)
        for t in range(T):
            y, pi = t, T + t
            # Phillips curve: pi_t - beta pi_{t+1} - kappa y_t = u_t
            A[t, pi] += 1
            A[t, y] -= p.kappa
            if t + 1 < T:
                A[t, pi + 1] -= p.beta
            b[t] = u[t]
            # IS with the rule substituted: y_t - y_{t+1} + (phi_pi pi_t + phi_y y_t - pi_{t+1}) / sigma = -nu_t / sigma
            r = T + t
            A[r, y] += 1 + p.phi_y / p.sigma
            A[r, pi] += p.phi_pi / p.sigma
            if t + 1 < T:
                A[r, y + 1] -= 1
                A[r, pi + 1] -= 1 / p.sigma
            b[r] = -nu[t] / p.sigma
        sol = np.linalg.solve(A, b)
        irf = nk.impulse_response(p, shock, 0.25, quarters=12)
        np.testing.assert_allclose(sol[:12], irf["output_gap"].to_numpy(), atol=1e-10)
        np.testing.assert_allclose(4 * sol[T:T + 12], irf["inflation_annual"].to_numpy(), atol=1e-10)


def test_nk_indeterminacy_below_the_taylor_principle():
    assert not nk.NKParams(phi_pi=0.8, phi_y=0.0).determinate
    assert nk.coefficients(nk.NKParams(), "cost_push")[1] > 0  # a cost-push shock raises inflation


def test_gini_known_values():
    assert gini(np.ones(10)) == pytest.approx(0.0)
    x = np.zeros(100)
    x[0] = 1.0
    assert gini(x) == pytest.approx(0.99)
    t = torch.tensor([[1.0, 2.0, 3.0, 4.0]], dtype=torch.float64)
    assert float(gini(t)) == pytest.approx(gini(np.array([1.0, 2.0, 3.0, 4.0])))
    s, L = lorenz([1, 1, 2])
    assert L[-1] == pytest.approx(1.0) and L[1] == pytest.approx(0.25)


def test_hp_filter_removes_a_linear_trend():
    t = np.arange(80.0)
    trend, cycle = bc.hp_filter(3 + 0.5 * t)
    np.testing.assert_allclose(cycle, 0, atol=1e-8)
    assert bc.US_FACTS["output"]["sd"] > 0 and "King" in bc.US_FACTS["source"]


def test_fit_refuses_a_verdict_when_inflation_never_moves():
    # a learned economy can pin inflation (every firm raising prices by the same step each month):
    # then no regression can say how the rate responds to inflation
    i, pi, gap = _synthetic(1.5, 0.5)
    f = fit_taylor_rule(i, np.full_like(pi, 0.268), gap)
    assert f.not_identified == ("inflation",)
    assert np.isnan(f.phi_pi) and f.taylor_principle == "not identified"
    assert np.isfinite(f.phi_y) and "no variation in: inflation" in f.summary()
    fs = fit_taylor_rule(i, np.full_like(pi, 0.268), gap, smoothing=True)
    assert fs.taylor_principle == "not identified"
