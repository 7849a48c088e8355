"""Diverseland (Chapter 5): accounting, markets that never sell more than they can make, the batched
step against a per-agent reference loop, rewards, and the hybrid link measured with common random
numbers (a stated expectation moves wages and prices; a rate rise lowers spending)."""
import math

import numpy as np
import pytest
import torch

from macrobook.bench.diverseland import reference_quarter
from macrobook.config import ConfigError
from macrobook.envs.diverseland import Diverseland, DiverselandConfig

torch.set_num_threads(1)


def _random_actions(econ, gen):
    return {k: s.action.low + (s.action.high - s.action.low) * torch.rand((econ.num_envs, s.count) + tuple(s.action.shape),
                                                                           generator=gen)
            for k, s in econ.specs.items()}


def test_money_identity_interest_never_printed_and_markets_never_oversell():
    econ = Diverseland(DiverselandConfig(episode_len=1000), num_envs=16, device="cpu")
    econ.reset(seed=0)
    gen = torch.Generator().manual_seed(1)
    for _ in range(40):
        out = econ.step(_random_actions(econ, gen))
        m, i = out.macro, out.info
        scale = m["money"].abs().clamp_min(1.0)
        # deposits change by the stimulus minus the fiscal rule's tax: interest moves money, creates none
        assert ((m["money_change"] - (m["transfer"] - m["repayment_tax"])).abs() / scale < 1e-5).all()
        assert torch.allclose(m["interest_paid"], m["interest_tax"], rtol=1e-5, atol=1e-4)
        # production to order: never more than capacity; every unit sold is bought; nobody pays more than it spends
        assert (i["sold"] <= i["capacity"] * (1 + 1e-6)).all()
        assert torch.allclose(i["bought"].sum(1), i["sold"], rtol=1e-5)
        assert (i["paid"] <= i["spend"] * (1 + 1e-5) + 1e-4).all()
        assert torch.allclose(i["paid"].sum(-1), i["revenue"].sum(-1), rtol=1e-5)
        # government debt is the money households hold
        assert torch.allclose(econ.state.debt, econ.state.deposits.sum(-1), rtol=1e-4, atol=1e-2)


def test_batched_step_equals_the_per_agent_reference_loop():
    econ = Diverseland(DiverselandConfig(episode_len=1000), num_envs=5, device="cpu")
    econ.reset(seed=3)
    gen = torch.Generator().manual_seed(2)
    for _ in range(6):
        acts = _random_actions(econ, gen)
        g = torch.Generator()
        g.set_state(econ.generator.get_state())
        prod_draw, exp_draw = torch.randn((5, 3), generator=g), torch.randn((5, 3), generator=g)
        refs = [reference_quarter(econ, e, acts, prod_draw[e], exp_draw[e]) for e in range(5)]
        out = econ.step(acts)
        s = econ.state
        for e, r in enumerate(refs):
            np.testing.assert_allclose(s.deposits[e].numpy(), r["deposits"], rtol=2e-4, atol=1e-3)
            np.testing.assert_allclose(s.wage[e].numpy(), r["wage"], rtol=1e-5)
            np.testing.assert_allclose(s.prices[e].numpy(), r["prices"], rtol=1e-5)
            np.testing.assert_allclose(out.info["sold"][e].numpy(), r["sold"], rtol=1e-4)
            np.testing.assert_allclose(float(s.inflation[e]), r["inflation"], atol=1e-5)
            np.testing.assert_allclose(float(s.output_gap[e]), r["output_gap"], atol=1e-5)
            np.testing.assert_allclose(s.expectation_annual[e].numpy(), r["expectation"], atol=1e-5)
            np.testing.assert_allclose(out.reward["household"][e].numpy(), r["reward_household"], atol=1e-4)


def test_rewards_firm_profit_peaks_inside_its_box_and_households_like_consuming():
    """With the others at the starting rules, the firm's one-quarter reward is highest at an interior
    markup (demand is price-elastic against the fringe), and a household that spends more of its cash
    this quarter consumes and scores more this quarter."""
    rewards = []
    grid = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5]
    for mk in grid:
        econ = Diverseland(DiverselandConfig(rotemberg=0.0), num_envs=4, device="cpu")
        econ.reset(seed=0)
        acts = {"household": torch.full((4, 3, 1), 0.6), "firm": torch.full((4, 1, 3), mk),
                "government": torch.zeros(4, 1, 1), "central_bank": torch.full((4, 1, 1), 0.04)}
        rewards.append(float(econ.step(acts).reward["firm"].mean()))
    best = int(np.argmax(rewards))
    assert 0 < best < len(grid) - 1, rewards
    r = []
    for share in (0.4, 0.8):
        econ = Diverseland(num_envs=2, device="cpu")
        econ.reset(seed=0)
        acts = {"household": torch.full((2, 3, 1), share), "firm": torch.full((2, 1, 3), 0.2),
                "government": torch.zeros(2, 1, 1), "central_bank": torch.full((2, 1, 1), 0.04)}
        r.append(econ.step(acts).reward["household"])
    assert (r[1] > r[0]).all()


def test_output_gap_takes_both_signs_and_same_seed_same_numbers():
    def run(seed):
        econ = Diverseland(DiverselandConfig(episode_len=1000), num_envs=8, device="cpu")
        econ.reset(seed=seed)
        gen = torch.Generator().manual_seed(5)
        return torch.stack([econ.step(_random_actions(econ, gen)).macro["output_gap"] for _ in range(20)])
    a = run(0)
    assert (a > 0).any() and (a < 0).any()
    assert torch.equal(a, run(0)) and not torch.equal(a, run(1))


def test_currency_reform_keeps_real_quantities():
    """Far out of the band the price level is divided out: inflation and the output gap are unchanged."""
    def one(scale):
        econ = Diverseland(num_envs=2, device="cpu")
        econ.reset(seed=0)
        s = econ.state
        for name in ("prices", "deposits", "wage", "cpi", "nominal_output", "debt", "dividend"):
            setattr(s, name, getattr(s, name) * scale)
        acts = {"household": torch.full((2, 3, 1), 0.6), "firm": torch.full((2, 1, 3), 0.2),
                "government": torch.zeros(2, 1, 1), "central_bank": torch.full((2, 1, 1), 0.04)}
        return econ.step(acts).macro
    a, b = one(1.0), one(1e5)
    assert float(b["redenomination"][0]) == pytest.approx(1e5, rel=1e-4)
    assert torch.allclose(a["inflation_annual"], b["inflation_annual"], atol=1e-4)
    assert torch.allclose(a["output_gap"], b["output_gap"], atol=1e-5)


def test_bad_config_is_one_clear_line():
    for kw, field in [({"catch_up": 2.0}, "catch_up"), ({"variety_elasticity": 1.0}, "variety_elasticity"),
                      ({"initial_prices": (1.0, 2.0)}, "initial_prices")]:
        with pytest.raises(ConfigError, match=field) as e:
            DiverselandConfig(**kw)
        assert "\n" not in str(e.value)


def test_hybrid_link_with_common_random_numbers():
    """Under the textbook starting rules: household A stating +1 pp raises wages and prices (more than
    2 s.e. from zero; the wage index by about a third of A's quarterly 0.25% in the first quarter), and
    +100 bp lowers real spending. Pairs share every random draw, so without a shock they are identical."""
    from macrobook.analysis.hybrid import paired_effect
    from macrobook.llm.diverseland import starting_rules

    cfg = DiverselandConfig(episode_len=10**6)
    mk = lambda: Diverseland(cfg, num_envs=16, device="cpu")  # noqa: E731
    zero = paired_effect(mk, starting_rules, "stated_expectation_A", 0.0, start=4, duration=4, horizon=4)
    assert all(np.abs(v).max() == 0 for v in zero.paths.values())
    ex = paired_effect(mk, starting_rules, "stated_expectation_A", 0.01, start=4, duration=4, horizon=4)
    w, w_se = ex.mean_se("wages", 0, 3)
    p, p_se = ex.mean_se("prices", 0, 3)
    assert w - 2 * w_se > 0 and p - 2 * p_se > 0
    first = ex.paths["wages"][0].mean()
    assert first == pytest.approx(100 * (math.log1p(((1.01 + 0.02) ** 0.25 - (1.02) ** 0.25) / 1.02 ** 0.25) / 3), rel=0.05)
    ra = paired_effect(mk, starting_rules, "policy_rate", 0.01, start=4, duration=4, horizon=4)
    r, r_se = ra.mean_se("real_spending", 0, 3)
    assert r + 2 * r_se < 0
