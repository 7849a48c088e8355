"""A six-sector, stock-flow consistent open economy on working markets: households, firms,
government, central bank, a bank (the financial sector) and the rest of the world. Chapter 3
builds Atashbar's (2023) MADDPG skeleton on it; see notebooks/03_six_sector_maddpg.ipynb.

    econ = SixSectorEconomy(SixSectorConfig(num_households=8, num_firms=4), num_envs=64)
    obs = econ.reset(seed=0)       # {"household": [64, 8, obs], "firm": [64, 4, obs], ...}
    out = econ.step(econ.sample_actions())
    out.macro["gdp"], out.macro["inflation"], out.info["flows"]["loans_issued"]

Markets (the shared pure functions of :mod:`macrobook.markets`):

* goods: CES demand with spillover and production to order up to capacity
  (``goods.sell_to_order``): a firm is sold out only at capacity, and what it cannot deliver
  goes to its rivals;
* prices: a Rotemberg cost of changing a price (``pricing.rotemberg_cost``), paid to households;
* labor: hours are what production needs; the wage index follows past inflation and
  unemployment (``labor.update_wage_index``), so the central bank is the nominal anchor;
* credit: investment and an overdraft become loans only up to a credit limit
  (``credit.credit_limit``, ``credit.grant_loans``); a firm that cannot pay its bills within it
  pays a share of each and defaults; defaults are settled by ``credit.settle_defaults``;
  the bank pays deposit interest only out of its income;
* money: interest on reserves is financed by a tax (``money.reserve_interest_and_tax``), the
  bank pays dividends out of profit above its capital requirement (``money.dividends``);
* fiscal and external closures (``markets.fiscal``): deficits are financed by bonds sold to
  households under a passive tax rule; the exchange rate mean-reverts with interest parity and
  a debt-elastic premium; imports are capped by foreign supply;
* intertemporal substitution: a household's learned consumption share is its plan at the
  reference real rate; the Euler equation solved forward over ``rate_horizon`` quarters tilts it
  by ``exp(-ies x rate_horizon x (policy rate - last inflation - reference_real_rate))``
  (:func:`euler_tilt`), so a rate rise reaches spending through saving as well as through the
  exchange rate (and, the other way, through households' interest income).

Agent types, actions (Box) and rewards
--------------------------------------
=============  ================================================  =========================================
type           action                                            reward
=============  ================================================  =========================================
household      [consumption_share in [0.02, 0.3] of wealth + income,  log(real consumption / reference)
               labor_supply in [0.5, 1] of a full-time week]        - chi h^(1+1/eta)/(1+1/eta)
firm           [price_change in [-0.05, 0.05] per quarter,       real economic profit (revenue - wages -
               investment_rate in [0, 0.05] of capital]           price-change cost - user cost of capital)
                                                                  / CPI / reference output
government     [tax_base in [0, 0.5] (the rule adds to it),      mean household utility + public goods
               spending_share in [0, 0.4] of reference output]    - a debt-gap penalty
central_bank   [policy_rate in [0, 0.03] per quarter]            -(inflation gap^2 + w_y output gap^2)
bank           [lending_spread in [0, 0.03] per quarter]         (profit - expected loan losses) / scale
foreign        [import_demand in [0.5, 1.5] x baseline,          0.5 log(export volume) + its trade
               fx_push in [-0.02, 0.02]]                          surplus - a volatility cost
=============  ================================================  =========================================

Balance sheets (home currency)
------------------------------
* households ``[E, H]``: deposits (>= 0) and government bonds (>= 0).
* firms ``[E, F]``: deposits (>= 0), loans (>= 0), capital (real, >= 0). No inventories: output
  is made to order.
* government: bonds held by households plus the central bank's claim (the monetized part).
* bank: loans + reserves = deposits (households, firms, the foreign sector's account) + equity.
  Reserves may be negative (an overdraft at the central bank, paying the policy rate).
* central bank: its initial asset + its claim on the government = reserves.
* foreign: a home-currency account at the bank (negative = the bank lends to the world); the
  home country's net foreign liabilities.

Money (deposits at the bank) changes only by (tested every step)

    d(deposits) = loans issued - repaid - seized collateral - loan interest + deposit interest
                  + bank dividends - reserve-interest tax + monetized deficit

Every other payment (wages, consumption, investment, taxes, bonds, imports, exports, dividends,
price-change fees) moves deposits between accounts. The per-agent Python loop of the same
economy (``macrobook.bench.six_sector.transition_loop``) is the reference for the batched step.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Dict, Mapping

import torch

from ..config import Config, check, check_choice, check_float, check_int
from ..contract import AgentSpec, Box
from ..markets import credit, fiscal, goods, labor, money, pricing
from .base import BatchedEconomy, Transition

# --------------------------------------------------------------------------- configuration


@dataclass
class SixSectorConfig(Config):
    """Calibration of :class:`SixSectorEconomy`. One period is a quarter; rates are per quarter."""

    num_households: int = 8
    num_firms: int = 4
    episode_len: int = 40
    # technology: y = A z k^alpha n^(1-alpha)
    capital_share: float = 0.33
    depreciation: float = 0.025
    capital_output_ratio: float = 8.0        # quarters of output, sets the initial capital stock
    reference_hours: float = 0.7             # share of a full week worked at potential output
    # heterogeneity
    skill_dispersion: float = 0.5
    wealth_dispersion: float = 0.8
    productivity_dispersion: float = 0.05
    labor_disutility: float = 2.0            # mean chi; each household draws chi in [0.5, 1.5] x this
    frisch_elasticity: float = 1.0
    # goods market and prices
    price_elasticity: float = 6.0            # CES substitution between firms' goods (Gali 2015)
    rotemberg: float = 40.0                  # phi: cost phi/2 (p/p_prev - 1 - target)^2 x revenue
    # trade
    import_share: float = 0.2                # mean household import share at parity
    import_price_elasticity: float = 1.5
    import_supply: float = 0.3               # most the world sells per quarter, share of reference output
    export_share: float = 0.15               # baseline export volume / reference output
    export_price_elasticity: float = 1.5
    fx_persistence: float = 0.9
    fx_rate_sensitivity: float = 2.0         # UIP-like: a higher home rate appreciates the currency
    fx_debt_sensitivity: float = 0.05        # net foreign liabilities (annual GDP) depreciate it
    foreign_rate: float = 0.01
    foreign_spending_rate: float = 0.1       # share of its home-currency balance the world spends here a quarter
    # finance
    deposit_passthrough: float = 0.8         # deposit rate = passthrough x policy rate
    dividend_payout: float = 0.5             # of firm deposits above half a quarter's revenue
    bank_payout: float = 0.9
    capital_requirement: float = 0.08
    loan_repayment_rate: float = 0.1         # amortization per quarter
    ltv_limit: float = 0.5                   # loans <= ltv x value of capital
    dsr_limit: float = 0.5                   # debt service <= dsr x quarterly revenue
    default_base: float = 0.005              # quarterly default probability at reference leverage and rate
    default_leverage_sensitivity: float = 4.0
    default_rate_sensitivity: float = 50.0
    reference_leverage: float = 0.25
    # fiscal rule and bonds
    debt_target: float = 0.6                 # public debt / annual GDP
    tax_debt_response: float = 0.5           # passive rule: tax rate + response x (debt ratio - target); at 0.2
                                             # a learned government's low tax base doubled debt / GDP (Chapter 3)
    bond_share_cap: float = 0.5              # a household buys at most this share of its deposits in bonds
    # intertemporal substitution: households' spending tilts with the expected real rate (an Euler
    # equation solved forward, log c = log c_plan - ies x horizon x (r - r_ref))
    ies: float = 1.0                         # elasticity of intertemporal substitution (1: log utility)
    rate_horizon: float = 4.0                # quarters households expect a real-rate gap to last
    reference_real_rate: float = 0.005       # real rate per quarter at which the tilt is zero (1% policy, 0.5% inflation)
    # wages (a wage Phillips curve, indexed to past inflation)
    wage_flexibility: float = 0.05
    wage_indexation: float = 1.0
    natural_unemployment: float = 0.1
    # shocks
    tfp_persistence: float = 0.95
    tfp_volatility: float = 0.005
    foreign_demand_persistence: float = 0.9
    foreign_demand_volatility: float = 0.01
    fx_volatility: float = 0.005
    # objectives
    inflation_target: float = 0.005
    output_gap_weight: float = 0.5
    public_goods_weight: float = 0.2
    debt_penalty: float = 2.0
    risk_weight: float = 1.0
    dtype: str = "float64"                   # float64 keeps GDP = C+I+G+X-M to ~1e-12

    def validate(self) -> None:
        check_int(self, "num_households", min=1, max=100_000)
        check_int(self, "num_firms", min=1, max=10_000)
        check_int(self, "episode_len", min=1)
        check_float(self, "capital_share", min=0.0, max=1.0, min_open=True, max_open=True)
        check_float(self, "depreciation", min=0.0, max=1.0)
        check_float(self, "capital_output_ratio", min=0.0, min_open=True)
        check_float(self, "reference_hours", min=0.0, max=1.0, min_open=True)
        for f in ("tfp_volatility", "foreign_demand_volatility", "fx_volatility"):
            check_float(self, f, min=0.0, max=0.5)
        for f in ("skill_dispersion", "wealth_dispersion", "productivity_dispersion"):
            check_float(self, f, min=0.0, max=3.0)
        for f in ("fx_rate_sensitivity", "fx_debt_sensitivity", "wage_flexibility", "default_leverage_sensitivity",
                  "default_rate_sensitivity", "output_gap_weight", "public_goods_weight", "debt_penalty",
                  "risk_weight", "import_price_elasticity", "export_price_elasticity", "rotemberg",
                  "tax_debt_response", "ies", "rate_horizon"):
            check_float(self, f, min=0.0, max=1000.0)
        check_float(self, "reference_real_rate", min=-0.05, max=0.05)
        check_float(self, "labor_disutility", min=0.0, min_open=True)
        check_float(self, "frisch_elasticity", min=0.0, min_open=True)
        check_float(self, "price_elasticity", min=1.0, min_open=True)
        check_float(self, "import_share", min=0.0, max=0.5)
        check_float(self, "import_supply", min=0.0, max=2.0)
        check_float(self, "export_share", min=0.0, max=1.0)
        check_float(self, "foreign_rate", min=0.0, max=0.1)
        check_float(self, "foreign_spending_rate", min=0.0, max=1.0)
        for f in ("deposit_passthrough", "dividend_payout", "bank_payout", "loan_repayment_rate", "ltv_limit",
                  "dsr_limit", "capital_requirement", "bond_share_cap", "natural_unemployment", "wage_indexation"):
            check_float(self, f, min=0.0, max=1.0)
        check_float(self, "default_base", min=0.0, max=0.5)
        check_float(self, "reference_leverage", min=0.0, max=1.0)
        check_float(self, "debt_target", min=0.0, max=5.0)
        for f in ("tfp_persistence", "foreign_demand_persistence", "fx_persistence"):
            check_float(self, f, min=0.0, max=1.0, max_open=True)
        check_float(self, "inflation_target", min=-0.05, max=0.05)
        check_choice(self, "dtype", ["float32", "float64"])
        check(self.num_households >= 1, self, "num_households", "at least 1")


# action bounds of one agent of each type (low, high, names). Each box is centred near the reference
# steady state (consumption 15% of wealth + income, hours offered 0.78, replacement investment 2.5%,
# 20% spending), so untrained actors, whose outputs start near the middle, start in a sensible economy
ACTIONS: Dict[str, tuple] = {
    "household": ((0.02, 0.5), (0.3, 1.0), ("consumption_share", "labor_supply")),
    "firm": ((-0.05, 0.0), (0.05, 0.05), ("price_change", "investment_rate")),
    "government": ((0.0, 0.0), (0.5, 0.4), ("tax_base", "spending_share")),
    "central_bank": ((0.0,), (0.03,), ("policy_rate",)),
    "bank": ((0.0,), (0.03,), ("lending_spread",)),
    "foreign": ((0.5, -0.02), (1.5, 0.02), ("import_demand", "fx_push")),
}

#: every observation feature is clipped to [-OBS_CLIP, OBS_CLIP] (features are scaled to be O(1))
OBS_CLIP = 10.0

COMMON_OBS = ("inflation_pct", "output_gap_x10", "unemployment_x10", "policy_rate_pct", "tax_rate",
              "lending_rate_pct", "log_exchange_rate_x10", "trade_balance_to_gdp_x10")
OWN_OBS = {
    "household": ("log_wealth_to_income", "bond_share", "skill", "labor_disutility", "import_pref_x4",
                  "net_income_to_reference", "hours_worked"),
    "firm": ("log_relative_price_x10", "log_price_to_markup_cost_x10", "capacity_use", "deposits_to_reference_sales",
             "loans_to_capital_value", "log_capital_to_reference", "productivity", "log_real_wage_x10"),
    "government": ("debt_to_annual_gdp", "deficit_to_gdp_x10", "spending_share_last"),
    "central_bank": ("wage_growth_pct", "credit_to_gdp"),
    "bank": ("loans_to_gdp", "equity_to_loans_x10", "default_rate_pct", "spread_pct"),
    "foreign": ("log_real_exchange_rate_x10", "exports_to_gdp_x10", "imports_to_gdp_x10",
                "foreign_demand_x10", "foreign_deposits_to_gdp"),
}

#: impulse-response shocks this economy accepts through :meth:`SixSectorEconomy.set_shock`
SHOCKS = {
    "government_spending": "added to the government's spending share (share of reference output per quarter)",
    "policy_rate": "added to the central bank's policy rate (decimal per quarter, floored at 0)",
    "foreign_demand": "added to log foreign demand for exports",
    "tfp": "added to log total factor productivity",
}

# --------------------------------------------------------------------------- state


@dataclass
class SixSectorState:
    """All stocks and the memory the observations need. Shapes: ``[E]``, ``[E, H]`` or ``[E, F]``."""

    # households [E, H]
    hh_deposits: torch.Tensor
    hh_bonds: torch.Tensor
    skill: torch.Tensor
    chi: torch.Tensor
    import_pref: torch.Tensor
    ownership: torch.Tensor
    hh_net_income: torch.Tensor
    hh_hours: torch.Tensor
    # firms [E, F]
    price: torch.Tensor
    firm_deposits: torch.Tensor
    loans: torch.Tensor
    capital: torch.Tensor
    productivity: torch.Tensor
    ref_hours: torch.Tensor
    ref_capital: torch.Tensor
    ref_output: torch.Tensor
    last_sales: torch.Tensor
    last_capacity: torch.Tensor
    last_mc: torch.Tensor
    # aggregates [E]
    wage: torch.Tensor
    ref_wage: torch.Tensor
    exchange_rate: torch.Tensor
    cb_claim: torch.Tensor
    reserves: torch.Tensor
    cb_asset: torch.Tensor
    foreign_price: torch.Tensor
    foreign_deposits: torch.Tensor
    bank_equity: torch.Tensor
    log_tfp: torch.Tensor
    log_foreign_demand: torch.Tensor
    cpi: torch.Tensor
    p_dom: torch.Tensor
    ref_gdp: torch.Tensor
    policy_rate: torch.Tensor
    tax_rate: torch.Tensor
    lending_rate: torch.Tensor
    spending_share: torch.Tensor
    inflation: torch.Tensor
    output_gap: torch.Tensor
    unemployment: torch.Tensor
    deficit_ratio: torch.Tensor
    trade_balance_ratio: torch.Tensor
    default_rate: torch.Tensor
    wage_growth: torch.Tensor
    exports_ratio: torch.Tensor
    imports_ratio: torch.Tensor
    spread: torch.Tensor
    t: torch.Tensor

    def clone(self) -> "SixSectorState":
        return SixSectorState(**{f.name: getattr(self, f.name).clone() for f in dataclasses.fields(self)})


def gov_debt(s: SixSectorState) -> torch.Tensor:
    """Public debt ``[E]``: bonds held by households plus the central bank's claim."""
    return s.hh_bonds.sum(1) + s.cb_claim


def reset_draws(cfg: SixSectorConfig, E: int, rand, randn) -> Dict[str, torch.Tensor]:
    """The random numbers a fresh economy needs (always the same count: common random numbers)."""
    H, F = cfg.num_households, cfg.num_firms
    return {"skill_z": randn(E, H), "wealth_z": randn(E, H), "chi_u": rand(E, H),
            "import_u": rand(E, H), "prod_z": randn(E, F)}


def step_draws(cfg: SixSectorConfig, E: int, rand, randn) -> Dict[str, torch.Tensor]:
    """The random numbers one step needs, drawn whatever the state (common random numbers)."""
    return {"tfp": randn(E), "foreign_demand": randn(E), "fx": randn(E), "default_u": rand(E, cfg.num_firms)}


def euler_tilt(real_rate, cfg: SixSectorConfig):
    """The factor on households' planned spending share: ``exp(-ies x rate_horizon x (r - r_ref))``,
    the consumption Euler equation ``log c_t = log c_(t+1) - ies (r_t - r_ref)`` summed over the
    ``rate_horizon`` quarters a household expects a real-rate gap to last (the new-Keynesian IS
    curve solved forward, Gali 2015 ch. 3). Works on tensors and floats."""
    x = -cfg.ies * cfg.rate_horizon * (real_rate - cfg.reference_real_rate)
    return torch.exp(x) if isinstance(x, torch.Tensor) else math.exp(x)


def markup(cfg: SixSectorConfig) -> float:
    """The flexible-price markup ``e / (e - 1)`` over marginal cost."""
    return pricing.optimal_markup(cfg.price_elasticity)


def initial_state(cfg: SixSectorConfig, d: Mapping[str, torch.Tensor], dtype) -> SixSectorState:
    """A fresh economy at its flexible-price reference point: prices 1, exchange rate 1, capital at
    the capital-output ratio, and the wage at which price 1 is the optimal markup over marginal
    cost at reference hours."""
    skill_z, wealth_z = d["skill_z"].to(dtype), d["wealth_z"].to(dtype)
    E, H = skill_z.shape
    F = cfg.num_firms
    dev = skill_z.device
    a = cfg.capital_share
    sk = torch.exp(cfg.skill_dispersion * skill_z - 0.5 * cfg.skill_dispersion ** 2)
    sk = sk / sk.mean(1, keepdim=True)                                  # mean skill 1
    chi = cfg.labor_disutility * (0.5 + d["chi_u"].to(dtype))
    imp = cfg.import_share * (0.6 + 0.8 * d["import_u"].to(dtype))     # in [0.6, 1.4] x mean
    prod = torch.exp(cfg.productivity_dispersion * d["prod_z"].to(dtype))
    ref_hours = (cfg.reference_hours * sk.sum(1, keepdim=True) / F).expand(E, F).clone()
    ref_capital = cfg.capital_output_ratio ** (1.0 / (1.0 - a)) * ref_hours
    ref_output = prod * ref_capital ** a * ref_hours ** (1 - a)
    ref_gdp = ref_output.sum(1)
    ref_wage = (1 - a) * ref_gdp / ref_hours.sum(1) / markup(cfg)      # p = markup x mc = 1 at reference
    income = ref_wage[:, None] * cfg.reference_hours * sk
    w = torch.exp(cfg.wealth_dispersion * wealth_z - 0.5 * cfg.wealth_dispersion ** 2)
    hh_dep = 2.0 * income * w                                           # about two quarters of wage income
    ownership = hh_dep / hh_dep.sum(1, keepdim=True)
    hh_bonds = cfg.debt_target * 4.0 * ref_gdp[:, None] * ownership
    firm_dep = 0.5 * ref_output
    loans = cfg.reference_leverage * ref_capital
    zE = torch.zeros(E, dtype=dtype, device=dev)
    oneE = torch.ones(E, dtype=dtype, device=dev)
    deposits = hh_dep.sum(1) + firm_dep.sum(1)
    bank_equity = 0.1 * loans.sum(1)
    reserves = deposits + bank_equity - loans.sum(1)
    mc0 = ref_wage[:, None] * ref_hours / ((1 - a) * ref_output)
    return SixSectorState(
        hh_deposits=hh_dep, hh_bonds=hh_bonds, skill=sk, chi=chi, import_pref=imp, ownership=ownership,
        hh_net_income=income * 0.8, hh_hours=torch.full_like(sk, cfg.reference_hours),
        price=torch.ones(E, F, dtype=dtype, device=dev), firm_deposits=firm_dep, loans=loans,
        capital=ref_capital.clone(), productivity=prod, ref_hours=ref_hours, ref_capital=ref_capital,
        ref_output=ref_output, last_sales=ref_output.clone(), last_capacity=ref_output / cfg.reference_hours ** (1 - a),
        last_mc=mc0,
        wage=ref_wage.clone(), ref_wage=ref_wage, exchange_rate=oneE.clone(), cb_claim=zE.clone(),
        reserves=reserves, cb_asset=reserves.clone(), foreign_price=oneE.clone(), foreign_deposits=zE.clone(), bank_equity=bank_equity,
        log_tfp=zE.clone(), log_foreign_demand=zE.clone(), cpi=oneE.clone(), p_dom=oneE.clone(), ref_gdp=ref_gdp,
        policy_rate=zE + 0.01, tax_rate=zE + 0.3, lending_rate=zE + 0.02, spending_share=zE + 0.2,
        inflation=zE + cfg.inflation_target, output_gap=zE.clone(), unemployment=zE + cfg.natural_unemployment,
        deficit_ratio=zE.clone(), trade_balance_ratio=zE.clone(), default_rate=zE + cfg.default_base,
        wage_growth=zE + cfg.inflation_target, exports_ratio=zE + cfg.export_share,
        imports_ratio=zE + cfg.import_share, spread=zE + 0.01, t=torch.zeros(E, dtype=torch.long, device=dev),
    )


# --------------------------------------------------------------------------- the transition


def transition(s: SixSectorState, act: Mapping[str, torch.Tensor], draws: Mapping[str, torch.Tensor],
               shocks: Mapping[str, torch.Tensor], cfg: SixSectorConfig):
    """One quarter for every economy at once; pure tensors, no loop over agents or economies.

    ``act``: {"household": [E,H,2], "firm": [E,F,2], "government": [E,1,2], "central_bank": [E,1,1],
    "bank": [E,1,1], "foreign": [E,1,2]}. ``shocks``: {name: [E]} (see SHOCKS).
    Returns ``(new_state, flows, rewards)``; ``flows`` are this quarter's transactions (home currency).

    Stages: 1 prices, rates, exchange rate, the tax rule; 2 interest on opening stocks;
    3 spending plans (households, investment, government, exports, imports capped by supply);
    4 goods market, production to order (``goods.sell_to_order``); 5 hours and wages;
    6 price-change costs; 7 loan service, overdrafts into loans up to the limit, defaults;
    8 dividends, bank income; 9 government budget and bonds; 10 wage index, prices, shocks;
    11 national accounts and rewards.
    """
    dt = s.hh_deposits.dtype
    a = {k: v.to(dt) for k, v in act.items()}
    draws = {k: v.to(dt) for k, v in draws.items()}
    shocks = {k: v.to(dt) for k, v in shocks.items()}
    E, H = s.hh_deposits.shape
    F = s.price.shape[1]
    al = cfg.capital_share
    c_share, labor_offer = a["household"][..., 0], a["household"][..., 1]
    price_change, inv_rate = a["firm"][..., 0], a["firm"][..., 1]
    tax_base, g_share = a["government"][:, 0, 0], a["government"][:, 0, 1]
    g_share = (g_share + shocks["government_spending"]).clamp_min(0.0)
    policy_rate = (a["central_bank"][:, 0, 0] + shocks["policy_rate"]).clamp_min(0.0)
    spread = a["bank"][:, 0, 0]
    import_demand, fx_push = a["foreign"][:, 0, 0], a["foreign"][:, 0, 1]

    # 1. prices, rates, the exchange rate and the tax rule
    price = s.price * (1.0 + price_change)
    p_dom = torch.exp(torch.log(price).mean(1))                          # geometric-mean domestic price
    nominal_ref_open = s.p_dom * s.ref_gdp
    debt_open = gov_debt(s)
    debt_ratio = debt_open / (4.0 * nominal_ref_open)
    tax_rate = fiscal.tax_rule(tax_base, debt_ratio, cfg.debt_target, cfg.tax_debt_response)
    # net foreign liabilities in years of GDP; the premium stops rising past four years
    nfl_ratio = (s.foreign_deposits / (4.0 * nominal_ref_open)).clamp(-4.0, 4.0)
    exchange_rate = torch.exp(fiscal.exchange_rate_step(
        torch.log(s.exchange_rate), fx_push, policy_rate - cfg.foreign_rate, nfl_ratio,
        cfg.fx_volatility * draws["fx"], cfg.fx_persistence, cfg.fx_rate_sensitivity, cfg.fx_debt_sensitivity))
    foreign_price = s.foreign_price * (1.0 + cfg.inflation_target)      # the world's prices rise at the target rate
    import_price = exchange_rate * foreign_price
    lending_rate = policy_rate + spread
    # the bank pays deposit interest out of its income (interest due on its loans, interest on
    # positive reserves), never more: interest is not printed
    reserve_income = (s.reserves * policy_rate).clamp_min(0.0)
    deposit_base = (s.hh_deposits.clamp_min(0.0).sum(1) + s.firm_deposits.clamp_min(0.0).sum(1)
                    + s.foreign_deposits.clamp_min(0.0))
    income_rate = (s.loans.sum(1) * lending_rate + reserve_income) / deposit_base.clamp_min(1e-300)
    deposit_rate = torch.minimum(cfg.deposit_passthrough * policy_rate, income_rate)

    # 2. interest on opening stocks: deposits (paid by the bank), bonds (by the government),
    # reserves (by the central bank, financed by a tax on households pro rata to deposits)
    hh_dep_int = s.hh_deposits * deposit_rate[:, None]
    firm_dep_int = s.firm_deposits * deposit_rate[:, None]
    foreign_int = s.foreign_deposits * deposit_rate
    deposit_interest = hh_dep_int.sum(1) + firm_dep_int.sum(1) + foreign_int
    bond_interest = s.hh_bonds * policy_rate[:, None]
    reserve_interest, ior_tax_total = money.reserve_interest_and_tax(s.reserves[:, None], policy_rate, 1)
    reserve_interest = reserve_interest[:, 0]
    hh_pos = s.hh_deposits.clamp_min(0.0)
    ior_tax = ior_tax_total[:, None] * hh_pos / hh_pos.sum(1, keepdim=True).clamp_min(1e-300)
    hh_dep = s.hh_deposits + hh_dep_int + bond_interest - ior_tax
    firm_dep = s.firm_deposits + firm_dep_int
    foreign_dep = s.foreign_deposits + foreign_int

    # 3. spending plans (home currency)
    cash = hh_dep + s.hh_bonds + s.hh_net_income                        # wealth + expected income
    # the learned share is the plan at the reference real rate; the Euler equation tilts it: a real
    # return on bonds above the reference (policy rate less last quarter's inflation, adaptive
    # expectations) makes saving pay and moves spending to later quarters
    real_rate = policy_rate - s.inflation
    tilt = euler_tilt(real_rate, cfg)
    spend = torch.minimum(c_share * tilt[:, None] * cash.clamp_min(0.0), hh_dep.clamp_min(0.0))
    imp_share = (s.import_pref * (import_price / p_dom)[:, None] ** (-cfg.import_price_elasticity)).clamp(0.0, 0.6)
    imports_hh = fiscal.cap_imports(imp_share * spend, import_price, cfg.import_supply * s.ref_gdp)
    dom_budget = spend - imp_share * spend                              # the domestic part of the plan
    # investment is financed by a bank loan, within the firm's credit limit (and its deposits)
    limit = credit.credit_limit(s.last_sales * s.price, s.price * s.capital, lending_rate[:, None],
                                cfg.loan_repayment_rate, torch.full_like(s.price, cfg.dsr_limit),
                                torch.full_like(s.price, cfg.ltv_limit))
    room = (limit - s.loans).clamp_min(0.0)
    inv_budget = torch.minimum(inv_rate * p_dom[:, None] * s.capital, room + firm_dep.clamp_min(0.0))
    g_budget = g_share * p_dom * s.ref_gdp
    export_volume = (cfg.export_share * s.ref_gdp * import_demand
                     * torch.exp(s.log_foreign_demand + shocks["foreign_demand"])
                     * (import_price / p_dom) ** cfg.export_price_elasticity)
    # the rest of the world also spends a share of its home-currency balance here (or, when it owes
    # the home bank, cuts its purchases to repay): its balance cannot grow without bound
    x_budget = (export_volume * p_dom + cfg.foreign_spending_rate * foreign_dep).clamp_min(0.0)

    # 4. goods market: CES demand with spillover, production to order up to capacity
    zA = s.productivity * torch.exp(s.log_tfp)[:, None]
    cap_hours = s.ref_hours / cfg.reference_hours                      # the full-time labor force, by firm
    capacity = zA * s.capital ** al * cap_hours ** (1 - al)
    buyers = torch.cat([dom_budget, inv_budget, g_budget[:, None], x_budget[:, None]], 1)
    market = goods.sell_to_order(buyers, price, capacity, cfg.price_elasticity)
    sold, revenue = market["sold"], market["revenue"]
    spent, bought = market["spent"], market["bought"]
    c_dom, i_act = spent[:, :H], spent[:, H:H + F]
    g_act, x_act = spent[:, H + F], spent[:, H + F + 1]
    real_c_dom, real_inv = bought[:, :H], bought[:, H:H + F]
    hh_dep = hh_dep - c_dom - imports_hh
    foreign_dep = foreign_dep + imports_hh.sum(1) - x_act
    inv_loans = torch.minimum(i_act, room)
    firm_dep = firm_dep + revenue - i_act + inv_loans
    capital = (1.0 - cfg.depreciation) * s.capital + real_inv

    # 5. hours: what production needs; households work in proportion to their offers
    hours_f = (sold / (zA * s.capital ** al)).clamp_min(0.0) ** (1.0 / (1.0 - al))   # efficiency hours
    L = hours_f.sum(1)
    offered = (labor_offer * s.skill).sum(1)
    full = s.skill.sum(1)
    short = L <= offered
    share = torch.where(offered > 0, L / offered.clamp_min(1e-300), torch.zeros_like(L))
    extra = ((L - offered) / (full - offered).clamp_min(1e-300)).clamp(0.0, 1.0)
    hours = torch.where(short[:, None], labor_offer * share[:, None],
                        labor_offer + (1.0 - labor_offer) * extra[:, None])
    unemployment = torch.where(offered > 0, (1.0 - L / offered.clamp_min(1e-300)).clamp_min(0.0), torch.zeros_like(L))
    h_mc = hours_f.clamp_min(1e-3 * cap_hours)                         # marginal cost at (at least) a trickle of output
    mc = pricing.marginal_cost(s.wage[:, None], zA * s.capital ** al * h_mc ** (1 - al), h_mc, 1.0 - al)

    # 6. what a firm owes for the quarter: wages, the cost of changing its price (Rotemberg; paid
    # as fees to households in equal shares) and loan interest. It pays from its deposits and
    # overdraws up to its credit limit (the overdraft becomes a loan); a firm that cannot pay
    # everything pays a share of each bill, and defaults on its loan
    wage_due = s.wage[:, None] * hours_f
    adjust_due = pricing.rotemberg_cost(price, s.price, revenue, cfg.rotemberg, cfg.inflation_target)
    interest_due = s.loans * lending_rate[:, None]
    due = wage_due + adjust_due + interest_due
    avail = firm_dep + (limit - s.loans - inv_loans).clamp_min(0.0)
    paid_share = torch.where(due > avail, avail.clamp_min(0.0) / due.clamp_min(1e-300), torch.ones_like(due))
    wage_bill, adjust, loan_interest = wage_due * paid_share, adjust_due * paid_share, interest_due * paid_share
    wage_paid_share = torch.where(wage_due.sum(1) > 0, wage_bill.sum(1) / wage_due.sum(1).clamp_min(1e-300),
                                  torch.ones_like(L))
    wage_income = s.wage[:, None] * s.skill * hours * wage_paid_share[:, None]
    firm_dep = firm_dep - wage_bill - adjust - loan_interest
    hh_dep = hh_dep + wage_income
    fees = (adjust.sum(1) / H)[:, None].expand(E, H)
    hh_dep = hh_dep + fees

    # 7. loans: the overdraft becomes a loan (within the limit by construction), random defaults
    # (more likely with leverage and the lending rate) and defaults of firms that could not pay,
    # scheduled repayment
    overdraft_loans = credit.grant_loans((-firm_dep).clamp_min(0.0), s.loans + inv_loans, limit)
    firm_dep = (firm_dep + overdraft_loans).clamp_min(0.0)              # clamps rounding only (~1e-16)
    issued = inv_loans + overdraft_loans
    loans = s.loans + issued
    leverage = s.loans / (s.price * s.capital).clamp_min(1e-12)
    pd = (cfg.default_base * torch.exp(cfg.default_leverage_sensitivity * (leverage - cfg.reference_leverage)
                                       + cfg.default_rate_sensitivity * (lending_rate - 0.02)[:, None])).clamp(0.0, 0.5)
    defaulted = (draws["default_u"] < pd) | (paid_share < 1.0)
    settled = credit.settle_defaults(loans, firm_dep, defaulted)
    loans, firm_dep = settled["debt"], settled["deposits"]
    repaid = torch.minimum(cfg.loan_repayment_rate * loans, firm_dep.clamp_min(0.0))
    loans = loans - repaid
    firm_dep = firm_dep - repaid
    expected_loss = (pd * s.loans).sum(1)

    # 8. dividends and the bank's income
    firm_div = cfg.dividend_payout * (firm_dep - 0.5 * revenue).clamp_min(0.0)
    firm_dep = firm_dep - firm_div
    loan_loss = settled["loss"].sum(1)
    bank_profit = money.bank_profit(loan_interest.sum(1), reserve_interest, deposit_interest, loan_loss)
    equity = s.bank_equity + bank_profit
    bank_div = money.dividends(bank_profit, equity, cfg.capital_requirement * loans.sum(1), cfg.bank_payout)
    bank_equity = equity - bank_div
    div_income = s.ownership * (firm_div.sum(1) + bank_div)[:, None]
    hh_dep = hh_dep + div_income

    # 9. government: taxes by the rule, the deficit financed by bonds (households first)
    taxes_hh = tax_rate[:, None] * (wage_income + div_income + bond_interest)
    hh_dep = hh_dep - taxes_hh
    taxes = taxes_hh.sum(1)
    deficit = g_act + bond_interest.sum(1) - taxes
    purchases, monetized = fiscal.finance_deficit(deficit, hh_dep, s.hh_bonds, cfg.bond_share_cap)
    hh_dep = hh_dep - purchases
    hh_bonds = s.hh_bonds + purchases
    cb_claim = s.cb_claim + monetized
    reserves = s.reserves + reserve_interest - ior_tax_total + monetized

    # 10. wage index, price index, exogenous processes
    m_bar = cfg.import_share
    cpi = torch.exp((1 - m_bar) * torch.log(p_dom) + m_bar * torch.log(import_price))
    inflation = cpi / s.cpi - 1.0
    wage = labor.update_wage_index(s.wage, unemployment, s.inflation, cfg.natural_unemployment,
                                   cfg.wage_flexibility, cfg.wage_indexation)
    wage_growth = wage / s.wage - 1.0
    log_tfp = cfg.tfp_persistence * s.log_tfp + cfg.tfp_volatility * draws["tfp"] + shocks["tfp"]
    log_fd = cfg.foreign_demand_persistence * s.log_foreign_demand + cfg.foreign_demand_volatility * draws["foreign_demand"]

    # 11. national accounts (production side and expenditure side computed separately) and rewards
    gdp = revenue.sum(1)
    imports = imports_hh.sum(1)
    consumption = c_dom.sum(1) + imports
    investment = i_act.sum(1)
    trade_balance = x_act - imports
    current_account = trade_balance - foreign_int
    real_gdp = gdp / p_dom
    output_gap = real_gdp / s.ref_gdp - 1.0
    nominal_ref = p_dom * s.ref_gdp
    eta = cfg.frisch_elasticity
    real_consumption = real_c_dom + imports_hh / import_price[:, None]
    c_ref = 0.6 * s.ref_gdp / H
    utility = (torch.log((real_consumption / c_ref[:, None]).clamp_min(1e-3))
               - s.chi * hours ** (1 + 1 / eta) / (1 + 1 / eta))
    user_cost = (lending_rate[:, None] + cfg.depreciation) * p_dom[:, None] * s.capital
    firm_profit = revenue - wage_due - adjust_due + firm_dep_int - user_cost      # economic profit: capital at its user cost
    r_firm = firm_profit / cpi[:, None] / s.ref_output
    debt_after = hh_bonds.sum(1) + cb_claim
    debt_ratio_after = debt_after / (4.0 * nominal_ref)
    r_gov = (utility.mean(1) + cfg.public_goods_weight * torch.log((g_act / nominal_ref / 0.2).clamp_min(1e-2))
             - cfg.debt_penalty * (debt_ratio_after - cfg.debt_target) ** 2)
    infl_gap_annual_pct = 400.0 * (inflation - cfg.inflation_target)
    r_cb = -0.01 * (infl_gap_annual_pct ** 2 + cfg.output_gap_weight * (100.0 * output_gap) ** 2)
    r_bank = (bank_profit - cfg.risk_weight * expected_loss) / (0.1 * nominal_ref)
    x_real = x_act / p_dom
    surplus_foreign = (imports - x_act) / import_price
    r_foreign = (0.5 * torch.log((x_real / (cfg.export_share * s.ref_gdp)).clamp_min(1e-3))
                 + surplus_foreign / (cfg.export_share * s.ref_gdp) - 100.0 * fx_push ** 2)
    rewards = {"household": utility, "firm": r_firm, "government": r_gov[:, None], "central_bank": r_cb[:, None],
               "bank": r_bank[:, None], "foreign": r_foreign[:, None]}

    new = SixSectorState(
        hh_deposits=hh_dep, hh_bonds=hh_bonds, skill=s.skill, chi=s.chi, import_pref=s.import_pref,
        ownership=s.ownership,
        hh_net_income=(wage_income + div_income + bond_interest + fees - taxes_hh + hh_dep_int - ior_tax),
        hh_hours=hours, price=price, firm_deposits=firm_dep, loans=loans, capital=capital,
        productivity=s.productivity, ref_hours=s.ref_hours, ref_capital=s.ref_capital, ref_output=s.ref_output,
        last_sales=sold, last_capacity=capacity, last_mc=mc,
        wage=wage, ref_wage=s.ref_wage, exchange_rate=exchange_rate, cb_claim=cb_claim, reserves=reserves,
        cb_asset=s.cb_asset, foreign_price=foreign_price, foreign_deposits=foreign_dep, bank_equity=bank_equity, log_tfp=log_tfp,
        log_foreign_demand=log_fd, cpi=cpi, p_dom=p_dom, ref_gdp=s.ref_gdp, policy_rate=policy_rate,
        tax_rate=tax_rate, lending_rate=lending_rate, spending_share=g_share, inflation=inflation,
        output_gap=output_gap, unemployment=unemployment, deficit_ratio=deficit / nominal_ref,
        trade_balance_ratio=trade_balance / nominal_ref, default_rate=defaulted.to(dt).mean(1),
        wage_growth=wage_growth, exports_ratio=x_act / nominal_ref, imports_ratio=imports / nominal_ref,
        spread=spread, t=s.t + 1,
    )
    flows = {
        "gdp": gdp, "consumption": consumption, "investment": investment, "government_spending": g_act,
        "exports": x_act, "imports": imports, "trade_balance": trade_balance, "current_account": current_account,
        "real_gdp": real_gdp, "wage_bill": wage_bill.sum(1), "taxes": taxes, "deficit": deficit,
        "primary_deficit": g_act - taxes, "bond_interest": bond_interest.sum(1), "bonds_sold": purchases.sum(1),
        "monetized": monetized, "loans_issued": issued.sum(1), "loans_repaid": repaid.sum(1),
        "write_offs": settled["writeoff"].sum(1), "seized": settled["seized"].sum(1),
        "unpaid_bills": (due - wage_bill - adjust - loan_interest).sum(1), "loan_interest_paid": loan_interest.sum(1),
        "deposit_interest": deposit_interest, "reserve_interest": reserve_interest, "reserve_tax": ior_tax_total,
        "bank_profit": bank_profit, "bank_dividends": bank_div, "firm_dividends": firm_div.sum(1),
        "price_change_costs": adjust.sum(1), "expected_loss": expected_loss, "employment": L,
        "sold_out": market["sold_out"].to(dt).mean(1), "sold_out_firms": market["sold_out"].to(dt),
        "unspent_import_budget": (imp_share * spend - imports_hh).sum(1), "p_dom": p_dom,
        "utility_mean": utility.mean(1), "debt": debt_after, "capacity_use": (sold / capacity.clamp_min(1e-300)).mean(1),
    }
    return new, flows, rewards


def price_rise_gain(s: SixSectorState, act: Mapping[str, torch.Tensor], draws: Mapping[str, torch.Tensor],
                    shocks: Mapping[str, torch.Tensor], cfg: SixSectorConfig, bump: float = 0.01) -> torch.Tensor:
    """``[E, F]``: how much firm j's reward this quarter changes, per point of price change, when
    firm j alone raises its price by ``bump`` (a decimal) and every other action, draw and shock
    is unchanged. The first-order condition of a price setter: near zero at an interior optimum,
    negative when the firm's price is above it (customers go to rivals, CES demand), positive
    below it. Batched: one transition of ``E x F`` economies, no loop."""
    E, F = s.price.shape
    rep = SixSectorState(**{f.name: getattr(s, f.name).repeat_interleave(F, dim=0) for f in dataclasses.fields(s)})
    a2 = {k: v.repeat_interleave(F, dim=0).clone() for k, v in act.items()}
    a2["firm"][..., 0] += bump * torch.eye(F, dtype=a2["firm"].dtype, device=a2["firm"].device).repeat(E, 1)
    d2 = {k: v.repeat_interleave(F, dim=0) for k, v in draws.items()}
    sh2 = {k: v.repeat_interleave(F, dim=0) for k, v in shocks.items()}
    _, _, r0 = transition(s, act, draws, shocks, cfg)
    _, _, r1 = transition(rep, a2, d2, sh2, cfg)
    own = r1["firm"].reshape(E, F, F).diagonal(dim1=1, dim2=2)          # replica j, firm j
    return (own - r0["firm"]) / (100.0 * bump)


def money_stock(s: SixSectorState) -> torch.Tensor:
    """Deposits at the bank (households, firms and the foreign sector's account), ``[E]``."""
    return s.hh_deposits.sum(1) + s.firm_deposits.sum(1) + s.foreign_deposits


def bank_balance_gap(s: SixSectorState) -> torch.Tensor:
    """Assets - liabilities - equity of the bank; zero when every flow was booked twice."""
    return s.loans.sum(1) + s.reserves - money_stock(s) - s.bank_equity


def central_bank_balance_gap(s: SixSectorState) -> torch.Tensor:
    """The central bank's assets (its initial asset and its claim on the government) - reserves."""
    return s.cb_asset + s.cb_claim - s.reserves


# --------------------------------------------------------------------------- the economy


class SixSectorEconomy(BatchedEconomy):
    """Atashbar's (2023) ``Environment``: six agent types in a stock-flow consistent open economy.

    Defined in chapter 3 (notebooks/03_six_sector_maddpg.ipynb); the module docstring lists
    actions, rewards and balance sheets. ``set_shock(name, value)`` adds an exogenous shock
    (see ``SHOCKS``) to the next steps until cleared; :mod:`macrobook.analysis.impulse` uses it.
    """

    SHOCKS = SHOCKS

    macro_units = {
        "gdp": "home currency per quarter (nominal)", "real_gdp": "reference-price units per quarter",
        "consumption": "home currency per quarter", "investment": "home currency per quarter",
        "government_spending": "home currency per quarter", "exports": "home currency per quarter",
        "imports": "home currency per quarter", "trade_balance": "home currency per quarter",
        "current_account": "home currency per quarter",
        "inflation": "CPI change per quarter (decimal)", "unemployment": "share of offered hours not worked",
        "policy_rate": "decimal per quarter", "tax_rate": "decimal", "lending_rate": "decimal per quarter",
        "output_gap": "real GDP / potential - 1", "exchange_rate": "home currency per foreign unit",
        "wage": "home currency per efficiency hour", "loans": "home currency", "deposits": "home currency",
        "gov_debt": "home currency", "bank_equity": "home currency", "default_rate": "share of firms",
        "deficit_to_gdp": "decimal, share of nominal potential GDP",
        "trade_balance_to_gdp": "decimal, share of nominal potential GDP",
        "current_account_to_gdp": "decimal, share of nominal potential GDP",
        "money_to_gdp": "deposits / nominal GDP of the quarter", "debt_to_gdp": "public debt / annual nominal potential GDP",
        "sold_out_share": "share of firms selling their whole capacity", "wealth_gini": "0..1",
        "monetized": "home currency per quarter",
    }

    def __init__(self, config: SixSectorConfig | None = None, num_envs: int = 1, device="auto"):
        super().__init__(num_envs, device)
        self.config = config if config is not None else SixSectorConfig()
        if not isinstance(self.config, SixSectorConfig):
            from ..config import ConfigError
            raise ConfigError(f"config must be a SixSectorConfig, got {type(config).__name__}")
        self.dtype = torch.float64 if self.config.dtype == "float64" else torch.float32
        counts = {"household": self.config.num_households, "firm": self.config.num_firms,
                  "government": 1, "central_bank": 1, "bank": 1, "foreign": 1}
        self.specs = {}
        for k, (lo, hi, _names) in ACTIONS.items():
            names = COMMON_OBS + OWN_OBS[k]
            self.specs[k] = AgentSpec(count=counts[k], obs_dim=len(names), action=Box(lo, hi, (len(lo),)),
                                      obs_names=names)
        self.action_names = {k: v[2] for k, v in ACTIONS.items()}
        self.clear_shocks()   # the shocks in this economy's dtype

    # ------------------------------------------------------------------ the economics
    def initial_state(self, num_envs: int) -> SixSectorState:
        cfg = self.config
        return initial_state(cfg, reset_draws(cfg, num_envs, self.rand, self.randn), self.dtype)

    def transition(self, state: SixSectorState, actions) -> Transition:
        cfg = self.config
        draws = step_draws(cfg, self.num_envs, self.rand, self.randn)
        new, flows, rewards = transition(state, actions, draws, self.shocks, cfg)
        macro = self.macro(new, flows)
        return Transition(state=new, reward={k: v.float() for k, v in rewards.items()}, done=new.t >= cfg.episode_len,
                          macro={k: v.float() for k, v in macro.items()},
                          info={"flows": flows, "state_before": state, "state_after": new})

    # ------------------------------------------------------------------ views
    def macro(self, s: SixSectorState, f: Mapping[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
        """The aggregates of one step, ``{name: [E]}`` (units in ``macro_units``). Ratios are to
        nominal potential GDP, ``p_dom x ref_gdp``, so they stay finite when output collapses."""
        dep = s.hh_deposits + s.hh_bonds
        sorted_dep, _ = torch.sort(dep, dim=1)
        n = dep.shape[1]
        idx = torch.arange(1, n + 1, dtype=dep.dtype, device=dep.device)
        gini = ((2 * idx - n - 1) * sorted_dep).sum(1) / (n * sorted_dep.sum(1).clamp_min(1e-12))
        nominal_ref = s.p_dom * s.ref_gdp
        return {
            "gdp": f["gdp"], "real_gdp": f["real_gdp"], "consumption": f["consumption"],
            "investment": f["investment"], "government_spending": f["government_spending"],
            "exports": f["exports"], "imports": f["imports"], "trade_balance": f["trade_balance"],
            "current_account": f["current_account"],
            "inflation": s.inflation, "unemployment": s.unemployment, "policy_rate": s.policy_rate,
            "tax_rate": s.tax_rate, "lending_rate": s.lending_rate, "output_gap": s.output_gap,
            "exchange_rate": s.exchange_rate, "wage": s.wage, "loans": s.loans.sum(1),
            "deposits": money_stock(s), "gov_debt": gov_debt(s), "bank_equity": s.bank_equity,
            "default_rate": s.default_rate, "deficit_to_gdp": s.deficit_ratio,
            "trade_balance_to_gdp": s.trade_balance_ratio, "current_account_to_gdp": f["current_account"] / nominal_ref,
            "money_to_gdp": money_stock(s) / f["gdp"].clamp_min(1e-12 * nominal_ref),
            "debt_to_gdp": gov_debt(s) / (4.0 * nominal_ref), "sold_out_share": f["sold_out"],
            "wealth_gini": gini, "monetized": f["monetized"],
        }

    def observe(self, s: SixSectorState | None = None) -> Dict[str, torch.Tensor]:
        """Observations ``{type: [E, n, obs_dim]}`` (float32); names in ``specs[type].obs_names``;
        each feature scaled to be of order one and clipped to ``[-OBS_CLIP, OBS_CLIP]``."""
        s = self.state if s is None else s
        cfg = self.config
        E, H = s.hh_deposits.shape
        F = s.price.shape[1]
        nominal_ref = s.p_dom * s.ref_gdp
        common = torch.stack([
            100 * s.inflation, 10 * s.output_gap, 10 * s.unemployment, 100 * s.policy_rate, s.tax_rate,
            100 * s.lending_rate, 10 * torch.log(s.exchange_rate), 10 * s.trade_balance_ratio], dim=1)
        inc_ref = (s.ref_wage * s.p_dom * cfg.reference_hours)[:, None] * s.skill
        wealth = s.hh_deposits + s.hh_bonds
        hh = torch.stack([
            torch.log((wealth / inc_ref).clamp_min(1e-3)), s.hh_bonds / wealth.clamp_min(1e-12), s.skill, s.chi,
            4 * s.import_pref, s.hh_net_income / inc_ref, s.hh_hours], dim=2)
        ps = s.price
        firm = torch.stack([
            10 * torch.log(ps / s.p_dom[:, None]), 10 * torch.log(ps / (markup(cfg) * s.last_mc).clamp_min(1e-12)),
            s.last_sales / s.last_capacity.clamp_min(1e-12), s.firm_deposits / (ps * s.ref_output),
            s.loans / (ps * s.capital).clamp_min(1e-12), torch.log(s.capital / s.ref_capital), s.productivity,
            10 * torch.log(s.wage / (s.ref_wage * s.p_dom))[:, None].expand(E, F)], dim=2)
        gov = torch.stack([gov_debt(s) / (4 * nominal_ref), 10 * s.deficit_ratio, s.spending_share], dim=1)
        cb = torch.stack([100 * s.wage_growth, s.loans.sum(1) / nominal_ref], dim=1)
        bank = torch.stack([s.loans.sum(1) / nominal_ref, 10 * s.bank_equity / s.loans.sum(1).clamp_min(1e-12),
                            100 * s.default_rate, 100 * s.spread], dim=1)
        foreign = torch.stack([10 * torch.log(s.exchange_rate * s.foreign_price / s.p_dom), 10 * s.exports_ratio, 10 * s.imports_ratio,
                               10 * s.log_foreign_demand, s.foreign_deposits / nominal_ref], dim=1)

        def with_common(own, n):
            # clipped: a collapsing economy (GDP -> 0) must not feed the networks ratios of 1e13
            o = torch.cat([common[:, None, :].expand(E, n, common.shape[1]), own], dim=2)
            return torch.nan_to_num(o, nan=0.0).clamp(-OBS_CLIP, OBS_CLIP).float()

        return {"household": with_common(hh, H), "firm": with_common(firm, F),
                "government": with_common(gov[:, None, :], 1), "central_bank": with_common(cb[:, None, :], 1),
                "bank": with_common(bank[:, None, :], 1), "foreign": with_common(foreign[:, None, :], 1)}

    # ------------------------------------------------------------------ simple reference policy
    def reference_actions(self) -> Dict[str, torch.Tensor]:
        """A plausible hand-written policy for every type: a steady consumption share and hours,
        prices rising at the inflation target, replacement investment, a 30% base tax, 20%
        spending, a 1% policy rate a quarter, a 1% spread, neutral foreign demand. A baseline and
        the tests' fixed policy."""
        E, c = self.num_envs, self.config
        dev, dt = self.device, torch.float32

        def full(n, vals):
            return torch.tensor(vals, dtype=dt, device=dev).expand(E, n, len(vals)).clone()

        return {"household": full(c.num_households, [REFERENCE_CONSUMPTION_SHARE, c.reference_hours / (1 - c.natural_unemployment)]),
                "firm": full(c.num_firms, [c.inflation_target, c.depreciation]),
                "government": full(1, [0.3, 0.2]), "central_bank": full(1, [0.01]),
                "bank": full(1, [0.01]), "foreign": full(1, [1.0, 0.0])}


#: the reference policy's consumption share of cash on hand
REFERENCE_CONSUMPTION_SHARE = 0.15
