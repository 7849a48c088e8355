"""Fiscal and external closures: a passive tax rule, bond financing of deficits, an exchange rate
with interest parity and a debt-elastic premium, and a cap on import supply.

Pure tensor functions (defined in Chapter 3; tests in tests/test_markets_fiscal.py).

* A *passive* fiscal rule (Leeper 1991): the tax rate rises with public debt above its target,
  fast enough that debt returns to target whatever the central bank does, so the price level is
  anchored by monetary policy, not by the budget.
* Deficits are financed by selling bonds to households (money moves from their deposits to the
  government and back to whoever it pays: no money is created); what households cannot absorb
  is bought by the central bank and is reported as the *monetized* part of the deficit.
* The exchange rate mean-reverts, appreciates when the home rate exceeds the foreign rate
  (uncovered interest parity) and depreciates as net foreign liabilities grow (the debt-elastic
  premium that closes small open economy models, Schmitt-Grohe and Uribe 2003), so no sequence
  of actions can drive it to zero or infinity.
* Imports are limited by what the rest of the world supplies.
"""
from __future__ import annotations

import torch


def tax_rule(base_rate: torch.Tensor, debt_ratio: torch.Tensor, target: float, response: float,
             low: float = 0.0, high: float = 0.8) -> torch.Tensor:
    """The tax rate actually levied: ``clamp(base + response * (debt_ratio - target), low, high)``."""
    return (base_rate + response * (debt_ratio - target)).clamp(low, high)


def finance_deficit(deficit: torch.Tensor, deposits: torch.Tensor, bonds: torch.Tensor,
                    max_share: float) -> tuple[torch.Tensor, torch.Tensor]:
    """How a deficit ``[E]`` is financed. A positive deficit sells bonds to the households ``[E, H]``
    in proportion to their deposits, each buying at most ``max_share`` of its deposits; a surplus
    (negative deficit) redeems their bonds in proportion to their holdings, at most all of them.

    Returns ``(purchases [E, H], monetized [E])``: the bonds each household buys (negative =
    redeemed) and the remainder, ``deficit - sum(purchases)``, taken by the central bank.
    """
    dep = deposits.clamp_min(0.0)
    d = deficit.unsqueeze(-1)
    by_dep = d * dep / dep.sum(-1, keepdim=True).clamp_min(1e-300)
    buy = torch.minimum(by_dep, max_share * dep)
    held = bonds.clamp_min(0.0)
    by_bonds = d * held / held.sum(-1, keepdim=True).clamp_min(1e-300)
    redeem = torch.maximum(by_bonds, -held)
    purchases = torch.where(d > 0, buy, redeem)
    return purchases, deficit - purchases.sum(-1)


def exchange_rate_step(log_rate: torch.Tensor, push: torch.Tensor, rate_gap: torch.Tensor,
                       foreign_liabilities_ratio: torch.Tensor, noise: torch.Tensor, persistence: float,
                       rate_sensitivity: float, debt_sensitivity: float) -> torch.Tensor:
    """Next log exchange rate (home currency per foreign unit; up = depreciation):
    ``rho log e + push - kappa (i - i*) + psi * (net foreign liabilities / annual GDP) + noise``."""
    return (persistence * log_rate + push - rate_sensitivity * rate_gap
            + debt_sensitivity * foreign_liabilities_ratio + noise)


def cap_imports(budget: torch.Tensor, import_price: torch.Tensor, supply: torch.Tensor) -> torch.Tensor:
    """Money each buyer ``[E, B]`` spends on imports when the rest of the world sells at most
    ``supply [E]`` units at ``import_price [E]``: budgets are scaled down pro rata when short."""
    volume = budget.clamp_min(0.0).sum(-1) / import_price
    scale = torch.where(volume > supply, supply / volume.clamp_min(1e-300), torch.ones_like(volume))
    return budget.clamp_min(0.0) * scale.unsqueeze(-1)
