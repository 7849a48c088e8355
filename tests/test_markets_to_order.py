"""Production to order, CES demand with spillover, price-adjustment costs and interest flows
(macrobook.markets.goods.sell_to_order, markets.pricing, markets.money)."""
import pytest
import torch

from macrobook.markets import goods, money, pricing


def _market(seed, E=8, B=20, K=6, tight=1.0):
    g = torch.Generator().manual_seed(seed)
    spend = torch.rand(E, B, generator=g, dtype=torch.float64) * 5
    price = 0.8 + 0.4 * torch.rand(E, K, generator=g, dtype=torch.float64)
    capacity = tight * torch.rand(E, K, generator=g, dtype=torch.float64) * 20
    return spend, price, capacity


@pytest.mark.parametrize("tight", [0.1, 1.0, 10.0])
def test_sell_to_order_never_sells_beyond_capacity_and_flows_add_up(tight):
    for seed in range(4):
        spend, price, cap = _market(seed, tight=tight)
        m = goods.sell_to_order(spend, price, cap, elasticity=6.0)
        assert (m["sold"] <= cap + 1e-12).all() and (m["sold"] >= 0).all()
        assert (m["spent"] <= spend + 1e-12).all() and (m["spent"] >= -1e-15).all()
        torch.testing.assert_close(m["bought"].sum(1), m["sold"].sum(1))
        torch.testing.assert_close(m["spent"].sum(1), m["revenue"].sum(1))
        torch.testing.assert_close(m["revenue"], m["sold"] * price)
        # a sold-out firm sold exactly its capacity
        so = m["sold_out"]
        torch.testing.assert_close(m["sold"][so], cap[so])


def test_without_capacity_limits_sales_are_ces_demand_with_elasticity_e():
    e = 6.0
    price = torch.tensor([[1.0, 1.1, 0.9]], dtype=torch.float64)
    cap = torch.full_like(price, 1e9)
    spend = torch.tensor([[30.0]], dtype=torch.float64)
    m = goods.sell_to_order(spend, price, cap, e)
    w = price ** (1 - e)
    torch.testing.assert_close(m["sold"], 30.0 * w / w.sum() / price)
    # own-price elasticity: log q_0 - log q_1 = -e (log p_0 - log p_1)
    q = m["sold"][0]
    assert (torch.log(q[0] / q[1]) / torch.log(price[0, 0] / price[0, 1])).item() == pytest.approx(-e)
    assert not m["sold_out"].any()
    torch.testing.assert_close(m["spent"], spend)


def test_unmet_demand_spills_over_to_firms_with_capacity_left():
    price = torch.ones(1, 3, dtype=torch.float64)
    cap = torch.tensor([[1.0, 10.0, 10.0]], dtype=torch.float64)
    spend = torch.tensor([[6.0, 6.0]], dtype=torch.float64)  # 4 units wanted from each firm
    m = goods.sell_to_order(spend, price, cap, 6.0, rounds=2)
    # firm 0 sells out at 1; its 3 unmet units go to the others, 1.5 each
    torch.testing.assert_close(m["sold"], torch.tensor([[1.0, 5.5, 5.5]], dtype=torch.float64))
    assert m["sold_out"].tolist() == [[True, False, False]]
    torch.testing.assert_close(m["spent"].sum(), torch.tensor(12.0, dtype=torch.float64))
    # without spillover the 3 units are lost (spent stays with the buyers)
    m1 = goods.sell_to_order(spend, price, cap, 6.0, rounds=1)
    torch.testing.assert_close(m1["sold"].sum(), torch.tensor(9.0, dtype=torch.float64))
    torch.testing.assert_close(m1["spent"], torch.tensor([[4.5, 4.5]], dtype=torch.float64))


def test_excess_demand_over_all_capacity_sells_everything_and_returns_the_rest():
    price = torch.tensor([[1.0, 2.0]], dtype=torch.float64)
    cap = torch.tensor([[2.0, 3.0]], dtype=torch.float64)
    spend = torch.tensor([[100.0]], dtype=torch.float64)
    m = goods.sell_to_order(spend, price, cap, 6.0)
    torch.testing.assert_close(m["sold"], cap)
    assert m["sold_out"].all()
    torch.testing.assert_close(m["spent"], torch.tensor([[8.0]], dtype=torch.float64))


def test_ces_price_index_of_equal_prices_is_the_price():
    p = torch.full((2, 5), 1.3, dtype=torch.float64)
    torch.testing.assert_close(goods.ces_price_index(p, 6.0), torch.full((2,), 1.3, dtype=torch.float64))


def test_rotemberg_and_menu_costs_against_hand_computations():
    p_prev = torch.tensor([1.0, 1.0, 2.0], dtype=torch.float64)
    p = torch.tensor([1.02, 1.0, 1.99], dtype=torch.float64)
    rev = torch.tensor([10.0, 10.0, 4.0], dtype=torch.float64)
    c = pricing.rotemberg_cost(p, p_prev, rev, phi=50.0)
    torch.testing.assert_close(c, torch.tensor([0.5 * 50 * 0.02**2 * 10, 0.0, 0.5 * 50 * 0.005**2 * 4], dtype=torch.float64))
    # indexation: a change equal to the indexed rate costs nothing
    torch.testing.assert_close(pricing.rotemberg_cost(p[:1], p_prev[:1], rev[:1], 50.0, indexation=0.02),
                               torch.zeros(1, dtype=torch.float64))
    m = pricing.menu_cost(p != p_prev, rev, menu=0.01)
    torch.testing.assert_close(m, torch.tensor([0.1, 0.0, 0.04], dtype=torch.float64))
    assert pricing.optimal_markup(6.0) == pytest.approx(1.2)
    with pytest.raises(ValueError):
        pricing.optimal_markup(1.0)
    # mc = W H / ((1-alpha) y): y = H^0.7 at H=2, W=1 -> mc = 2 / (0.7 * 2^0.7)
    H = torch.tensor([2.0], dtype=torch.float64)
    y = H ** 0.7
    torch.testing.assert_close(pricing.marginal_cost(torch.ones(1, dtype=torch.float64), y, H, 0.7), 2 / (0.7 * y))


def test_interest_on_reserves_is_financed_by_the_tax_and_interest_prints_no_money():
    g = torch.Generator().manual_seed(0)
    E, N = 4, 3
    reserves = torch.randn(E, N, generator=g, dtype=torch.float64) * 10
    rate = torch.full((E,), 0.004, dtype=torch.float64)
    ior, tax = money.reserve_interest_and_tax(reserves, rate, num_payers=50)
    torch.testing.assert_close(tax * 50, ior.sum(1))
    loan_int = torch.rand(E, N, generator=g, dtype=torch.float64)
    dep_int = 0.5 * loan_int
    loss = 0.1 * torch.rand(E, N, generator=g, dtype=torch.float64)
    profit = money.bank_profit(loan_int, ior, dep_int, loss)
    div = money.dividends(profit, torch.full((E, N), 100.0, dtype=torch.float64), torch.zeros(E, N, dtype=torch.float64), 1.0)
    z = torch.zeros(E, dtype=torch.float64)
    # no lending, repayment or seizure: money changes by minus the loan losses that a bank
    # with positive profit absorbs (retained earnings), i.e. by div - profit - loss ... here all
    # profit is paid out where positive, so the change is -loss on banks with profit > 0
    dm = money.money_change(z, z, z, loan_int.sum(1), dep_int.sum(1), div.sum(1), ior.sum(1), tax * 50)
    expected = (div - profit).sum(1) - loss.sum(1) + (ior.sum(1) - tax * 50)
    torch.testing.assert_close(dm, expected)
    # and a bank with a loss pays nothing out
    assert (div[profit <= 0] == 0).all()
    # dividends never take equity below the requirement
    d2 = money.dividends(torch.full((1,), 5.0, dtype=torch.float64), torch.full((1,), 3.0, dtype=torch.float64),
                         torch.full((1,), 2.0, dtype=torch.float64), 1.0)
    assert d2.item() == 1.0


def test_sell_to_order_equals_the_per_agent_loop():
    # the oracle: the same market cleared buyer by buyer and firm by firm in plain Python
    from macrobook.bench.monetary import sell_to_order_loop

    for tight in (0.05, 0.5, 5.0):
        spend, price, cap = _market(3, E=3, B=6, K=5, tight=tight)
        m = goods.sell_to_order(spend, price, cap, 6.0)
        for e in range(3):
            bought, spent, sold = sell_to_order_loop(spend[e].tolist(), price[e].tolist(), cap[e].tolist(), 6.0)
            for name, loop in (("sold", sold), ("spent", spent), ("bought", bought)):
                torch.testing.assert_close(m[name][e], torch.tensor(loop, dtype=torch.float64), msg=name)
