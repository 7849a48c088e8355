"""Market clearing: goods never oversold, rationing adds up, matching respects vacancies,
defaults write off exactly the loan."""
import torch

from macrobook.markets import credit, goods, labor


def _rand_market(seed, E=16, B=30, K=7):
    g = torch.Generator().manual_seed(seed)
    spend = torch.rand(E, B, generator=g, dtype=torch.float64) * 5
    price = 0.5 + torch.rand(E, K, generator=g, dtype=torch.float64)
    stock = torch.rand(E, K, generator=g, dtype=torch.float64) * 20
    stock[:, 0] = 0.0  # a firm with nothing to sell
    return spend, price, stock


def test_goods_sold_never_exceeds_stock_and_flows_add_up():
    for seed in range(5):
        spend, price, stock = _rand_market(seed)
        m = goods.clear_goods_market(spend, price, stock, elasticity=6.0)
        assert (m["sold"] <= stock + 1e-12).all()
        assert (m["spent"] <= spend + 1e-12).all() and (m["spent"] >= 0).all()
        torch.testing.assert_close(m["bought"].sum(1), m["sold"].sum(1))
        torch.testing.assert_close(m["spent"].sum(1), m["revenue"].sum(1))
        torch.testing.assert_close(m["revenue"], m["sold"] * price)


def test_rationing_allocations_sum_to_the_stock_when_demand_exceeds_it():
    demand = torch.tensor([[10.0, 3.0, 5.0]], dtype=torch.float64)
    stock = torch.tensor([[4.0, 3.0, 8.0]], dtype=torch.float64)
    sold, fill = goods.ration(demand, stock)
    torch.testing.assert_close(sold, torch.tensor([[4.0, 3.0, 5.0]], dtype=torch.float64))
    # three buyers ordering 2, 3 and 5 of firm 0's goods: each gets fill * order, and together the stock
    orders = torch.tensor([2.0, 3.0, 5.0], dtype=torch.float64)
    got = orders * fill[0, 0]
    assert abs(got.sum().item() - 4.0) < 1e-12
    assert torch.allclose(got / orders, torch.full((3,), 0.4, dtype=torch.float64))


def test_excess_demand_sells_out_every_firm_with_spillover():
    spend = torch.full((1, 10), 100.0, dtype=torch.float64)  # far more money than goods
    price = torch.tensor([[1.0, 1.2, 0.9]], dtype=torch.float64)
    stock = torch.tensor([[5.0, 1.0, 2.0]], dtype=torch.float64)
    m = goods.clear_goods_market(spend, price, stock, elasticity=6.0)
    torch.testing.assert_close(m["sold"], stock)


def test_cheaper_firm_gets_larger_share():
    s = goods.demand_shares(torch.tensor([[1.0, 1.1]]), elasticity=6.0)
    assert s[0, 0] > s[0, 1] and abs(s.sum().item() - 1) < 1e-6


def test_separation_fires_exactly_the_layoffs():
    g = torch.Generator().manual_seed(0)
    employer = torch.randint(-1, 4, (8, 50), generator=g)
    before = labor.headcount(employer, 4)
    layoffs = torch.minimum(torch.randint(0, 5, (8, 4), generator=g).double(), before)
    after = labor.headcount(labor.separate(employer, layoffs, torch.rand(8, 50, generator=g, dtype=torch.float64)), 4)
    torch.testing.assert_close(after, before - layoffs)


def test_matching_hires_only_seekers_and_never_more_than_vacancies():
    g = torch.Generator().manual_seed(1)
    employer = torch.randint(-1, 3, (8, 60), generator=g)
    seeking = torch.rand(8, 60, generator=g) < 0.8
    employer = torch.where(seeking, employer, torch.full_like(employer, -1))
    vac = torch.randint(0, 6, (8, 3), generator=g).double()
    before = labor.headcount(employer, 3)
    new, hires = labor.match(employer, seeking, vac, torch.rand(8, 60, generator=g, dtype=torch.float64), 0.9)
    after = labor.headcount(new, 3)
    torch.testing.assert_close(after - before, hires)
    assert (hires <= vac).all()
    changed = new != employer
    assert (employer[changed] == -1).all() and seeking[changed].all()


def test_default_writes_off_exactly_the_loan():
    debt = torch.tensor([[10.0, 4.0, 0.0, 7.0]], dtype=torch.float64)
    dep = torch.tensor([[3.0, 9.0, 1.0, 0.0]], dtype=torch.float64)
    d = torch.tensor([[True, True, False, False]])
    out = credit.settle_defaults(debt, dep, d)
    torch.testing.assert_close(out["writeoff"], torch.tensor([[10.0, 4.0, 0.0, 0.0]], dtype=torch.float64))
    torch.testing.assert_close(out["seized"], torch.tensor([[3.0, 4.0, 0.0, 0.0]], dtype=torch.float64))
    torch.testing.assert_close(out["loss"], out["writeoff"] - out["seized"])
    torch.testing.assert_close(out["debt"], torch.tensor([[0.0, 0.0, 0.0, 7.0]], dtype=torch.float64))
    torch.testing.assert_close(out["deposits"], torch.tensor([[0.0, 5.0, 1.0, 0.0]], dtype=torch.float64))


def test_higher_lending_rate_lowers_the_credit_limit():
    inc = torch.ones(1, 3, dtype=torch.float64)
    lo = credit.credit_limit(inc, None, torch.full((1, 3), 0.02 / 12, dtype=torch.float64), 0.02,
                             torch.full((1, 3), 0.3, dtype=torch.float64), None)
    hi = credit.credit_limit(inc, None, torch.full((1, 3), 0.08 / 12, dtype=torch.float64), 0.02,
                             torch.full((1, 3), 0.3, dtype=torch.float64), None)
    assert (hi < lo).all()
    granted = credit.grant_loans(torch.full((1, 3), 100.0, dtype=torch.float64), torch.zeros(1, 3, dtype=torch.float64), hi)
    torch.testing.assert_close(granted, hi)


def test_deposit_rate_respects_the_floor():
    lend, dep = credit.bank_rates(torch.tensor([0.0025]), torch.tensor([[0.02, 0.03]]), torch.tensor([[0.0, 0.01]]), 0.0)
    assert (dep >= 0).all() and torch.allclose(lend, torch.tensor([[0.0225, 0.0325]]))
