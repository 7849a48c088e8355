"""Chapter 7's library pieces: the fractal activation, the AI-adoption economy, distillation, verdicts."""
import math

import numpy as np
import pytest
import torch

from macrobook.analysis.distill import distill, fit_linear, fit_tree, r_squared
from macrobook.config import ConfigError
from macrobook.envs.ai_adoption import (AIAdoptionConfig, AIAdoptionEconomy, equilibrium, firm_choices, gini,
                                        skill_levels)
from macrobook.nets import ACTIVATIONS, WeierstrassTanh, mlp
from macrobook.recipes.frontiers import routing_specialisation, t_interval, verdict


# ------------------------------------------------------------------ the fractal activation
def _weierstrass_tanh_by_hand(x, a=0.5, b=1.5, c=0.75, n_terms=8):
    series = sum((-1) ** n * a ** n * math.cos(b ** n * math.pi * x) for n in range(n_terms))
    return math.tanh(x) + math.exp(-c * abs(x)) * series


@pytest.mark.parametrize("x", [-3.0, -0.7, 0.0, 0.25, 1.0, 4.0])
def test_weierstrass_tanh_matches_its_definition(x):
    got = float(WeierstrassTanh()(torch.tensor([x]))[0])
    assert got == pytest.approx(_weierstrass_tanh_by_hand(x), abs=1e-5)


def test_weierstrass_tanh_is_tanh_far_from_zero_and_trains():
    f = WeierstrassTanh()
    x = torch.tensor([-30.0, 30.0])
    assert torch.allclose(f(x), torch.tanh(x), atol=1e-8)
    # at 0 the series is sum (-a)^n = (1 - (-a)^N) / (1 + a), not 0: the activation is not tanh there
    assert float(f(torch.zeros(1))) == pytest.approx((1 - 0.5 ** 8) / 1.5, abs=1e-6)
    net = mlp(3, 1, (8, 8), "weierstrass_tanh")
    net(torch.randn(5, 3)).sum().backward()
    assert all(torch.isfinite(p.grad).all() for p in net.parameters())
    assert "weierstrass_tanh" in ACTIVATIONS
    with pytest.raises(ConfigError):
        WeierstrassTanh(a=1.5)


# ------------------------------------------------------------------ the AI-adoption economy
def test_factor_demands_are_the_firms_best_reply():
    # at the closed-form choice no small change of L or K raises profit A X^nu - w L - q K
    cfg = AIAdoptionConfig()
    w, q, tfp = torch.tensor([[1.2]]), torch.tensor([[0.7]]), torch.tensor([4.0])
    _, L, K, Y = (v.double() for v in firm_choices(w, q, tfp, cfg))
    s, th, nu = cfg.sigma, cfg.ai_weight, cfg.returns

    def profit(L, K):
        X = (th ** (1 / s) * K ** ((s - 1) / s) + (1 - th) ** (1 / s) * L ** ((s - 1) / s)) ** (s / (s - 1))
        return 4.0 * X ** nu - 1.2 * L - 0.7 * K

    best = profit(L, K)
    assert float(abs(best - (Y - 1.2 * L - 0.7 * K))) < 1e-4
    for dL, dK in [(1.01, 1), (0.99, 1), (1, 1.01), (1, 0.99)]:
        assert float(profit(L * dL, K * dK)) < float(best)


def test_accounting_identities_hold():
    cfg = AIAdoptionConfig()
    econ = AIAdoptionEconomy(cfg, num_envs=6, device="cpu")
    prices = torch.tensor([2.0, 1.0, 0.5, 0.2, 0.1, 0.05])
    tax = torch.tensor([0.0, 0.3, 0.8, 0.0, 1.5, 0.2])
    eq = equilibrium(prices, tax, cfg, econ.skills, econ.tfp)
    # output = wages + AI rental (incl. tax) + profits; domestic income = household incomes
    q = prices * (1 + tax)
    wage_bill = eq["labour_share"] * eq["output"]
    assert torch.allclose(eq["output"], wage_bill + q * eq["ai_capital"] + eq["profit"], rtol=1e-4)
    assert torch.allclose(eq["income"].mean(-1), eq["domestic_income"], rtol=1e-4)
    assert torch.allclose(eq["domestic_income"], eq["output"] - eq["ai_rental_abroad"], rtol=1e-5)
    # the labour market: employment is at most the supply, and the wage never below the floor
    assert bool((eq["unemployment"] >= -1e-5).all()) and bool((eq["wage"] >= cfg.wage_floor - 1e-5).all())
    # where the wage is above the floor the market clears (no unemployment)
    above = eq["wage"] > cfg.wage_floor + 1e-3
    assert bool((eq["unemployment"][above].abs() < 1e-3).all())


def test_cheaper_ai_lowers_the_labour_share_and_wage_at_a_fixed_policy():
    cfg = AIAdoptionConfig()
    prices = torch.tensor([2.0, 1.0, 0.5, 0.25, 0.12, 0.06])
    econ = AIAdoptionEconomy(cfg, num_envs=len(prices), device="cpu")
    econ.reset(seed=0)
    econ.set_ai_price(prices)
    out = econ.step({"government": torch.full((len(prices), 1, 1), 0.2)})
    share, wage, unemp = out.macro["labour_share"], out.macro["wage"], out.macro["unemployment"]
    assert bool((share[1:] < share[:-1]).all())
    assert bool((wage[1:] <= wage[:-1] + 1e-6).all())
    assert float(unemp[-1]) > 0.05 and float(unemp[0]) < 1e-3


def test_ai_economy_is_seeded_and_prices_fall():
    cfg = AIAdoptionConfig(episode_length=5)
    a, b = (AIAdoptionEconomy(cfg, num_envs=4, device="cpu") for _ in range(2))
    oa, ob = a.reset(seed=3), b.reset(seed=3)
    assert torch.equal(oa["government"], ob["government"])
    act = {"government": torch.zeros(4, 1, 1)}
    p0 = a.ai_price.clone()
    a.step(act)
    assert torch.allclose(a.ai_price, p0 * (1 - cfg.ai_price_decline))
    with pytest.raises(ConfigError):
        AIAdoptionConfig(wage_floor=0.0)


def test_gini_and_skills():
    assert float(gini(torch.tensor([1.0, 1.0, 1.0]))) == pytest.approx(0.0, abs=1e-7)
    assert float(gini(torch.tensor([0.0, 0.0, 0.0, 4.0]))) == pytest.approx(0.75)
    x = torch.rand(7)
    brute = (x[:, None] - x[None, :]).abs().sum() / (2 * 49 * x.mean())
    assert float(gini(x)) == pytest.approx(float(brute), rel=1e-5)
    z = skill_levels(AIAdoptionConfig(num_households=20))
    assert float(z.mean()) == pytest.approx(1.0, rel=1e-5) and bool((z[1:] > z[:-1]).all())


# ------------------------------------------------------------------ distillation and verdicts
def test_distillation_recovers_a_known_linear_rule():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 3))
    y = 0.5 + 1.5 * x[:, 0] - 0.25 * x[:, 2]
    d = distill(x, y, ["inflation", "gap", "lag"])
    assert d["r2_linear"] > 0.999
    assert d["linear"].intercept == pytest.approx(0.5, abs=1e-6)
    np.testing.assert_allclose(d["linear"].coef, [1.5, 0.0, -0.25], atol=1e-6)
    assert "inflation" in str(d["linear"])


def test_tree_finds_a_threshold_rule_a_line_cannot():
    x = np.linspace(-1, 1, 200).reshape(-1, 1)
    y = np.where(x[:, 0] > 0.3, 2.0, -1.0)
    tree = fit_tree(x, y, depth=1)
    assert tree.node[1] == pytest.approx(0.3, abs=0.02)
    assert r_squared(y, tree(x)) > 0.999
    assert r_squared(y, fit_linear(x, y)(x)) < 0.9


def test_verdict_only_outside_the_seed_spread():
    assert verdict([0.10, 0.11, 0.09, 0.10, 0.10], [0.30, 0.31, 0.29, 0.30, 0.32]) == "better"
    assert verdict([0.30, 0.31, 0.29, 0.30, 0.32], [0.10, 0.11, 0.09, 0.10, 0.10]) == "worse"
    assert verdict([0.1, 0.3, 0.2, 0.25, 0.15], [0.12, 0.28, 0.22, 0.2, 0.18]) == "within the seed spread"
    m, lo, hi = t_interval([1.0, 2.0, 3.0])
    assert m == 2.0 and lo < 2.0 < hi


def test_routing_specialisation_bounds():
    assert routing_specialisation(np.eye(3)) == pytest.approx(1.0)
    assert routing_specialisation(np.full((3, 3), 1 / 3)) == pytest.approx(0.0, abs=1e-12)


def test_ai_episodes_restart_with_fresh_prices_and_final_obs():
    cfg = AIAdoptionConfig(episode_length=3)
    econ = AIAdoptionEconomy(cfg, num_envs=5, device="cpu")
    econ.reset(seed=1)
    act = {"government": torch.full((5, 1, 1), 0.5)}
    for t in range(3):
        out = econ.step(act)
        assert bool(out.done.all()) == (t == 2)
    # the observation before the restart carries last period's outcomes; the fresh one starts from zeros
    assert bool((out.info["final_obs"]["government"][:, 0, 1:].abs().sum(-1) > 0).all())
    assert torch.equal(out.obs["government"][:, 0, 1:], torch.zeros(5, 3))
    p = econ.ai_price
    assert bool(((p >= cfg.ai_price_min - 1e-6) & (p <= cfg.ai_price_max + 1e-6)).all())
    # fixed prices survive a restart
    econ.set_ai_price(torch.full((5,), 0.4))
    for _ in range(3):
        econ.step(act)
    assert torch.allclose(econ.ai_price, torch.full((5,), 0.4))
