"""Invariants of the RBC economy (Curry et al. 2022): accounting, rationing, importer, seeds."""
import pytest
import torch

from macrobook.config import ConfigError
from macrobook.bench.rbc import reference_step_loop
from macrobook.envs.rbc import RBCConfig, RBCEconomy, budget_scaled_demand, export_sales, ration

torch.set_num_threads(1)


def random_run(variant="open", E=8, steps=25, seed=0, **cfg):
    econ = RBCEconomy(RBCConfig(variant=variant, **cfg), num_envs=E, device="cpu")
    econ.reset(seed=seed)
    g = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(steps):
        a = {k: s.action.sample((E, s.count), generator=g) for k, s in econ.specs.items()}
        before = econ.state.clone()
        step = econ.step(a)
        out.append((before, a, step, econ.state.clone()))
    return econ, out


def test_shapes_and_specs():
    econ = RBCEconomy(RBCConfig(), num_envs=3, device="cpu")
    obs = econ.reset(seed=0)
    assert econ.specs["consumer"].count == 100 and econ.specs["firm"].count == 10
    assert econ.specs["government"].count == 1
    assert econ.specs["firm"].action.n == 30 and econ.specs["government"].action.n == 36
    assert econ.specs["consumer"].action.nvec == (11,) * 10 + (5, 10)
    for k, s in econ.specs.items():
        assert obs[k].shape == (3, s.count, s.obs_dim)
        assert len(s.obs_names) == s.obs_dim
    # theta_j = 0.01 / ParetoPPF(j/100, 4): spans about 0.0032..0.01 and falls with j
    assert econ.theta[0].item() == pytest.approx(0.01)
    assert 0.003 < econ.theta[-1].item() < 0.0035
    assert bool((econ.theta[1:] < econ.theta[:-1]).all())
    assert econ.alpha.tolist() == pytest.approx([0.2, 0.3, 0.4, 0.6, 0.8] * 2)
    assert econ.state.capital[0].tolist() == [5000.0] * 5 + [10000.0] * 5


@pytest.mark.parametrize("variant", ["open", "closed"])
def test_accounting_invariants(variant):
    econ, out = random_run(variant)
    n = econ.num_consumers
    for before, a, step, after in out:
        info = step.info
        # inventories and consumer budgets never negative
        assert bool((after.inventory >= 0).all())
        assert bool((after.consumer_budget >= 0).all())
        # government budget zero: all revenue is paid back
        rev = info["tax_revenue"]
        assert torch.allclose(info["transfer"] * n, rev, rtol=1e-6, atol=1e-3)
        assert bool((step.macro["government_budget"].abs() <= 1e-6 * rev.abs() + 1e-3).all())
        # revenue is exactly income tax + corporate tax
        assert torch.allclose(rev, info["income_tax_paid"].sum(1) + info["corporate_tax_paid"].sum(1), rtol=1e-6)
        # a market never sells more than it holds
        assert bool((info["sales"] + info["exports"] <= info["stock_before"] + 1e-3).all())
        # spending never exceeds the start-of-step budget
        assert bool((info["spending"] <= before.consumer_budget * (1 + 1e-5) + 1e-3).all())


def test_each_consumer_receives_revenue_over_n():
    econ, out = random_run("open", steps=3, initial_income_tax=0.4, initial_corporate_tax=0.2)
    before, a, step, after = out[0]
    info = step.info
    n = econ.num_consumers
    # budget' = budget - spending + (1 - tau) wage hours + revenue / n (no interest)
    expected = (before.consumer_budget - info["spending"] + info["hours"] * before.wage.gather(1, info["employer"])
                * (1 - before.income_tax[:, None]) + (info["tax_revenue"] / n)[:, None])
    assert torch.allclose(after.consumer_budget, expected, rtol=1e-5, atol=1e-2)
    assert bool((info["tax_revenue"] > 0).all())


def test_rationing_allocations_sum_to_stock():
    demand = torch.tensor([[[3.0, 0.0], [1.0, 1.0], [4.0, 2.0]]])  # [E=1, n=3, G=2]
    stock = torch.tensor([[4.0, 10.0]])
    alloc, over = ration(demand, stock)
    assert over.tolist() == [[True, False]]
    assert alloc[0, :, 0].sum().item() == pytest.approx(4.0)
    assert alloc[0, :, 0].tolist() == pytest.approx([1.5, 0.5, 2.0])  # in proportion to demand
    assert alloc[0, :, 1].tolist() == [0.0, 1.0, 2.0]                 # not rationed: demand met
    # inside the economy: a rationed good sells its whole stock and the stock left is zero
    econ, out = random_run("closed", steps=20)
    seen = 0
    for before, a, step, after in out:
        info = step.info
        over = info["overdemanded"]
        if over.any():
            seen += int(over.sum())
            s = info["consumed"].sum(1)
            assert torch.allclose(s[over], info["stock_before"][over], rtol=1e-5)
            assert bool((after.inventory[over] == info["production"][over]).all() | (step.done.any()))
    assert seen > 0, "random play should overdemand some good"


def test_budget_scaling_of_over_budget_demand():
    demand = torch.tensor([[[10.0, 10.0], [1.0, 0.0]]])
    prices = torch.tensor([[100.0, 300.0]])
    budget = torch.tensor([[2000.0, 5000.0]])
    out = budget_scaled_demand(demand, prices, budget)
    # consumer 0 wants 4000 of goods with 2000: every demand halves; consumer 1 is within budget
    assert out[0, 0].tolist() == pytest.approx([5.0, 5.0])
    assert out[0, 1].tolist() == [1.0, 0.0]
    assert (out[0, 0] * prices[0]).sum().item() == pytest.approx(2000.0)
    # a consumer with nothing buys nothing, except free goods
    z = budget_scaled_demand(torch.tensor([[[2.0, 2.0]]]), torch.tensor([[0.0, 100.0]]), torch.tensor([[0.0]]))
    assert z.tolist() == [[[0.0, 0.0]]]


def test_open_vs_closed_importer():
    stock_left = torch.tensor([[50.0, 500.0, 500.0, 0.0]])
    prices = torch.tensor([[500.0, 1000.0, 0.0, 2500.0]])
    ex = export_sales(stock_left, prices, 500.0, 100.0)
    assert ex.tolist() == [[50.0, 100.0, 0.0, 0.0]]  # min(stock, 100) when price >= 500
    # in the economy: no consumer demand, firms with stock sell to the importer only when open
    for variant in ("open", "closed"):
        econ = RBCEconomy(RBCConfig(variant=variant), num_envs=2, device="cpu")
        econ.reset(seed=0)
        econ.state.inventory[:] = 250.0
        econ.state.price[:] = torch.tensor([0.0, 500.0, 1000.0, 1500.0, 2000.0, 2500.0, 400.0, 499.0, 500.0, 2500.0])
        a = {"consumer": torch.zeros(2, 100, 12, dtype=torch.long),
             "firm": torch.zeros(2, 10, dtype=torch.long), "government": torch.zeros(2, 1, dtype=torch.long)}
        step = econ.step(a)
        exports = step.info["exports"][0]
        if variant == "open":
            assert exports.tolist() == [0.0, 100.0, 100.0, 100.0, 100.0, 100.0, 0.0, 0.0, 100.0, 100.0]
            assert step.info["firm_profit"][0, 1].item() == pytest.approx(100 * 500 * 0.9)
        else:
            assert exports.abs().sum().item() == 0.0
            assert step.info["firm_profit"].abs().sum().item() == 0.0


def test_production_and_timing():
    econ = RBCEconomy(RBCConfig(), num_envs=1, device="cpu")
    econ.reset(seed=0)
    a = {"consumer": torch.zeros(1, 100, 12, dtype=torch.long),
         "firm": torch.full((1, 10), econ.firm_action_index(2000.0, 44.0)),
         "government": torch.full((1, 1), econ.government_action_index(0.2, 0.4))}
    a["consumer"][0, :, 10] = 4             # 1040 hours
    a["consumer"][0, :, 11] = torch.arange(100) % 10
    step = econ.step(a)
    # posted this step, paid next step: wages paid at the initial 22, prices posted for next step
    assert step.info["wage_bill"][0, 0].item() == pytest.approx(10 * 1040 * 22.0)
    assert econ.state.price[0].tolist() == [2000.0] * 10 and econ.state.wage[0].tolist() == [44.0] * 10
    assert econ.state.income_tax.item() == pytest.approx(0.2) and econ.state.corporate_tax.item() == pytest.approx(0.4)
    # Y = 0.01 K^(1-alpha) L^alpha with L = 10 workers * 1040 hours
    K, L = econ.initial_capital, 10 * 1040.0
    Y = 0.01 * K ** (1 - econ.alpha) * L ** econ.alpha
    assert torch.allclose(econ.state.inventory[0], Y, rtol=1e-5)
    # consumer reward = 0 utility (nothing in stock at t=0) - theta/2 * hours
    assert torch.allclose(step.info["raw_reward"]["consumer"][0], -0.5 * econ.theta * 1040.0, rtol=1e-5)


def test_episode_resets_after_ten_steps():
    econ, out = random_run("open", E=3, steps=21)
    dones = [bool(s.done.all()) for _, _, s, _ in out]
    assert dones == ([False] * 9 + [True]) * 2 + [False]
    after10 = out[9][3]
    assert after10.t.tolist() == [0.0] * 3 and after10.inventory.abs().sum().item() == 0.0


def test_curriculum_clips_firm_and_tax_choices():
    econ = RBCEconomy(RBCConfig(), num_envs=2, device="cpu")
    econ.reset(seed=0)
    econ.set_curriculum(labor_cost_scale=0.0, price_range=(1000.0, 1000.0), wage_range=(22.0, 22.0), tax_cap=0.2)
    a = econ.sample_actions()
    a["firm"][:] = 29                        # price 2500, wage 44
    a["government"][:] = 35                  # 100% / 100%
    step = econ.step(a)
    assert econ.state.price.unique().tolist() == [1000.0] and econ.state.wage.unique().tolist() == [22.0]
    assert econ.state.income_tax.tolist() == pytest.approx([0.2, 0.2])
    # labour cost off: consumers pay nothing for hours, and see theta = 0
    assert bool((step.info["raw_reward"]["consumer"] >= 0).all())
    assert step.obs["consumer"][..., -1].abs().max().item() == 0.0
    with pytest.raises(ConfigError, match="tax_cap"):
        econ.set_curriculum(tax_cap=1.5)


@pytest.mark.parametrize("variant", ["open", "closed"])
def test_batched_step_agrees_with_per_agent_loop(variant):
    econ = RBCEconomy(RBCConfig(variant=variant, interest_rate=0.01), num_envs=2, device="cpu")
    econ.reset(seed=1)
    econ.set_curriculum(price_range=(500.0, 2000.0), tax_cap=0.8)
    g = torch.Generator().manual_seed(3)
    for _ in range(6):
        a = {k: s.action.sample((2, s.count), generator=g) for k, s in econ.specs.items()}
        s0 = econ.state.clone()
        nxt, raw, _ = econ.advance(s0, a)
        ref, ref_raw = reference_step_loop(econ, s0, a)
        for k in nxt.__dict__:
            assert torch.allclose(getattr(nxt, k), getattr(ref, k), rtol=1e-4, atol=1e-2), k
        for k in raw:
            assert torch.allclose(raw[k], ref_raw[k], rtol=1e-4, atol=1e-2), k
        econ.step(a)


def test_same_seed_same_numbers_and_productivity_shocks():
    def run(seed, sigma):
        econ, out = random_run("open", E=4, steps=12, seed=seed, productivity_sigma=sigma)
        return torch.stack([s.macro["welfare"] for _, _, s, _ in out]), torch.stack(
            [s.macro["productivity"] for _, _, s, _ in out])
    w1, p1 = run(5, 0.1)
    w2, p2 = run(5, 0.1)
    assert torch.equal(w1, w2) and torch.equal(p1, p2)
    w3, p3 = run(6, 0.1)
    assert not torch.equal(p1, p3)
    _, p0 = run(5, 0.0)
    assert bool((p0 == 0.01).all())          # off by default: technology constant 0.01
    assert p1.std().item() > 0


@pytest.mark.parametrize("field,value,match", [
    ("num_consumers", 0, "num_consumers"),
    ("variant", "autarky", "variant"),
    ("tax_grid", (0.0, 1.5), "tax_grid"),
    ("alpha_pattern", (0.2, 1.0), "alpha_pattern"),
    ("crra", 1.0, "crra"),
    ("price_grid", (), "price_grid"),
    ("interest_rate", -0.1, "interest_rate"),
])
def test_bad_config_raises(field, value, match):
    with pytest.raises(ConfigError, match=match):
        RBCConfig(**{field: value})


def test_bad_actions_raise():
    econ = RBCEconomy(RBCConfig(), num_envs=2, device="cpu")
    econ.reset(seed=0)
    a = econ.sample_actions()
    a["firm"] = a["firm"] + 30
    with pytest.raises(ConfigError):
        econ.step(a)


def test_bench_case_runs_both_implementations():
    from macrobook.envs import RBCEconomy as Exported
    from macrobook.bench.rbc import bench_case

    assert Exported is RBCEconomy
    case = bench_case(1, torch.device("cpu"), hidden=8)
    assert case.agents_per_env == 111
    case.batched_step()
    case.loop_step()


def test_linear_flops_counts_forward_and_backward_products():
    """2*in*out per layer for the forward product and for the weights' gradient, and for the input's
    gradient too except in the first layer (its input is data): checked by hand on a 3-4-2 network."""
    from macrobook.bench.rbc import linear_flops

    net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    assert linear_flops([net], 1) == 2 * 3 * 4 * 2 + 2 * 4 * 2 * 3
    assert linear_flops([net, net], 10) == 2 * 10 * linear_flops([net], 1)


def test_bench_rbc_cli_json_and_bad_flags(capsys):
    import json

    from macrobook.cli import main

    assert main(["bench", "rbc", "--json", "--num-envs", "1", "--min-seconds", "0.01", "--train-envs", "1",
                 "--epsilon-budget-s", "0", "--threads", "1", "--design-envs", "1", "--design-iterations", "1"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["threads"] == 1 and [r["num_envs"] for r in out["results"]] == [1]
    assert out["results"][0]["agents_per_env"] == 111 and out["training"]["agent_steps_per_s"] > 0
    assert "time_to_epsilon" not in out                                  # a zero budget skips it
    (designs,) = out["training_designs"]                                 # the designs, side by side
    assert designs["num_envs"] == 1 and len(designs["designs"]) == 3
    assert all(d["agent_steps_per_s"] > 0 and set(d["seconds_per_iteration"]) == {"rollout", "consumer", "firm", "government"}
               for d in designs["designs"].values())
    assert designs["consumer_networks_floor"]["agent_steps_per_s"] > 0
    fl = designs["consumer_networks_floor"]                              # their arithmetic and its rate
    assert fl["gflop_per_iteration"] > 0 and fl["gflops"] > 0 and fl["gflops_needed_for_400k"] > 0
    assert out["matmul_gflops"]["float32"] > 0 and out["matmul_gflops"]["bfloat16"] > 0
    for flag, value in (("--threads", "0"), ("--epsilon-envs", "0"), ("--epsilon-br-iterations", "0"),
                        ("--design-envs", "0"), ("--design-iterations", "0")):
        assert main(["bench", "rbc", flag, value]) == 2
        assert flag in capsys.readouterr().err


# ------------------------------------------------------------------ the consumer gate and annealing horizons
def test_consumer_gate_opens_on_entropy_or_deadline():
    from macrobook.recipes.rbc import RBCCurriculum, RBCTrainConfig

    cur = RBCCurriculum(RBCTrainConfig(iterations=100, firm_start=0.1, government_start=0.2,
                                       consumer_gate=0.9, gate_deadline=0.5))
    U = 10.0
    high = [{"entropy/consumer": 9.5}] * 30
    assert cur.gate_opens(high[:8], U) is None                   # before firm_start: not yet asked
    assert cur.gate_opens(high, U) is None                       # entropy still above 0.9 x uniform
    learned = high[:20] + [{"entropy/consumer": 8.9}] + high[:5]
    assert cur.gate_opens(learned, U) == 21                      # the iteration after the update that got there
    assert cur.gate_opens([{"entropy/consumer": 8.0}] * 12, U) == 10   # already learned: firms start on time
    assert cur.gate_opens(high * 2, U) == 50                     # never learned: the deadline


def test_consumer_gate_delays_firms_and_government_in_training():
    from macrobook.recipes.rbc import RBCTrainConfig, make_trainer

    # an unreachable gate (entropy <= 1% of uniform): firms wait for the deadline, the government keeps its gap
    cfg = RBCTrainConfig(iterations=10, num_envs=2, hidden=8, firm_start=0.1, government_start=0.3,
                         consumer_gate=0.01, gate_deadline=0.4)
    tr = make_trainer(cfg, seed=0, device="cpu")
    tr.progress = False
    log = tr.train(10)
    first = {k: int(log[log["active"].str.contains(k)]["iteration"].min()) for k in ("firm", "government")}
    assert first == {"firm": 4, "government": 6}
    assert tr.curriculum.start("firm") == 4 and tr.curriculum.start("government") == 6
    # off (the default): the fixed schedule
    tr0 = make_trainer(RBCTrainConfig(iterations=10, num_envs=2, hidden=8, firm_start=0.1, government_start=0.3),
                       seed=0, device="cpu")
    tr0.progress = False
    log0 = tr0.train(4)
    assert int(log0[log0["active"].str.contains("firm")]["iteration"].min()) == 1


def test_bad_gate_settings_raise():
    from macrobook.recipes.rbc import RBCTrainConfig

    with pytest.raises(ConfigError, match="matmul_dtype"):
        RBCTrainConfig(matmul_dtype="half")
    with pytest.raises(ConfigError, match="analytic_heads"):
        RBCTrainConfig(analytic_heads=1)

    with pytest.raises(ConfigError, match="consumer_gate"):
        RBCTrainConfig(consumer_gate=1.0)
    with pytest.raises(ConfigError, match="gate_deadline"):
        RBCTrainConfig(consumer_gate=0.9, firm_start=0.3, government_start=0.4, gate_deadline=0.2)


def test_annealing_horizons_scale_with_the_run():
    """Labour-cost phase-in, price widening, tax cap and entropy decay are set in fractions of the run,
    so a run ten times longer anneals ten times more slowly (the authors' 10,000 of 200,000 episodes)."""
    from macrobook.recipes.rbc import RBCCurriculum, RBCTrainConfig

    knobs = []
    for n in (100, 1000):
        econ = RBCEconomy(RBCConfig(), num_envs=1, device="cpu")
        cur = RBCCurriculum(RBCTrainConfig(iterations=n))
        row = []
        for div in (20, 10, 5, 2):
            cur.apply(n // div, econ)
            row.append((round(econ.labor_cost_scale, 9), econ.price_range, round(econ.tax_cap, 9)))
        knobs.append(row)
    assert knobs[0] == knobs[1]
