"""A repeated Cournot oligopoly, batched: ``num_envs`` markets with ``n`` firms each.

Defined in Chapter 2 (notebooks/02_multi_agent_rl.ipynb), which uses it to show the
challenges of multi-agent learning: non-stationarity, coordination and scalability.

The model (Cournot 1838). Each period every firm ``i`` chooses a quantity ``q_i >= 0``.
The market price follows the linear inverse demand, floored at zero,

    P = max(0, a - b Q),        Q = sum_i q_i,

and firm ``i`` earns the profit ``pi_i = (P - c) q_i`` with a constant marginal cost ``c``.
The one-shot game has the closed forms (any IO textbook, e.g. Tirole 1988, ch. 5):

    Cournot-Nash quantity    q^N = (a - c) / ((n + 1) b)
    collusive quantity       q^M = (a - c) / (2 n b)     (the monopoly output split n ways)
    best response            BR(Q_-i) = max(0, (a - c - b Q_-i) / (2 b))

Each economy runs episodes of ``episode_length`` periods (a finitely repeated game).
A firm observes last period's price and quantities, so a learner *could* condition on
rivals' past behaviour (the raw material of tacit collusion).

Observation of firm ``i`` (``obs_dim = 4``, all scaled to about [0, 1]):

    0  last_price / a               the market price last period, as a share of the demand intercept
    1  own_last_quantity / q_max    this firm's quantity last period
    2  others_mean_quantity / q_max the mean quantity of the other firms last period (0 if n = 1)
    3  period / episode_length      how far into the episode the market is

Actions: ``action_space="discrete"`` (default): an index into ``num_quantities`` evenly
spaced quantities on ``[0, q_max]``; ``"box"``: the quantity itself in ``[0, q_max]``.
``q_max`` defaults to ``(a - c) / b``: a firm producing more loses money whatever its
rivals do (the price is then below ``c``), so larger quantities are strictly dominated.

Reward of firm ``i``: its profit ``(P - c) q_i`` in money per period (a learner may rescale
it, e.g. ``PPOConfig.reward_scale``; a constant factor leaves every incentive as it is).

With ``separate_types=False`` (default) all firms form one agent type ``"firm"``
(``[E, n, 4]`` observations) and a learner for it shares its parameters across firms.
With ``separate_types=True`` each firm is its own type ``"firm_0" .. "firm_{n-1}"``
(``[E, 1, 4]`` each), so the Trainer gives every firm its own, independent learner.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Mapping

import torch

from ..config import Config, check, check_choice, check_float, check_int
from ..contract import AgentSpec, Box, Discrete
from .base import BatchedEconomy, Transition

OBS_NAMES = (
    "last_price / demand_intercept",
    "own_last_quantity / max_quantity",
    "others_mean_quantity / max_quantity",
    "period / episode_length",
)


@dataclass
class CournotConfig(Config):
    """Parameters of the repeated Cournot market (money and goods in arbitrary units)."""

    num_firms: int = 2
    #: a: the price at zero output (the demand intercept)
    demand_intercept: float = 10.0
    #: b: how much the price falls per unit of total output
    demand_slope: float = 1.0
    #: c: the cost of producing one more unit
    marginal_cost: float = 1.0
    episode_length: int = 16
    action_space: str = "discrete"
    #: number of quantities on the grid (discrete action space)
    num_quantities: int = 101
    #: the largest quantity a firm may choose; None means (a - c) / b
    max_quantity: float | None = None
    separate_types: bool = False

    def validate(self) -> None:
        check_int(self, "num_firms", min=1, max=10_000)
        check_float(self, "demand_intercept", min=0.0, min_open=True)
        check_float(self, "demand_slope", min=0.0, min_open=True)
        check_float(self, "marginal_cost", min=0.0)
        check(self.marginal_cost < self.demand_intercept, self, "marginal_cost",
              f"below demand_intercept={self.demand_intercept} (else no firm ever wants to produce)")
        check_int(self, "episode_length", min=1)
        check_choice(self, "action_space", ["discrete", "box"])
        check_int(self, "num_quantities", min=2)
        if self.max_quantity is not None:
            check_float(self, "max_quantity", min=0.0, min_open=True)
        check_choice(self, "separate_types", [False, True])

    # ------------------------------------------------------------- closed forms
    @property
    def quantity_cap(self) -> float:
        """q_max: the largest quantity on offer ((a - c) / b unless set)."""
        if self.max_quantity is not None:
            return float(self.max_quantity)
        return (self.demand_intercept - self.marginal_cost) / self.demand_slope

    def price(self, total_quantity: float) -> float:
        """Inverse demand P = max(0, a - b Q)."""
        return max(0.0, self.demand_intercept - self.demand_slope * total_quantity)

    def nash_quantity(self) -> float:
        """Cournot-Nash quantity per firm, q^N = (a - c) / ((n + 1) b)."""
        return (self.demand_intercept - self.marginal_cost) / ((self.num_firms + 1) * self.demand_slope)

    def collusive_quantity(self) -> float:
        """Joint-profit-maximising (monopoly) output split evenly: q^M = (a - c) / (2 n b)."""
        return (self.demand_intercept - self.marginal_cost) / (2 * self.num_firms * self.demand_slope)

    def competitive_quantity(self) -> float:
        """Per-firm output at which price equals marginal cost: (a - c) / (n b)."""
        return (self.demand_intercept - self.marginal_cost) / (self.num_firms * self.demand_slope)

    def profit(self, own_quantity: float, others_total: float) -> float:
        """One firm's profit (P - c) q_i given the rivals' total output."""
        return (self.price(own_quantity + others_total) - self.marginal_cost) * own_quantity

    def nash_profit(self) -> float:
        q = self.nash_quantity()
        return self.profit(q, (self.num_firms - 1) * q)

    def collusive_profit(self) -> float:
        q = self.collusive_quantity()
        return self.profit(q, (self.num_firms - 1) * q)

    def best_response(self, others_total: float) -> float:
        """BR(Q_-i) = max(0, (a - c - b Q_-i) / (2 b)): the profit-maximising reply (continuous)."""
        return max(0.0, (self.demand_intercept - self.marginal_cost - self.demand_slope * others_total)
                   / (2 * self.demand_slope))

    def quantity_grid(self) -> torch.Tensor:
        """The quantities a discrete action indexes: ``num_quantities`` points on [0, q_max]."""
        return torch.linspace(0.0, self.quantity_cap, self.num_quantities, dtype=torch.float64).float()


# ----------------------------------------------------------------- the market as tensor ops
def clear_market(quantities: torch.Tensor, config: CournotConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """Price ``[E]`` and profits ``[E, n]`` from quantities ``[E, n]`` (one period, all markets).

    P = max(0, a - b sum_i q_i);  pi_i = (P - c) q_i   (Cournot 1838, linear demand).
    """
    total = quantities.sum(dim=-1)
    price = (config.demand_intercept - config.demand_slope * total).clamp_min(0.0)
    profit = (price.unsqueeze(-1) - config.marginal_cost) * quantities
    return price, profit


def expected_profit_on_grid(others_totals: torch.Tensor, config: CournotConfig,
                            grid: torch.Tensor | None = None) -> torch.Tensor:
    """Expected profit of each own quantity on ``grid`` against sampled rivals' totals.

    others_totals: ``[S]`` draws of Q_-i (e.g. from the rivals' current stochastic policies).
    Returns ``[G]``: mean over the draws of (P(q + Q_-i) - c) q for each grid quantity q.
    The floor P >= 0 makes this differ from plugging in the mean of Q_-i, so the best
    response to a *stochastic* rival is computed by averaging, not by the closed form.
    """
    grid = config.quantity_grid() if grid is None else grid
    grid = grid.to(others_totals.device, torch.float32)
    total = grid[:, None] + others_totals[None, :].float()
    price = (config.demand_intercept - config.demand_slope * total).clamp_min(0.0)
    return ((price - config.marginal_cost) * grid[:, None]).mean(dim=1)


def best_response_on_grid(others_totals: torch.Tensor, config: CournotConfig,
                          grid: torch.Tensor | None = None) -> float:
    """The grid quantity that maximises expected profit against the sampled rivals' totals."""
    grid = config.quantity_grid() if grid is None else grid
    return float(grid[expected_profit_on_grid(others_totals, config, grid).argmax()])


@dataclass
class CournotState:
    last_quantity: torch.Tensor   # [E, n] each firm's quantity last period
    period: torch.Tensor          # [E] periods played in this episode


class CournotEconomy(BatchedEconomy):
    """``num_envs`` repeated Cournot markets with ``num_firms`` firms each (see module docstring).

    macro (each ``[E]``): price, total_output, mean_quantity (per firm), quantity_dispersion
    (std across firms), total_profit, consumer_surplus (b Q^2 / 2 while P > 0, i.e. the area
    under demand above the price: (a - P) Q / 2).
    """

    macro_units = {
        "price": "money per unit",
        "total_output": "units",
        "mean_quantity": "units per firm",
        "quantity_dispersion": "units (std across firms)",
        "total_profit": "money per period",
        "consumer_surplus": "money per period",
    }

    def __init__(self, config: CournotConfig | None = None, num_envs: int = 1, device="auto"):
        super().__init__(num_envs, device)
        self.config = config if config is not None else CournotConfig()
        cfg = self.config
        n = cfg.num_firms
        self.n = n
        self.q_max = cfg.quantity_cap
        self.grid = cfg.quantity_grid().to(self.device)
        if cfg.action_space == "discrete":
            space = Discrete(cfg.num_quantities, values=tuple(float(v) for v in cfg.quantity_grid()))
        else:
            space = Box(0.0, self.q_max, (1,))
        if cfg.separate_types:
            self.specs = {f"firm_{i}": AgentSpec(1, 4, space, OBS_NAMES) for i in range(n)}
        else:
            self.specs = {"firm": AgentSpec(n, 4, space, OBS_NAMES)}
        self.state = CournotState(torch.zeros(num_envs, n, device=self.device), torch.zeros(num_envs, device=self.device))

    @property
    def last_quantity(self) -> torch.Tensor:
        """Each firm's quantity in the last period, ``[E, n]``."""
        return self.state.last_quantity

    @property
    def period(self) -> torch.Tensor:
        """Periods played in each market's episode, ``[E]``."""
        return self.state.period

    # ------------------------------------------------------------- conversions
    def quantities(self, actions: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """Quantities ``[E, n]`` from the actions of every firm type (indices or levels)."""
        if self.config.separate_types:
            a = torch.cat([actions[f"firm_{i}"] for i in range(self.n)], dim=1)
        else:
            a = actions["firm"]
        if self.config.action_space == "discrete":
            return self.grid[a]
        return a.reshape(self.num_envs, self.n).float().clamp(0.0, self.q_max)

    def split(self, x: torch.Tensor) -> Dict[str, torch.Tensor]:
        """``[E, n, ...]`` per-firm tensor -> ``{type: [E, count, ...]}`` following ``specs``."""
        if self.config.separate_types:
            return {f"firm_{i}": x[:, i:i + 1] for i in range(self.n)}
        return {"firm": x}

    def observe(self, state: "CournotState | None" = None) -> Dict[str, torch.Tensor]:
        cfg = self.config
        state = self.state if state is None else state
        q = state.last_quantity
        price, _ = clear_market(q, cfg)
        others_mean = (q.sum(-1, keepdim=True) - q) / max(self.n - 1, 1)
        obs = torch.stack([
            (price / cfg.demand_intercept).unsqueeze(-1).expand(-1, self.n),
            q / self.q_max,
            others_mean / self.q_max,
            (state.period / cfg.episode_length).unsqueeze(-1).expand(-1, self.n),
        ], dim=-1)
        return self.split(obs)

    # ------------------------------------------------------------- the economics
    def initial_state(self, num_envs: int) -> "CournotState":
        # "Last period" before the first one: random quantities, so the first observation varies.
        return CournotState(self.rand(num_envs, self.n) * self.q_max, torch.zeros(num_envs, device=self.device))

    def transition(self, state: "CournotState", actions: Mapping[str, torch.Tensor]) -> Transition:
        cfg = self.config
        q = self.quantities(actions)                                   # [E, n]
        price, profit = clear_market(q, cfg)                           # [E], [E, n]
        total = q.sum(-1)
        macro = {
            "price": price,
            "total_output": total,
            "mean_quantity": total / self.n,
            "quantity_dispersion": q.std(dim=-1, unbiased=False),
            "total_profit": profit.sum(-1),
            "consumer_surplus": 0.5 * (cfg.demand_intercept - price) * torch.minimum(
                total, torch.full_like(total, cfg.demand_intercept / cfg.demand_slope)),
        }
        period = state.period + 1
        return Transition(CournotState(q, period), self.split(profit), period >= cfg.episode_length, macro,
                          {"quantity": q, "profit": profit})
