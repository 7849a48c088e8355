"""Goods market: posted prices, demand split by relative price, rationing when stock runs out.

Pure tensor functions (no state) so tests can call them directly. Shapes:
``spend [E, B]`` nominal money each buyer brings (households and investing firms),
``price [E, K]`` the firms' posted prices, ``stock [E, K]`` goods each firm can sell now
(inventory plus this period's production). Clearing uses this period's spending and this
period's stock: nothing is read from last period.

The demand system is the CES one of Dixit and Stiglitz (1977): a buyer spends the share
``s_f = p_f^{-eps} / sum_g p_g^{-eps}`` of its budget at firm ``f`` (Gali 2015, ch. 3, eq. 4).
"""
from __future__ import annotations

import torch


def demand_shares(price: torch.Tensor, elasticity: float, available: torch.Tensor | None = None) -> torch.Tensor:
    """CES expenditure shares ``[E, K]`` over firms (rows sum to 1).

    ``available`` (bool ``[E, K]``) restricts the shares to firms that still have goods;
    a row with no available firm gets all-zero shares.
    """
    log_w = -elasticity * torch.log(price)
    if available is not None:
        log_w = log_w.masked_fill(~available, float("-inf"))
    w = torch.softmax(log_w, dim=-1)
    return torch.nan_to_num(w, nan=0.0)


def ration(demand: torch.Tensor, stock: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Sell ``min(demand, stock)``; return ``(sold, fill)`` with ``fill = sold / demand`` in [0, 1].

    When demand exceeds the stock every buyer gets the same fraction of its order
    (proportional rationing), so the rationed allocations add up to the whole stock.
    """
    sold = torch.minimum(demand, stock)
    fill = torch.where(demand > 0, sold / demand.clamp_min(1e-300), torch.ones_like(demand))
    return sold, fill


def ration_among(orders: torch.Tensor, stock: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Proportional rationing of each good among its buyers.

    ``orders [E, B, K]`` units each buyer asks of each good, ``stock [E, K]`` units each good has.
    Returns ``(allocation [E, B, K], sold [E, K], fill [E, K])``: every buyer of a good gets the same
    share ``fill`` of its order, so the allocations of an over-demanded good add up to its stock and
    no good ever sells more than it has. The one rationing rule of every economy in the book.
    """
    sold, fill = ration(orders.sum(1), stock)
    return orders * fill.unsqueeze(1), sold, fill


def clear_goods_market(spend: torch.Tensor, price: torch.Tensor, stock: torch.Tensor,
                       elasticity: float, spillover: bool = True) -> dict:
    """Clear the market in (up to) two rounds and return what changed hands.

    Round 1: each buyer splits its budget by CES shares; each firm sells
    ``min(orders, stock)`` and rations proportionally. Round 2 (``spillover``): the money a
    buyer could not spend goes to the firms that still have goods, again by CES shares
    over those firms (buyers search once more before giving up).

    Returns a dict of tensors:
      ``bought [E, B]`` real goods each buyer got, ``spent [E, B]`` money each buyer paid,
      ``sold [E, K]`` goods each firm sold, ``revenue [E, K]`` money each firm received,
      ``demand [E, K]`` round-1 real orders (what firms would have sold with unlimited stock).
    Identities (tested): ``sold <= stock``, ``sum bought = sum sold``, ``sum spent = sum revenue``,
    ``spent <= spend``.
    """
    bought = torch.zeros_like(spend)
    spent = torch.zeros_like(spend)
    sold_total = torch.zeros_like(stock)
    remaining_stock = stock.clamp_min(0.0)
    budget = spend.clamp_min(0.0)
    demand_round1 = None
    for _ in range(2 if spillover else 1):  # market rounds (a loop over time within the period, not agents)
        shares = demand_shares(price, elasticity, available=remaining_stock > 0)  # [E, K]
        orders_nominal = budget.sum(-1, keepdim=True) * shares                   # [E, K] money sent to each firm
        orders_real = orders_nominal / price
        if demand_round1 is None:
            demand_round1 = orders_real
        sold, fill = ration(orders_real, remaining_stock)
        # a buyer's real purchase: sum_f budget_b * s_f * fill_f / p_f
        per_money_real = (shares * fill / price).sum(-1, keepdim=True)           # [E, 1] goods per unit of money
        per_money_paid = (shares * fill).sum(-1, keepdim=True)                   # [E, 1] share of budget paid
        bought = bought + budget * per_money_real
        paid = budget * per_money_paid
        spent = spent + paid
        budget = budget - paid
        sold_total = sold_total + sold
        remaining_stock = remaining_stock - sold
    return {
        "bought": bought,
        "spent": spent,
        "sold": sold_total,
        "revenue": sold_total * price,
        "demand": demand_round1,
    }


def price_index(price: torch.Tensor) -> torch.Tensor:
    """Geometric mean of posted prices ``[E, K] -> [E]`` (a fixed-weight index, so measured
    inflation moves only when firms change prices, not when the sales mix changes)."""
    return torch.exp(torch.log(price).mean(-1))
