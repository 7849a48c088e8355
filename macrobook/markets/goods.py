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


# --------------------------------------------------------------------------- production to order
def ces_expenditure_shares(price: torch.Tensor, elasticity: float, available: torch.Tensor | None = None) -> torch.Tensor:
    """Dixit-Stiglitz (1977) expenditure shares ``[E, K]``: ``s_f = p_f^{1-e} / sum_g p_g^{1-e}``.

    Real demand for firm ``f`` is then ``s_f X / p_f = (p_f / P)^{-e} X / P`` with ``P`` the CES
    price index (Gali 2015, ch. 3, eq. 4), so a firm's own-price elasticity is ``e``.
    ``available`` (bool) restricts the shares to firms that can still sell; rows with none are 0.
    """
    log_w = (1.0 - elasticity) * torch.log(price)
    if available is not None:
        log_w = log_w.masked_fill(~available, float("-inf"))
    return torch.nan_to_num(torch.softmax(log_w, dim=-1), nan=0.0)


def ces_price_index(price: torch.Tensor, elasticity: float) -> torch.Tensor:
    """CES price index ``P = (mean_f p_f^{1-e})^{1/(1-e)}`` over the last dimension ``[E, K] -> [E]``."""
    return torch.exp(torch.logsumexp((1.0 - elasticity) * torch.log(price), -1) / (1.0 - elasticity)
                     - torch.log(torch.tensor(float(price.shape[-1]), dtype=price.dtype)) / (1.0 - elasticity))


def sell_to_order(spend: torch.Tensor, price: torch.Tensor, capacity: torch.Tensor, elasticity: float,
                  rounds: int = 3) -> dict:
    """Goods market with production to order: each firm makes what is ordered, up to ``capacity``.

    ``spend [E, B]`` nominal budgets of buyers, ``price [E, K]`` posted prices, ``capacity [E, K]``
    the most a firm can make this month. Round 1 splits all budgets by CES shares
    (:func:`ces_expenditure_shares`); a firm sells ``min(orders, capacity - sold)``, so it is
    *sold out only at capacity*. Unmet money spills over (``rounds - 1`` more rounds) to the
    firms with capacity left, again by CES shares over those firms; what is still unspent stays
    with the buyers (pro rata to their budgets).

    Returns ``bought [E, B]`` (real), ``spent [E, B]``, ``sold [E, K]`` (= production),
    ``revenue [E, K]``, ``demand [E, K]`` (round-1 real orders: sales with unlimited capacity),
    ``sold_out [E, K]`` (bool: sold its whole capacity).
    Identities (tests/test_markets.py): ``sold <= capacity``, ``sum bought = sum sold``,
    ``sum spent = sum revenue``, ``0 <= spent <= spend``.
    """
    budget_total = spend.clamp_min(0.0).sum(-1, keepdim=True)          # [E, 1]
    left = budget_total
    room = capacity.clamp_min(0.0)
    sold = torch.zeros_like(price)
    demand = None
    for r in range(rounds):  # market rounds within the month, not a loop over agents
        shares = ces_expenditure_shares(price, elasticity, available=room > 1e-12)
        orders = left * shares / price                                   # [E, K] real
        if demand is None:
            demand = orders
        q = torch.minimum(orders, room)
        sold = sold + q
        room = room - q
        left = left - (q * price).sum(-1, keepdim=True)
    spent_total = budget_total - left
    frac = torch.where(budget_total > 0, spent_total / budget_total.clamp_min(1e-300), torch.zeros_like(budget_total))
    revenue = sold * price
    real_total = sold.sum(-1, keepdim=True)
    spent = spend.clamp_min(0.0) * frac
    bought = torch.where(spent_total > 0, spent / spent_total.clamp_min(1e-300), torch.zeros_like(spent)) * real_total
    sold_out = (room <= 1e-9 * capacity.clamp_min(1.0)) & (capacity > 0)
    return {"bought": bought, "spent": spent, "sold": sold, "revenue": revenue, "demand": demand,
            "sold_out": sold_out}
