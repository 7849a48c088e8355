"""The monetary economy: accounting identities every step, goods never oversold, defaults,
reproducibility, the central bank's reward, config errors."""
import dataclasses
import inspect

import numpy as np
import pytest
import torch

from macrobook.config import ConfigError
from macrobook.envs.monetary import MonetaryConfig, MonetaryEconomy, central_bank_loss


def _econ(E=4, **kw):
    cfg = MonetaryConfig(num_banks=3, num_households=30, num_firms=6, sim_length=40, **kw)
    e = MonetaryEconomy(cfg, num_envs=E, device="cpu")
    e.reset(seed=3)
    return e


def _actions(e, g):
    return {k: s.action.sample((e.num_envs, s.count), generator=g) for k, s in e.specs.items()}


def _calm_actions(e):
    """Everyone works, firms hold prices and headcount, banks and the central bank sit mid-grid."""
    E, c = e.num_envs, e.config
    return {"central_bank": torch.full((E, 1), 2, dtype=torch.long),
            "bank": torch.tensor([2, 2, 1]).expand(E, c.num_banks, 3).clone(),
            "household": torch.tensor([2, 0, 1]).expand(E, c.num_households, 3).clone(),
            "firm": torch.tensor([2, 1, 1]).expand(E, c.num_firms, 3).clone()}


def test_balance_sheets_balance_and_money_moves_only_through_banks():
    e = _econ(base_default_rate_annual=0.2)  # plenty of defaults to exercise the write-offs
    g = torch.Generator().manual_seed(0)
    saw_default = saw_lending = saw_resolution = False
    for t in range(20):
        m0 = e.money()
        out = e.step(_actions(e, g))
        f = e.last_flows
        for name, err in e.balance_sheet_errors().items():
            assert err.max().item() < 1e-9, (t, name, err)
        # Money (all deposits) changes only by lending, repayment, seized collateral and the
        # banks' own interest and dividend flows; payments among households and firms net to zero.
        predicted = (f["lending"] - f["principal"] - f["seized"] - f["loan_interest"]
                     + f["deposit_interest"] + f["bank_dividends"] - f["tax"] - f["resolution"])
        torch.testing.assert_close(e.money() - m0, predicted, atol=1e-9, rtol=0)
        # interest on reserves is financed by the tax, so it prints nothing
        torch.testing.assert_close(f["tax"], f["reserve_interest"], atol=1e-9, rtol=0)
        torch.testing.assert_close((f["hh_pay"].sum(1) + f["firm_pay"].sum(1)), f["bank_dividends"] - f["tax"], atol=1e-9, rtol=0)
        assert (f["sold"] <= f["capacity"] + 1e-12).all()
        assert (e.state["firm_deposits"] >= -1e-12).all()
        # a household can be taxed below zero only by this month's lump-sum tax and resolution levy
        lump = (f["tax"].abs() + f["resolution_levy"]).unsqueeze(-1) / e.config.num_households
        assert (e.state["hh_deposits"] >= -lump - 1e-12).all()
        # a failed bank is resolved (bail-in, then a levy): no bank carries negative equity
        assert (e.state["bank_equity"] >= -1e-9).all()
        saw_resolution = saw_resolution or bool((f["resolution"] > 0).any())
        assert (e.state["hh_debt"] >= -1e-12).all()
        # a default writes off exactly the outstanding loan: nothing left, nothing more
        for who in ("hh", "firm"):
            w = f[f"{who}_writeoff"]
            owed = f[f"{who}_debt_before_default"]
            d = w > 0
            torch.testing.assert_close(w[d], owed[d])
            assert (e.state[f"{who}_debt"][d] == 0).all()
            saw_default |= bool(d.any())
        saw_lending |= bool((f["lending"] > 0).any())
        assert set(out.reward) == {"central_bank", "bank", "household", "firm"}
    assert saw_default and saw_lending and saw_resolution


def test_goods_market_uses_this_periods_consumption_choice():
    # same state, two consumption choices: spending must respond in the same step
    lo, hi = _econ(E=1), _econ(E=1)
    a = _calm_actions(lo)
    a_hi = {k: v.clone() for k, v in a.items()}
    a["household"][..., 0] = 0     # 0.9 x plan
    a_hi["household"][..., 0] = 4  # 1.1 x plan
    c_lo = lo.step(a).macro["consumption"].item()
    c_hi = hi.step(a_hi).macro["consumption"].item()
    assert c_hi > 1.15 * c_lo


def test_same_seed_same_numbers_and_different_seed_differs():
    def run(seed):
        e = _econ()
        e.reset(seed=seed)
        g = torch.Generator().manual_seed(7)
        return torch.stack([e.step(_actions(e, g)).macro["output"] for _ in range(15)])
    assert torch.equal(run(1), run(1))
    assert not torch.equal(run(1), run(2))


def _assert_reward_is_the_loss(e, seed, steps, balance_sheets=False):
    """Over ``steps`` random months the central bank's reward equals minus the loss, to float precision."""
    g = torch.Generator().manual_seed(seed)
    c = e.config
    for _ in range(steps):
        out = e.step(_actions(e, g))
        m = out.macro
        loss = central_bank_loss(m["inflation_annual"].double(), c.inflation_target_annual, m["output_gap"].double(),
                                 m["rate_change_annual"].double(), c.output_gap_weight, c.rate_change_weight)
        torch.testing.assert_close(out.reward["central_bank"][:, 0].double(), -loss, rtol=1e-5, atol=1e-4)
        if balance_sheets:
            for name, err in e.balance_sheet_errors().items():
                assert err.max().item() < 1e-9, (name, err)


def test_central_bank_reward_is_the_seed_loss_and_nothing_else():
    _assert_reward_is_the_loss(_econ(E=6), seed=2, steps=12)
    # the loss takes no policy-rate level and no reference rule, and the config has no Taylor knob
    params = set(inspect.signature(central_bank_loss).parameters)
    assert params == {"inflation_annual", "inflation_target_annual", "output_gap", "rate_change_annual",
                      "output_gap_weight", "rate_change_weight"}
    fields = {f.name for f in dataclasses.fields(MonetaryConfig)}
    assert not any(("taylor" in f) or ("reference" in f) or ("phi" in f) for f in fields)
    # the three terms and their weights, in percentage points: a 1 pp inflation miss costs 1,
    # a 1% output gap costs lambda, a 25 bp move costs mu * 0.25^2; at target, no gap, no move: 0
    z = torch.zeros(1, dtype=torch.float64)
    assert central_bank_loss(z + 0.02, 0.02, z, z, 0.5, 0.1).item() == 0.0
    assert central_bank_loss(z + 0.03, 0.02, z, z, 0.5, 0.1).item() == pytest.approx(1.0)
    assert central_bank_loss(z + 0.02, 0.02, z + 0.01, z, 0.5, 0.1).item() == pytest.approx(0.5)
    assert central_bank_loss(z + 0.02, 0.02, z, z + 0.0025, 0.5, 0.1).item() == pytest.approx(0.1 * 0.0625)
    # the economy's source computes the reward from this function alone: no Taylor rate, no phi
    src = inspect.getsource(MonetaryEconomy.transition)
    assert "r_cb = -cb_loss" in src
    assert not any(w in src.lower() for w in ("taylor", "phi_pi", "reference_rate", "rule_rate"))


def test_a_higher_rate_level_lowers_demand_this_month_and_the_reward_sees_it_only_through_the_loss():
    # two economies identical except the policy-rate level: the rate reaches spending in the same
    # month (households' real rate, firms' user cost), and the central bank's reward changes only
    # through inflation, the gap and the rate change (the same move in both), never the level
    a, b = _econ(E=1), _econ(E=1)
    b.state["policy_rate_annual"] = b.state["policy_rate_annual"] + 0.02
    act = _calm_actions(a)  # the rate held in both
    ra, rb = a.step(act), b.step(act)
    ma, mb = ra.macro, rb.macro
    assert mb["consumption"].item() < ma["consumption"].item()
    assert mb["investment"].item() < ma["investment"].item()
    assert mb["output_gap"].item() < ma["output_gap"].item()
    c = a.config
    for out in (ra, rb):
        m = out.macro
        loss = central_bank_loss(m["inflation_annual"].double(), c.inflation_target_annual, m["output_gap"].double(),
                                 m["rate_change_annual"].double(), c.output_gap_weight, c.rate_change_weight)
        torch.testing.assert_close(out.reward["central_bank"][:, 0].double(), -loss, rtol=1e-5, atol=1e-4)


def test_goods_market_uses_this_periods_prices():
    # a firm's price decision this month is what buyers pay this month
    a, b = _econ(E=1), _econ(E=1)
    g = torch.Generator().manual_seed(8)
    act = _actions(a, g)
    act_b = {k: v.clone() for k, v in act.items()}
    act["firm"][..., 0] = 2    # keep prices
    act_b["firm"][..., 0] = 4  # +2%
    ma, mb = a.step(act).macro, b.step(act_b).macro
    assert mb["price_level"].item() == pytest.approx(1.02 * ma["price_level"].item(), rel=1e-6)
    assert mb["price_change_share"].item() == 1.0 and ma["price_change_share"].item() == 0.0


def test_zero_lower_bound_floors_the_policy_rate():
    e = _econ(E=2, initial_policy_rate_annual=0.0)
    g = torch.Generator().manual_seed(5)
    a = _actions(e, g)
    a["central_bank"][:] = 0  # -50 bp
    out = e.step(a)
    assert (out.macro["policy_rate_annual"] >= 0).all()
    e2 = _econ(E=2, initial_policy_rate_annual=0.0, zero_lower_bound=False)
    out2 = e2.step(a)
    assert (out2.macro["policy_rate_annual"] < 0).all()


def test_shocks_move_prices_and_rates():
    a, b = _econ(E=2), _econ(E=2)
    g = torch.Generator().manual_seed(6)
    act = _actions(a, g)
    b.shock("inflation", 0.01)
    ma, mb = a.step(act).macro, b.step(act).macro
    assert (mb["price_level"] > ma["price_level"] * 1.009).all()
    c = _econ(E=2)
    c.shock("policy_rate", 0.0025, mask=torch.tensor([True, False]))
    mc = c.step(act).macro
    assert abs(mc["policy_rate_annual"][0].item() - ma["policy_rate_annual"][0].item() - 0.0025) < 1e-6
    assert mc["policy_rate_annual"][1].item() == ma["policy_rate_annual"][1].item()


def test_cost_push_shocks_move_every_price_by_one_common_draw_and_are_off_by_default():
    assert MonetaryConfig().cost_push_sigma == 0.0
    sigma, E = 0.02, 400
    a, b = _econ(E=E), _econ(E=E, cost_push_sigma=sigma)
    act = _calm_actions(a)                       # firms hold their prices: the index moves only by the shock
    ma, mb = a.step(act).macro, b.step(act).macro
    f = (mb["price_level"].double() / ma["price_level"].double())
    # one draw per economy, the same for every firm: relative prices do not move
    torch.testing.assert_close(b.state["price"] / b.state["price"][:, :1], a.state["price"] / a.state["price"][:, :1])
    z = (f - 1) / sigma
    assert abs(z.mean().item()) < 4 / E**0.5 and 0.85 < z.std().item() < 1.15
    # the month's inflation and the central bank's loss see the shock; the reward is still the loss alone
    assert not torch.equal(ma["inflation_annual"], mb["inflation_annual"])
    _assert_reward_is_the_loss(b, seed=4, steps=10, balance_sheets=True)
    with pytest.raises(ConfigError, match="cost_push_sigma"):
        MonetaryConfig(cost_push_sigma=-0.01)


def test_spaces_follow_seed_002():
    e = _econ()
    assert e.specs["central_bank"].action.n == 5
    import math
    assert math.prod(e.specs["bank"].action.nvec) == 75
    assert math.prod(e.specs["household"].action.nvec) == 30
    assert math.prod(e.specs["firm"].action.nvec) == 45
    d = MonetaryEconomy(MonetaryConfig(), num_envs=1, device="cpu")
    assert (d.specs["bank"].count, d.specs["household"].count, d.specs["firm"].count) == (5, 100, 20)
    assert d.config.sim_length == 120 and d.config.inflation_target_annual == 0.02


@pytest.mark.parametrize("field,value", [("num_households", 0), ("num_banks", -1), ("sim_length", 1),
                                         ("inflation_target_annual", 0.5), ("zero_lower_bound", "yes"),
                                         ("demand_elasticity", 1.0), ("dtype", "float16")])
def test_bad_config_raises_config_error_naming_the_field(field, value):
    with pytest.raises(ConfigError, match=field):
        MonetaryConfig(**{field: value})


def test_crn_impulse_response_is_exactly_zero_before_the_shock_and_without_one():
    from macrobook.analysis.transmission import crn_impulse_response
    from macrobook.recipes.monetary import MonetaryTrainConfig, make_trainer

    cfg = MonetaryConfig(num_banks=2, num_households=12, num_firms=3, sim_length=40)
    tr = make_trainer(MonetaryTrainConfig(num_envs=3, rollout_len=4), cfg, seed=0, device="cpu")
    make = lambda: MonetaryEconomy(cfg, num_envs=3, device="cpu")  # noqa: E731
    none, _ = crn_impulse_response(make, tr.learners, lambda e: None, steps=10, shock_at=4, seed=1)
    assert (none.to_numpy() == 0).all()
    irf, _ = crn_impulse_response(make, tr.learners, lambda e: e.shock("policy_rate", 0.01), steps=10, shock_at=4,
                                  seed=1, relative=("credit",))
    assert (irf.loc[:-1].to_numpy() == 0).all()
    assert irf.loc[0, "policy_rate_annual"] == pytest.approx(0.01, abs=1e-6)


def test_policy_sampler_follows_the_policy_and_shares_draws_across_runs():
    from macrobook.recipes.monetary import TaylorRuleCentralBank
    from macrobook.analysis.transmission import PolicySampler
    from macrobook.recipes.monetary import MonetaryTrainConfig, make_trainer

    cfg = MonetaryConfig(num_banks=2, num_households=50, num_firms=3, sim_length=40)
    tr = make_trainer(MonetaryTrainConfig(num_envs=40, rollout_len=4), cfg, seed=0, device="cpu")
    obs = tr.economy.reset(seed=0)
    a1 = PolicySampler(tr.learners, seed=3)(obs)
    # swapping the central bank for a rule leaves every other type's draws unchanged
    a2 = PolicySampler({**tr.learners, "central_bank": TaylorRuleCentralBank()}, seed=3)(obs)
    for k in ("bank", "household", "firm"):
        assert torch.equal(a1[k], a2[k])
    assert not torch.equal(a1["household"], PolicySampler(tr.learners, seed=4)(obs)["household"])
    # the sampled frequencies match the policy's probabilities (2000 household draws)
    probs = tr.learners["household"].actor.dist(obs["household"]).log_p.exp()[..., 0, :5].mean((0, 1))
    freq = torch.bincount(a1["household"][..., 0].reshape(-1), minlength=5).double() / a1["household"][..., 0].numel()
    assert (freq - probs.double()).abs().max() < 0.05


def test_bench_case_runs_both_ways():
    from macrobook.bench import CASES, run_bench
    from macrobook.bench.monetary import bench_case

    res = run_bench(CASES["monetary"], num_envs_list=(2,), device="cpu", min_seconds=0.01)
    row = res["results"][0]
    assert row["agents_per_env"] == 1 + 5 + 100 + 20 and row["speedup"] > 0
    # a small economy through both paths (a crash in either fails the test)
    case = bench_case(1, torch.device("cpu"), hidden=8, config=MonetaryConfig(num_banks=2, num_households=6, num_firms=3))
    case.batched_step()
    case.loop_step()


def test_a_rate_rise_lowers_output_consumption_and_investment_under_fixed_rules():
    # transmission checked before any learning: Taylor-rule central bank, (S, s) firms,
    # plan-following households, +100 bp decaying by 10% a month, common random numbers
    from macrobook.analysis.transmission import rate_shock_irf
    from macrobook.recipes.monetary import reference_agents

    cfg = MonetaryConfig(sim_length=100)  # seed 002's sizes: 100 households, 20 firms
    # 64 economies: households attend to the real rate slowly (rate_attention), so consumption's fall over
    # the first year is small (about 0.05%) and 16 economies cannot tell it from zero
    irf, per = rate_shock_irf(lambda: MonetaryEconomy(cfg, num_envs=64, device="cpu"), reference_agents(),
                              size=0.01, persistence=0.9, steps=30, shock_at=12, seed=0)
    for col in ("output", "consumption", "investment"):
        x = per[col][13:25].mean(0)  # months 1-12 after the shock, per economy
        assert x.mean() + 2 * x.std(ddof=1) / len(x) ** 0.5 < 0, (col, x.mean())
    # the shock raises the rate on impact (by less than 100 bp where the baseline sits at the lower bound)
    assert 0.005 < irf.loc[0, "policy_rate_annual"] <= 0.01 + 1e-9


def test_rule_firms_best_one_month_deviation_is_interior():
    # the old design's lesson as a test: with production to order the best price change is interior
    from macrobook.analysis.scorecard import price_deviation_test
    from macrobook.recipes.monetary import reference_agents

    cfg = MonetaryConfig(num_households=50, num_firms=10, sim_length=100)
    dev = price_deviation_test(lambda: MonetaryEconomy(cfg, num_envs=16, device="cpu"), reference_agents(), seed=0,
                               at_month=12, deterministic=True)
    assert dev["gains"].shape == (16, 5)
    assert dev["interior_share"] > 0.5


def test_deviation_test_averages_distinct_continuations_and_rejects_no_draws():
    # the best reply is an expectation: draws > 1 average continuations that really differ (other shocks),
    # the first of them being the single-path test's own; the same seed gives the same numbers
    from macrobook.analysis.scorecard import price_deviation_test
    from macrobook.recipes.monetary import reference_agents

    cfg = MonetaryConfig(num_households=30, num_firms=6, sim_length=60)
    make = lambda: MonetaryEconomy(cfg, num_envs=4, device="cpu")  # noqa: E731
    one = price_deviation_test(make, reference_agents(), seed=3, at_month=6, horizon=4, deterministic=True, draws=1)
    two = price_deviation_test(make, reference_agents(), seed=3, at_month=6, horizon=4, deterministic=True, draws=2)
    again = price_deviation_test(make, reference_agents(), seed=3, at_month=6, horizon=4, deterministic=True, draws=2)
    second = 2 * two["gains"] - one["gains"]          # the second continuation's gains alone
    assert two["draws"] == 2 and np.isfinite(second).all()
    assert not np.allclose(second, one["gains"])
    np.testing.assert_array_equal(two["gains"], again["gains"])
    with pytest.raises(ValueError, match="draws"):
        price_deviation_test(make, reference_agents(), seed=3, at_month=6, horizon=4, draws=0)


def test_train_in_phases_runs_every_phase_and_learns_only_the_named_types():
    from macrobook.recipes.monetary import PHASES, MonetaryTrainConfig, train_in_phases

    cfg = MonetaryConfig(num_banks=2, num_households=8, num_firms=3, sim_length=24)
    tr, log = train_in_phases((1, 1, 1, 1), MonetaryTrainConfig(num_envs=2, rollout_len=4), cfg, seed=0)
    assert list(log["phase"]) == [p[0] for p in PHASES]
    assert log.loc[0, "active"] == "firm" and log.loc[2, "active"] == "central_bank"
    assert set(tr.learners) == {"central_bank", "bank", "household", "firm"}
    with pytest.raises(ConfigError, match="iterations"):
        train_in_phases((1, 1), MonetaryTrainConfig(num_envs=2, rollout_len=4), cfg)


def test_phased_trainer_plays_the_rules_and_warm_starts_the_private_sector():
    from macrobook.recipes.monetary import (RandomTaylorRule, TaylorRuleCentralBank, WARM_START_PROB, MonetaryTrainConfig,
                                            make_trainer)

    cfg = MonetaryConfig(num_banks=2, num_households=8, num_firms=3, sim_length=24)
    tr = make_trainer(MonetaryTrainConfig(num_envs=2, rollout_len=4), cfg, seed=0, device="cpu", phases=(2, 1, 0, 1))
    assert [tr.phase_index(i) for i in range(6)] == [0, 0, 1, 3, 3, 3]
    assert isinstance(tr.phase_agents(0)["central_bank"], TaylorRuleCentralBank)
    assert isinstance(tr.phase_agents(1)["central_bank"], RandomTaylorRule)
    assert tr.phase_agents(3)["central_bank"] is tr.learners["central_bank"]
    obs = tr.economy.reset(seed=0)
    hh = tr.learners["household"]
    rule = torch.tensor([2, 0, 1])
    with torch.no_grad():
        before = hh.actor.evaluate(obs["household"].reshape(-1, obs["household"].shape[-1]),
                                   rule.expand(obs["household"].shape[0] * obs["household"].shape[1], 3))[0].exp().mean()
    tr.train(3)
    # at the start of phase 2 households and banks were fitted to their phase-1 rules ...
    rep = tr.warm_start_report
    assert set(rep) == {"household", "bank"} and all(r["prob"] >= WARM_START_PROB for r in rep.values())
    assert float(before) < 0.1   # an untrained policy spreads over 30 actions
    # ... and an outside curriculum (the best-response check) switches the phases off
    tr.curriculum = lambda it, t: ["firm"]
    tr.train(1)
    assert tr.log.iloc[-1]["active"] == "firm"


def test_price_dp_static_optimum_without_costs_and_an_inaction_band_with_them():
    """The firm's dynamic optimum (VFI) against closed forms; tolerances fixed before any run."""
    import numpy as np

    from macrobook.analysis.dp import price_profit, solve_price_dp
    from macrobook.envs.monetary import PRICE_CHANGES

    c = MonetaryConfig()
    # the profit function peaks at the static optimum x = 0 (e/(e-1) mc at the demand it implies)
    x = np.linspace(-0.05, 0.05, 1001)
    prof, rev = price_profit(x, c.demand_elasticity, c.capital_share)
    assert abs(x[prof.argmax()]) <= 1e-4 and abs(rev[500] - 1) < 1e-12
    pi_m = 1.02 ** (1 / 12) - 1
    free = solve_price_dp(c.demand_elasticity, c.capital_share, 0.0, 0.0, pi_m, 0.95, PRICE_CHANGES)
    g = free.gap_grid[np.abs(free.gap_grid) < 0.1]
    static = np.abs(g[:, None] + np.log1p(np.array(PRICE_CHANGES))[None, :]).argmin(1)
    assert np.mean(free.policy(g) == static) >= 0.95
    bands = []
    for menu in (0.0005, c.menu_cost, 0.01):
        r = solve_price_dp(c.demand_elasticity, c.capital_share, menu, c.rotemberg_cost, pi_m, 0.95, PRICE_CHANGES)
        assert r.sup_change < 1e-8
        lo, hi = r.inaction_band()
        assert lo < 0 < hi
        bands.append(hi - lo)
        # far from the optimum the firm always moves toward it by the largest step
        assert PRICE_CHANGES[int(r.policy(-0.08))] == 0.02 and PRICE_CHANGES[int(r.policy(0.08))] == -0.02
    assert bands[0] < bands[1] < bands[2]          # a larger menu cost widens the band
    assert bands[1] >= 0.01                        # the book's costs make gaps under 1% not worth closing


def test_a_currency_reform_changes_nothing_real():
    """redenominate divides every nominal entry by the price index: the economy is homogeneous of
    degree zero in them, so the next months' real outcomes and rewards are the same to rounding."""
    from macrobook.analysis.scorecard import _clone
    from macrobook.envs.monetary import redenominate

    cfg = MonetaryConfig(num_banks=2, num_households=12, num_firms=4, sim_length=40)
    a = MonetaryEconomy(cfg, num_envs=3, device="cpu")
    a.reset(seed=3)
    g = torch.Generator().manual_seed(3)
    sample = lambda: {k: s.action.sample((3, s.count), generator=g) for k, s in a.specs.items()}  # noqa: E731
    for _ in range(5):
        a.step(sample())
    a.state["price_history"] = a.state["price_history"] * 1.0  # the index is not 1 after 5 months
    b = _clone(a)
    f = redenominate(b.state, beyond=1.0 + 1e-12)           # reform now, whatever the index
    assert bool((f != 1).all())
    assert torch.allclose(b.state["price_history"][:, -1], torch.ones(3, dtype=torch.float64))
    for _ in range(6):
        acts = sample()
        ra, rb = a.step(acts), b.step(acts)
        for k in ("output", "inflation_annual", "unemployment", "output_gap", "consumption", "cb_loss", "real_wage"):
            assert torch.allclose(ra.macro[k], rb.macro[k], rtol=1e-4, atol=1e-6), k
        for k in ra.reward:
            assert torch.allclose(ra.reward[k], rb.reward[k], rtol=1e-4, atol=1e-5), k
        for v in b.balance_sheet_errors().values():
            assert float(v.max()) < 1e-6


def test_bank_reward_is_bounded_and_matches_hand_computation():
    from macrobook.envs.monetary import bank_reward_fn
    P, scale = torch.tensor([[2.0]], dtype=torch.float64), torch.tensor([[0.5]], dtype=torch.float64)  # first book 50 (real)
    profit = torch.tensor([[1.0, 1.0, 1.0, 1.0]], dtype=torch.float64)
    equity = torch.tensor([[0.0, 0.0, 8.0, 100.0]], dtype=torch.float64)
    loans = torch.tensor([[1e-12, 1e6, 100.0, 100.0]], dtype=torch.float64)
    r = bank_reward_fn(profit, equity, loans, P, scale, 0.08, 50.0)
    # profit / P / scale = 1; the floor is 100 * 0.5 * 2 = 100 (nominal)
    want = torch.tensor([[1 - 50 * 0.08, 1 - 50 * 0.08, 1 - 50 * (0.08 - 8 / 100), 1.0]], dtype=torch.float64)
    torch.testing.assert_close(r, want)
    # with equity >= 0 the penalty never exceeds kappa * nu, however small or large the book
    lo = torch.logspace(-15, 15, 61, dtype=torch.float64).reshape(1, -1)
    pen = 1 - bank_reward_fn(torch.ones_like(lo), torch.zeros_like(lo), lo, P, scale, 0.08, 50.0)
    assert torch.isfinite(pen).all() and (pen <= 50 * 0.08 + 1e-12).all() and (pen >= 0).all()
    # the real-units form coincides with the ratio form for a bank whose book is its first one
    first = torch.tensor([[100.0]], dtype=torch.float64)
    e = torch.tensor([[3.0]], dtype=torch.float64)
    torch.testing.assert_close(bank_reward_fn(profit[:, :1], e, first, P, scale, 0.08, 50.0),
                               bank_reward_fn(profit[:, :1], e, first, P, scale, 0.08, 50.0, form="shortfall"))


def test_bail_in_share_is_pro_rata_and_capped():
    from macrobook.envs.monetary import bail_in_share
    equity = torch.tensor([[-5.0, 2.0, -50.0, -1.0]], dtype=torch.float64)
    deposits = torch.tensor([[20.0, 20.0, 10.0, 0.0]], dtype=torch.float64)
    torch.testing.assert_close(bail_in_share(equity, deposits), torch.tensor([[0.25, 0.0, 1.0, 0.0]], dtype=torch.float64))
