"""A six-sector, stock-flow consistent economy: households, firms, government, central bank,
a bank (the financial sector) and the rest of the world. Chapter 3 builds seed 000's skeleton
(Environment, HouseholdsAgent, FirmsAgent, GovernmentAgent, CentralBankAgent,
FinancialSectorAgent, ForeignCountry) on top of it; see notebooks/03_six_sector_maddpg.ipynb.

    econ = SixSectorEconomy(SixSectorConfig(num_households=8, num_firms=4), num_envs=64)
    obs = econ.reset(seed=0)       # {"household": [64, 8, 14], "firm": [64, 4, 16], "government": [64, 1, 11], ...}
    out = econ.step(econ.sample_actions())
    out.macro["gdp"], out.macro["inflation"], out.info["flows"]["loans_issued"]

Agent types, actions (Box, one agent) and rewards
--------------------------------------------------
=============  ===============================================  ==========================================
type           action                                           reward
=============  ===============================================  ==========================================
household      [consumption_share in [0.05, 1] of cash on hand,  log(real consumption / reference)
               labor_supply in [0, 1] of a full-time week]       - chi_i h^(1+1/eta)/(1+1/eta)
firm           [price_change in [-0.05, 0.05],                   operating profit (sales - wages - net
               labor_demand in [0, 2] x reference hours,         interest - depreciation) / reference
               investment_rate in [0, 0.1] of capital]           revenue
government     [tax_rate in [0, 0.5],                            mean household utility - deficit and
               spending_share in [0, 0.4] of reference output]   debt penalties
central_bank   [policy_rate in [0, 0.08] per quarter]            -(inflation gap^2 + w_y output gap^2)
bank           [lending_spread in [0, 0.03] per quarter]         profit - a charge on expected loan losses
foreign        [import_demand in [0.5, 1.5] x baseline,          0.5 log(export volume) + its trade
               fx_change in [-0.02, 0.02] (depreciation of       surplus - a volatility cost
               the home currency it pushes for)]
=============  ===============================================  ==========================================

Balance sheets (home currency; E = number of economies)
---------------------------------------------------------
* households ``[E, H]``: deposits (>= 0).
* firms ``[E, F]``: deposits (>= 0), loans (>= 0), capital and inventory (real, >= 0).
* government ``[E]``: bonds outstanding ``gov_debt`` (held by the bank; negative = net deposits).
* bank ``[E]``: assets loans + reserves + government bonds; liabilities all deposits
  (households, firms and the foreign sector's account); equity = assets - liabilities.
* central bank ``[E]``: a fixed asset (its initial foreign reserves) against bank reserves.
* foreign ``[E]``: a home-currency account at the bank (negative = the bank lends to the world).

Money is the bank's deposits. In this model deposits are created and destroyed only by
(Godley and Lavoie 2007, ch. 2 transactions-flow matrix):

    d(deposits) = loans_issued - loans_repaid + (G - T) + deposit_interest
                  + bank_dividends - loan_interest_paid

Every other payment (wages, consumption, investment, imports, exports, firm dividends)
moves deposits from one account to another. ``tests/test_six_sector.py`` checks this,
the bank's balance sheet, GDP = C + I + G + X - M, and non-negativity every step.

Timing of one step (one quarter) is listed in :func:`transition`; a per-agent Python loop
of the same economy, :func:`transition_loop`, is the reference for tests and the bench.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Dict, Mapping

import torch

from ..config import Config, check, check_choice, check_float, check_int
from ..contract import AgentSpec
from ..markets.goods import ration
from .base import BatchedEconomy, Transition
from ..contract import Box

# --------------------------------------------------------------------------- configuration


@dataclass
class SixSectorConfig(Config):
    """Calibration of :class:`SixSectorEconomy`. One period is a quarter; rates are per quarter."""

    num_households: int = 8
    num_firms: int = 4
    episode_len: int = 40
    # technology: y = A z k^alpha n^(1-alpha) (Cobb-Douglas)
    capital_share: float = 0.33
    depreciation: float = 0.025
    capital_output_ratio: float = 8.0        # quarters of output, sets the initial capital stock
    reference_hours: float = 0.7             # hours share that defines reference (potential) output
    # heterogeneity
    skill_dispersion: float = 0.5            # sd of log skill (income)
    wealth_dispersion: float = 0.8           # sd of log initial deposits (wealth)
    productivity_dispersion: float = 0.1     # sd of log firm productivity
    labor_disutility: float = 2.0            # mean chi; each household draws chi in [0.5, 1.5] x this
    frisch_elasticity: float = 1.0
    # goods market and trade
    price_elasticity: float = 4.0            # substitution between domestic firms' goods
    import_share: float = 0.25               # mean household import share at parity
    import_price_elasticity: float = 1.0
    export_share: float = 0.2                # baseline export volume / reference output
    export_price_elasticity: float = 1.5
    fx_rate_sensitivity: float = 0.5         # UIP-like: a higher home rate appreciates the currency
    foreign_rate: float = 0.005
    # finance
    deposit_passthrough: float = 0.8         # deposit rate = passthrough x policy rate
    dividend_payout: float = 0.5
    bank_payout: float = 0.5
    loan_repayment_rate: float = 0.05
    default_base: float = 0.005              # quarterly default probability at reference leverage and rate
    default_leverage_sensitivity: float = 4.0
    default_rate_sensitivity: float = 50.0
    loss_given_default: float = 0.5
    reference_leverage: float = 0.3
    # wages
    wage_flexibility: float = 0.1
    # shocks
    tfp_persistence: float = 0.95
    tfp_volatility: float = 0.005
    foreign_demand_persistence: float = 0.9
    foreign_demand_volatility: float = 0.01
    fx_volatility: float = 0.005
    # objectives
    inflation_target: float = 0.005
    output_gap_weight: float = 0.5
    deficit_penalty: float = 20.0
    debt_penalty: float = 1.0
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
        # shocks are log-normal: a standard deviation past 0.5 a quarter overflows prices within an episode
        for f in ("tfp_volatility", "foreign_demand_volatility", "fx_volatility"):
            check_float(self, f, min=0.0, max=0.5)
        for f in ("skill_dispersion", "wealth_dispersion", "productivity_dispersion"):
            check_float(self, f, min=0.0, max=3.0)
        for f in ("fx_rate_sensitivity", "wage_flexibility", "default_leverage_sensitivity", "default_rate_sensitivity",
                  "output_gap_weight", "deficit_penalty", "debt_penalty", "risk_weight",
                  "import_price_elasticity", "export_price_elasticity"):
            check_float(self, f, min=0.0, max=1000.0)
        check_float(self, "labor_disutility", min=0.0, min_open=True)
        check_float(self, "frisch_elasticity", min=0.0, min_open=True)
        check_float(self, "price_elasticity", min=1.0, min_open=True)
        check_float(self, "import_share", min=0.0, max=0.5)
        check_float(self, "export_share", min=0.0, max=1.0)
        check_float(self, "foreign_rate", min=0.0, max=0.1)
        for f in ("deposit_passthrough", "dividend_payout", "bank_payout", "loan_repayment_rate",
                  "loss_given_default"):
            check_float(self, f, min=0.0, max=1.0)
        check_float(self, "default_base", min=0.0, max=0.5)
        check_float(self, "reference_leverage", min=0.0, max=1.0)
        check_float(self, "tfp_persistence", min=0.0, max=1.0, max_open=True)
        check_float(self, "foreign_demand_persistence", min=0.0, max=1.0, max_open=True)
        check_float(self, "inflation_target", min=-0.05, max=0.05)
        check_choice(self, "dtype", ["float32", "float64"])
        check(self.num_households >= 1, self, "num_households", "at least 1")


# action bounds of one agent of each type (low, high, names)
ACTIONS: Dict[str, tuple] = {
    "household": ((0.05, 0.0), (1.0, 1.0), ("consumption_share", "labor_supply")),
    "firm": ((-0.05, 0.0, 0.0), (0.05, 2.0, 0.1), ("price_change", "labor_demand", "investment_rate")),
    "government": ((0.0, 0.0), (0.5, 0.4), ("tax_rate", "spending_share")),
    # 0.08 a quarter: with deposits paying 0.8 x the policy rate, the top of the box gives savers a
    # positive real return even at the fastest inflation the firms' box allows (5% a quarter), so a
    # rule that obeys the Taylor principle is inside the box whatever the firms do
    "central_bank": ((0.0,), (0.08,), ("policy_rate",)),
    "bank": ((0.0,), (0.03,), ("lending_spread",)),
    "foreign": ((0.5, -0.02), (1.5, 0.02), ("import_demand", "fx_change")),
}

#: every observation feature is clipped to [-OBS_CLIP, OBS_CLIP] (features are scaled to be O(1))
OBS_CLIP = 10.0

COMMON_OBS = ("inflation_pct", "output_gap_x10", "unemployment", "policy_rate_pct", "tax_rate",
              "lending_rate_pct", "log_exchange_rate_x10", "trade_balance_to_gdp_x10")
OWN_OBS = {
    "household": ("log_deposits_to_income", "skill", "labor_disutility", "import_pref_x4",
                  "net_income_to_reference", "hours_worked"),
    "firm": ("log_relative_price_x10", "deposits_to_reference_sales", "loans_to_reference_capital",
             "log_capital_to_reference", "inventory_to_reference_output", "sales_to_reference_output",
             "productivity", "log_wage_to_reference"),
    "government": ("debt_to_annual_output", "deficit_to_output_x10", "spending_share_last"),
    "central_bank": ("credit_to_output", "wage_growth_pct"),
    "bank": ("loans_to_output", "equity_to_assets_x10", "default_rate_pct", "spread_pct"),
    "foreign": ("log_real_exchange_rate_x10", "exports_to_output_x10", "imports_to_output_x10",
                "foreign_demand_x10", "foreign_deposits_to_output"),
}

#: impulse-response shocks this economy accepts through :meth:`SixSectorEconomy.set_shock`
SHOCKS = {
    "government_spending": "added to the government's spending share (share of reference output)",
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
    inventory: torch.Tensor
    productivity: torch.Tensor
    ref_hours: torch.Tensor
    ref_capital: torch.Tensor
    ref_output: torch.Tensor
    last_sales: torch.Tensor
    # aggregates [E]
    wage: torch.Tensor
    ref_wage: torch.Tensor
    exchange_rate: torch.Tensor
    gov_debt: torch.Tensor
    reserves: torch.Tensor
    cb_asset: torch.Tensor
    foreign_deposits: torch.Tensor
    bank_equity: torch.Tensor
    log_tfp: torch.Tensor
    log_foreign_demand: torch.Tensor
    cpi: torch.Tensor
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


def reset_draws(cfg: SixSectorConfig, E: int, rand, randn) -> Dict[str, torch.Tensor]:
    """The random numbers a fresh economy needs (always the same count: common random numbers)."""
    H, F = cfg.num_households, cfg.num_firms
    return {"skill_z": randn(E, H), "wealth_z": randn(E, H), "chi_u": rand(E, H),
            "import_u": rand(E, H), "prod_z": randn(E, F)}


def step_draws(cfg: SixSectorConfig, E: int, rand, randn) -> Dict[str, torch.Tensor]:
    """The random numbers one step needs, drawn whatever the state (common random numbers)."""
    return {"tfp": randn(E), "foreign_demand": randn(E), "fx": randn(E), "default_u": rand(E, cfg.num_firms)}


def initial_state(cfg: SixSectorConfig, d: Mapping[str, torch.Tensor], dtype) -> SixSectorState:
    """A fresh economy at its reference point: prices 1, exchange rate 1, capital at the
    capital-output ratio, wage at the labor share of reference output."""
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
    # k = (K/Y)^(1/(1-a)) n solves k / (k^a n^(1-a)) = K/Y with A = 1
    ref_capital = cfg.capital_output_ratio ** (1.0 / (1.0 - a)) * ref_hours
    ref_output = prod * ref_capital ** a * ref_hours ** (1 - a)
    ref_gdp = ref_output.sum(1)
    ref_wage = (1 - a) * ref_gdp / ref_hours.sum(1)                     # labor share 1-a at p = 1
    income = ref_wage[:, None] * cfg.reference_hours * sk
    w = torch.exp(cfg.wealth_dispersion * wealth_z - 0.5 * cfg.wealth_dispersion ** 2)
    hh_dep = 2.0 * income * w                                           # about two quarters of income
    ownership = hh_dep / hh_dep.sum(1, keepdim=True)
    firm_dep = 0.5 * ref_output
    loans = cfg.reference_leverage * ref_capital
    gov_debt = 1.0 * ref_gdp
    reserves = 0.2 * ref_gdp
    zE = torch.zeros(E, dtype=dtype, device=dev)
    oneE = torch.ones(E, dtype=dtype, device=dev)
    foreign_dep = zE.clone()
    bank_equity = loans.sum(1) + reserves + gov_debt - hh_dep.sum(1) - firm_dep.sum(1) - foreign_dep
    return SixSectorState(
        hh_deposits=hh_dep, skill=sk, chi=chi, import_pref=imp, ownership=ownership,
        hh_net_income=income * 0.8, hh_hours=torch.full_like(sk, cfg.reference_hours),
        price=torch.ones(E, F, dtype=dtype, device=dev), firm_deposits=firm_dep, loans=loans,
        capital=ref_capital.clone(), inventory=torch.zeros(E, F, dtype=dtype, device=dev),
        productivity=prod, ref_hours=ref_hours, ref_capital=ref_capital, ref_output=ref_output,
        last_sales=ref_output.clone(),
        wage=ref_wage.clone(), ref_wage=ref_wage, exchange_rate=oneE.clone(), gov_debt=gov_debt,
        reserves=reserves, cb_asset=reserves.clone(), foreign_deposits=foreign_dep,
        bank_equity=bank_equity, log_tfp=zE.clone(), log_foreign_demand=zE.clone(), cpi=oneE.clone(),
        ref_gdp=ref_gdp, policy_rate=zE + 0.01, tax_rate=zE + 0.25, lending_rate=zE + 0.02,
        spending_share=zE + 0.2, inflation=zE + cfg.inflation_target, output_gap=zE.clone(),
        unemployment=zE.clone(), deficit_ratio=zE.clone(), trade_balance_ratio=zE.clone(),
        default_rate=zE + cfg.default_base, wage_growth=zE.clone(), exports_ratio=zE + cfg.export_share,
        imports_ratio=zE + cfg.import_share * 0.6, spread=zE + 0.01,
        t=torch.zeros(E, dtype=torch.long, device=dev),
    )


# --------------------------------------------------------------------------- the transition


def transition(s: SixSectorState, act: Mapping[str, torch.Tensor], draws: Mapping[str, torch.Tensor],
               shocks: Mapping[str, torch.Tensor], cfg: SixSectorConfig):
    """One quarter for every economy at once; pure tensors, no loop over agents or economies.

    ``act``: {"household": [E,H,2], "firm": [E,F,3], "government": [E,1,2], "central_bank": [E,1,1],
    "bank": [E,1,1], "foreign": [E,1,2]}. ``shocks``: {name: [E]} (see SHOCKS).
    Returns ``(new_state, flows, rewards)``; ``flows`` are this quarter's transactions (home currency).

    Timing: 1 prices, exchange rate and rates are set; 2 interest on opening stocks;
    3 labor market (short side rules, proportional rationing); 4 production; 5 spending plans;
    6 goods market (CES shares, rationing at available supply); 7 payments; 8 loan defaults;
    9 profits and dividends; 10 firm financing (overdrafts become loans, repayments);
    11 government budget; 12 wages, price index, shocks; 13 accounts and rewards.
    """
    dt = s.hh_deposits.dtype
    a = {k: v.to(dt) for k, v in act.items()}
    draws = {k: v.to(dt) for k, v in draws.items()}
    shocks = {k: v.to(dt) for k, v in shocks.items()}
    E, H = s.hh_deposits.shape
    alpha = cfg.capital_share
    c_share, labor_supply = a["household"][..., 0], a["household"][..., 1]
    price_change, labor_demand, inv_rate = a["firm"][..., 0], a["firm"][..., 1], a["firm"][..., 2]
    tax_rate, g_share = a["government"][:, 0, 0], a["government"][:, 0, 1]
    g_share = (g_share + shocks["government_spending"]).clamp_min(0.0)
    policy_rate = (a["central_bank"][:, 0, 0] + shocks["policy_rate"]).clamp_min(0.0)
    spread = a["bank"][:, 0, 0]
    import_demand, fx_change = a["foreign"][:, 0, 0], a["foreign"][:, 0, 1]

    # 1. prices, the exchange rate (home currency per foreign unit) and interest rates
    price = s.price * (1.0 + price_change)
    p_dom = torch.exp(torch.log(price).mean(1))                        # geometric-mean domestic price
    exchange_rate = s.exchange_rate * torch.exp(
        fx_change - cfg.fx_rate_sensitivity * (policy_rate - cfg.foreign_rate) + cfg.fx_volatility * draws["fx"])
    import_price = exchange_rate                                        # foreign price level fixed at 1
    deposit_rate = cfg.deposit_passthrough * policy_rate
    lending_rate = policy_rate + spread

    # 2. interest on opening stocks: the bank pays depositors, firms pay the bank, the government
    # pays by issuing bonds to the bank, the central bank pays interest on reserves (new reserves)
    hh_dep = s.hh_deposits * (1.0 + deposit_rate[:, None])
    firm_int_recv = s.firm_deposits * deposit_rate[:, None]
    loan_interest = s.loans * lending_rate[:, None]
    firm_dep = s.firm_deposits + firm_int_recv - loan_interest
    foreign_dep = s.foreign_deposits * (1.0 + deposit_rate)
    deposit_interest = (s.hh_deposits.sum(1) + s.firm_deposits.sum(1) + s.foreign_deposits) * deposit_rate
    gov_interest = s.gov_debt * policy_rate
    reserve_interest = s.reserves * policy_rate
    reserves = s.reserves + reserve_interest

    # 3. labor market: employment is the short side; each side is rationed in proportion
    supply = labor_supply * s.skill                                     # efficiency hours offered
    demand = labor_demand * s.ref_hours
    tot_s, tot_d = supply.sum(1), demand.sum(1)
    employment = torch.minimum(tot_s, tot_d)
    hh_fill = torch.where(tot_s > 0, employment / tot_s.clamp_min(1e-12), torch.zeros_like(tot_s))
    firm_fill = torch.where(tot_d > 0, employment / tot_d.clamp_min(1e-12), torch.zeros_like(tot_d))
    hours = labor_supply * hh_fill[:, None]                             # share of the week worked
    firm_labor = demand * firm_fill[:, None]
    wage_income = s.wage[:, None] * supply * hh_fill[:, None]
    wage_bill = s.wage[:, None] * firm_labor
    unemployment = torch.where(tot_s > 0, 1.0 - employment / tot_s.clamp_min(1e-12), torch.zeros_like(tot_s))

    # 4. production, y = A z k^alpha n^(1-alpha)
    output = s.productivity * torch.exp(s.log_tfp)[:, None] * s.capital ** alpha * firm_labor ** (1 - alpha)
    available = s.inventory + output

    # 5. spending plans (home currency)
    wage_tax = tax_rate[:, None] * wage_income
    cash = hh_dep + wage_income - wage_tax
    spend = c_share * cash
    rel_import_price = import_price / p_dom
    imp_share = (s.import_pref * rel_import_price[:, None] ** (-cfg.import_price_elasticity)).clamp(0.0, 0.9)
    imports_hh = imp_share * spend
    dom_plan_hh = spend - imports_hh
    g_plan = g_share * p_dom * s.ref_gdp
    export_volume = (cfg.export_share * s.ref_gdp * import_demand
                     * torch.exp(s.log_foreign_demand + shocks["foreign_demand"])
                     * rel_import_price ** cfg.export_price_elasticity)
    x_plan = export_volume * p_dom
    i_plan = inv_rate * p_dom[:, None] * s.capital
    z_plan = dom_plan_hh.sum(1) + g_plan + x_plan + i_plan.sum(1)

    # 6. goods market: CES expenditure shares, each firm sells at most what it has
    w_ces = price ** (-cfg.price_elasticity)
    share = w_ces / w_ces.sum(1, keepdim=True)
    want = z_plan[:, None] * share / price
    sales, _ = ration(want, available)                                  # never more than a firm has
    revenue = price * sales
    tot_rev = revenue.sum(1)
    fill = torch.where(z_plan > 0, tot_rev / z_plan.clamp_min(1e-300), torch.ones_like(z_plan))
    inventory = available - sales
    real_basket = sales.sum(1)                                          # units delivered in total
    basket_per_money = torch.where(z_plan > 0, real_basket / z_plan.clamp_min(1e-300), torch.zeros_like(z_plan))

    # 7. payments: every buyer pays its plan x fill (rationed buyers keep their money)
    c_dom = dom_plan_hh * fill[:, None]
    g_act = g_plan * fill
    x_act = x_plan * fill
    i_act = i_plan * fill[:, None]
    hh_dep = cash - c_dom - imports_hh
    foreign_dep = foreign_dep + imports_hh.sum(1) - x_act
    firm_dep = firm_dep - wage_bill + revenue - i_act
    capital = (1.0 - cfg.depreciation) * s.capital + i_plan * basket_per_money[:, None]
    real_consumption = dom_plan_hh * basket_per_money[:, None] + imports_hh / import_price[:, None]

    # 8. loan defaults (Stiglitz-Weiss flavour: higher leverage and lending rates raise default risk)
    leverage = s.loans / (s.price * s.capital).clamp_min(1e-12)
    pd = (cfg.default_base * torch.exp(cfg.default_leverage_sensitivity * (leverage - cfg.reference_leverage)
                                       + cfg.default_rate_sensitivity * (lending_rate - 0.02)[:, None])).clamp(0.0, 0.5)
    defaulted = draws["default_u"] < pd
    write_off = torch.where(defaulted, cfg.loss_given_default * s.loans, torch.zeros_like(s.loans))
    loans = s.loans - write_off
    expected_loss = (pd * cfg.loss_given_default * s.loans).sum(1)

    # 9. profits and dividends (firm dividends only out of positive deposits)
    cash_profit = revenue - wage_bill - loan_interest + firm_int_recv
    firm_div = torch.minimum(cfg.dividend_payout * cash_profit.clamp_min(0.0), firm_dep.clamp_min(0.0))
    firm_dep = firm_dep - firm_div
    bank_profit = loan_interest.sum(1) + gov_interest + reserve_interest - deposit_interest - write_off.sum(1)
    bank_div = cfg.bank_payout * bank_profit.clamp_min(0.0)
    bank_equity = s.bank_equity + bank_profit - bank_div
    dividends = firm_div.sum(1) + bank_div
    div_income = s.ownership * dividends[:, None]
    div_tax = tax_rate[:, None] * div_income
    hh_dep = hh_dep + div_income - div_tax

    # 10. firm financing: an end-of-quarter overdraft becomes a bank loan; then scheduled repayment
    loans_issued = (-firm_dep).clamp_min(0.0)
    firm_dep = firm_dep + loans_issued
    loans = loans + loans_issued
    repaid = torch.minimum(cfg.loan_repayment_rate * loans, firm_dep)
    firm_dep = firm_dep - repaid
    loans = loans - repaid

    # 11. government budget: bonds sold to the bank finance the deficit (interest included)
    taxes = wage_tax.sum(1) + div_tax.sum(1)
    deficit = g_act + gov_interest - taxes
    gov_debt = s.gov_debt + deficit

    # 12. wages (tightness and indexation), price index, exogenous processes
    tightness = torch.where(tot_s > 0, tot_d / tot_s.clamp_min(1e-12), torch.ones_like(tot_s))
    wage_growth = (s.inflation + cfg.wage_flexibility * (tightness - 1.0)).clamp(-0.05, 0.05)
    wage = s.wage * (1.0 + wage_growth)
    m_bar = cfg.import_share
    cpi = (1 - m_bar) * p_dom + m_bar * import_price
    inflation = cpi / s.cpi - 1.0
    log_tfp = cfg.tfp_persistence * s.log_tfp + cfg.tfp_volatility * draws["tfp"] + shocks["tfp"]
    log_fd = cfg.foreign_demand_persistence * s.log_foreign_demand + cfg.foreign_demand_volatility * draws["foreign_demand"]

    # 13. national accounts: production side and expenditure side are computed separately
    gdp = (price * output).sum(1)
    inventory_investment = (price * (inventory - s.inventory)).sum(1)
    consumption = c_dom.sum(1) + imports_hh.sum(1)
    investment = i_act.sum(1) + inventory_investment
    imports = imports_hh.sum(1)
    trade_balance = x_act - imports
    real_gdp = gdp / p_dom
    output_gap = real_gdp / s.ref_gdp - 1.0
    nominal_ref = p_dom * s.ref_gdp

    # rewards
    eta = cfg.frisch_elasticity
    c_ref = 0.6 * s.ref_gdp / H
    utility = (torch.log((real_consumption / c_ref[:, None]).clamp_min(1e-3))
               - s.chi * hours ** (1 + 1 / eta) / (1 + 1 / eta))
    operating_profit = cash_profit - cfg.depreciation * price * s.capital
    r_firm = operating_profit / (price * s.ref_output)
    deficit_ratio = deficit / nominal_ref
    debt_ratio = gov_debt / (4.0 * nominal_ref)
    r_gov = (utility.mean(1) - cfg.deficit_penalty * deficit_ratio ** 2
             - cfg.debt_penalty * (debt_ratio - 0.6).clamp_min(0.0) ** 2)
    infl_gap_annual_pct = 400.0 * (inflation - cfg.inflation_target)
    r_cb = -0.01 * (infl_gap_annual_pct ** 2 + cfg.output_gap_weight * (100.0 * output_gap) ** 2)
    r_bank = (bank_profit - cfg.risk_weight * expected_loss) / (0.1 * nominal_ref)
    trade_surplus_foreign = (imports - x_act) / exchange_rate          # in foreign currency
    r_foreign = (0.5 * torch.log((export_volume * fill / (cfg.export_share * s.ref_gdp)).clamp_min(1e-3))
                 + trade_surplus_foreign / (cfg.export_share * s.ref_gdp) - 100.0 * fx_change ** 2)
    rewards = {"household": utility, "firm": r_firm, "government": r_gov[:, None], "central_bank": r_cb[:, None],
               "bank": r_bank[:, None], "foreign": r_foreign[:, None]}

    tot_loans = loans.sum(1)
    new = SixSectorState(
        hh_deposits=hh_dep, skill=s.skill, chi=s.chi, import_pref=s.import_pref, ownership=s.ownership,
        hh_net_income=wage_income - wage_tax + div_income - div_tax, hh_hours=hours,
        price=price, firm_deposits=firm_dep, loans=loans, capital=capital, inventory=inventory,
        productivity=s.productivity, ref_hours=s.ref_hours, ref_capital=s.ref_capital, ref_output=s.ref_output,
        last_sales=sales,
        wage=wage, ref_wage=s.ref_wage, exchange_rate=exchange_rate, gov_debt=gov_debt, reserves=reserves,
        cb_asset=s.cb_asset, foreign_deposits=foreign_dep, bank_equity=bank_equity, log_tfp=log_tfp,
        log_foreign_demand=log_fd, cpi=cpi, ref_gdp=s.ref_gdp, policy_rate=policy_rate, tax_rate=tax_rate,
        lending_rate=lending_rate, spending_share=g_share, inflation=inflation, output_gap=output_gap,
        unemployment=unemployment, deficit_ratio=deficit_ratio, trade_balance_ratio=trade_balance / nominal_ref,
        default_rate=defaulted.to(dt).mean(1), wage_growth=wage_growth,
        exports_ratio=x_act / nominal_ref, imports_ratio=imports / nominal_ref, spread=spread, t=s.t + 1,
    )
    flows = {
        "gdp": gdp, "consumption": consumption, "investment": investment, "government_spending": g_act,
        "exports": x_act, "imports": imports, "inventory_investment": inventory_investment,
        "fixed_investment": i_act.sum(1), "real_gdp": real_gdp, "wage_bill": wage_bill.sum(1),
        "taxes": taxes, "deficit": deficit, "primary_deficit": g_act - taxes,
        "loans_issued": loans_issued.sum(1), "loans_repaid": repaid.sum(1), "write_offs": write_off.sum(1),
        "loan_interest_paid": loan_interest.sum(1), "deposit_interest": deposit_interest,
        "gov_interest": gov_interest, "reserve_interest": reserve_interest,
        "bank_profit": bank_profit, "bank_dividends": bank_div, "firm_dividends": firm_div.sum(1),
        "expected_loss": expected_loss, "fill": fill, "employment": employment, "p_dom": p_dom,
        "total_loans": tot_loans, "utility_mean": utility.mean(1),
    }
    return new, flows, rewards


def price_rise_gain(s: SixSectorState, act: Mapping[str, torch.Tensor], draws: Mapping[str, torch.Tensor],
                    shocks: Mapping[str, torch.Tensor], cfg: SixSectorConfig, bump: float = 0.01) -> torch.Tensor:
    """``[E, F]``: how much firm j's reward this quarter rises, per point of price change, when
    firm j alone raises its price by ``bump`` (a decimal) and every other action, draw and shock
    is unchanged. A diagnostic of the firms' incentive: negative when a firm's customers can buy
    elsewhere (CES demand, elasticity ``price_elasticity``); positive when the firm is rationing
    its customers, because a sold-out firm sells the same units at a higher price while its wage
    bill was fixed before the quarter. Batched: one transition of ``E x F`` economies, no loop."""
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
    return s.loans.sum(1) + s.reserves + s.gov_debt - money_stock(s) - s.bank_equity


# --------------------------------------------------------------------------- the economy


class SixSectorEconomy(BatchedEconomy):
    """Seed 000's ``Environment``: six agent types in a stock-flow consistent open economy.

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
        "inflation": "CPI change per quarter (decimal)", "unemployment": "share of offered hours",
        "policy_rate": "decimal per quarter", "tax_rate": "decimal", "lending_rate": "decimal per quarter",
        "output_gap": "real GDP / reference - 1", "exchange_rate": "home currency per foreign unit",
        "wage": "home currency per efficiency hour", "loans": "home currency", "deposits": "home currency",
        "gov_debt": "home currency", "bank_equity": "home currency", "default_rate": "share of firms",
        "deficit_to_gdp": "decimal, share of nominal reference (potential) GDP",
        "trade_balance_to_gdp": "decimal, share of nominal reference (potential) GDP", "wealth_gini": "0..1",
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
        """The aggregates of one step, ``{name: [E]}`` (units in ``macro_units``). Ratios
        (``deficit_to_gdp``, ``trade_balance_to_gdp``) are to nominal reference (potential) GDP,
        ``p_dom x ref_gdp``, so they stay finite when policies drive output to zero."""
        dep = s.hh_deposits
        sorted_dep, _ = torch.sort(dep, dim=1)
        n = dep.shape[1]
        idx = torch.arange(1, n + 1, dtype=dep.dtype, device=dep.device)
        gini = ((2 * idx - n - 1) * sorted_dep).sum(1) / (n * sorted_dep.sum(1).clamp_min(1e-12))
        return {
            "gdp": f["gdp"], "real_gdp": f["real_gdp"], "consumption": f["consumption"],
            "investment": f["investment"], "government_spending": f["government_spending"],
            "exports": f["exports"], "imports": f["imports"], "trade_balance": f["exports"] - f["imports"],
            "inflation": s.inflation, "unemployment": s.unemployment, "policy_rate": s.policy_rate,
            "tax_rate": s.tax_rate, "lending_rate": s.lending_rate, "output_gap": s.output_gap,
            "exchange_rate": s.exchange_rate, "wage": s.wage, "loans": s.loans.sum(1),
            "deposits": money_stock(s), "gov_debt": s.gov_debt, "bank_equity": s.bank_equity,
            "default_rate": s.default_rate, "deficit_to_gdp": s.deficit_ratio,
            "trade_balance_to_gdp": s.trade_balance_ratio, "wealth_gini": gini,
        }

    def observe(self, s: SixSectorState | None = None) -> Dict[str, torch.Tensor]:
        """Observations ``{type: [E, n, obs_dim]}`` (float32); names in ``specs[type].obs_names``;
        each feature scaled to be of order one and clipped to ``[-OBS_CLIP, OBS_CLIP]``."""
        s = self.state if s is None else s
        E, H = s.hh_deposits.shape
        F = s.price.shape[1]
        p_dom = torch.exp(torch.log(s.price).mean(1))
        nominal_ref = p_dom * s.ref_gdp
        common = torch.stack([
            100 * s.inflation, 10 * s.output_gap, s.unemployment, 100 * s.policy_rate, s.tax_rate,
            100 * s.lending_rate, 10 * torch.log(s.exchange_rate), 10 * s.trade_balance_ratio], dim=1)
        inc_ref = (s.ref_wage * self.config.reference_hours)[:, None] * s.skill
        hh = torch.stack([
            torch.log((s.hh_deposits / inc_ref).clamp_min(1e-3)), s.skill, s.chi, 4 * s.import_pref,
            s.hh_net_income / inc_ref, s.hh_hours], dim=2)
        firm = torch.stack([
            10 * torch.log(s.price / p_dom[:, None]), s.firm_deposits / (s.price * s.ref_output),
            s.loans / (s.price * s.ref_capital), torch.log(s.capital / s.ref_capital),
            s.inventory / s.ref_output, s.last_sales / s.ref_output, s.productivity,
            torch.log(s.wage / s.ref_wage)[:, None].expand(E, F)], dim=2)
        gov = torch.stack([s.gov_debt / (4 * nominal_ref), 10 * s.deficit_ratio, s.spending_share], dim=1)
        cb = torch.stack([s.loans.sum(1) / nominal_ref, 100 * s.wage_growth], dim=1)
        assets = s.loans.sum(1) + s.reserves + s.gov_debt
        bank = torch.stack([s.loans.sum(1) / nominal_ref, 10 * s.bank_equity / assets.abs().clamp_min(1e-12),
                            100 * s.default_rate, 100 * s.spread], dim=1)
        foreign = torch.stack([10 * torch.log(s.exchange_rate / p_dom), 10 * s.exports_ratio, 10 * s.imports_ratio,
                               10 * s.log_foreign_demand, s.foreign_deposits / nominal_ref], dim=1)

        def with_common(own, n):
            # clipped: a collapsing economy (GDP -> 0) must not feed the networks ratios of 1e13
            o = torch.cat([common[:, None, :].expand(E, n, common.shape[1]), own], dim=2)
            return o.clamp(-OBS_CLIP, OBS_CLIP).float()

        return {"household": with_common(hh, H), "firm": with_common(firm, F),
                "government": with_common(gov[:, None, :], 1), "central_bank": with_common(cb[:, None, :], 1),
                "bank": with_common(bank[:, None, :], 1), "foreign": with_common(foreign[:, None, :], 1)}

    # ------------------------------------------------------------------ simple reference policy
    def reference_actions(self) -> Dict[str, torch.Tensor]:
        """A plausible hand-written policy for every type: steady consumption and hours, prices
        flat, replacement investment, a 25% tax rate, 20% spending, a 1% policy rate, a 1%
        spread, neutral foreign demand. Useful as a baseline and in tests."""
        E, c = self.num_envs, self.config
        dev, dt = self.device, torch.float32

        def full(n, vals):
            return torch.tensor(vals, dtype=dt, device=dev).expand(E, n, len(vals)).clone()

        return {"household": full(c.num_households, [0.3, 0.7]),
                "firm": full(c.num_firms, [0.0, 1.0, c.depreciation]),
                "government": full(1, [0.25, 0.2]), "central_bank": full(1, [0.01]),
                "bank": full(1, [0.01]), "foreign": full(1, [1.0, 0.0])}
