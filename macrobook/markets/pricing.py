"""Price setting: the cost of changing a price, and a monopolistic competitor's optimal price.

Pure tensor functions. A firm that moves its price from ``p_prev`` to ``p`` pays

* a Rotemberg (1982) quadratic cost ``phi/2 * (p/p_prev - 1 - indexation)^2`` times its nominal
  sales (so the cost is a share of revenue, as in Rotemberg's ``phi/2 (Pi - 1)^2 Y``), and
* a menu cost (Mankiw 1985; Golosov and Lucas 2007) of ``menu`` times its nominal sales,
  paid whenever the price changes at all.

Both are paid in money out of revenue and deflated like any other cost. Defined in Chapter 4.
"""
from __future__ import annotations

import torch


def rotemberg_cost(price: torch.Tensor, price_prev: torch.Tensor, revenue: torch.Tensor, phi: float,
                   indexation: torch.Tensor | float = 0.0) -> torch.Tensor:
    """``phi/2 * (p/p_prev - 1 - indexation)^2 * revenue`` (nominal, ``>= 0``)."""
    return 0.5 * phi * (price / price_prev - 1.0 - indexation) ** 2 * revenue.clamp_min(0.0)


def menu_cost(changed: torch.Tensor, revenue: torch.Tensor, menu: float) -> torch.Tensor:
    """``menu * revenue`` where the price changed (bool ``changed``), else 0 (nominal)."""
    return torch.where(changed, menu * revenue.clamp_min(0.0), torch.zeros_like(revenue))


def optimal_markup(elasticity: float) -> float:
    """Static optimum of a firm facing CES demand with elasticity ``e > 1``: ``p = e/(e-1) * mc``
    (Dixit and Stiglitz 1977; Gali 2015, ch. 3, eq. 10)."""
    if elasticity <= 1:
        raise ValueError(f"elasticity must be > 1, got {elasticity}")
    return elasticity / (elasticity - 1.0)


def marginal_cost(wage: torch.Tensor, output: torch.Tensor, hours: torch.Tensor, labor_share: float) -> torch.Tensor:
    """Nominal marginal cost with ``y = A K^alpha H^(1-alpha)`` and capital fixed within the month:
    ``mc = W / MPL = W H / ((1 - alpha) y)``."""
    return wage * hours / (labor_share * output.clamp_min(1e-12))
