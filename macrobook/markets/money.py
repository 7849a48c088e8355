"""Money and interest: who pays each interest flow, so that no interest is printed.

Pure tensor functions. Conventions (Chapter 4; tests/test_markets.py):

* Deposits are money. Lending creates a loan and a deposit; repayment destroys both; a default
  writes the loan off (the bank's loss) and seizes the borrower's deposits up to the debt.
* Loan interest is paid by borrowers out of their deposits (money destroyed) and becomes bank
  income; deposit interest is paid by banks (money created). Banks pay out their profit as
  dividends (money created). Interest on reserves is paid by the central bank and financed by a
  lump-sum tax on households of the same amount (an overdraft at the central bank pays the
  policy rate and the proceeds are rebated lump-sum), so the central bank prints nothing.
* With those rules, over a month the money stock changes by exactly
  ``lending - repayment - seized collateral - (bank profit retained)``: interest moves money
  between people, it never creates it on net (see :func:`money_change`).
"""
from __future__ import annotations

import torch


def reserve_interest_and_tax(reserves: torch.Tensor, policy_rate_monthly: torch.Tensor, num_payers: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Interest on reserves ``[E, N]`` (negative for an overdraft) and the lump-sum tax ``[E]``
    per household that finances it (negative = a rebate)."""
    ior = reserves * policy_rate_monthly.unsqueeze(-1)
    return ior, ior.sum(-1) / num_payers


def bank_profit(loan_interest: torch.Tensor, reserve_interest: torch.Tensor, deposit_interest: torch.Tensor,
                loan_loss: torch.Tensor) -> torch.Tensor:
    """A bank's profit ``[E, N]``: interest earned minus interest paid minus loan losses."""
    return loan_interest + reserve_interest - deposit_interest - loan_loss


def dividends(profit: torch.Tensor, equity: torch.Tensor, required: torch.Tensor, payout: float) -> torch.Tensor:
    """Pay out ``payout`` of a positive profit, never taking equity below the requirement."""
    room = (equity - required).clamp_min(0.0)
    return torch.minimum(payout * profit.clamp_min(0.0), room)


def money_change(lending: torch.Tensor, repayment: torch.Tensor, seized: torch.Tensor, loan_interest: torch.Tensor,
                 deposit_interest: torch.Tensor, bank_dividends: torch.Tensor, reserve_interest: torch.Tensor,
                 tax: torch.Tensor) -> torch.Tensor:
    """What the money stock must change by in a month ``[E]`` given every flow that touches it:
    ``lending - repayment - seized - loan interest + deposit interest + bank dividends
    + (reserve interest paid to banks is not money) - tax``. With the tax equal to interest on
    reserves and dividends equal to profit, this is ``lending - repayment - seized - loan loss``
    minus retained profit."""
    return lending - repayment - seized - loan_interest + deposit_interest + bank_dividends - tax
