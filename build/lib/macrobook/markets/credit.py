"""Credit market: rates from spreads over the policy rate, loan approval, debt service, defaults.

Pure tensor functions. Rates named ``*_annual`` are annual decimals; the others are per month.
Accounting conventions (tested in tests/test_markets.py and tests/test_monetary.py):
lending creates a deposit and a loan of the same size; repayment destroys both; a default
writes off exactly the outstanding loan, the bank seizes collateral (the borrower's deposits,
up to the debt) and books the rest as a loss.
"""
from __future__ import annotations

import torch


def bank_rates(policy_rate_annual: torch.Tensor, lending_spread_annual: torch.Tensor,
               deposit_spread_annual: torch.Tensor, deposit_floor_annual: float | None) -> tuple[torch.Tensor, torch.Tensor]:
    """``(lending_rate_annual, deposit_rate_annual)`` of each bank ``[E, N]``.

    Banks fund themselves at the policy rate (reserves earn it, overdrafts at the central
    bank pay it), so they price loans above it and deposits below it.
    """
    lending = policy_rate_annual.unsqueeze(-1) + lending_spread_annual
    deposit = policy_rate_annual.unsqueeze(-1) - deposit_spread_annual
    if deposit_floor_annual is not None:
        deposit = deposit.clamp_min(deposit_floor_annual)
    return lending, deposit


def credit_limit(income: torch.Tensor, collateral: torch.Tensor | None, rate_monthly: torch.Tensor,
                 amortization: float, dsr_limit: torch.Tensor, ltv_limit: torch.Tensor | None) -> torch.Tensor:
    """Largest total debt a bank accepts from a borrower.

    Debt-service-to-income rule: ``debt * (r + amortization) <= dsr_limit * income``; for
    secured loans also a loan-to-value rule ``debt <= ltv_limit * collateral``.
    A higher lending rate lowers the limit: this is the credit channel of monetary policy.
    """
    by_income = dsr_limit * income.clamp_min(0.0) / (rate_monthly.clamp_min(0.0) + amortization)
    if collateral is None or ltv_limit is None:
        return by_income
    return torch.minimum(by_income, ltv_limit * collateral.clamp_min(0.0))


def grant_loans(requested: torch.Tensor, existing_debt: torch.Tensor, limit: torch.Tensor) -> torch.Tensor:
    """New lending: the request, cut to the room under the credit limit (never negative)."""
    room = (limit - existing_debt).clamp_min(0.0)
    return torch.minimum(requested.clamp_min(0.0), room)


def debt_service(debt: torch.Tensor, rate_monthly: torch.Tensor, amortization: float) -> tuple[torch.Tensor, torch.Tensor]:
    """``(interest_due, principal_due)`` this month on ``debt``."""
    return debt * rate_monthly, debt * amortization


def settle_defaults(debt: torch.Tensor, deposits: torch.Tensor, defaulted: torch.Tensor) -> dict:
    """Write off the loans of defaulting borrowers.

    Returns ``writeoff`` (= the whole outstanding debt of defaulters, 0 elsewhere),
    ``seized`` (collateral taken from the defaulter's deposits, ``min(deposits, debt)``),
    ``loss`` (= writeoff - seized, what the bank loses), and the borrower's new ``debt`` and
    ``deposits``.
    """
    writeoff = torch.where(defaulted, debt, torch.zeros_like(debt))
    seized = torch.minimum(deposits.clamp_min(0.0), writeoff)
    return {
        "writeoff": writeoff,
        "seized": seized,
        "loss": writeoff - seized,
        "debt": debt - writeoff,
        "deposits": deposits - seized,
    }


def by_bank(values: torch.Tensor, bank_of: torch.Tensor, num_banks: int) -> torch.Tensor:
    """Sum a per-customer quantity ``[E, n]`` over each customer's bank: ``-> [E, N]``."""
    out = torch.zeros(values.shape[0], num_banks, dtype=values.dtype, device=values.device)
    return out.scatter_add_(1, bank_of, values)
