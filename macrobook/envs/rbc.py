"""A real-business-cycle economy with many learning agents (Curry et al. 2022).

100 consumers, 10 firms and one government in ``num_envs`` parallel economies, each a
10-quarter episode. Defined in Chapter 6 (notebooks/06_rbc_general_equilibrium.ipynb),
which derives the equations below; the numbers follow the authors' public code
(salesforce/ai-economist, ``real_business_cycle/rbc/cuda/firm_rbc.cu``, cited as [K]).

Timing within one step (as in [K]): consumers act on the prices, wages and taxes that
were *posted last step*; firms' price/wage choices and the government's tax choice take
effect next step.

1. Budget: a consumer whose demanded basket costs more than her start-of-step budget
   scales every demand down by the same factor ([K], "scale demands to meet the budget").
2. Rationing: a good demanded beyond its stock is shared in proportion to demand, so the
   allocations sum to the stock ([K]).
3. Labour income ``wage * hours`` (employer chosen by the consumer) is taxed at ``tau``.
4. Open economy only: an importer buys ``min(stock left, 100)`` from every firm whose
   price is at least 500 ([K] uses ``>=``; the paper writes ``>``).
5. Firms: gross income = revenue - wage bill; investment = max(0.1 gross income, 0)
   adds to capital; profit = gross income - investment; reward = profit - sigma max(profit, 0).
6. Inventory ``y' = y - sales - exports + Y`` with ``Y = A K^(1-alpha) L^alpha``, A = 0.01.
7. All tax revenue goes back to the consumers in equal shares, so the government's
   budget is zero every step.

Rewards: consumer ``sum_g ((c_g+1)^0.9 - 1)/0.9 - (theta_j / 2) hours`` with
``theta_j = 0.01 / ParetoPPF(j/100, 4)``; firm: after-tax profit; government: sum of
consumer rewards + 0.0025 sum of firm rewards. Learners see them divided by the
paper's reward divisors (5, 30000, 1000) when ``scale_rewards`` is on (default); the
raw values are in ``StepResult.macro``.

Curricula (Curry et al. 2022, Sec. 6) act through :meth:`RBCEconomy.set_curriculum`:
the share of the labour cost ``theta`` that is charged, the price and wage ranges firms
may post, and a cap on the tax rates. Out-of-range choices are projected (clipped) onto
the allowed range; that is harmless for learning because a type is frozen while its
range is narrowed.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Mapping

import torch

from ..config import Config, ConfigError, check, check_choice, check_float, check_int
from ..contract import AgentSpec
from ..markets.goods import ration_among
from .base import BatchedEconomy, Transition
from ..contract import Discrete, MultiDiscrete

AGENT_TYPES = ("consumer", "firm", "government")


@dataclass
class RBCConfig(Config):
    """Parameters of the RBC economy; defaults are the authors' public code [K, C, M, S].

    variant: "open" (an importer buys from firms pricing at or above ``importer_price``)
        or "closed" (no importer).
    productivity_sigma: standard deviation of the AR(1) log-productivity shock; 0 (the
        default, as in the paper) keeps technology constant at ``technology``.
    """

    num_consumers: int = 100
    num_firms: int = 10
    episode_length: int = 10
    variant: str = "open"
    # consumers
    max_consumption: int = 10          # units of each good per step: {0, ..., 10}
    hours_grid: tuple = (0.0, 260.0, 520.0, 780.0, 1040.0)
    crra: float = 0.1                  # utility ((c+1)^(1-crra) - 1)/(1-crra) per good
    theta_scale: float = 0.01          # theta_j = theta_scale / ParetoPPF(j/n, pareto_shape)
    pareto_shape: float = 4.0
    initial_consumer_budget: float = 2000.0
    interest_rate: float = 0.0         # per step on positive budgets ([S] uses 0)
    # firms
    price_grid: tuple = (0.0, 500.0, 1000.0, 1500.0, 2000.0, 2500.0)
    wage_grid: tuple = (0.0, 11.0, 22.0, 33.0, 44.0)
    alpha_pattern: tuple = (0.2, 0.3, 0.4, 0.6, 0.8)  # labour share, repeated over firms [M]
    capital_low: float = 5000.0        # first half of the firms
    capital_high: float = 10000.0      # second half
    technology: float = 0.01
    investment_share: float = 0.1
    initial_firm_budget: float = 2.2e6
    initial_price: float = 1000.0
    initial_wage: float = 22.0
    # government
    tax_grid: tuple = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
    initial_income_tax: float = 0.0
    initial_corporate_tax: float = 0.0
    firm_reward_weight: float = 0.0025  # government reward = sum consumers + w * sum firms
    # importer (open economy)
    importer_price: float = 500.0
    importer_quantity: float = 100.0
    # optional AR(1) productivity (off by default, as in the paper)
    productivity_rho: float = 0.9
    productivity_sigma: float = 0.0
    # reward divisors seen by the learners [S]
    scale_rewards: bool = True
    consumer_reward_scale: float = 5.0
    firm_reward_scale: float = 30000.0
    government_reward_scale: float = 1000.0

    def validate(self) -> None:
        check_int(self, "num_consumers", min=1)
        check_int(self, "num_firms", min=1)
        check_int(self, "episode_length", min=1)
        check_choice(self, "variant", ["open", "closed"])
        check_int(self, "max_consumption", min=1)
        for name in ("hours_grid", "price_grid", "wage_grid", "tax_grid", "alpha_pattern"):
            v = getattr(self, name)
            check(isinstance(v, (tuple, list)) and len(v) >= 1
                  and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v),
                  self, name, "a non-empty tuple of numbers")
            setattr(self, name, tuple(float(x) for x in v))
            check(min(getattr(self, name)) >= 0, self, name, "a tuple of numbers >= 0")
        check(max(self.tax_grid) <= 1.0, self, "tax_grid", "a tuple of rates in [0, 1]")
        check(all(0 < a < 1 for a in self.alpha_pattern), self, "alpha_pattern", "a tuple of labour shares in (0, 1)")
        check_float(self, "crra", min=0.0, max=1.0, max_open=True)
        check_float(self, "theta_scale", min=0.0)
        check_float(self, "pareto_shape", min=0.0, min_open=True)
        check_float(self, "initial_consumer_budget", min=0.0)
        check_float(self, "interest_rate", min=0.0, max=1.0)
        check_float(self, "capital_low", min=0.0, min_open=True)
        check_float(self, "capital_high", min=0.0, min_open=True)
        check_float(self, "technology", min=0.0, min_open=True)
        check_float(self, "investment_share", min=0.0, max=1.0)
        check_float(self, "initial_firm_budget")
        check_float(self, "initial_price", min=0.0)
        check_float(self, "initial_wage", min=0.0)
        check_float(self, "initial_income_tax", min=0.0, max=1.0)
        check_float(self, "initial_corporate_tax", min=0.0, max=1.0)
        check_float(self, "firm_reward_weight", min=0.0)
        check_float(self, "importer_price", min=0.0)
        check_float(self, "importer_quantity", min=0.0)
        check_float(self, "productivity_rho", min=0.0, max=1.0, max_open=True)
        check_float(self, "productivity_sigma", min=0.0, max=0.5)
        check(isinstance(self.scale_rewards, bool), self, "scale_rewards", "True or False")
        for name in ("consumer_reward_scale", "firm_reward_scale", "government_reward_scale"):
            check_float(self, name, min=0.0, min_open=True)

    @property
    def global_state_names(self) -> tuple[str, ...]:
        f = range(self.num_firms)
        return (tuple(f"price_{i} (/1000)" for i in f) + tuple(f"wage_{i} (/44)" for i in f)
                + tuple(f"log1p inventory_{i} (/5)" for i in f) + tuple(f"overdemanded_{i}" for i in f)
                + ("income_tax", "corporate_tax", "time (/T)", "log productivity"))


def pareto_ppf(q: torch.Tensor, shape: float) -> torch.Tensor:
    """Inverse CDF of the Pareto(shape, scale 1) distribution: (1 - q)^(-1/shape)."""
    return (1.0 - q).pow(-1.0 / shape)


def crra_utility(consumed: torch.Tensor, crra: float) -> torch.Tensor:
    """((c + 1)^(1 - crra) - 1) / (1 - crra), applied good by good ([K] GetCRRAUtil)."""
    return ((consumed + 1.0).pow(1.0 - crra) - 1.0) / (1.0 - crra)


# ----------------------------------------------------------------------------- markets
def budget_scaled_demand(demand: torch.Tensor, prices: torch.Tensor, budget: torch.Tensor) -> torch.Tensor:
    """Scale each consumer's demands down in proportion when the basket costs more than
    her budget ([K]: ``scale = budget / cost`` when ``cost > budget``).

    demand [E, n, G] units, prices [E, G], budget [E, n] -> [E, n, G]."""
    cost = (demand * prices.unsqueeze(1)).sum(-1)
    over = cost > budget
    scale = torch.where(over, budget.clamp_min(0.0) / cost.clamp_min(1e-12), torch.ones_like(cost))
    return demand * scale.unsqueeze(-1)


def ration(demand: torch.Tensor, stock: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Proportional rationing of each good: when total demand exceeds the stock every
    consumer receives ``demand * stock / total`` ([K]); returns (allocation [E, n, G],
    overdemanded [E, G] bool). The allocations of a rationed good sum to the stock."""
    allocation, _, _ = ration_among(demand, stock)
    total = demand.sum(1)
    return allocation, (total > 0) & (total > stock)


def export_sales(stock_left: torch.Tensor, prices: torch.Tensor, importer_price: float,
                 importer_quantity: float) -> torch.Tensor:
    """The importer buys min(stock left, quantity) from firms pricing at or above
    ``importer_price`` ([K] uses >=)."""
    q = stock_left.clamp(min=0.0, max=importer_quantity)
    return torch.where(prices >= importer_price, q, torch.zeros_like(q))


@dataclass
class RBCState:
    """Tensors of the economy (E economies, n consumers, F firms)."""

    consumer_budget: torch.Tensor   # [E, n]
    firm_budget: torch.Tensor       # [E, F]
    capital: torch.Tensor           # [E, F]
    inventory: torch.Tensor         # [E, F] units
    price: torch.Tensor             # [E, F] posted last step, paid this step
    wage: torch.Tensor              # [E, F] per hour
    overdemanded: torch.Tensor      # [E, F] 0/1
    income_tax: torch.Tensor        # [E]
    corporate_tax: torch.Tensor     # [E]
    log_productivity: torch.Tensor  # [E]
    t: torch.Tensor                 # [E] steps done in this episode

    def clone(self) -> "RBCState":
        return RBCState(**{k: v.clone() for k, v in self.__dict__.items()})


class RBCEconomy(BatchedEconomy):
    """Batched RBC economy; see the module docstring for the model.

    Agent types and actions (one agent's action):

    * ``consumer``: MultiDiscrete of 12 heads: units of each good (0..10) x 10, an index
      into ``hours_grid``, the employer (0..F-1).
    * ``firm``: Discrete(len(price_grid) * len(wage_grid)); index = price_idx * W + wage_idx.
    * ``government``: Discrete(len(tax_grid)^2); index = income_idx * len(tax_grid) + corporate_idx.
    """

    macro_units = {
        "consumer_utility": "utility per consumer per step",
        "firm_profit": "after-tax profit per firm per step",
        "welfare": "government reward per step",
        "price": "mean posted price",
        "wage": "mean posted wage per hour",
        "hours": "hours per consumer per step",
        "consumption": "units per consumer per step",
        "exports": "units per firm per step",
        "production": "units per firm per step",
        "inventory": "units per firm",
        "capital": "per firm",
        "consumer_budget": "per consumer",
        "income_tax": "rate", "corporate_tax": "rate",
        "tax_revenue": "per economy per step",
        "transfer": "per consumer per step",
        "government_budget": "revenue - transfers (zero)",
        "rationed_goods": "share of goods rationed",
        "productivity": "technology A",
    }

    def __init__(self, config: RBCConfig | None = None, num_envs: int = 1, device: str | torch.device = "auto"):
        super().__init__(num_envs, device)
        self.config = cfg = config if config is not None else RBCConfig()
        if not isinstance(cfg, RBCConfig):
            raise ConfigError(f"config must be an RBCConfig, got {type(cfg).__name__}")
        dev = self.device
        n, F = cfg.num_consumers, cfg.num_firms
        self.num_consumers, self.num_firms = n, F
        self.hours_values = torch.tensor(cfg.hours_grid, device=dev)
        self.price_values = torch.tensor(cfg.price_grid, device=dev)
        self.wage_values = torch.tensor(cfg.wage_grid, device=dev)
        self.tax_values = torch.tensor(cfg.tax_grid, device=dev)
        # theta_j = 0.01 / ParetoPPF(j/100, 4) [M]; j = 0..n-1
        self.theta = cfg.theta_scale / pareto_ppf(torch.arange(n, device=dev, dtype=torch.float32) / n, cfg.pareto_shape)
        reps = -(-F // len(cfg.alpha_pattern))
        self.alpha = torch.tensor((cfg.alpha_pattern * reps)[:F], device=dev)
        self.initial_capital = torch.where(torch.arange(F, device=dev) < F // 2,
                                           torch.tensor(cfg.capital_low, device=dev),
                                           torch.tensor(cfg.capital_high, device=dev))
        self.firm_onehot = torch.eye(F, device=dev)
        n_global = 4 * F + 4
        self.specs = {
            "consumer": AgentSpec(n, n_global + 2,
                                  MultiDiscrete((cfg.max_consumption + 1,) * F + (len(cfg.hours_grid), F)),
                                  cfg.global_state_names + ("log1p budget (/10)", "theta (/0.01)")),
            "firm": AgentSpec(F, n_global + 3 + F, Discrete(len(cfg.price_grid) * len(cfg.wage_grid)),
                              cfg.global_state_names + ("signed log1p budget (/15)", "log capital (/10)", "alpha")
                              + tuple(f"firm_id_{i}" for i in range(F))),
            "government": AgentSpec(1, n_global, Discrete(len(cfg.tax_grid) ** 2), cfg.global_state_names),
        }
        # curriculum knobs (Curry et al. 2022 Sec. 6), full model by default
        self.labor_cost_scale = 1.0
        self.price_range = (min(cfg.price_grid), max(cfg.price_grid))
        self.wage_range = (min(cfg.wage_grid), max(cfg.wage_grid))
        self.tax_cap = 1.0
        self.state: RBCState | None = None
        self.last_info: dict = {}

    # ------------------------------------------------------------------ curricula
    def set_curriculum(self, labor_cost_scale: float | None = None, price_range: tuple | None = None,
                       wage_range: tuple | None = None, tax_cap: float | None = None) -> None:
        """Set the curriculum knobs (Curry et al. 2022, Sec. 6).

        labor_cost_scale: share of theta charged (and observed) in [0, 1].
        price_range, wage_range: (low, high) firms may post; choices outside are clipped.
        tax_cap: the highest tax rate the government may set; choices above are clipped.
        """
        if labor_cost_scale is not None:
            if not 0.0 <= float(labor_cost_scale) <= 1.0:
                raise ConfigError(f"labor_cost_scale must be in [0, 1], got {labor_cost_scale!r}")
            self.labor_cost_scale = float(labor_cost_scale)
        for name, val in (("price_range", price_range), ("wage_range", wage_range)):
            if val is not None:
                lo, hi = float(val[0]), float(val[1])
                if lo > hi:
                    raise ConfigError(f"{name} must be (low, high) with low <= high, got {val!r}")
                setattr(self, name, (lo, hi))
        if tax_cap is not None:
            if not 0.0 <= float(tax_cap) <= 1.0:
                raise ConfigError(f"tax_cap must be in [0, 1], got {tax_cap!r}")
            self.tax_cap = float(tax_cap)

    # ------------------------------------------------------------------ decoding
    def decode_firm(self, a: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Firm action index -> (price, wage), clipped to the curriculum ranges."""
        W = len(self.config.wage_grid)
        price = self.price_values[a // W].clamp(self.price_range[0], self.price_range[1])
        wage = self.wage_values[a % W].clamp(self.wage_range[0], self.wage_range[1])
        return price, wage

    def decode_government(self, a: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Government action index -> (income tax, corporate tax), capped by the curriculum."""
        m = len(self.config.tax_grid)
        return self.tax_values[a // m].clamp_max(self.tax_cap), self.tax_values[a % m].clamp_max(self.tax_cap)

    def firm_action_index(self, price: float, wage: float) -> int:
        """The firm action that posts ``price`` and ``wage`` (both must be on the grids)."""
        cfg = self.config
        return cfg.price_grid.index(float(price)) * len(cfg.wage_grid) + cfg.wage_grid.index(float(wage))

    def government_action_index(self, income_tax: float, corporate_tax: float) -> int:
        """The government action that sets the two rates (both on ``tax_grid``)."""
        g = [round(x, 6) for x in self.config.tax_grid]
        return g.index(round(float(income_tax), 6)) * len(g) + g.index(round(float(corporate_tax), 6))

    # ------------------------------------------------------------------ state
    def initial_state(self, num_envs: int | None = None) -> RBCState:
        cfg, dev, E = self.config, self.device, num_envs or self.num_envs
        n, F = self.num_consumers, self.num_firms
        z = torch.zeros(E, F, device=dev)
        return RBCState(
            consumer_budget=torch.full((E, n), cfg.initial_consumer_budget, device=dev),
            firm_budget=torch.full((E, F), cfg.initial_firm_budget, device=dev),
            capital=self.initial_capital.expand(E, F).clone(),
            inventory=z.clone(),
            price=torch.full((E, F), cfg.initial_price, device=dev),
            wage=torch.full((E, F), cfg.initial_wage, device=dev),
            overdemanded=z.clone(),
            income_tax=torch.full((E,), cfg.initial_income_tax, device=dev),
            corporate_tax=torch.full((E,), cfg.initial_corporate_tax, device=dev),
            log_productivity=torch.zeros(E, device=dev),
            t=torch.zeros(E, device=dev),
        )

    def observe(self, s: RBCState | None = None) -> Dict[str, torch.Tensor]:
        """Observations from a state: {type: [E, n, obs_dim]} (scalings as in ``obs_names``)."""
        s = self.state if s is None else s
        E, n, F = s.price.shape[0], self.num_consumers, self.num_firms
        glob = torch.cat([
            s.price / 1000.0, s.wage / 44.0, torch.log1p(s.inventory.clamp_min(0)) / 5.0, s.overdemanded,
            s.income_tax[:, None], s.corporate_tax[:, None], (s.t / self.config.episode_length)[:, None],
            s.log_productivity[:, None]], dim=1)
        G = glob.shape[1]
        # write into preallocated buffers: a cat of expanded (broadcast) views copies slowly
        consumer = torch.empty(E, n, G + 2, device=glob.device)
        consumer[:, :, :G] = glob.unsqueeze(1)
        consumer[:, :, G] = torch.log1p(s.consumer_budget.clamp_min(0)) / 10.0
        consumer[:, :, G + 1] = self.theta * (self.labor_cost_scale / 0.01)
        firm = torch.empty(E, F, G + 3 + F, device=glob.device)
        firm[:, :, :G] = glob.unsqueeze(1)
        firm[:, :, G] = torch.sign(s.firm_budget) * torch.log1p(s.firm_budget.abs()) / 15.0
        firm[:, :, G + 1] = torch.log(s.capital) / 10.0
        firm[:, :, G + 2] = self.alpha
        firm[:, :, G + 3:] = self.firm_onehot
        return {"consumer": consumer, "firm": firm, "government": glob.unsqueeze(1)}

    # ------------------------------------------------------------------ dynamics
    def advance(self, s: RBCState, actions: Mapping[str, torch.Tensor], shock: torch.Tensor | None = None):
        """One step of every economy as pure tensor code: returns (next_state, raw rewards
        {type: [E, n]}, info). ``shock`` [E] is the standard-normal productivity innovation."""
        cfg = self.config
        E, n, F = s.price.shape[0], self.num_consumers, self.num_firms
        ca = actions["consumer"]
        demand = ca[..., :F].float()                              # [E, n, F] units
        hours = self.hours_values[ca[..., F]]                     # [E, n]
        employer = ca[..., F + 1]                                 # [E, n]
        new_price, new_wage = self.decode_firm(actions["firm"])   # [E, F], next step's
        new_income_tax, new_corporate_tax = self.decode_government(actions["government"][:, 0])

        # 1-2. budget scaling, then proportional rationing [K]
        affordable = budget_scaled_demand(demand, s.price, s.consumer_budget)
        consumed, over = ration(affordable, s.inventory)
        sales = consumed.sum(1)                                   # [E, F]
        # a rationed good is sold out exactly (float sums would otherwise leave +-1e-7)
        stock_left = torch.where(over, torch.zeros_like(sales), (s.inventory - sales).clamp_min(0.0))
        spending = (consumed * s.price.unsqueeze(1)).sum(-1)      # [E, n]
        # 3. labour market: hours go to the chosen employer
        hours_at_firm = torch.zeros(E, F, device=hours.device).scatter_add_(1, employer, hours)
        wage_paid = s.wage.gather(1, employer)                    # [E, n]
        gross_labor_income = wage_paid * hours
        income_tax_paid = s.income_tax[:, None] * gross_labor_income
        # 4. importer (open economy)
        if cfg.variant == "open":
            exports = export_sales(stock_left, s.price, cfg.importer_price, cfg.importer_quantity)
        else:
            exports = torch.zeros_like(stock_left)
        # 5. firm accounting [K]
        revenue = (sales + exports) * s.price
        wage_bill = hours_at_firm * s.wage
        gross_income = revenue - wage_bill
        investment = (cfg.investment_share * gross_income).clamp_min(0.0)
        profit = gross_income - investment
        corporate_tax_paid = s.corporate_tax[:, None] * profit.clamp_min(0.0)
        firm_reward = profit - corporate_tax_paid
        # 6. production with this step's labour and capital
        technology = cfg.technology * torch.exp(s.log_productivity)
        production = technology[:, None] * s.capital.pow(1.0 - self.alpha) * hours_at_firm.pow(self.alpha)
        # 7. government: every unit of revenue goes back to the consumers
        tax_revenue = income_tax_paid.sum(1) + corporate_tax_paid.sum(1)   # [E]
        transfer = tax_revenue / n                                          # [E]
        government_budget = tax_revenue - transfer * n

        utility = crra_utility(consumed, cfg.crra).sum(-1)
        consumer_reward = utility - 0.5 * (self.theta * self.labor_cost_scale) * hours
        government_reward = consumer_reward.sum(1) + cfg.firm_reward_weight * firm_reward.sum(1)

        # budgets: spending never exceeds the start budget (clamp only absorbs float rounding)
        consumer_budget = (s.consumer_budget - spending).clamp_min(0.0) + gross_labor_income - income_tax_paid + transfer[:, None]
        firm_budget = s.firm_budget + firm_reward
        if cfg.interest_rate > 0:
            consumer_budget = consumer_budget * (1.0 + cfg.interest_rate)
            firm_budget = torch.where(firm_budget > 0, firm_budget * (1.0 + cfg.interest_rate), firm_budget)
        if shock is None:
            shock = torch.zeros(E, device=s.price.device)
        nxt = RBCState(
            consumer_budget=consumer_budget,
            firm_budget=firm_budget,
            capital=s.capital + investment,
            inventory=stock_left - exports + production,
            price=new_price.float(), wage=new_wage.float(), overdemanded=over.float(),
            income_tax=new_income_tax.float(), corporate_tax=new_corporate_tax.float(),
            log_productivity=cfg.productivity_rho * s.log_productivity + cfg.productivity_sigma * shock,
            t=s.t + 1,
        )
        rewards = {"consumer": consumer_reward, "firm": firm_reward, "government": government_reward[:, None]}
        info = dict(consumed=consumed, demand=demand, affordable=affordable, sales=sales, exports=exports,
                    hours=hours, employer=employer, hours_at_firm=hours_at_firm, production=production,
                    revenue=revenue, wage_bill=wage_bill, investment=investment, firm_profit=firm_reward,
                    income_tax_paid=income_tax_paid, corporate_tax_paid=corporate_tax_paid,
                    tax_revenue=tax_revenue, transfer=transfer, government_budget=government_budget,
                    spending=spending, overdemanded=over, stock_before=s.inventory, price_paid=s.price,
                    wage_paid=s.wage, technology=technology)
        return nxt, rewards, info

    def transition(self, s: RBCState, actions: Mapping[str, torch.Tensor]) -> Transition:
        """One period: :meth:`advance` with this period's productivity innovation, the aggregates and the
        (optionally scaled) rewards. Restarts are the base class's."""
        cfg = self.config
        shock = self.randn(self.num_envs) if cfg.productivity_sigma > 0 else None
        nxt, raw, info = self.advance(s, actions, shock)
        macro = {
            "consumer_utility": raw["consumer"].mean(1),
            "firm_profit": raw["firm"].mean(1),
            "welfare": raw["government"][:, 0],
            "price": s.price.mean(1), "wage": s.wage.mean(1),
            "hours": info["hours"].mean(1),
            "consumption": info["consumed"].sum(-1).mean(1),
            "exports": info["exports"].mean(1),
            "production": info["production"].mean(1),
            "inventory": nxt.inventory.mean(1),
            "capital": nxt.capital.mean(1),
            "consumer_budget": nxt.consumer_budget.mean(1),
            "income_tax": s.income_tax, "corporate_tax": s.corporate_tax,
            "tax_revenue": info["tax_revenue"], "transfer": info["transfer"],
            "government_budget": info["government_budget"],
            "rationed_goods": info["overdemanded"].float().mean(1),
            "productivity": info["technology"],
        }
        done = nxt.t >= cfg.episode_length
        if cfg.scale_rewards:
            reward = {"consumer": raw["consumer"] / cfg.consumer_reward_scale,
                      "firm": raw["firm"] / cfg.firm_reward_scale,
                      "government": raw["government"] / cfg.government_reward_scale}
        else:
            reward = raw
        info["raw_reward"] = raw
        self.last_info = info
        return Transition(nxt, reward, done, macro, info)
