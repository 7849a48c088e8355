"""The monetary economy: accounting identities every step, goods never oversold, defaults,
reproducibility, the central bank's reward, config errors."""
import dataclasses
import inspect

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


def test_balance_sheets_balance_and_money_moves_only_through_banks():
    e = _econ(base_default_rate_annual=0.2)  # plenty of defaults to exercise the write-offs
    g = torch.Generator().manual_seed(0)
    saw_default = saw_lending = False
    for t in range(20):
        m0 = e.money()
        out = e.step(_actions(e, g))
        f = e.last_flows
        for name, err in e.balance_sheet_errors().items():
            assert err.max().item() < 1e-9, (t, name, err)
        # Money (all deposits) changes only by lending, repayment, seized collateral and the
        # banks' own interest and dividend flows; payments among households and firms net to zero.
        predicted = (f["lending"] - f["principal"] - f["seized"] - f["loan_interest"]
                     + f["deposit_interest"] + f["bank_dividends"])
        torch.testing.assert_close(e.money() - m0, predicted, atol=1e-9, rtol=0)
        torch.testing.assert_close((f["hh_pay"].sum(1) + f["firm_pay"].sum(1)), f["bank_dividends"], atol=1e-9, rtol=0)
        assert (f["sold"] <= f["stock"] + 1e-12).all()
        assert (e.state["hh_deposits"] >= -1e-12).all() and (e.state["firm_deposits"] >= -1e-12).all()
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
    assert saw_default and saw_lending


def test_goods_market_uses_this_periods_consumption_choice():
    # same state, two consumption choices: spending must respond in the same step
    lo, hi = _econ(E=1), _econ(E=1)
    g = torch.Generator().manual_seed(1)
    a = _actions(lo, g)
    a_hi = {k: v.clone() for k, v in a.items()}
    a["household"][..., 0] = 0
    a_hi["household"][..., 0] = 4
    c_lo = lo.step(a).macro["consumption"].item()
    c_hi = hi.step(a_hi).macro["consumption"].item()
    assert c_hi > 1.5 * c_lo


def test_same_seed_same_numbers_and_different_seed_differs():
    def run(seed):
        e = _econ()
        e.reset(seed=seed)
        g = torch.Generator().manual_seed(7)
        return torch.stack([e.step(_actions(e, g)).macro["output"] for _ in range(15)])
    assert torch.equal(run(1), run(1))
    assert not torch.equal(run(1), run(2))


def test_central_bank_reward_is_the_seed_loss_and_nothing_else():
    e = _econ(E=6)
    g = torch.Generator().manual_seed(2)
    c = e.config
    for _ in range(12):
        out = e.step(_actions(e, g))
        m = out.macro
        loss = central_bank_loss(m["inflation_annual"].double(), c.inflation_target_annual, m["output_gap"].double(),
                                 m["rate_change_annual"].double(), c.output_gap_weight, c.rate_change_weight)
        torch.testing.assert_close(out.reward["central_bank"][:, 0].double(), -loss, rtol=1e-5, atol=1e-4)
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
    src = inspect.getsource(MonetaryEconomy._step)
    assert "r_cb = -cb_loss" in src
    assert not any(w in src.lower() for w in ("taylor", "phi_pi", "reference_rate", "rule_rate"))


def test_central_bank_reward_does_not_depend_on_the_rate_level():
    # two economies identical except the policy-rate level: before anything reacts to the
    # rate, the central bank's reward in the step must match exactly when its inputs match
    a, b = _econ(E=1), _econ(E=1)
    b.state["policy_rate_annual"] = b.state["policy_rate_annual"] + 0.05
    g = torch.Generator().manual_seed(4)
    act = _actions(a, g)
    ra, rb = a.step(act), b.step(act)
    ma, mb = ra.macro, rb.macro
    same_inputs = (torch.isclose(ma["inflation_annual"], mb["inflation_annual"]) & torch.isclose(ma["output_gap"], mb["output_gap"]))
    assert bool(same_inputs.all())
    torch.testing.assert_close(ra.reward["central_bank"], rb.reward["central_bank"])


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
