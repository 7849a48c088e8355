"""The Cournot economy: closed forms, market clearing, the batched step vs a per-agent loop,
seeding, auto-reset, configuration errors."""
import math

import pytest
import torch

from macrobook.config import ConfigError
from macrobook.envs.cournot import (
    CournotConfig,
    CournotEconomy,
    best_response_on_grid,
    clear_market,
    expected_profit_on_grid,
)
from macrobook.bench.cournot import cournot_step_loop

torch.set_num_threads(1)


@pytest.mark.parametrize("n", [1, 2, 5, 10])
def test_closed_forms_are_fixed_points(n):
    cfg = CournotConfig(num_firms=n, demand_intercept=12.0, demand_slope=0.5, marginal_cost=2.0)
    qn = cfg.nash_quantity()
    # Nash: each firm's quantity is its best response to the others' total
    assert cfg.best_response((n - 1) * qn) == pytest.approx(qn, rel=1e-12)
    # Collusion maximises joint profit: total output is the monopoly output (a - c) / (2b)
    assert n * cfg.collusive_quantity() == pytest.approx((12.0 - 2.0) / (2 * 0.5))
    qs = torch.linspace(0, cfg.competitive_quantity(), 2001).tolist()
    joint = [n * cfg.profit(q, (n - 1) * q) for q in qs]
    best_sym = qs[max(range(len(qs)), key=joint.__getitem__)]
    assert best_sym == pytest.approx(cfg.collusive_quantity(), abs=cfg.competitive_quantity() / 1000)
    # Colluding pays more per firm than Nash (strictly once n >= 2), and Nash pays more than P = c
    if n >= 2:
        assert cfg.collusive_profit() > cfg.nash_profit() > 0
        assert cfg.collusive_quantity() < qn < cfg.competitive_quantity()
    else:
        assert cfg.collusive_quantity() == pytest.approx(qn)
    # price at the competitive output equals marginal cost
    assert cfg.price(n * cfg.competitive_quantity()) == pytest.approx(cfg.marginal_cost)


def test_a_deviation_from_nash_never_pays_and_from_collusion_does():
    cfg = CournotConfig(num_firms=3)
    grid = torch.linspace(0, cfg.quantity_cap, 5001).tolist()
    qn, qm = cfg.nash_quantity(), cfg.collusive_quantity()
    assert max(cfg.profit(q, 2 * qn) for q in grid) <= cfg.nash_profit() + 1e-9
    gain = max(cfg.profit(q, 2 * qm) for q in grid) - cfg.collusive_profit()
    assert gain > 0.1  # collusion is not an equilibrium of the one-shot game


def test_market_clearing_price_floor_and_accounting():
    cfg = CournotConfig(num_firms=3, demand_intercept=10.0, demand_slope=1.0, marginal_cost=1.0)
    q = torch.tensor([[1.0, 2.0, 3.0], [5.0, 5.0, 5.0], [0.0, 0.0, 0.0]])
    price, profit = clear_market(q, cfg)
    assert price.tolist() == pytest.approx([4.0, 0.0, 10.0])  # floored at zero, a at zero output
    assert profit[0].tolist() == pytest.approx([3.0, 6.0, 9.0])
    assert profit[1].tolist() == pytest.approx([-5.0, -5.0, -5.0])  # P = 0 < c: a loss per unit
    # revenue identity: sum of profits = (P - c) Q
    assert profit.sum(-1).tolist() == pytest.approx(((price - 1.0) * q.sum(-1)).tolist())


@pytest.mark.parametrize("action_space", ["discrete", "box"])
@pytest.mark.parametrize("separate_types", [False, True])
def test_batched_step_agrees_with_per_agent_loop(action_space, separate_types):
    cfg = CournotConfig(num_firms=4, action_space=action_space, separate_types=separate_types)
    econ = CournotEconomy(cfg, num_envs=16, device="cpu")
    econ.reset(seed=3)
    for _ in range(5):
        actions = econ.sample_actions()
        out = econ.step(actions)
        q = econ.quantities(actions)
        prices, profits = cournot_step_loop(cfg, q.tolist())
        assert out.macro["price"].tolist() == pytest.approx(prices, abs=1e-5)
        got = torch.cat([out.reward[k] for k in econ.specs], dim=1)
        assert got.tolist() == [pytest.approx(p, abs=1e-4) for p in profits]
        assert out.macro["total_profit"].tolist() == pytest.approx([sum(p) for p in profits], abs=1e-4)


def test_discrete_grid_and_shapes():
    cfg = CournotConfig(num_firms=2, num_quantities=91)
    econ = CournotEconomy(cfg, num_envs=7, device="cpu")
    obs = econ.reset(seed=0)
    assert obs["firm"].shape == (7, 2, 4)
    spec = econ.specs["firm"]
    assert spec.count == 2 and spec.action.n == 91
    assert spec.action.values[0] == 0.0 and spec.action.values[-1] == pytest.approx(cfg.quantity_cap)
    # the grid resolves Nash from collusion: more than 5 grid steps apart
    step = cfg.quantity_cap / 90
    assert (cfg.nash_quantity() - cfg.collusive_quantity()) / step > 5
    a = torch.full((7, 2), 30, dtype=torch.long)
    out = econ.step({"firm": a})
    assert torch.allclose(out.macro["total_output"], torch.full((7,), 2 * 30 * step))
    assert out.reward["firm"].shape == (7, 2) and out.done.shape == (7,) and out.done.dtype == torch.bool
    assert set(out.macro) == set(CournotEconomy.macro_units)


def test_observation_reports_last_period():
    cfg = CournotConfig(num_firms=3, separate_types=True)
    econ = CournotEconomy(cfg, num_envs=2, device="cpu")
    econ.reset(seed=0)
    idx = {"firm_0": torch.tensor([[10], [0]]), "firm_1": torch.tensor([[20], [0]]), "firm_2": torch.tensor([[30], [0]])}
    out = econ.step(idx)
    q = econ.grid[torch.tensor([[10, 20, 30], [0, 0, 0]])]
    price, _ = clear_market(q, cfg)
    o1 = out.obs["firm_1"][:, 0]
    assert o1[:, 0].tolist() == pytest.approx((price / cfg.demand_intercept).tolist())
    assert o1[:, 1].tolist() == pytest.approx((q[:, 1] / cfg.quantity_cap).tolist())
    assert o1[:, 2].tolist() == pytest.approx(((q[:, 0] + q[:, 2]) / 2 / cfg.quantity_cap).tolist())
    assert o1[:, 3].tolist() == pytest.approx([1 / cfg.episode_length] * 2)


def test_episodes_end_and_auto_reset():
    cfg = CournotConfig(num_firms=2, episode_length=3)
    econ = CournotEconomy(cfg, num_envs=4, device="cpu")
    econ.reset(seed=1)
    dones = []
    for _ in range(6):
        out = econ.step(econ.sample_actions())
        dones.append(bool(out.done.all()))
        if out.done.any():
            # the returned observation starts the new episode: period 0
            assert torch.all(out.obs["firm"][..., 3] == 0)
            assert torch.allclose(out.info["final_obs"]["firm"][..., 3], torch.ones(4, 2))
    assert dones == [False, False, True, False, False, True]


def test_same_seed_same_numbers():
    def run(seed):
        econ = CournotEconomy(CournotConfig(num_firms=3, action_space="box"), num_envs=5, device="cpu")
        obs = [econ.reset(seed=seed)["firm"]]
        g = torch.Generator().manual_seed(7)
        for _ in range(20):
            a = torch.rand(5, 3, 1, generator=g) * econ.q_max
            obs.append(econ.step({"firm": a}).obs["firm"])
        return torch.stack(obs)

    assert torch.equal(run(4), run(4))
    assert not torch.equal(run(4), run(5))


def test_best_response_on_grid_matches_closed_form_and_handles_the_price_floor():
    cfg = CournotConfig(num_firms=2, num_quantities=1001)
    for others in [0.0, 2.0, 4.5, 8.0]:
        br = best_response_on_grid(torch.tensor([others]), cfg)
        assert br == pytest.approx(cfg.best_response(others), abs=cfg.quantity_cap / 1000)
    # against a rival who plays 0 or 9 with equal odds the price floor binds in one case, so
    # the best reply is not the best reply to the mean (4.5)
    mixed = torch.tensor([0.0, 9.0])
    br_mixed = best_response_on_grid(mixed, cfg)
    assert br_mixed != pytest.approx(cfg.best_response(4.5), abs=0.05)
    ev = expected_profit_on_grid(mixed, cfg)
    assert float(ev.max()) == pytest.approx(
        max(0.5 * (cfg.profit(q, 0.0) + cfg.profit(q, 9.0)) for q in cfg.quantity_grid().tolist()), rel=1e-5)


@pytest.mark.parametrize(
    "field,value,words",
    [
        ("num_firms", 0, "num_firms"),
        ("demand_slope", 0.0, "demand_slope"),
        ("demand_intercept", -1.0, "demand_intercept"),
        ("marginal_cost", 20.0, "marginal_cost"),
        ("action_space", "continuous", "action_space"),
        ("num_quantities", 1, "num_quantities"),
        ("max_quantity", -3.0, "max_quantity"),
        ("episode_length", 0, "episode_length"),
        ("demand_slope", math.inf, "demand_slope"),
    ],
)
def test_bad_config_names_the_field(field, value, words):
    with pytest.raises(ConfigError, match=words) as e:
        CournotConfig(**{field: value})
    assert repr(value) in str(e.value) or str(value) in str(e.value)


def test_bad_actions_are_refused():
    econ = CournotEconomy(CournotConfig(num_firms=2), num_envs=3, device="cpu")
    econ.reset(seed=0)
    with pytest.raises(ConfigError, match="shape"):
        econ.step({"firm": torch.zeros(3, 3, dtype=torch.long)})
    with pytest.raises(ConfigError, match="outside"):
        econ.step({"firm": torch.full((3, 2), 101, dtype=torch.long)})


@pytest.mark.parametrize("action_space", ["discrete", "box"])
def test_python_loop_reference_follows_the_batched_economy(action_space):
    """The per-agent loop that the bench times computes the same economy, period by period."""
    from macrobook.bench.cournot import CournotLoop

    cfg = CournotConfig(num_firms=3, action_space=action_space, episode_length=5)
    econ = CournotEconomy(cfg, num_envs=6, device="cpu")
    obs = econ.reset(seed=2)["firm"]
    loop = CournotLoop(cfg, econ.last_quantity.tolist())
    assert torch.allclose(torch.tensor(loop.observe()), obs, atol=1e-6)
    for t in range(4):  # within one episode (restarts draw different random starts)
        actions = econ.sample_actions()
        out = econ.step(actions)
        lobs, lprofit, ldone = loop.step(econ.quantities(actions).tolist())
        assert torch.allclose(torch.tensor(lobs), out.obs["firm"], atol=1e-5)
        assert torch.allclose(torch.tensor(lprofit), out.reward["firm"], atol=1e-4)
        assert ldone == out.done.tolist()
    out = econ.step(econ.sample_actions())
    _, _, ldone = loop.step(econ.quantities(econ.sample_actions()).tolist())
    assert ldone == out.done.tolist() == [True] * 6


def test_bench_case_runs_both_ways():
    from macrobook.bench import CASES, run_bench

    res = run_bench(CASES["cournot"], num_envs_list=(2,), device="cpu", min_seconds=0.05)
    row = res["results"][0]
    assert row["num_envs"] == 2 and row["agents_per_env"] == 10
    assert row["batched_agent_steps_per_s"] > 0 and row["loop_agent_steps_per_s"] > 0
    assert row["speedup"] == pytest.approx(row["batched_agent_steps_per_s"] / row["loop_agent_steps_per_s"])
