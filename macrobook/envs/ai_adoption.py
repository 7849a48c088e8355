"""AI capital that substitutes for labour at a falling price, batched: ``num_envs`` economies at once.

Defined in Chapter 7 (notebooks/07_frontiers.ipynb), which asks what cheaper AI does to wages, the
labour share, unemployment and inequality, and what a learned government does with a tax on AI.

The model (a small task-free version of the automation models of Acemoglu and Restrepo 2018 and
Korinek and Suh 2024). ``F`` competitive firms ``j`` combine labour ``L`` and rented AI capital ``K``
in a CES aggregate with elasticity of substitution ``sigma > 1`` (AI and workers are substitutes)
and produce with decreasing returns ``nu < 1``:

    X_j = [theta^(1/sigma) K^((sigma-1)/sigma) + (1-theta)^(1/sigma) L^((sigma-1)/sigma)]^(sigma/(sigma-1))
    Y_j = A_j X_j^nu.

AI capital is rented from abroad at the world price ``p_t`` (falling by ``ai_price_decline`` per
period); the government taxes its use at rate ``tau``, so a firm pays ``q = p (1 + tau)``. A
price-taking firm's unit cost of ``X`` is the CES cost index and its factor demands follow
(Shephard's lemma), all closed forms:

    c(w, q) = [theta q^(1-sigma) + (1-theta) w^(1-sigma)]^(1/(1-sigma))
    X_j = (nu A_j / c)^(1/(1-nu)),   L_j = X_j (1-theta) (c / w)^sigma,   K_j = X_j theta (c / q)^sigma.

Labour demand falls with cheaper AI when ``sigma > 1/(1-nu)`` (displacement beats the scale effect);
the defaults (``sigma = 3``, ``nu = 0.5``) are on that side, and the chapter says so. The labour
market clears at the wage ``w`` that equates demand ``mean_j L_j(w)`` with the labour supply (a unit
measure of households, skills with mean 1), unless that wage is below the floor ``wage_floor``
(a minimum wage, or the reservation wage of a welfare state): then ``w = wage_floor`` and the
difference is unemployment, rationed in proportion to skills (every household works the same share).

Households ``i`` (``num_households`` skill levels, log-normal quantiles with mean 1, fixed) earn
``w z_i e`` (``e`` = employment rate), the top ``owner_fraction`` of them by skill own the firms and
share the profits ``Pi = Y - w L - q K``, and everyone receives the same lump-sum transfer of the tax
revenue ``tau p K``. The AI rental ``p K`` leaves the economy, so domestic income is
``Y - p K = w L + Pi + tau p K``, the identity the tests check.

Agent type ``"government"`` (one per economy): observation ``[E, 1, 4]`` = log AI price, last
period's labour share, unemployment rate and income Gini; action ``[E, 1, 1]`` = the AI tax rate
``tau`` in ``[0, tax_max]``; reward ``[E, 1]`` = mean log household income (a utilitarian welfare
function). Firms are not learners: they are the price takers whose best replies are the closed
forms above.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Dict, Mapping

import torch

from ..config import Config, check, check_float, check_int
from ..contract import AgentSpec, Box
from .base import BatchedEconomy, Transition

OBS_NAMES = ("log_ai_price", "labour_share", "unemployment", "gini_income")


@dataclass
class AIAdoptionConfig(Config):
    """Parameters of the AI-adoption economy (output per household; prices in units of output)."""

    num_firms: int = 4
    num_households: int = 50
    #: sigma: elasticity of substitution between AI capital and labour (> 1: substitutes)
    sigma: float = 3.0
    #: theta: the AI weight in the CES aggregate
    ai_weight: float = 0.5
    #: nu: returns to scale of the CES aggregate (< 1: decreasing)
    returns: float = 0.5
    #: A: mean total factor productivity (4 makes w = 1, full employment at p = 1, tau = 0)
    tfp: float = 4.0
    #: log spread of TFP across firms (0: identical firms)
    tfp_spread: float = 0.2
    #: the wage cannot fall below this (output per efficiency unit of labour)
    wage_floor: float = 0.8
    #: standard deviation of log skills across households
    skill_dispersion: float = 0.5
    #: share of households (the most skilled) who own the firms
    owner_fraction: float = 0.1
    #: new episodes start at an AI price drawn log-uniformly on [ai_price_min, ai_price_max]
    ai_price_min: float = 0.3
    ai_price_max: float = 2.0
    #: the world AI price falls by this share every period
    ai_price_decline: float = 0.03
    tax_max: float = 3.0
    episode_length: int = 32

    def validate(self) -> None:
        check_int(self, "num_firms", min=1, max=10_000)
        check_int(self, "num_households", min=2, max=100_000)
        check_float(self, "sigma", min=0.0, min_open=True)
        check(abs(self.sigma - 1.0) > 1e-6, self, "sigma", "different from 1 (the Cobb-Douglas limit is not coded)")
        check_float(self, "ai_weight", min=0.0, max=1.0, min_open=True, max_open=True)
        check_float(self, "returns", min=0.0, max=1.0, min_open=True, max_open=True)
        check_float(self, "tfp", min=0.0, min_open=True)
        check_float(self, "tfp_spread", min=0.0)
        check_float(self, "wage_floor", min=0.0, min_open=True)
        check_float(self, "skill_dispersion", min=0.0)
        check_float(self, "owner_fraction", min=0.0, max=1.0, min_open=True)
        check_float(self, "ai_price_min", min=0.0, min_open=True)
        check(self.ai_price_max >= self.ai_price_min, self, "ai_price_max", f">= ai_price_min={self.ai_price_min}")
        check_float(self, "ai_price_decline", min=0.0, max=1.0, max_open=True)
        check_float(self, "tax_max", min=0.0, min_open=True)
        check_int(self, "episode_length", min=1)


# ----------------------------------------------------------------- the economy as pure tensor functions
def unit_cost(wage: torch.Tensor, ai_cost: torch.Tensor, cfg: AIAdoptionConfig) -> torch.Tensor:
    """CES unit cost c(w, q) = [theta q^(1-s) + (1-theta) w^(1-s)]^(1/(1-s)) (any matching shapes)."""
    s, th = cfg.sigma, cfg.ai_weight
    return (th * ai_cost ** (1 - s) + (1 - th) * wage ** (1 - s)) ** (1 / (1 - s))


def firm_choices(wage: torch.Tensor, ai_cost: torch.Tensor, tfp: torch.Tensor, cfg: AIAdoptionConfig):
    """Profit-maximising choices of price-taking firms. wage, ai_cost: ``[E, 1]``; tfp: ``[F]``.

    Returns (X, L, K, Y), each ``[E, F]``: the CES aggregate, labour, AI capital and output.
    """
    c = unit_cost(wage, ai_cost, cfg)                                      # [E, 1]
    x = (cfg.returns * tfp / c) ** (1 / (1 - cfg.returns))                 # [E, F]
    labour = x * (1 - cfg.ai_weight) * (c / wage) ** cfg.sigma
    ai = x * cfg.ai_weight * (c / ai_cost) ** cfg.sigma
    return x, labour, ai, tfp * x ** cfg.returns


def clear_labour_market(ai_cost: torch.Tensor, tfp: torch.Tensor, cfg: AIAdoptionConfig,
                        labour_supply: float = 1.0, iterations: int = 60) -> torch.Tensor:
    """The wage ``[E, 1]``: demand ``mean_j L_j(w)`` equals supply, or ``wage_floor`` if demand falls short there.

    Labour demand falls in ``w``, so bisection in log w on [log floor, log floor + 20] finds the root
    (a loop over bisection steps, not over agents or economies).
    """
    lo = torch.full_like(ai_cost, math.log(cfg.wage_floor))
    hi = lo + 20.0
    demand_at_floor = firm_choices(lo.exp(), ai_cost, tfp, cfg)[1].mean(-1, keepdim=True)
    for _ in range(iterations):
        mid = 0.5 * (lo + hi)
        excess = firm_choices(mid.exp(), ai_cost, tfp, cfg)[1].mean(-1, keepdim=True) - labour_supply
        lo = torch.where(excess > 0, mid, lo)
        hi = torch.where(excess > 0, hi, mid)
    wage = (0.5 * (lo + hi)).exp()
    return torch.where(demand_at_floor > labour_supply, wage, torch.full_like(wage, cfg.wage_floor))


def gini(x: torch.Tensor) -> torch.Tensor:
    """Gini coefficient over the last axis, ``sum_ij |x_i - x_j| / (2 n^2 mean x)`` (Gini 1912)."""
    n = x.shape[-1]
    xs, _ = torch.sort(x, dim=-1)
    rank = torch.arange(1, n + 1, device=x.device, dtype=x.dtype)
    # sum_ij |x_i - x_j| = 2 sum_i (2 i - n - 1) x_(i) for sorted x
    return 2 * ((2 * rank - n - 1) * xs).sum(-1) / (2 * n * n * x.mean(-1).clamp_min(1e-12))


def skill_levels(cfg: AIAdoptionConfig) -> torch.Tensor:
    """``[N]`` log-normal skill quantiles, normalised to mean 1 (deterministic: the same in every economy)."""
    u = (torch.arange(cfg.num_households, dtype=torch.float64) + 0.5) / cfg.num_households
    z = torch.exp(cfg.skill_dispersion * math.sqrt(2) * torch.erfinv(2 * u - 1))
    return (z / z.mean()).float()


def equilibrium(ai_price: torch.Tensor, tax: torch.Tensor, cfg: AIAdoptionConfig,
                skills: torch.Tensor, tfp: torch.Tensor) -> Dict[str, torch.Tensor]:
    """One period's market outcome for AI prices and tax rates ``[E]``: aggregates ``[E]`` and incomes ``[E, N]``."""
    q = (ai_price * (1 + tax)).unsqueeze(-1)                               # [E, 1] what firms pay
    wage = clear_labour_market(q, tfp, cfg)
    _, labour, ai, output = firm_choices(wage, q, tfp, cfg)
    w = wage.squeeze(-1)
    L, K, Y = labour.mean(-1), ai.mean(-1), output.mean(-1)               # per household (measure 1)
    employment = L.clamp(max=1.0)                                           # supply is 1
    profit = Y - w * L - q.squeeze(-1) * K
    revenue = tax * ai_price * K
    n_owners = max(1, round(cfg.owner_fraction * cfg.num_households))
    owner = torch.zeros(cfg.num_households, device=skills.device)
    owner[-n_owners:] = 1.0                                                 # skills are sorted ascending
    income = (w * employment).unsqueeze(-1) * skills \
        + profit.unsqueeze(-1) * owner * (cfg.num_households / n_owners) + revenue.unsqueeze(-1)
    return {"wage": w, "employment": employment, "unemployment": 1.0 - employment, "ai_capital": K,
            "output": Y, "profit": profit, "tax_revenue": revenue, "ai_rental_abroad": ai_price * K,
            "labour_share": w * L / Y, "ai_cost_share": q.squeeze(-1) * K / Y,
            "domestic_income": Y - ai_price * K, "income": income, "gini_income": gini(income)}


@dataclass
class AIState:
    """The state of every economy: the world AI price ``[E]``, the period ``[E]`` and last period's
    labour share, unemployment and income Gini ``[E, 3]`` (what the government observes)."""

    ai_price: torch.Tensor
    period: torch.Tensor
    last: torch.Tensor


class AIAdoptionEconomy(BatchedEconomy):
    """``num_envs`` economies in which firms rent AI capital at a falling world price (module docstring).

    macro (each ``[E]``): ai_price, tax_rate, wage, unemployment, labour_share, ai_cost_share, output,
    domestic_income, gini_income, tax_revenue, welfare (mean log income).
    ``info["income"]``: ``[E, N]`` household incomes.
    """

    macro_units = {
        "ai_price": "output per unit of AI capital", "tax_rate": "share of the AI price",
        "wage": "output per efficiency unit", "unemployment": "share of labour supply",
        "labour_share": "share of output", "ai_cost_share": "share of output",
        "output": "output per household", "domestic_income": "output per household",
        "gini_income": "Gini of household income", "tax_revenue": "output per household",
        "welfare": "mean log household income",
    }

    def __init__(self, config: AIAdoptionConfig | None = None, num_envs: int = 1, device="auto"):
        super().__init__(num_envs, device)
        self.config = config if config is not None else AIAdoptionConfig()
        cfg = self.config
        self.specs = {"government": AgentSpec(count=1, obs_dim=4, action=Box(0.0, cfg.tax_max, (1,)),
                                              obs_names=OBS_NAMES)}
        self.skills = skill_levels(cfg).to(self.device)
        j = (torch.arange(cfg.num_firms, dtype=torch.float32) + 0.5) / cfg.num_firms - 0.5
        self.tfp = (cfg.tfp * torch.exp(cfg.tfp_spread * j)).to(self.device)
        self.fixed_price: torch.Tensor | None = None

    @property
    def ai_price(self) -> torch.Tensor:
        """``[E]`` this period's world AI price."""
        return self.state.ai_price

    def set_ai_price(self, price) -> Dict[str, torch.Tensor]:
        """Put every economy at the given AI prices ``[E]`` and hold them fixed (no decline; restarts keep
        them): for comparative statics across a price grid. ``None`` returns to falling, redrawn prices."""
        if price is None:
            self.fixed_price = None
            return self.observe()
        price = torch.as_tensor(price, dtype=torch.float32, device=self.device).reshape(self.num_envs)
        if not bool((price > 0).all()):
            raise ValueError("AI prices must be positive")
        self.fixed_price = price.clone()
        if self.state is None:
            self.state = self.initial_state(self.num_envs)
        self.state = AIState(price.clone(), self.state.period, self.state.last)
        return self.observe()

    # ----------------------------------------------------------------- the contract
    def initial_state(self, num_envs: int) -> AIState:
        cfg = self.config
        if self.fixed_price is not None:
            price = self.fixed_price.clone()
        else:
            lo, hi = math.log(cfg.ai_price_min), math.log(cfg.ai_price_max)
            price = torch.exp(lo + (hi - lo) * self.rand(num_envs))
        return AIState(price, torch.zeros(num_envs, device=self.device), torch.zeros(num_envs, 3, device=self.device))

    def observe(self, state: AIState | None = None) -> Dict[str, torch.Tensor]:
        state = self.state if state is None else state
        return {"government": torch.cat([state.ai_price.log().unsqueeze(-1), state.last], -1).unsqueeze(1)}

    def transition(self, state: AIState, actions: Mapping[str, torch.Tensor]) -> Transition:
        cfg = self.config
        tax = actions["government"].reshape(self.num_envs).clamp(0.0, cfg.tax_max)
        eq = equilibrium(state.ai_price, tax, cfg, self.skills, self.tfp)
        welfare = eq["income"].clamp_min(1e-9).log().mean(-1)
        macro = {k: eq[k] for k in ("wage", "unemployment", "labour_share", "ai_cost_share", "output",
                                    "domestic_income", "gini_income", "tax_revenue")}
        macro.update(ai_price=state.ai_price.clone(), tax_rate=tax, welfare=welfare)
        decline = 0.0 if self.fixed_price is not None else cfg.ai_price_decline
        period = state.period + 1
        nxt = AIState(state.ai_price * (1 - decline), period,
                      torch.stack([eq["labour_share"], eq["unemployment"], eq["gini_income"]], -1))
        return Transition(nxt, {"government": welfare.unsqueeze(-1)}, period >= cfg.episode_length, macro,
                          {"income": eq["income"]})
