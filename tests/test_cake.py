"""The consumption-savings economy (macrobook.envs.cake) and its ground truth (macrobook.analysis.dp)."""
import math

import numpy as np
import pytest
import torch

from macrobook.analysis.dp import solve_vfi
from macrobook.config import ConfigError
from macrobook.envs.cake import CakeConfig, CakeEatingEconomy, budget, mean_relative_error


def _run(cfg, seed, steps=60, num_envs=64):
    econ = CakeEatingEconomy(cfg, num_envs=num_envs, device="cpu")
    obs = econ.reset(seed=seed)
    g = torch.Generator().manual_seed(seed)
    out_obs, rewards, dones, macros = [obs["household"]], [], [], []
    for _ in range(steps):
        share = cfg.share_min + (cfg.share_max - cfg.share_min) * torch.rand(num_envs, 1, 1, generator=g)
        out = econ.step({"household": share})
        out_obs.append(out.obs["household"])
        rewards.append(out.reward["household"])
        dones.append(out.done)
        macros.append(out.macro)
    return torch.stack(out_obs), torch.stack(rewards), torch.stack(dones), macros


@pytest.mark.parametrize("income", ["none", "iid"])
def test_wealth_never_negative_and_consumption_within_wealth(income):
    cfg = CakeConfig(income=income)
    obs, rewards, dones, macros = _run(cfg, seed=3, steps=200)
    assert torch.isfinite(obs).all() and torch.isfinite(rewards).all()
    for m in macros:
        assert (m["wealth"] > 0).all()
        assert (m["consumption"] > 0).all()
        assert (m["consumption"] <= m["wealth"] * cfg.share_max * (1 + 1e-5)).all()
    assert dones.any(), "households should die (episodes end) at rate 1 - beta"
    # the death rate is 1 - beta: 200 * 64 draws at 0.1 each
    assert abs(dones.float().mean().item() - (1 - cfg.beta)) < 0.02


def test_same_seed_same_numbers_and_different_seed_differs():
    for income in ["none", "iid"]:
        cfg = CakeConfig(income=income)
        a, b, c = _run(cfg, 7), _run(cfg, 7), _run(cfg, 8)
        assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1]) and torch.equal(a[2], b[2])
        assert not torch.equal(a[0], c[0])


def test_budget_constraint_holds_step_by_step():
    """W' = R (W - c) (+ y): what the economy reports matches the budget identity."""
    cfg = CakeConfig(gross_return=1.05, income="iid", death_prob=0.01)
    econ = CakeEatingEconomy(cfg, num_envs=32, device="cpu")
    obs = econ.reset(seed=0)
    share = torch.full((32, 1, 1), 0.3)
    for _ in range(20):
        w = obs["household"].exp().squeeze(-1)
        out = econ.step({"household": share})
        c = out.reward["household"].exp()
        w_next = out.info["final_obs"]["household"].exp().squeeze(-1)
        income = out.macro["income"].unsqueeze(-1)
        assert torch.allclose(c, 0.3 * w, rtol=1e-5)
        assert torch.allclose(w_next, cfg.gross_return * (w - c) + income, rtol=1e-4)
        obs = out.obs
    c, w1 = budget(torch.tensor([2.0]), torch.tensor([0.25]), 1.0)
    assert float(c) == 0.5 and float(w1) == 1.5


def test_restart_only_where_done():
    cfg = CakeConfig(death_prob=0.05)
    econ = CakeEatingEconomy(cfg, num_envs=256, device="cpu")
    econ.reset(seed=1)
    out = econ.step({"household": torch.full((256, 1, 1), 0.2)})
    same = torch.isclose(out.obs["household"], out.info["final_obs"]["household"]).all(-1).all(-1)
    assert torch.equal(~same, out.done)


@pytest.mark.parametrize("bad", [
    dict(beta=1.0), dict(beta=0.0), dict(income="lognormal"), dict(share_min=0.5, share_max=0.4),
    dict(wealth_min=2.0, wealth_max=1.0), dict(income_low=2.0, income_high=1.0), dict(num_households=0),
    dict(death_prob=0.5), dict(beta=0.995, share_min=0.01), dict(gross_return=-1.0),
])
def test_bad_config_raises_config_error_naming_the_field(bad):
    with pytest.raises(ConfigError) as e:
        CakeConfig(**bad)
    assert "CakeConfig." in str(e.value)


def test_bad_action_raises():
    econ = CakeEatingEconomy(CakeConfig(), num_envs=4, device="cpu")
    econ.reset(seed=0)
    with pytest.raises(ConfigError):
        econ.step({"household": torch.full((4, 1, 1), 1.5)})


def test_vfi_matches_closed_form_tightly():
    """Deterministic cake eating: VFI recovers c = (1 - beta) W and V(W) = A + log W / (1 - beta)."""
    for beta, R in [(0.9, 1.0), (0.95, 1.03)]:
        cfg = CakeConfig(beta=beta, gross_return=R)
        sol = solve_vfi(cfg, grid_size=120)
        g = cfg.wealth_grid(50)
        err = mean_relative_error(sol.policy_consumption(g), cfg.optimal_consumption(g))
        assert err < 1e-4, err
        v_err = np.max(np.abs(sol.value_at(g) - cfg.optimal_value(g)))
        assert v_err < 1e-4 * abs(cfg.optimal_value(1.0)), v_err


def test_vfi_stochastic_income_satisfies_euler_equation():
    """Buffer-stock saver: where the borrowing limit does not bind, 1/c = beta R E[1/c'] (Deaton 1991)."""
    cfg = CakeConfig(income="iid")
    sol = solve_vfi(cfg, grid_size=200)
    w = np.geomspace(1.0, cfg.wealth_max, 25)
    share = sol.policy_share(w)
    assert (share < cfg.share_max - 1e-3).all()
    c = share * w
    rhs = 0.0
    for y, p in cfg.income_values():
        rhs = rhs + p / sol.policy_consumption(cfg.gross_return * (w - c) + y)
    euler_gap = np.abs(1.0 / c - cfg.beta * cfg.gross_return * rhs) * c
    assert euler_gap.max() < 0.02, euler_gap.max()
    # poorer households consume a larger share of cash on hand (precautionary saving)
    assert np.all(np.diff(sol.policy_share(cfg.wealth_grid(30))) <= 1e-6)
    # and the deterministic rule is not the answer here
    assert mean_relative_error(sol.policy_consumption(w), (1 - cfg.beta) * w) > 0.5


def test_mean_relative_error_is_the_metric_we_say():
    assert mean_relative_error([1.1, 0.9], [1.0, 1.0]) == pytest.approx(0.1)
