"""The six-sector economy: national accounts, money, balance sheets, loop reference, seeds, configs."""
import dataclasses

import numpy as np

import pytest
import torch

from macrobook.config import ConfigError
from macrobook.envs.six_sector import (SHOCKS, SixSectorConfig, SixSectorEconomy, bank_balance_gap,
                                       central_bank_balance_gap, gov_debt, money_stock, step_draws, transition)
from macrobook.bench.six_sector import transition_loop

torch.set_num_threads(1)

CFG = SixSectorConfig(num_households=6, num_firms=3, episode_len=12)


def _run(policy: str, steps: int = 30, num_envs: int = 8, seed: int = 0, cfg=CFG):
    """Yield (state_before, StepResult) for a random or reference policy, across auto-resets."""
    econ = SixSectorEconomy(cfg, num_envs=num_envs, device="cpu")
    econ.reset(seed=seed)
    torch.manual_seed(seed)
    for _ in range(steps):
        before = econ.state
        a = econ.sample_actions() if policy == "random" else econ.reference_actions()
        yield before, econ.step(a)


@pytest.mark.parametrize("policy", ["random", "reference"])
def test_gdp_expenditure_identity_every_step(policy):
    # GDP (production: sum of p_j y_j) = C + I + G + X - M (expenditure), relative error < 1e-6
    for _, out in _run(policy):
        m = out.info["flows"]
        expenditure = m["consumption"] + m["investment"] + m["government_spending"] + m["exports"] - m["imports"]
        rel = ((expenditure - m["gdp"]).abs() / m["gdp"].abs()).max()
        assert rel < 1e-6, rel
        assert torch.allclose(out.macro["trade_balance"], out.macro["exports"] - out.macro["imports"], atol=1e-4)


@pytest.mark.parametrize("policy", ["random", "reference"])
def test_money_created_only_where_the_model_says(policy):
    # d(deposits) = loans issued - repaid - seized - loan interest + deposit interest + bank dividends
    #               - reserve-interest tax + monetized deficit; deficits are otherwise bond-financed
    for before, out in _run(policy):
        f, after = out.info["flows"], out.info["state_after"]
        change = money_stock(after) - money_stock(before)
        booked = (f["loans_issued"] - f["loans_repaid"] - f["seized"] - f["loan_interest_paid"] + f["deposit_interest"]
                  + f["bank_dividends"] - f["reserve_tax"] + f["monetized"])
        scale = money_stock(before).abs()
        assert ((change - booked).abs() / scale).max() < 1e-9
        # the bank's and the central bank's balance sheets balance; public debt grows by the deficit
        assert (bank_balance_gap(after).abs() / scale).max() < 1e-9
        assert (central_bank_balance_gap(after).abs() / scale).max() < 1e-9
        assert ((gov_debt(after) - gov_debt(before) - f["deficit"]).abs() / scale).max() < 1e-9
        assert torch.allclose(f["bonds_sold"] + f["monetized"], f["deficit"], rtol=0, atol=1e-9 * float(scale.max()))
    if policy == "reference":   # households absorb the bonds: the central bank prints nothing
        assert float(f["monetized"].abs().max()) < 1e-12 * float(scale.max())


def test_money_is_unchanged_by_transfers_between_non_banks():
    # with no interest, no lending, no bank payout and a balanced budget, deposits only move around
    cfg = SixSectorConfig(num_households=4, num_firms=2, loan_repayment_rate=0.0, default_base=0.0,
                          bank_payout=0.0, deposit_passthrough=0.0)
    econ = SixSectorEconomy(cfg, num_envs=4, device="cpu")
    econ.reset(seed=3)
    a = econ.reference_actions()
    a["central_bank"][:] = 0.0
    a["bank"][:] = 0.0
    a["government"][..., 1] = 0.0     # no spending ...
    a["government"][..., 0] = 0.0     # ... and no taxes
    a["household"][..., 0] = 0.1      # spend little so firms stay liquid (no overdraft loans)
    a["firm"][..., 1] = 0.0           # no investment (it would be financed by loans)
    before = econ.state
    out = econ.step(a)
    f = out.info["flows"]
    assert float(f["loans_issued"].abs().max()) == 0.0
    assert torch.allclose(money_stock(out.info["state_after"]), money_stock(before), rtol=1e-12, atol=0)


def test_no_forbidden_negative_balances_or_inventories():
    for _, out in _run("random", steps=40):
        s = out.info["state_after"]
        for name in ("hh_deposits", "hh_bonds", "firm_deposits", "loans", "capital"):
            assert float(getattr(s, name).min()) >= -1e-9, name
        # a firm never sells more than it can make
        assert bool((s.last_sales <= s.last_capacity * (1 + 1e-12)).all())
        u = out.macro["unemployment"]
        assert float(u.min()) >= 0.0 and float(u.max()) <= 1.0


def test_batched_step_matches_per_agent_loop_reference():
    cfg = SixSectorConfig(num_households=5, num_firms=3)
    econ = SixSectorEconomy(cfg, num_envs=3, device="cpu")
    econ.reset(seed=1)
    torch.manual_seed(1)
    econ.set_shock("government_spending", 0.03)
    econ.set_shock("foreign_demand", -0.1)
    for _ in range(6):
        a = econ.sample_actions()
        d = step_draws(cfg, 3, econ.rand, econ.randn)
        n1, f1, r1 = transition(econ.state, a, d, econ.shocks, cfg)
        n2, f2, r2 = transition_loop(econ.state, a, d, econ.shocks, cfg)
        for fld in dataclasses.fields(n1):
            x, y = getattr(n1, fld.name).double(), getattr(n2, fld.name).double()
            assert torch.allclose(x, y, rtol=1e-10, atol=1e-10), fld.name
        for k in f2:
            assert torch.allclose(f1[k], f2[k], rtol=1e-10, atol=1e-10), k
        for k in r2:
            assert torch.allclose(r1[k], r2[k], rtol=1e-10, atol=1e-9), k
        econ.state = n1


def test_same_seed_same_numbers_and_different_seed_differs():
    def trace(seed):
        return torch.stack([out.macro["gdp"] for _, out in _run("reference", steps=15, seed=seed)])

    assert torch.equal(trace(5), trace(5))
    assert not torch.equal(trace(5), trace(6))


def test_macro_has_the_required_aggregates_and_shapes():
    econ = SixSectorEconomy(CFG, num_envs=2, device="cpu")
    obs = econ.reset(seed=0)
    for k, spec in econ.specs.items():
        assert obs[k].shape == (2, spec.count, spec.obs_dim)
        assert len(spec.obs_names) == spec.obs_dim
    out = econ.step(econ.reference_actions())
    for k in ("gdp", "consumption", "investment", "government_spending", "exports", "imports", "inflation",
              "unemployment", "policy_rate", "tax_rate", "trade_balance"):
        assert out.macro[k].shape == (2,), k
        assert torch.isfinite(out.macro[k]).all(), k
    for k, r in out.reward.items():
        assert r.shape == (2, econ.specs[k].count)


def test_episode_ends_and_economies_auto_reset():
    econ = SixSectorEconomy(SixSectorConfig(num_households=3, num_firms=2, episode_len=3), num_envs=2, device="cpu")
    econ.reset(seed=0)
    dones = [bool(econ.step(econ.reference_actions()).done.all()) for _ in range(6)]
    assert dones == [False, False, True, False, False, True]
    assert int(econ.state.t.max()) == 0


def test_economics_signs_and_timing():
    # a higher policy rate appreciates the currency at once; a spending shock raises the deficit
    # and, as firms produce to order, real GDP within the quarter; lower foreign demand cuts the
    # trade balance
    def one_step(shock, size):
        econ = SixSectorEconomy(CFG, num_envs=16, device="cpu")
        econ.reset(seed=2)
        if shock:
            econ.set_shock(shock, size)
        return econ.step(econ.reference_actions()).macro

    base = one_step(None, 0.0)
    tight = one_step("policy_rate", 0.01)
    stim = one_step("government_spending", 0.05)
    lowx = one_step("foreign_demand", -0.2)
    assert bool((tight["exchange_rate"] < base["exchange_rate"]).all())
    assert bool((stim["deficit_to_gdp"] > base["deficit_to_gdp"]).all())
    assert bool((stim["government_spending"] > base["government_spending"]).all())
    assert bool((stim["real_gdp"] > base["real_gdp"]).all())
    assert bool((lowx["trade_balance"] < base["trade_balance"]).all())


@pytest.mark.parametrize("field,value", [("num_households", 0), ("num_firms", -1), ("price_elasticity", 0.5),
                                         ("dtype", "float16"), ("import_share", 0.9), ("depreciation", 1.5),
                                         ("tfp_persistence", 1.0)])
def test_bad_config_raises_config_error_naming_the_field(field, value):
    with pytest.raises(ConfigError, match=field):
        SixSectorConfig(**{field: value})


def test_bad_actions_and_shocks_raise():
    econ = SixSectorEconomy(CFG, num_envs=2, device="cpu")
    econ.reset(seed=0)
    a = econ.reference_actions()
    a["central_bank"][:] = 0.5   # outside [0, 0.03]
    with pytest.raises(ConfigError):
        econ.step(a)
    with pytest.raises(ConfigError, match="shock"):
        econ.set_shock("earthquake", 1.0)
    assert set(SHOCKS) >= {"government_spending", "policy_rate", "foreign_demand"}


# ----------------------------------------------------------------- impulse responses (macrobook.analysis.impulse)
from macrobook.analysis.impulse import impulse_response, shock_path  # noqa: E402


def _ref_policy(econ):
    return lambda obs: econ.reference_actions()


def test_zero_shock_gives_exactly_zero_response_with_common_random_numbers():
    econ = SixSectorEconomy(CFG, num_envs=6, device="cpu")
    shock = shock_path(lambda e, v: e.set_shock("policy_rate", v), size=0.0)
    irf = impulse_response(econ, _ref_policy(econ), shock, horizon=5, burn_in=3, seed=4)
    assert float(irf.frame["response"].abs().max()) == 0.0


def test_fiscal_stimulus_response_and_crn_beats_independent_draws():
    econ = SixSectorEconomy(CFG, num_envs=16, device="cpu")
    shock = shock_path(lambda e, v: e.set_shock("government_spending", v), size=0.05, persistence=0.7)
    irf = impulse_response(econ, _ref_policy(econ), shock, horizon=6, burn_in=3, seed=0,
                           variables=["real_gdp", "government_spending", "deficit_to_gdp"])
    w = irf.wide()
    assert w.loc[0, "government_spending"] > 0 and w.loc[0, "deficit_to_gdp"] > 0
    # firms make to order: the extra demand is produced at once
    assert w.loc[0, "real_gdp"] > 0
    # the same comparison with independent seeds is far noisier than with common random numbers
    crn_sd = irf.per_env["real_gdp"][0].std()
    other = impulse_response(econ, _ref_policy(econ), shock_path(lambda e, v: None, 0.0), horizon=6, burn_in=3,
                             seed=1, variables=["real_gdp"])
    indep = irf.shocked["real_gdp"][0] - other.baseline["real_gdp"][0]
    assert crn_sd < indep.std()


def test_impulse_rejects_unknown_variables():
    econ = SixSectorEconomy(CFG, num_envs=2, device="cpu")
    with pytest.raises(ConfigError, match="unknown macro"):
        impulse_response(econ, _ref_policy(econ), shock_path(lambda e, v: None, 0.0), horizon=2, burn_in=0,
                         variables=["happiness"])


def test_relative_response_is_nan_without_warnings_where_the_baseline_is_zero():
    # a government that spends nothing has spending 0 in the baseline, so a relative response of
    # spending is undefined there; it must come out as NaN with n counting the defined ones
    import warnings

    econ = SixSectorEconomy(CFG, num_envs=4, device="cpu")

    def no_hiring_in_first_two(obs):
        a = econ.reference_actions()
        a["government"][:2, :, 1] = 0.0    # economies 0 and 1: no government spending
        return a

    shock = shock_path(lambda e, v: e.set_shock("government_spending", v), size=0.05, persistence=0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")     # a RuntimeWarning (mean of empty slice, ...) fails the test
        irf = impulse_response(econ, no_hiring_in_first_two, shock, horizon=3, burn_in=2, seed=0,
                               variables=["government_spending", "deficit_to_gdp"], relative=["government_spending"])
    g = irf.per_env["government_spending"]
    assert np.isnan(g[:, :2]).all() and np.isfinite(g[:, 2:]).all()
    rows = irf.frame[irf.frame.variable == "government_spending"]
    assert (rows["n"] == 2).all()
    assert np.allclose(rows["response"], g[:, 2:].mean(1))
    assert np.allclose(rows["se"], g[:, 2:].std(1, ddof=1) / np.sqrt(2))
    # with a single defined economy the standard error is undefined (NaN), again without a warning
    econ1 = SixSectorEconomy(CFG, num_envs=1, device="cpu")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        one = impulse_response(econ1, _ref_policy(econ1), shock, horizon=2, burn_in=1, seed=0, variables=["real_gdp"],
                               relative=["real_gdp"])
    assert one.frame["se"].isna().all() and one.frame["response"].notna().all()


def test_observations_and_ratios_stay_finite_when_output_collapses():
    # a productivity collapse leaves firms no capacity: GDP is ~0, but every observation the actors
    # see and every reported ratio must stay finite and of ordinary size (ratios are to potential GDP)
    econ = SixSectorEconomy(CFG, num_envs=3, device="cpu")
    econ.reset(seed=0)
    econ.set_shock("tfp", -40.0)
    for _ in range(5):
        out = econ.step(econ.reference_actions())
    assert float(out.macro["real_gdp"].abs().max()) < 1e-6
    for k, o in out.obs.items():
        assert torch.isfinite(o).all() and float(o.abs().max()) < 1e3, k
    for k in ("trade_balance_to_gdp", "deficit_to_gdp"):
        assert torch.isfinite(out.macro[k]).all() and float(out.macro[k].abs().max()) < 10, k


# ----------------------------------------------------------------- observations stay bounded when the economy collapses
def test_observations_stay_finite_and_clipped_in_a_collapsing_economy():
    from macrobook.envs.six_sector import OBS_CLIP

    econ = SixSectorEconomy(CFG, num_envs=4, device="cpu")
    econ.reset(seed=0)
    a = econ.reference_actions()
    a["household"][..., 1] = 0.5    # the fewest hours a household can offer
    econ.set_shock("tfp", -40.0)     # no capacity: output and GDP fall to ~zero
    for _ in range(5):
        out = econ.step(a)
    assert float(out.macro["real_gdp"].abs().max()) < 1e-6
    for k, o in out.obs.items():
        assert torch.isfinite(o).all(), k
        assert float(o.abs().max()) <= OBS_CLIP, k
    for k, r in out.reward.items():
        assert torch.isfinite(r).all(), k


# ----------------------------------------------------------------- the chapter maps every box of seed 000's skeleton
def test_every_skeleton_box_maps_to_code_that_exists():
    import importlib
    import json
    import re
    from pathlib import Path

    from macrobook.algos.maddpg import MADDPG

    root = Path(__file__).resolve().parents[1]
    nb = next(p for d in ("notebooks", "drafts/notebooks") for p in (root / d).glob("03_six_sector_maddpg.ipynb"))
    text = "".join("".join(c["source"]) for c in json.loads(nb.read_text())["cells"] if c["cell_type"] == "markdown")
    table = text.split("## From the skeleton to the code")[1].split("\n## ")[0]
    rows = [r for r in table.splitlines() if r.startswith("| `")]
    boxes = {re.match(r"\| `([^`]*)`", r).group(1) for r in rows}
    for box in ("class Environment", "class Agent", "Agent.Actor", "Agent.Critic", "HouseholdsAgent(Agent)",
                "FirmsAgent(Agent)", "GovernmentAgent(Agent)", "CentralBankAgent(Agent)",
                "FinancialSectorAgent(Agent)", "ForeignCountry(Agent)", "class Controller", "def train()",
                "def visualize()"):
        assert any(b.startswith(box.split("(")[0]) for b in boxes), f"skeleton box {box} is not in the table"
    names = set(re.findall(r"`(macrobook(?:\.\w+)+)`", table))
    assert len(names) >= 8
    for name in names:   # every dotted name in the table imports
        parts = name.split(".")
        for i in range(len(parts), 0, -1):
            try:
                obj = importlib.import_module(".".join(parts[:i]))
            except ModuleNotFoundError:
                continue
            for attr in parts[i:]:
                obj = getattr(obj, attr)   # AttributeError names the missing box
            break
    econ = SixSectorEconomy(CFG, num_envs=1, device="cpu")
    learner = MADDPG(econ.specs)
    for t in re.findall(r'learner\.types\["(\w+)"\]', table):   # every sector agent is a learner type
        assert t in learner.types and t in econ.specs
    assert "def visualize(" in nb.read_text()


# ----------------------------------------------------------------- python -m macrobook bench six_sector --json
def test_bench_six_sector_json(capsys):
    import json

    from macrobook.cli import main

    assert main(["bench", "six_sector", "--json", "--num-envs", "1", "3", "--min-seconds", "0.01"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["economy"] == "six_sector" and [r["num_envs"] for r in out["results"]] == [1, 3]
    default = SixSectorConfig()   # the bench's economy: households + firms + 4 single agents
    for r in out["results"]:
        assert r["agents_per_env"] == default.num_households + default.num_firms + 4
        assert r["batched_agent_steps_per_s"] > 0 and r["loop_agent_steps_per_s"] > 0
        assert abs(r["speedup"] - r["batched_agent_steps_per_s"] / r["loop_agent_steps_per_s"]) < 1e-6 * r["speedup"]


def test_price_first_order_condition_points_to_the_markup_over_marginal_cost():
    # CES demand (elasticity 6) and production to order: a firm priced far above the optimal markup
    # over marginal cost gains by cutting (the gain from a one-point rise is negative), one priced far
    # below gains by raising; the optimum is interior, not at an end of the box
    from macrobook.envs.six_sector import price_rise_gain

    def gain(price_scale):
        econ = SixSectorEconomy(CFG, num_envs=8, device="cpu")
        econ.reset(seed=3)
        s = econ.state
        s.price = s.price * price_scale
        s.p_dom = s.p_dom * price_scale
        s.cpi = s.cpi * price_scale
        s.foreign_price = s.foreign_price * price_scale
        s.hh_deposits = s.hh_deposits * price_scale
        s.hh_bonds = s.hh_bonds * price_scale
        s.hh_net_income = s.hh_net_income * price_scale
        a = econ.reference_actions()
        a["firm"][..., 0] = 0.0
        d = step_draws(CFG, econ.num_envs, econ.rand, econ.randn)
        new, f, _ = transition(s, a, d, econ.shocks, CFG)
        assert float(f["sold_out"].max()) == 0.0       # demand is below capacity everywhere
        g = price_rise_gain(s, a, d, econ.shocks, CFG)
        assert g.shape == (8, CFG.num_firms)
        return g

    assert bool((gain(1.6) < 0).all())     # 60% above the flexible price (wage fixed): cut
    assert bool((gain(0.7) > 0).all())     # 30% below: raise


# ----------------------------------------------------------------- the chapter's scorecard
def test_six_sector_scorecard_passes_and_fails_on_its_fixed_ranges():
    import json

    from macrobook.analysis.scorecard import card_json
    from macrobook.analysis.six_sector_scorecard import six_sector_card

    rng = np.random.default_rng(0)
    up, down = 1.0 + 0.1 * rng.standard_normal((8, 16)), -0.5 + 0.1 * rng.standard_normal((8, 16))
    good = six_sector_card(seed=0, sold_out_share=0.02, inflation_annual_pct=2.0, box_end_share=0.1, money_drift=1.2,
                           fiscal_response=up, rate_response=down, price_gain=0.001)
    assert good["passed"] == good["total"] == 7
    bad = six_sector_card(seed=1, sold_out_share=0.5, inflation_annual_pct=17.0, box_end_share=0.6, money_drift=3.0,
                          fiscal_response=down, rate_response=up, price_gain=0.05)
    assert bad["passed"] == 0
    noisy = six_sector_card(seed=2, sold_out_share=0.02, inflation_annual_pct=2.0, box_end_share=0.1, money_drift=1.2,
                            fiscal_response=0.01 + rng.standard_normal((8, 16)), rate_response=down, price_gain=0.0)
    assert {c["name"]: c["pass"] for c in noisy["checks"]}["fiscal_output_response"] is False  # within 2 s.e. of 0
    assert json.loads(card_json(good))["economy"] == "six_sector"


# ----------------------------------------------------------------- Chapter 3's coordination task and comparison
def test_signal_game_pays_coordination_and_compare_learners_measures_every_learner():
    from macrobook.algos.maddpg import MADDPG, MADDPGConfig
    from macrobook.recipes.six_sector import SignalGame, compare_learners

    game = SignalGame(num_followers=2, num_envs=4)
    obs = game.reset(seed=0)
    signal = obs["leader"][:, 0, 0]
    assert torch.equal(obs["follower"][:, :, 0], signal[:, None].expand(4, 2))     # followers see the signal
    perfect = {"leader": signal[:, None, None].clone(), "follower": signal[:, None, None].expand(4, 2, 1).clone()}
    out = game.step(perfect)
    assert float(out.reward["leader"].abs().max()) == 0.0 and float(out.reward["follower"].abs().max()) == 0.0
    off = {"leader": perfect["leader"] + 0.5, "follower": perfect["follower"]}
    out = game.step(off)                 # a fresh signal each period: compare with the state it was paid on
    assert bool((out.reward["follower"] < 0).all())

    def make(central):
        return lambda specs, seed: MADDPG(specs, MADDPGConfig(centralized=central, gamma=0.0, learning_starts=8,
                                                              batch_size=8, hidden=(8,)), seed=seed)

    table = compare_learners(lambda: SignalGame(num_envs=4), {"MADDPG": make(True), "DDPG": make(False)},
                             seeds=[0, 1], iterations=12, eval_steps=2)
    assert list(table["learner"]) == ["MADDPG", "MADDPG", "DDPG", "DDPG"]
    for col in ("reward/leader", "reward/follower", "critic_loss/leader", "critic_loss/follower"):
        assert table[col].notna().all(), col


def test_euler_tilt_a_higher_real_rate_lowers_planned_spending_and_is_neutral_at_the_reference():
    """Households' spending at given actions: a real rate above the reference lowers it by
    exp(-ies x horizon x gap); at the reference real rate the tilt is exactly one."""
    from macrobook.envs.six_sector import euler_tilt, initial_state, reset_draws, step_draws, transition

    cfg = SixSectorConfig(num_households=4, num_firms=2)
    assert euler_tilt(cfg.reference_real_rate, cfg) == 1.0
    assert euler_tilt(cfg.reference_real_rate + 0.0025, cfg) == pytest.approx(np.exp(-cfg.ies * cfg.rate_horizon * 0.0025))
    econ = SixSectorEconomy(cfg, num_envs=3, device="cpu")
    econ.reset(seed=0)
    act = econ.reference_actions()
    g = torch.Generator().manual_seed(1)
    draws = step_draws(cfg, 3, lambda *s: torch.rand(s, generator=g), lambda *s: torch.randn(s, generator=g))
    s0 = econ.state
    spent = {}
    for ies in (0.0, 1.0):
        c = dataclasses.replace(cfg, ies=ies)
        shocks = {k: torch.zeros(3, dtype=torch.float64) for k in SHOCKS}
        shocks["policy_rate"] = torch.full((3,), 0.01, dtype=torch.float64)   # real rate 1 point above the reference
        _, f, _ = transition(s0, act, draws, shocks, c)
        spent[ies] = f["consumption"]
    assert bool((spent[1.0] < spent[0.0]).all())
    # at the reference real rate (no shock, inflation at target) the tilt changes nothing
    same = []
    for ies in (0.0, 1.0):
        c = dataclasses.replace(cfg, ies=ies)
        _, f, _ = transition(s0, act, draws, {k: torch.zeros(3, dtype=torch.float64) for k in SHOCKS}, c)
        same.append(f["consumption"])
    assert torch.allclose(same[0], same[1], rtol=1e-8, atol=0)   # the float32 action 0.01 is 0.01 - 2e-10


def test_passive_tax_rule_returns_public_debt_towards_its_target():
    """The passive rule (Leeper 1991) must pull public debt back towards its target whatever the
    government's own tax base: start with debt at twice its target under the reference policy and a
    government that sets the lowest tax base its box allows but half the time; within 20 quarters
    the debt gap has more than halved (with the earlier response of 0.2 it had not)."""
    def gap_after(response):
        cfg = SixSectorConfig(num_households=6, num_firms=3, episode_len=60, tax_debt_response=response)
        econ = SixSectorEconomy(cfg, num_envs=4, device="cpu")
        econ.reset(seed=0)
        econ.state.hh_bonds = 2.0 * econ.state.hh_bonds                 # debt at 2 x 60% of annual GDP
        gap0 = float((gov_debt(econ.state) / (4 * econ.state.p_dom * econ.state.ref_gdp) - cfg.debt_target).mean())
        for t in range(20):
            a = econ.reference_actions()
            a["government"][..., 0] = 0.0 if t % 2 == 0 else 0.3         # a government that cuts taxes often
            out = econ.step(a)
        return float(out.macro["debt_to_gdp"].mean()) - cfg.debt_target, gap0

    gap, gap0 = gap_after(SixSectorConfig().tax_debt_response)
    assert gap0 > 0.5 and abs(gap) < 0.5 * gap0, (gap, gap0)
    weak, _ = gap_after(0.2)
    assert weak > 0.5 * gap0, (weak, gap0)   # the test can fail: the old rule does not get there


def test_nominal_anchor_accounts_close():
    """The diagnostic of money / nominal GDP and inflation (recipes.six_sector.nominal_anchor): the
    change of money by holder equals its change by booked channel (the money identity), and CPI
    inflation is 80% domestic price change and 20% import prices."""
    from macrobook.recipes.six_sector import nominal_anchor

    cfg = SixSectorConfig(num_households=6, num_firms=3, episode_len=16)
    econ = SixSectorEconomy(cfg, num_envs=4, device="cpu")
    torch.manual_seed(0)
    for pol in (lambda o: econ.reference_actions(), lambda o: econ.sample_actions()):
        r = nominal_anchor(econ, pol, seed=3)
        holders = sum(r[f"{k} (% of initial money)"] for k in ("households' deposits", "firms' deposits",
                                                               "foreign deposits"))
        booked = sum(v for k, v in r.items() if k.startswith("booked: "))
        assert holders == pytest.approx(booked, abs=1e-6)
        cpi = ((1 - cfg.import_share) * r["firms' price change (% a year)"]
               + cfg.import_share * r["import prices (% a year)"])
        assert r["CPI inflation (% a year)"] == pytest.approx(cpi, abs=0.5)
        assert 0 <= r["quarter of the lowest money / nominal GDP"] < cfg.episode_len
