"""markets.fiscal: the passive tax rule, bond financing of deficits, the exchange-rate closure, import supply."""
import torch

from macrobook.markets import fiscal


def test_tax_rule_rises_with_debt_and_stays_in_bounds():
    base = torch.tensor([0.3, 0.3, 0.3, 0.0])
    debt = torch.tensor([0.6, 0.8, 10.0, -10.0])
    tau = fiscal.tax_rule(base, debt, target=0.6, response=0.2, low=0.0, high=0.8)
    assert torch.allclose(tau, torch.tensor([0.3, 0.34, 0.8, 0.0]))


def test_deficit_is_sold_as_bonds_pro_rata_to_deposits_and_the_rest_is_monetized():
    dep = torch.tensor([[10.0, 30.0, 0.0], [1.0, 1.0, 0.0]])
    bonds = torch.zeros(2, 3)
    buy, mon = fiscal.finance_deficit(torch.tensor([4.0, 5.0]), dep, bonds, max_share=0.5)
    assert torch.allclose(buy[0], torch.tensor([1.0, 3.0, 0.0])) and float(mon[0]) == 0.0
    assert torch.allclose(buy[1], torch.tensor([0.5, 0.5, 0.0])) and abs(float(mon[1]) - 4.0) < 1e-12
    assert bool((buy <= 0.5 * dep + 1e-12).all())


def test_a_surplus_redeems_bonds_never_more_than_held():
    dep = torch.ones(2, 2)
    bonds = torch.tensor([[2.0, 6.0], [1.0, 0.0]])
    buy, mon = fiscal.finance_deficit(torch.tensor([-4.0, -3.0]), dep, bonds, max_share=0.5)
    assert torch.allclose(buy[0], torch.tensor([-1.0, -3.0])) and float(mon[0]) == 0.0
    assert torch.allclose(buy[1], torch.tensor([-1.0, 0.0])) and abs(float(mon[1]) + 2.0) < 1e-12
    assert bool((bonds + buy >= -1e-12).all())


def test_exchange_rate_appreciates_with_the_rate_gap_and_depreciates_with_foreign_liabilities():
    z = torch.zeros(3)
    step = fiscal.exchange_rate_step(z, z, torch.tensor([0.0, 0.01, 0.0]), torch.tensor([0.0, 0.0, 1.0]), z,
                                     persistence=0.9, rate_sensitivity=2.0, debt_sensitivity=0.05)
    assert float(step[0]) == 0.0 and float(step[1]) < 0 and float(step[2]) > 0
    # mean reversion: a bounded push keeps the log rate bounded, |log e| <= push / (1 - rho)
    x = torch.zeros(1)
    for _ in range(2000):
        x = fiscal.exchange_rate_step(x, torch.full((1,), 0.02), torch.zeros(1), torch.zeros(1), torch.zeros(1),
                                      0.9, 2.0, 0.05)
    assert abs(float(x) - 0.2) < 1e-6


def test_imports_are_capped_by_foreign_supply():
    budget = torch.tensor([[2.0, 6.0], [1.0, 1.0]])
    paid = fiscal.cap_imports(budget, torch.tensor([2.0, 1.0]), torch.tensor([2.0, 5.0]))
    assert torch.allclose(paid[0], torch.tensor([1.0, 3.0]))     # 4 units wanted, 2 supplied
    assert torch.equal(paid[1], budget[1])                       # enough supply: unchanged
