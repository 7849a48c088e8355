"""A monetary economy with demand-determined output and one nominal anchor (seed 002's agents).

One central bank, ``N`` commercial banks, ``M`` households and ``K`` firms in ``num_envs``
parallel economies, one step = one month. Defined in Chapter 4
(notebooks/04_monetary_transmission.ipynb), which writes the model out in math and explains why
the previous design (output fixed before the market opened, spending a share of money, interest
printed) could only end at a corner.

Who does what each month:

1. The central bank moves the policy rate by {-50, -25, 0, +25, +50} bp (floored at the lower
   bound when ``zero_lower_bound`` is on).
2. Banks post a lending and a deposit spread over the policy rate and a risk tolerance (the
   debt-service and loan-to-value limits they accept).
3. Labour market: households choose whether to look for work; firms lay off, hold or post
   vacancies; seekers and vacancies match at random (``markets.labor``). The wage index is
   indexed one for one to last month's inflation (accelerationist, Friedman 1968; Rudebusch and
   Svensson 1999) and moves with unemployment: the central bank is the only nominal anchor.
4. Firms post prices (a change pays a menu cost and a Rotemberg cost, ``markets.pricing``).
5. Demand. Each household plans real consumption from its permanent income, tilted by its real
   interest rate (an Euler-style block, eq. ``c-plan`` in Chapter 4), and chooses a multiplier
   on that plan; it can borrow (capped by its bank). Each firm invests toward the capital stock
   at which the marginal revenue product of capital equals the user cost ``r - pi^e + delta``
   (Jorgenson 1963), at a speed it chooses. Spending is cash-constrained.
6. Goods market: CES demand (elasticity ``e``) with spillover; firms produce *to order* up to
   capacity (``markets.goods.sell_to_order``), hiring hours to do so. A firm is sold out only
   at capacity.
7. Wages for the hours worked, debt service and defaults (written off, collateral seized),
   deposit interest paid by banks out of their income, interest on reserves financed by a
   lump-sum tax on households (``markets.money``), bank and firm dividends to owners.

Exogenous shocks: aggregate productivity (AR(1), ``tfp_rho``, ``tfp_sigma``) and, when
``cost_push_sigma`` is above zero, a cost-push shock each month that moves every firm's price and
the wage index by one common normal share before anyone acts (off in Chapter 4's design; the
chapter reports what turning it on did).

Accounting (tested every step): each bank's ``reserves + loans = deposits + equity``; bank loans
equal borrowers' debts; the money stock changes only by lending, repayment, seized collateral,
the banks' retained earnings and the resolution of a failed bank (interest is paid out of income,
never printed). A bank whose equity turns negative is recapitalised by writing its depositors'
claims down and, for what they cannot cover, by a lump-sum levy on households
(:func:`bail_in_share`).

The central bank's reward is seed 002's ``-[(pi - pi*)^2 + lambda gap^2 + mu (delta i)^2]``
(in percentage points) with no rate level and no reference rule anywhere in it; see
:func:`central_bank_loss`. The output gap is ``log(Y / Y*)`` with ``Y*`` the output of the
flexible-price steady state (natural employment, normal hours, optimal markup), of either sign.
Firms' rewards are real profits (deflated by the price index) net of price-adjustment costs;
banks' rewards are real profits less a penalty for a capital-ratio shortfall measured against the
loan book floored at the bank's first one (:func:`bank_reward_fn`), bounded.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Mapping

import torch

from ..config import Config, ConfigError, check, check_float, check_int
from ..contract import AgentSpec, Discrete, MultiDiscrete
from ..markets import credit, goods, labor, money, pricing
from .base import BatchedEconomy, Transition

AGENT_TYPES = ("central_bank", "bank", "household", "firm")

#: action grids (seed 002's sizes). Central bank: rate change in basis points.
RATE_CHANGES_BP = (-50.0, -25.0, 0.0, 25.0, 50.0)
LENDING_SPREADS_ANNUAL = (0.01, 0.02, 0.03, 0.04, 0.05)
DEPOSIT_SPREADS_ANNUAL = (0.0, 0.005, 0.01, 0.015, 0.02)
DSR_LIMITS = (0.15, 0.30, 0.45)          # risk tolerance: low, medium, high
LTV_LIMITS = (0.4, 0.6, 0.8)
CONSUMPTION_MULTIPLIERS = (0.9, 0.95, 1.0, 1.05, 1.1)  # times the planned consumption
BORROW_MULTIPLES = (0.0, 1.0, 3.0)               # loan asked, in months of own wage
LABOR_SUPPLY = (0.0, 1.0)                        # look for work: no / yes
PRICE_CHANGES = (-0.02, -0.005, 0.0, 0.005, 0.02)
HIRING = (-1, 0, 1)                              # staff for 90%, 100% or 110% of last month's orders
INVESTMENT_SPEEDS = (0.0, 0.005, 0.02)           # share of the gap to desired capital closed per month
#: index of "no change / middle" in each grid (the reference rules use them)
HOLD_PRICE, HOLD_HIRING = 2, 1


@dataclass
class MonetaryConfig(Config):
    """Parameters of :class:`MonetaryEconomy`.

    Seed 002 fixes the counts, the targets, the horizon and the loss weights; the rest are ours,
    documented in Chapter 4. Rates named ``*_annual`` are annual decimals; flows are monthly.
    """

    num_banks: int = 5
    num_households: int = 100
    num_firms: int = 20
    sim_length: int = 120                 # months per episode (an episode's end is a truncation)
    inflation_target_annual: float = 0.02
    initial_policy_rate_annual: float = 0.03
    zero_lower_bound: bool = True
    lower_bound_annual: float = 0.0
    max_policy_rate_annual: float = 0.20
    # central bank loss weights (seed 002): -[(pi-pi*)^2 + lambda gap^2 + mu (delta i)^2], in pp
    output_gap_weight: float = 0.5        # lambda
    rate_change_weight: float = 0.1       # mu
    # technology: y = A z K^alpha H^(1-alpha), H = hours in skill units
    capital_share: float = 0.3            # alpha
    tfp_dispersion: float = 0.05          # sd of log firm productivity
    tfp_rho: float = 0.95                 # aggregate TFP, AR(1) per month
    tfp_sigma: float = 0.003
    # cost-push shocks: each month every firm's price and the wage index jump by a common
    # N(0, sigma^2) share before anyone acts (the "inflation" shock of :meth:`MonetaryEconomy.shock`,
    # drawn every month). Off in Chapter 4's design, which reports what turning them on did; 0.001 a
    # month is of the order of the price-markup shock of Smets and Wouters (2007), 0.14% a quarter
    cost_push_sigma: float = 0.0
    capital_depreciation: float = 0.01    # per month
    max_hours: float = 1.3                # capacity: hours per worker relative to normal
    demand_elasticity: float = 6.0        # CES elasticity across firms (Dixit-Stiglitz; Gali 2015)
    # price-adjustment costs, shares of the firm's nominal sales
    menu_cost: float = 0.002              # paid whenever the price changes
    initial_price_dispersion: float = 0.02  # starting prices uniform in [p* e^-d, p*]
    rotemberg_cost: float = 5.0           # phi: phi/2 (p/p_prev - 1)^2
    # labour market
    natural_unemployment: float = 0.05
    wage_flexibility: float = 0.05        # wage growth per month per unit of (u* - u)
    wage_indexation: float = 1.0          # share of last month's inflation passed to wages (1 = accelerationist)
    wage_floor_monthly: float = 0.0       # nominal wages never fall (Akerlof, Dickens and Perry 1996)
    matching_efficiency: float = 0.9
    skill_dispersion: float = 0.3
    # households' demand block (eq. c-plan of Chapter 4)
    rate_sensitivity: float = 0.5         # sigma: log planned consumption per unit of annual real-rate gap
    neutral_real_rate_annual: float = 0.0  # the real deposit rate at which plans equal permanent income
    # monthly weight of the current real rate in the perceived one (Reis 2006): households close about a quarter
    # of the gap to professional forecasts each quarter (Carroll 2003), 1 - 0.75^(1/3) = 0.09 a month
    rate_attention: float = 0.09
    permanent_income_weight: float = 0.1  # EMA weight of this month's real income in permanent income
    potential_anchor: float = 0.02        # monthly pull of expected income toward potential
    wealth_mpc: float = 0.01              # monthly MPC out of real wealth above the buffer
    buffer_months: float = 3.0            # target wealth in months of permanent income
    # habit: share of last month's plan kept, c_plan = h c_plan(-1) + (1-h) (eq. c-plan) (Fuhrer 2000;
    # Christiano, Eichenbaum and Evans 2005); off in Chapter 4, which reports what turning it on did
    habit: float = 0.0
    # share of last month's investment order kept (a reduced form of the investment adjustment cost of
    # Christiano, Eichenbaum and Evans 2005); off in Chapter 4, which reports what turning it on did
    investment_smoothing: float = 0.0
    # credit market
    amortization: float = 0.02            # share of principal due per month
    base_default_rate_annual: float = 0.01  # exogenous default hazard of every borrower
    capital_requirement: float = 0.08     # nu: required equity per unit of loans (Basel: 8% of risk-weighted assets)
    capital_penalty: float = 50.0         # kappa: reward lost per unit of capital-ratio shortfall (see bank_reward_fn)
    bank_penalty_form: str = "ratio"      # "ratio" (floored loan book) or "shortfall" (real units), see bank_reward_fn
    initial_firm_leverage: float = 0.2    # debt / capital value at the start
    # payouts
    firm_payout_rate: float = 1.0         # share of deposits above one month's costs paid out
    bank_payout_rate: float = 1.0         # share of a positive profit paid out (above the requirement)
    # household preferences (seed 002: log c - labour + savings - debt)
    labor_disutility: float = 0.1          # per month of normal hours
    savings_weight: float = 0.1
    debt_weight: float = 0.05
    wealth_dispersion: float = 0.8        # sd of log initial deposits
    # firm reward
    bankruptcy_penalty: float = 5.0
    dtype: str = "float64"

    def validate(self) -> None:
        check_int(self, "num_banks", min=1)
        check_int(self, "num_households", min=1)
        check_int(self, "num_firms", min=1)
        check_int(self, "sim_length", min=2)
        check_float(self, "inflation_target_annual", min=-0.05, max=0.2)
        check_float(self, "initial_policy_rate_annual", min=-0.05, max=0.2)
        check(isinstance(self.zero_lower_bound, bool), self, "zero_lower_bound", "True or False")
        check_float(self, "lower_bound_annual", min=-0.05, max=0.05)
        check_float(self, "max_policy_rate_annual", min=0.0, max=1.0, min_open=True)
        check(self.max_policy_rate_annual > self.lower_bound_annual, self, "max_policy_rate_annual",
              f"> lower_bound_annual={self.lower_bound_annual}")
        for name in ("output_gap_weight", "rate_change_weight", "labor_disutility", "savings_weight",
                     "debt_weight", "bankruptcy_penalty", "capital_penalty", "tfp_sigma", "tfp_dispersion",
                     "skill_dispersion", "wealth_dispersion", "wage_flexibility", "wage_indexation",
                     "menu_cost", "rotemberg_cost", "rate_sensitivity", "initial_price_dispersion", "potential_anchor", "wealth_mpc",
                     "buffer_months"):
            check_float(self, name, min=0.0)
        check_float(self, "capital_share", min=0.0, max=1.0, min_open=True, max_open=True)
        check_float(self, "tfp_rho", min=0.0, max=1.0, max_open=True)
        check_float(self, "max_hours", min=1.0, max=3.0)
        check_float(self, "neutral_real_rate_annual", min=-0.05, max=0.1)
        check_float(self, "permanent_income_weight", min=0.0, max=1.0, min_open=True)
        check_float(self, "rate_attention", min=0.0, max=1.0, min_open=True)
        check_float(self, "habit", min=0.0, max=1.0, max_open=True)
        check_float(self, "investment_smoothing", min=0.0, max=1.0, max_open=True)
        check_float(self, "wage_floor_monthly", min=-0.02, max=0.0)
        for name in ("capital_depreciation", "natural_unemployment", "amortization", "base_default_rate_annual",
                     "capital_requirement", "firm_payout_rate", "bank_payout_rate", "initial_firm_leverage"):
            check_float(self, name, min=0.0, max=1.0)
        check_float(self, "capital_depreciation", min=0.0, max=1.0, min_open=True)
        check_float(self, "amortization", min=0.0, max=1.0, min_open=True)
        # with no initial loans the banks' return on loans divides by zero at the first step
        check_float(self, "initial_firm_leverage", min=0.0, max=1.0, min_open=True)
        check_float(self, "tfp_sigma", min=0.0, max=0.5)   # log-normal shocks: beyond, output overflows
        check_float(self, "cost_push_sigma", min=0.0, max=0.05)
        for name in ("tfp_dispersion", "skill_dispersion", "wealth_dispersion"):
            check_float(self, name, min=0.0, max=3.0)
        check_float(self, "demand_elasticity", min=1.0, min_open=True)
        check_float(self, "matching_efficiency", min=0.0, max=10.0, min_open=True)
        check(self.dtype in ("float32", "float64"), self, "dtype", "'float32' or 'float64'")
        check(self.bank_penalty_form in ("ratio", "shortfall"), self, "bank_penalty_form", "'ratio' or 'shortfall'")

    @property
    def episode_length(self) -> int:
        """Months per episode (``sim_length``), under the name the shared analysis tools read
        (the best-response check evaluates ``episode_length`` months per episode)."""
        return self.sim_length

    @property
    def rate_floor_annual(self) -> float:
        return self.lower_bound_annual if self.zero_lower_bound else -0.05

    @property
    def markup(self) -> float:
        return pricing.optimal_markup(self.demand_elasticity)


def central_bank_loss(inflation_annual: torch.Tensor, inflation_target_annual: float, output_gap: torch.Tensor,
                      rate_change_annual: torch.Tensor, output_gap_weight: float, rate_change_weight: float) -> torch.Tensor:
    """Seed 002's central-bank loss ``(pi - pi*)^2 + lambda gap^2 + mu (delta i)^2``.

    All three terms in percentage points (so a 1 pp miss costs 1). The function takes no
    policy-rate level and no reference rule: a Taylor rule can only emerge, never be rewarded.
    """
    infl_gap_pp = 100.0 * (inflation_annual - inflation_target_annual)
    gap_pp = 100.0 * output_gap
    change_pp = 100.0 * rate_change_annual
    return infl_gap_pp**2 + output_gap_weight * gap_pp**2 + rate_change_weight * change_pp**2


#: every nominal entry of the state (money units); everything else is real, a share or an index
NOMINAL_STATE = ("price", "mc", "price_history", "wage_index", "hh_deposits", "hh_debt", "hh_income",
                 "firm_deposits", "firm_debt", "last_revenue", "bank_reserves", "bank_loans", "bank_equity")
#: a currency reform when the price index leaves [1/x, x]
REDENOMINATE_BEYOND = 1e6


def redenominate(state: Dict[str, torch.Tensor], beyond: float = REDENOMINATE_BEYOND) -> torch.Tensor:
    """A currency reform: in every economy whose price index has left ``[1/beyond, beyond]``, divide
    every nominal entry of ``state`` (:data:`NOMINAL_STATE`) by the price index, in place, so that
    the index is 1 again. Returns the factor per economy ``[E]`` (1 where nothing happened).

    Nothing real changes: demand, costs, rewards and the central bank's loss depend on nominal
    quantities only through ratios (relative prices, real balances, inflation), so the economy is
    homogeneous of degree zero in them, and the balance-sheet identities are linear. What it
    prevents is the nominal level overflowing floating point over very long episodes (a random
    central bank over centuries; hyperinflations end in such reforms). It happens only at an
    index of a million or a millionth: never in Chapter 4's runs. No synchronisation: the factor
    is applied with ``torch.where``.
    """
    P = state["price_history"][:, -1]
    hit = (P > beyond) | (P < 1.0 / beyond)
    f = torch.where(hit, 1.0 / P, torch.ones_like(P))
    for k in NOMINAL_STATE:
        v = state[k]
        state[k] = v * f.reshape(-1, *([1] * (v.dim() - 1)))
    return f


def gini(x: torch.Tensor) -> torch.Tensor:
    """Gini coefficient over the last dimension ``[..., n] -> [...]`` of a *non-negative* quantity.

    Negative entries are set to 0 first (net worth can be negative; the Gini of a series with
    negative entries can exceed 1 and means nothing). The economy reports the share of
    households with negative net worth beside it.
    """
    x = x.clamp_min(0.0)
    n = x.shape[-1]
    diff = (x.unsqueeze(-1) - x.unsqueeze(-2)).abs().sum((-1, -2))
    return diff / (2 * n * n * x.mean(-1).clamp_min(1e-12))


def planned_consumption(permanent_income: torch.Tensor, real_rate_annual: torch.Tensor, neutral_rate_annual: float,
                        sensitivity: float, wealth_real: torch.Tensor, buffer: torch.Tensor, wealth_mpc: float) -> torch.Tensor:
    """Eq. (c-plan) of Chapter 4: ``c = y^P exp(-sigma (r - r_n)) + mpc_w (a - buffer)``, at least 0.

    The log-linear Euler equation ``log c_t = log c_{t+1} - sigma (r_t - r_n)`` with the future
    anchored at permanent income (Friedman 1957; Gali 2015 ch. 3 eq. 22; the IS curve of
    Rudebusch and Svensson 1999 in its simplest form), plus a buffer-stock pull of wealth
    (Carroll 1997). The household's action is a multiplier on this plan.
    """
    tilt = torch.exp(-sensitivity * (real_rate_annual - neutral_rate_annual))
    return (permanent_income * tilt + wealth_mpc * (wealth_real - buffer)).clamp_min(0.0)


def bail_in_share(equity: torch.Tensor, deposits: torch.Tensor) -> torch.Tensor:
    """The share of its depositors' (positive) deposits a bank with negative ``equity`` writes down
    to bring its equity back to zero, at most all of them: ``min(max(-equity, 0) / deposits, 1)``
    per bank ``[E, N]`` (0 where equity is not negative or there are no deposits).

    The resolution of a failed bank by a bail-in: its losses beyond its own capital are borne by its
    creditors, here its depositors, pro rata (Financial Stability Board 2014, *Key Attributes of
    Effective Resolution Regimes*; the Cyprus resolution of 2013 wrote down uninsured deposits).
    The deposits written down are money destroyed; the bank's equity rises by the same amount and
    its reserves do not move, so its balance sheet still balances. What the depositors cannot
    cover is a lump-sum levy on every household paid into the bank (a resolution fund), so a
    bank's equity never stays negative: otherwise the interest on its overdraft at the central
    bank, rebated to households, would compound the hole and money with it (measured: under
    random play an economy left the floating-point range near month 5,850).
    """
    hole = (-equity).clamp_min(0.0)
    return torch.where(deposits > 0, (hole / deposits.clamp_min(1e-12)).clamp(0.0, 1.0), torch.zeros_like(hole))


def bank_reward_fn(profit: torch.Tensor, equity: torch.Tensor, loans: torch.Tensor, price_level: torch.Tensor,
                   scale: torch.Tensor, requirement: float, penalty: float, form: str = "ratio") -> torch.Tensor:
    """A bank's reward ``[E, N]``: real profit per unit of ``scale`` (1% of a bank's first loan
    book, real) minus a penalty for a capital shortfall (Basel's minimum ``nu`` = ``requirement``
    of equity per unit of risk-weighted assets; loans carry weight one, reserves zero).

    ``form="ratio"`` (the default)::

        r_b = profit / P / scale  -  kappa * max(0, nu - equity / max(loans, 100 scale P))

    the shortfall of the capital ratio, measured against the loan book floored at the bank's first
    book (in real terms). With equity kept at least 0 by the resolution of failed banks
    (:func:`bail_in_share`), the penalty lies in ``[0, kappa nu]``: bounded, where the ratio with an
    unfloored denominator reached about -8e8 for a bank with almost no loans and negative equity.
    ``form="shortfall"``::

        r_b = [ profit / P  -  (kappa / 100) * max(0, nu loans - equity) / P ] / scale

    the same penalty in real units, as if the missing capital had to be raised at a premium of
    ``kappa / 100`` a month (the two forms coincide for a bank whose book is its first one). Both
    are one-sided, linear forms of the bank-capital adjustment cost of Gerali, Neri, Sessa and
    Signoretti (2010).
    """
    if form == "ratio":
        floor = 100.0 * scale * price_level
        return profit / price_level / scale - penalty * (requirement - equity / torch.maximum(loans, floor)).clamp_min(0.0)
    shortfall = (requirement * loans - equity).clamp_min(0.0)
    return (profit - penalty / 100.0 * shortfall) / price_level / scale


def desired_capital(expected_output: torch.Tensor, user_cost_monthly: torch.Tensor, capital_share: float,
                    elasticity: float) -> torch.Tensor:
    """Jorgenson (1963): the capital at which the marginal revenue product of capital,
    ``alpha (e-1)/e y / K``, equals the monthly user cost ``(r - pi^e)/12 + delta``."""
    return capital_share * (elasticity - 1) / elasticity * expected_output / user_cost_monthly.clamp_min(1e-3)


class MonetaryEconomy(BatchedEconomy):
    """Batched monetary economy; see the module docstring for the timing and accounting.

    Agent types and actions (all discrete; seed 002's sizes):

    * ``central_bank`` (1): ``Discrete(5)`` rate change in bp, :data:`RATE_CHANGES_BP`
    * ``bank`` (N): ``(5, 5, 3)`` = lending spread x deposit spread x risk tolerance (75)
    * ``household`` (M): ``(5, 3, 2)`` = consumption multiplier x borrowing x labour supply (30)
    * ``firm`` (K): ``(5, 3, 3)`` = price change x staffing (90/100/110% of need) x investment speed (45)

    ``shock(kind, size, mask)`` adds an inflation (price-level), policy-rate or default shock
    before the next step, for impulse responses with common random numbers.
    """

    macro_units = {
        "policy_rate_annual": "annual decimal",
        "lending_rate_annual": "annual decimal (loan-weighted mean over banks)",
        "deposit_rate_annual": "annual decimal",
        "real_rate_annual": "policy rate minus 12-month inflation",
        "inflation_annual": "annualized month-on-month change of the price index",
        "inflation_yoy": "12-month change of the price index",
        "output": "goods per month",
        "potential": "flexible-price output, goods per month",
        "output_gap": "log deviation from potential",
        "unemployment": "share of job seekers without a job",
        "hours": "hours worked per employed skill unit (1 = normal)",
        "employment": "employed skill units",
        "consumption": "goods per month (households)",
        "investment": "goods per month (firms)",
        "credit": "real loans outstanding",
        "new_lending": "real new loans this month",
        "price_level": "index, 1 at start (and after a currency reform, see redenominate)",
        "wage_index": "money per unit of skill per hour",
        "gini_wealth": "Gini of household net worth floored at 0",
        "negative_net_worth_share": "share of households with negative net worth",
        "gini_income": "Gini of household income",
        "price_change_share": "share of firms that changed their price",
        "sold_out_share": "share of firms that sold their whole capacity",
        "markup_gap": "mean log(price / static optimal price) over firms not sold out",
        "default_rate": "share of borrowers defaulting this month",
        "cb_loss": "central bank loss, pp^2",
    }

    def __init__(self, config: MonetaryConfig | None = None, num_envs: int = 1, device: str | torch.device = "auto"):
        super().__init__(num_envs, device)
        if config is None:
            config = MonetaryConfig()
        if not isinstance(config, MonetaryConfig):
            raise ConfigError(f"config must be a MonetaryConfig, got {type(config).__name__}")
        self.config = c = config
        self.dtype = torch.float64 if c.dtype == "float64" else torch.float32
        self.specs = {
            "central_bank": AgentSpec(1, 8, Discrete(5, values=RATE_CHANGES_BP), obs_names=(
                "inflation_annual (pp)", "inflation_yoy (pp)", "inflation_target (pp)", "output_gap (%)",
                "unemployment (%)/10", "policy_rate_annual (pp)", "credit growth (% per month)", "lending spread (pp)")),
            "bank": AgentSpec(c.num_banks, 8, MultiDiscrete((5, 5, 3)), obs_names=(
                "policy_rate_annual (pp)", "capital ratio x10", "loans/deposits", "default rate (% per month)",
                "credit demand met", "inflation_yoy (pp)", "output_gap (%)", "own lending rate (pp)")),
            "household": AgentSpec(c.num_households, 10, MultiDiscrete((5, 3, 2)), obs_names=(
                "log real deposits", "real debt / wage", "employed", "skill", "real wage",
                "real deposit rate (pp)", "lending rate (pp)", "inflation_yoy (pp)", "unemployment (%)/10",
                "real wealth / permanent income")),
            "firm": AgentSpec(c.num_firms, 12, MultiDiscrete((5, 3, 3)), obs_names=(
                "log relative price", "log(price / optimal static price) x10", "hours per worker", "log capital / desired",
                "real deposits / wage bill", "debt / capital value", "lending rate (pp)", "inflation_yoy (pp)",
                "output_gap (%)", "sold out", "log productivity x10", "real wage")),
        }
        dev, dt = self.device, self.dtype
        t = lambda x: torch.tensor(x, device=dev, dtype=dt)  # noqa: E731
        self._rate_changes = t(RATE_CHANGES_BP) / 1e4
        self._lend_spreads, self._dep_spreads = t(LENDING_SPREADS_ANNUAL), t(DEPOSIT_SPREADS_ANNUAL)
        self._dsr, self._ltv = t(DSR_LIMITS), t(LTV_LIMITS)
        self._cons_mult, self._borrow, self._labor = t(CONSUMPTION_MULTIPLIERS), t(BORROW_MULTIPLES), t(LABOR_SUPPLY)
        self._price_changes, self._hiring, self._inv_speed = t(PRICE_CHANGES), t(HIRING), t(INVESTMENT_SPEEDS)
        self._pending_shocks: list = []
        self.state: Dict[str, torch.Tensor] = {}
        self.last_flows: Dict[str, torch.Tensor] = {}

    # ----------------------------------------------------------------- shocks
    def shock(self, kind: str, size: float, mask: torch.Tensor | None = None) -> None:
        """Queue a one-off shock applied at the start of the next step.

        ``"inflation"``: all firm prices and the wage index jump by ``size`` (a decimal, 0.01 =
        1% cost-push); ``"policy_rate"``: the policy rate jumps by ``size`` (annual decimal,
        0.0025 = 25 bp) on top of the central bank's own move; ``"default"``: this month every
        borrower defaults with extra probability ``size`` (a credit crisis). ``mask [E]`` (bool)
        picks the economies that get it (default: all).
        """
        if kind not in ("inflation", "policy_rate", "default"):
            raise ConfigError(f"shock kind must be 'inflation', 'policy_rate' or 'default', got {kind!r}")
        if mask is None:
            mask = torch.ones(self.num_envs, dtype=torch.bool, device=self.device)
        self._pending_shocks.append((kind, float(size), mask.to(self.device)))

    # ----------------------------------------------------------------- steady state
    def steady_state(self) -> Dict[str, float]:
        """The symmetric flexible-price steady state the economy starts from (Chapter 4, eq. ss):
        user cost, capital-output ratio and the wage that makes the optimal markup price 1."""
        c = self.config
        lend = c.initial_policy_rate_annual + LENDING_SPREADS_ANNUAL[2]
        uc = (lend - c.inflation_target_annual) / 12 + c.capital_depreciation
        a = c.capital_share
        k_y = a * (c.demand_elasticity - 1) / c.demand_elasticity / uc
        wage = (1 - a) * k_y ** (a / (1 - a)) / c.markup
        return {"user_cost_monthly": uc, "capital_output": k_y, "wage": wage,
                "output_per_labor": k_y ** (a / (1 - a))}

    # ----------------------------------------------------------------- reset
    def initial_state(self, num_envs: int) -> Dict[str, torch.Tensor]:
        """A fresh economy at the flexible-price steady state (tensors ``[E, ...]``)."""
        c, E, dev, dt = self.config, num_envs, self.device, self.dtype
        N, M, K = c.num_banks, c.num_households, c.num_firms
        a = c.capital_share
        r = lambda *s: self.rand(*s).to(dt)  # noqa: E731
        rn = lambda *s: self.randn(*s).to(dt)  # noqa: E731
        ss = self.steady_state()
        skill = torch.exp(c.skill_dispersion * rn(E, M))
        skill = skill / skill.mean(1, keepdim=True)
        tfp_firm = torch.exp(c.tfp_dispersion * rn(E, K))
        wealth_draw = torch.exp(c.wealth_dispersion * rn(E, M))
        ownership = wealth_draw / wealth_draw.sum(1, keepdim=True)
        hh_bank = torch.floor(r(E, M) * N).long().clamp_max(N - 1)
        firm_bank = torch.floor(r(E, K) * N).long().clamp_max(N - 1)
        # flexible-price steady state per firm: p_f = markup * mc_f, mc_f ~ A_f^(-1/(1-a)); labour
        # shares follow CES demand, so every firm starts at normal hours with its optimal price
        log_p = -torch.log(tfp_firm) / (1 - a)
        log_p = log_p - log_p.mean(1, keepdim=True)                    # geometric price index = 1
        # prices start spread over the (S, s) band below the optimum, as in a steady state with
        # positive inflation, so that price changes are staggered from the first month
        price = torch.exp(log_p - c.initial_price_dispersion * r(E, K))
        wage = ss["wage"] * torch.exp((torch.log(tfp_firm) / (1 - a)).mean(1))      # [E]
        y_per_l = ss["output_per_labor"] * tfp_firm ** (1 / (1 - a))                # [E, K]
        lab_share = price ** (-c.demand_elasticity) / y_per_l
        lab_share = lab_share / lab_share.sum(1, keepdim=True)
        # jobs: households in a random order fill each firm's steady-state share of skill units
        unemployed = r(E, M) < c.natural_unemployment
        order = torch.argsort(r(E, M), dim=1)
        sk = torch.gather(torch.where(unemployed, torch.zeros_like(skill), skill), 1, order)
        pos = (torch.cumsum(sk, 1) - 0.5 * sk) / sk.sum(1, keepdim=True)
        firm_sorted = torch.searchsorted(torch.cumsum(lab_share, 1).contiguous(), pos.contiguous()).clamp_max(K - 1)
        employer = torch.empty_like(firm_sorted).scatter_(1, order, firm_sorted)
        employer = torch.where(unemployed, torch.full_like(employer, -1), employer)
        L_star = (1 - c.natural_unemployment) * skill.sum(1, keepdim=True) * lab_share
        output = y_per_l * L_star
        capital = ss["capital_output"] * output
        consumption = (output - c.capital_depreciation * capital).sum(1, keepdim=True)   # real, [E, 1]
        perm = consumption * (0.75 * skill / skill.sum(1, keepdim=True) + 0.25 * ownership)
        hh_deposits = c.buffer_months * perm * wealth_draw / wealth_draw.mean(1, keepdim=True)
        firm_debt = c.initial_firm_leverage * capital * price
        firm_deposits = 1.5 * wage.unsqueeze(-1) * L_star
        hh_debt = torch.zeros(E, M, device=dev, dtype=dt)
        loans = credit.by_bank(firm_debt, firm_bank, N) + credit.by_bank(hh_debt, hh_bank, N)
        deposits = credit.by_bank(hh_deposits, hh_bank, N) + credit.by_bank(firm_deposits, firm_bank, N)
        equity = 0.12 * loans + 1.0
        reserves = deposits + equity - loans  # negative = overdraft at the central bank
        policy = torch.full((E,), c.initial_policy_rate_annual, device=dev, dtype=dt)
        pi_m = (1 + c.inflation_target_annual) ** (1 / 12) - 1
        P_hist = (1 + pi_m) ** torch.arange(-12, 1, device=dev, dtype=dt).expand(E, 13).clone()
        mc = torch.exp(log_p) / c.markup
        state = {
            "policy_rate_annual": policy,
            "rate_change_annual": torch.zeros(E, device=dev, dtype=dt),
            "price": price, "mc": mc,
            "price_history": P_hist,                       # index, t-12 .. t
            "wage_index": wage,
            "tfp_aggregate": torch.zeros(E, device=dev, dtype=dt),
            "tfp_firm": tfp_firm, "labor_share": lab_share, "skill": skill, "ownership": ownership,
            "hh_bank": hh_bank, "firm_bank": firm_bank, "employer": employer,
            "hh_deposits": hh_deposits, "hh_debt": hh_debt, "hh_income": perm.clone(), "permanent_income": perm,
            "firm_deposits": firm_deposits, "firm_debt": firm_debt, "capital": capital,
            "expected_output": output.clone(), "desired_capital": capital.clone(),
            "invest_plan": c.capital_depreciation * capital,
            "hh_real_rate": torch.full((E, M), c.initial_policy_rate_annual - DEPOSIT_SPREADS_ANNUAL[2] - c.inflation_target_annual,
                                       device=dev, dtype=dt),
            "firm_real_rate": torch.full((E, K), c.initial_policy_rate_annual + LENDING_SPREADS_ANNUAL[2] - c.inflation_target_annual,
                                         device=dev, dtype=dt),
            "hours_per_worker": torch.ones(E, K, device=dev, dtype=dt),
            "sold_out": torch.zeros(E, K, device=dev, dtype=torch.bool),
            "last_revenue": output * price,
            "bank_reserves": reserves, "bank_loans": loans, "bank_equity": equity,
            "bank_reward_scale": 0.01 * loans.mean(1, keepdim=True).clamp_min(1e-6),   # ~1% of a bank's first book
            "lending_rate_annual": policy.unsqueeze(-1) + LENDING_SPREADS_ANNUAL[2] + torch.zeros(E, N, device=dev, dtype=dt),
            "deposit_rate_annual": (policy.unsqueeze(-1) - DEPOSIT_SPREADS_ANNUAL[2]).expand(E, N).clone(),
            "bank_default_rate": torch.zeros(E, N, device=dev, dtype=dt),
            "bank_demand_met": torch.ones(E, N, device=dev, dtype=dt),
            "inflation_annual": torch.full((E,), c.inflation_target_annual, device=dev, dtype=dt),
            "inflation_monthly": torch.full((E,), pi_m, device=dev, dtype=dt),
            "output_gap": torch.zeros(E, device=dev, dtype=dt),
            "unemployment": torch.full((E,), c.natural_unemployment, device=dev, dtype=dt),
            "credit_growth": torch.zeros(E, device=dev, dtype=dt),
            "period": torch.zeros(E, device=dev, dtype=torch.long),
        }
        # last month's plan (eq. c-plan at the starting state), the reference of the habit
        state["hh_plan"] = planned_consumption(perm, state["hh_real_rate"], c.neutral_real_rate_annual, c.rate_sensitivity,
                                               hh_deposits, c.buffer_months * perm, c.wealth_mpc)
        self._pending_shocks = []
        return state

    # ----------------------------------------------------------------- observations
    def observe(self, state: Dict[str, torch.Tensor] | None = None) -> Dict[str, torch.Tensor]:
        s, c = (self.state if state is None else state), self.config
        E = self.num_envs
        N, M, K = c.num_banks, c.num_households, c.num_firms
        P = s["price_history"][:, -1]
        W = s["wage_index"]
        exp_ = lambda x: x.unsqueeze(-1)  # noqa: E731
        infl_pp = 100 * s["inflation_annual"]
        yoy_pp = 100 * (s["price_history"][:, -1] / s["price_history"][:, 0] - 1)
        gap_pct = 100 * s["output_gap"]
        u10 = 10 * s["unemployment"]
        policy_pp = 100 * s["policy_rate_annual"]
        loans = s["bank_loans"]
        mean_lending_pp = 100 * (s["lending_rate_annual"] * loans).sum(1) / loans.sum(1).clamp_min(1e-9)
        cb = torch.stack([
            infl_pp, yoy_pp, torch.full_like(infl_pp, 100 * c.inflation_target_annual), gap_pct, u10, policy_pp,
            100 * s["credit_growth"], mean_lending_pp - policy_pp,
        ], -1).unsqueeze(1)
        bank_deposits = credit.by_bank(s["hh_deposits"], s["hh_bank"], N) + credit.by_bank(s["firm_deposits"], s["firm_bank"], N)
        bank = torch.stack([
            exp_(policy_pp).expand(E, N), 10 * s["bank_equity"] / loans.clamp_min(1e-9), loans / bank_deposits.clamp_min(1e-9),
            100 * s["bank_default_rate"], s["bank_demand_met"], exp_(yoy_pp).expand(E, N),
            exp_(gap_pct).expand(E, N), 100 * s["lending_rate_annual"],
        ], -1)
        wage_h = (s["skill"] * exp_(W)).clamp_min(1e-9)
        hh_lend = torch.gather(s["lending_rate_annual"], 1, s["hh_bank"])
        hh_dep = torch.gather(s["deposit_rate_annual"], 1, s["hh_bank"])
        wealth_real = (s["hh_deposits"] - s["hh_debt"]) / exp_(P)
        household = torch.stack([
            torch.log1p((s["hh_deposits"] / exp_(P)).clamp_min(0)), s["hh_debt"] / wage_h,
            (s["employer"] >= 0).to(self.dtype), s["skill"], wage_h / exp_(P),
            100 * hh_dep - exp_(yoy_pp), 100 * hh_lend, exp_(yoy_pp).expand(E, M), exp_(u10).expand(E, M),
            wealth_real / s["permanent_income"].clamp_min(1e-6),
        ], -1)
        eff = labor.headcount(s["employer"], K, s["skill"]).to(self.dtype)
        firm_lend = torch.gather(s["lending_rate_annual"], 1, s["firm_bank"])
        firm = torch.stack([
            torch.log(s["price"] / exp_(P)), 10 * self.static_price_gap(),
            s["hours_per_worker"], torch.log(s["capital"] / s["desired_capital"].clamp_min(1e-9)),
            s["firm_deposits"] / (exp_(W) * eff).clamp_min(1e-3), s["firm_debt"] / (s["capital"] * s["price"]).clamp_min(1e-9),
            100 * firm_lend, exp_(yoy_pp).expand(E, K), exp_(gap_pct).expand(E, K), s["sold_out"].to(self.dtype),
            10 * torch.log(s["tfp_firm"]), exp_(W / P).expand(E, K),
        ], -1)
        obs = {"central_bank": cb, "bank": bank, "household": household, "firm": firm}
        return {k: torch.nan_to_num(v.float().clamp(-50, 50)) for k, v in obs.items()}

    def static_price_gap(self) -> torch.Tensor:
        """``log(p / p*) [E, K]`` with ``p*`` the static optimum at last month's demand and costs.

        With CES demand ``y ~ p^-e`` and ``mc ~ y^(alpha/(1-alpha))`` (capital fixed), the optimum
        ``p* = e/(e-1) mc(y(p*))`` solves to ``log(p/p*) = log(p / (e/(e-1) mc)) / (1 + e alpha/(1-alpha))``
        (Chapter 4, eq. p-star): a firm that moved all the way to ``e/(e-1) mc`` at today's
        marginal cost would overshoot, because its marginal cost falls as its sales fall.
        """
        c, s = self.config, self.state
        curv = 1 + c.demand_elasticity * c.capital_share / (1 - c.capital_share)
        return torch.log(s["price"] / (c.markup * s["mc"])) / curv

    # ----------------------------------------------------------------- step
    def transition(self, state: Dict[str, torch.Tensor], actions: Mapping[str, torch.Tensor]) -> Transition:
        c, s, E, dev, dt = self.config, state, self.num_envs, self.device, self.dtype
        N, M, K = c.num_banks, c.num_households, c.num_firms
        a_ = c.capital_share
        exp_ = lambda x: x.unsqueeze(-1)  # noqa: E731
        zeros_h = torch.zeros(E, M, device=dev, dtype=dt)

        # ---- shocks queued for this step (impulse responses, experiments)
        price_prev = s["price"]
        wage_index = s["wage_index"]
        policy_prev = s["policy_rate_annual"]
        rate_shock = torch.zeros(E, device=dev, dtype=dt)
        extra_default = torch.zeros(E, device=dev, dtype=dt)
        for kind, size, mask in self._pending_shocks:
            if kind == "inflation":
                f = 1 + size * mask.to(dt)
                price_prev = price_prev * exp_(f)
                wage_index = wage_index * f
            elif kind == "policy_rate":
                rate_shock = rate_shock + size * mask.to(dt)
            else:
                extra_default = extra_default + size * mask.to(dt)
        self._pending_shocks = []
        if c.cost_push_sigma > 0:   # drawn only when on, so that the design without them keeps its random stream
            f = 1 + c.cost_push_sigma * self.randn(E).to(dt)
            price_prev = price_prev * exp_(f)
            wage_index = wage_index * f
        P_hist_prev = s["price_history"]
        P_prev = P_hist_prev[:, -1]
        pi_e = P_prev / P_hist_prev[:, 0] - 1            # adaptive expectation: last 12 months, annual

        # ---- 1. central bank
        a_cb = actions["central_bank"].reshape(E)
        policy = (policy_prev + self._rate_changes[a_cb] + rate_shock).clamp(c.rate_floor_annual, c.max_policy_rate_annual)
        rate_change = policy - policy_prev

        # ---- 2. banks
        a_b = actions["bank"]
        deposit_floor = c.rate_floor_annual if c.zero_lower_bound else None
        lending_rate, deposit_rate = credit.bank_rates(policy, self._lend_spreads[a_b[..., 0]],
                                                       self._dep_spreads[a_b[..., 1]], deposit_floor)
        dsr_limit, ltv_limit = self._dsr[a_b[..., 2]], self._ltv[a_b[..., 2]]
        r_lend_m, r_dep_m = lending_rate / 12, deposit_rate / 12
        hh_bank, firm_bank = s["hh_bank"], s["firm_bank"]

        # ---- 3. labour market (headcount); hours are set by orders in stage 6
        a_h, a_f = actions["household"], actions["firm"]
        seeking = self._labor[a_h[..., 2]] > 0
        # a firm staffs for last month's orders: the headcount that would have worked normal hours,
        # times 0.9 (lay off), 1.0 (hold) or 1.1 (post vacancies), at least one worker
        workers_before = labor.headcount(s["employer"], K)
        needed = workers_before * s["hours_per_worker"]
        target = torch.round(needed * (1 + 0.1 * self._hiring[a_f[..., 1]])).clamp_min(1.0)
        employer = torch.where(seeking, s["employer"], torch.full_like(s["employer"], -1))  # quits
        workers = labor.headcount(employer, K)
        employer = labor.separate(employer, (workers - target).clamp_min(0.0), self.rand(E, M).to(torch.float64))
        employer, _ = labor.match(employer, seeking, (target - labor.headcount(employer, K)).clamp_min(0.0),
                                  self.rand(E, M).to(torch.float64), c.matching_efficiency)
        employed = employer >= 0
        n_seek = seeking.sum(1).to(dt)
        unemployment = torch.where(n_seek > 0, (seeking & ~employed).sum(1).to(dt) / n_seek.clamp_min(1), torch.ones_like(n_seek))
        # indexation to the last 12 months' inflation (a yearly indexation clause), per month
        wage_index = labor.update_wage_index(wage_index, unemployment, (1 + pi_e) ** (1 / 12) - 1,
                                             c.natural_unemployment, c.wage_flexibility, c.wage_indexation,
                                             floor=c.wage_floor_monthly)
        W = exp_(wage_index)
        eff_labor = labor.headcount(employer, K, s["skill"]).to(dt)            # [E, K] skill units

        # ---- 4. prices (this month's decision, posted before the market opens)
        price = price_prev * (1 + self._price_changes[a_f[..., 0]])
        changed_price = a_f[..., 0] != HOLD_PRICE
        P = goods.price_index(price)

        # ---- 5. demand: households' plans, firms' investment, credit
        hh_deposits, hh_debt = s["hh_deposits"].clone(), s["hh_debt"].clone()
        firm_deposits, firm_debt = s["firm_deposits"].clone(), s["firm_debt"].clone()
        hh_r = torch.gather(r_lend_m, 1, hh_bank)
        firm_r = torch.gather(r_lend_m, 1, firm_bank)
        wealth_real = (hh_deposits - hh_debt) / exp_(P)
        saver = wealth_real >= 0
        hh_rate = torch.where(saver, torch.gather(deposit_rate, 1, hh_bank), torch.gather(lending_rate, 1, hh_bank))
        # households and firms attend to the real rate gradually (a perceived rate, Reis 2006)
        real_rate_h = s["hh_real_rate"] + c.rate_attention * (hh_rate - exp_(pi_e) - s["hh_real_rate"])
        plan = planned_consumption(s["permanent_income"], real_rate_h, c.neutral_real_rate_annual, c.rate_sensitivity,
                                   wealth_real, c.buffer_months * s["permanent_income"], c.wealth_mpc)
        # habit: the plan moves only part of the way from last month's plan each month
        plan = c.habit * s["hh_plan"] + (1 - c.habit) * plan
        want_nominal = plan * self._cons_mult[a_h[..., 0]] * exp_(P)
        wage_h = s["skill"] * W
        expected_income = torch.where(employed, wage_h, 0.2 * wage_h)
        hh_limit = credit.credit_limit(expected_income, None, hh_r, c.amortization, torch.gather(dsr_limit, 1, hh_bank), None)
        hh_new = credit.grant_loans(self._borrow[a_h[..., 1]] * wage_h, hh_debt, hh_limit)
        # firms: user cost of capital (Jorgenson 1963) and the desired stock
        firm_real_rate = s["firm_real_rate"] + c.rate_attention * (torch.gather(lending_rate, 1, firm_bank) - exp_(pi_e)
                                                                    - s["firm_real_rate"])
        user_cost = firm_real_rate / 12 + c.capital_depreciation
        k_star = desired_capital(s["expected_output"], user_cost, a_, c.demand_elasticity)
        capital = s["capital"]
        invest_real = (c.capital_depreciation * capital + self._inv_speed[a_f[..., 2]] * (k_star - capital)).clamp_min(0.0)
        # investment adjustment: orders move only part of the way from last month's (Christiano, Eichenbaum, Evans 2005)
        invest_real = c.investment_smoothing * s["invest_plan"] + (1 - c.investment_smoothing) * invest_real
        invest_nominal = invest_real * exp_(P)
        firm_int_due, firm_prin_due = credit.debt_service(firm_debt, firm_r, c.amortization)
        wage_bill_expected = W * eff_labor * s["hours_per_worker"]
        # firms roll their maturing principal over and borrow for any cash shortfall
        firm_need = firm_prin_due + (wage_bill_expected + invest_nominal + firm_int_due - firm_deposits).clamp_min(0.0)
        firm_limit = credit.credit_limit(s["last_revenue"], capital * price, firm_r, c.amortization,
                                         torch.gather(dsr_limit, 1, firm_bank), torch.gather(ltv_limit, 1, firm_bank))
        firm_new = credit.grant_loans(firm_need, firm_debt, firm_limit)
        requested_by_bank = (credit.by_bank(self._borrow[a_h[..., 1]] * wage_h, hh_bank, N)
                             + credit.by_bank(firm_need, firm_bank, N))
        granted_by_bank = credit.by_bank(hh_new, hh_bank, N) + credit.by_bank(firm_new, firm_bank, N)
        hh_deposits += hh_new
        hh_debt += hh_new
        firm_deposits += firm_new
        firm_debt += firm_new
        lending = hh_new.sum(1) + firm_new.sum(1)

        # ---- 6. goods market: production to order up to capacity
        tfp_agg = c.tfp_rho * s["tfp_aggregate"] + c.tfp_sigma * self.randn(E).to(dt)
        zA = exp_(torch.exp(tfp_agg)) * s["tfp_firm"]
        capacity = zA * capital**a_ * (c.max_hours * eff_labor) ** (1 - a_)
        hh_spend = torch.minimum(want_nominal, hh_deposits.clamp_min(0.0))
        firm_spend = torch.minimum(invest_nominal, firm_deposits.clamp_min(0.0))
        market = goods.sell_to_order(torch.cat([hh_spend, firm_spend], 1), price, capacity, c.demand_elasticity)
        hh_spent, firm_spent = market["spent"][:, :M], market["spent"][:, M:]
        consumption, invest_goods = market["bought"][:, :M], market["bought"][:, M:]
        production = market["sold"]
        hh_deposits -= hh_spent
        firm_deposits += market["revenue"] - firm_spent
        hours = (production / (zA * capital**a_)).clamp_min(0.0) ** (1 / (1 - a_))  # skill-hours needed
        hours_per_worker = torch.where(eff_labor > 0, hours / eff_labor.clamp_min(1e-9), torch.zeros_like(hours))
        mc = pricing.marginal_cost(W, zA * capital**a_ * hours.clamp_min(0.05 * eff_labor + 1e-6) ** (1 - a_),
                                   hours.clamp_min(0.05 * eff_labor + 1e-6), 1 - a_)

        # ---- 7a. wages for the hours worked (a firm short of money pays what it has, pro rata)
        wage_bill = W * hours
        paid_share = torch.where(wage_bill > 0, (firm_deposits / wage_bill.clamp_min(1e-12)).clamp(0, 1), torch.ones_like(wage_bill))
        wages_paid_firm = wage_bill * paid_share
        firm_idx = employer.clamp_min(0)
        hh_wage = torch.where(employed, wage_h * torch.gather(hours_per_worker * paid_share, 1, firm_idx), zeros_h)
        firm_deposits -= wages_paid_firm
        # price-adjustment costs are fees paid to households (equal shares): a cost to the firm, no money lost
        adjust_cost = (pricing.menu_cost(changed_price, market["revenue"], c.menu_cost)
                       + pricing.rotemberg_cost(price, price_prev, market["revenue"], c.rotemberg_cost))
        adjust_cost = torch.minimum(adjust_cost, firm_deposits.clamp_min(0.0))
        firm_deposits -= adjust_cost
        hh_fees = exp_(adjust_cost.sum(1)) / M + zeros_h

        # ---- 7b. debt service and defaults
        hh_int, hh_prin = credit.debt_service(hh_debt, hh_r, c.amortization)
        firm_int, firm_prin = credit.debt_service(firm_debt, firm_r, c.amortization)
        hazard = exp_(1 - (1 - c.base_default_rate_annual) ** (1 / 12) + extra_default)
        hh_default = (hh_debt > 0) & ((hh_deposits + hh_wage < hh_int + hh_prin) | (self.rand(E, M).to(dt) < hazard))
        firm_default = (firm_debt > 0) & ((firm_deposits < firm_int + firm_prin) | (self.rand(E, K).to(dt) < hazard))
        hh_int, hh_prin = torch.where(hh_default, zeros_h, hh_int), torch.where(hh_default, zeros_h, hh_prin)
        firm_int = torch.where(firm_default, torch.zeros_like(firm_int), firm_int)
        firm_prin = torch.where(firm_default, torch.zeros_like(firm_prin), firm_prin)
        hh_deposits += hh_wage + hh_fees
        hh_deposits -= hh_int + hh_prin
        hh_debt -= hh_prin
        firm_deposits -= firm_int + firm_prin
        firm_debt -= firm_prin
        hh_set = credit.settle_defaults(hh_debt, hh_deposits, hh_default)
        firm_set = credit.settle_defaults(firm_debt, firm_deposits, firm_default)
        hh_debt, hh_deposits = hh_set["debt"], hh_set["deposits"]
        firm_debt, firm_deposits = firm_set["debt"], firm_set["deposits"]

        # ---- 7c. interest out of income: deposit interest (banks), interest on reserves (tax-financed)
        hh_dep_int = torch.gather(r_dep_m, 1, hh_bank) * hh_deposits.clamp_min(0)
        firm_dep_int = torch.gather(r_dep_m, 1, firm_bank) * firm_deposits.clamp_min(0)
        hh_deposits += hh_dep_int
        firm_deposits += firm_dep_int
        reserve_interest, tax = money.reserve_interest_and_tax(s["bank_reserves"], policy / 12, M)
        hh_deposits -= exp_(tax)

        # ---- 7d. firm dividends: deposits above one month's costs, paid to owners
        buffer = wage_bill + invest_nominal + firm_int + firm_prin
        firm_div = c.firm_payout_rate * (firm_deposits - buffer).clamp_min(0)
        firm_deposits -= firm_div
        hh_firm_div = s["ownership"] * exp_(firm_div.sum(1))

        # ---- bank income statement and dividends
        loan_interest = credit.by_bank(hh_int, hh_bank, N) + credit.by_bank(firm_int, firm_bank, N)
        deposit_interest = credit.by_bank(hh_dep_int, hh_bank, N) + credit.by_bank(firm_dep_int, firm_bank, N)
        writeoff = credit.by_bank(hh_set["writeoff"], hh_bank, N) + credit.by_bank(firm_set["writeoff"], firm_bank, N)
        seized = credit.by_bank(hh_set["seized"], hh_bank, N) + credit.by_bank(firm_set["seized"], firm_bank, N)
        loan_loss = writeoff - seized
        principal = credit.by_bank(hh_prin, hh_bank, N) + credit.by_bank(firm_prin, firm_bank, N)
        profit = money.bank_profit(loan_interest, reserve_interest, deposit_interest, loan_loss)
        equity = s["bank_equity"] + profit
        bank_loans = s["bank_loans"] + granted_by_bank - principal - writeoff
        # resolution: a bank whose equity is negative is recapitalised by writing down its depositors' claims
        # (a bail-in); without it a failed bank's losses compound and money with them
        dep_base = credit.by_bank(hh_deposits.clamp_min(0), hh_bank, N) + credit.by_bank(firm_deposits.clamp_min(0), firm_bank, N)
        cut = bail_in_share(equity, dep_base)
        hh_bail = torch.gather(cut, 1, hh_bank) * hh_deposits.clamp_min(0)
        firm_bail = torch.gather(cut, 1, firm_bank) * firm_deposits.clamp_min(0)
        hh_deposits = hh_deposits - hh_bail
        firm_deposits = firm_deposits - firm_bail
        bailed = credit.by_bank(hh_bail, hh_bank, N) + credit.by_bank(firm_bail, firm_bank, N)
        equity = equity + bailed
        # what the depositors cannot cover is a lump-sum resolution levy on every household (a resolution
        # fund financed by taxpayers), paid through the households' banks' reserves into the failed bank's
        hole = (-equity).clamp_min(0.0)
        levy = hole.sum(1) / M                                                           # [E] per household
        hh_deposits = hh_deposits - exp_(levy)
        levy_by_bank = credit.by_bank(exp_(levy) + zeros_h, hh_bank, N)
        equity = equity + hole
        resolution = bailed.sum(1) + hole.sum(1)
        required = c.capital_requirement * bank_loans
        bank_div = money.dividends(profit, equity, required, c.bank_payout_rate)
        equity = equity - bank_div
        hh_bank_div = s["ownership"] * exp_(bank_div.sum(1))
        hh_deposits += hh_firm_div + hh_bank_div

        # payments among households and firms settle between banks through reserves
        hh_pay = hh_wage + hh_fees - hh_spent + hh_firm_div + hh_bank_div - exp_(tax)
        firm_pay = -wages_paid_firm - adjust_cost + market["revenue"] - firm_spent - firm_div
        reserves = (s["bank_reserves"] + credit.by_bank(hh_pay, hh_bank, N) + credit.by_bank(firm_pay, firm_bank, N)
                    - bank_div + reserve_interest - levy_by_bank + hole)

        # ---- capital, expectations, permanent income
        capital = capital * (1 - c.capital_depreciation) + invest_goods
        expected_output = 0.8 * s["expected_output"] + 0.2 * production
        hh_income = hh_wage + hh_fees + hh_firm_div + hh_bank_div + hh_dep_int - exp_(tax) - hh_int
        labour_force = s["skill"].sum(1, keepdim=True)
        L_star = (1 - c.natural_unemployment) * labour_force * s["labor_share"]
        potential_f = zA * capital**a_ * L_star ** (1 - a_)
        output = production.sum(1)
        potential = potential_f.sum(1)
        # permanent income: an average of real income, pulled toward its potential share
        real_income = hh_income / exp_(P)
        perm = (1 - c.permanent_income_weight) * s["permanent_income"] + c.permanent_income_weight * real_income
        perm = perm * exp_((potential / output.clamp_min(1e-9)).clamp(0.5, 2.0) ** c.potential_anchor)

        # ---- aggregates
        P_hist = torch.cat([P_hist_prev[:, 1:], P.unsqueeze(-1)], 1)
        infl_m = P / P_prev - 1
        infl_a = (1 + infl_m).clamp_min(1e-6) ** 12 - 1
        output_gap = torch.log(output.clamp_min(1e-9) / potential.clamp_min(1e-9))
        cb_loss = central_bank_loss(infl_a, c.inflation_target_annual, output_gap, rate_change,
                                    c.output_gap_weight, c.rate_change_weight)
        total_credit_prev = s["bank_loans"].sum(1)
        credit_growth = bank_loans.sum(1) / total_credit_prev.clamp_min(1e-9) - 1
        n_borrowers = (s["hh_debt"] > 0).sum(1) + (s["firm_debt"] > 0).sum(1) + (hh_new > 0).sum(1)
        defaults = hh_default.sum(1) + firm_default.sum(1)

        # ---- rewards (seed 002's forms; firms' profit is real, net of adjustment costs)
        r_cb = -cb_loss.unsqueeze(-1)
        bank_reward = bank_reward_fn(profit, equity, bank_loans, exp_(P), s["bank_reward_scale"],
                                     c.capital_requirement, c.capital_penalty, c.bank_penalty_form)
        hh_reward = (torch.log(consumption + 0.05) - c.labor_disutility * torch.where(employed, torch.gather(hours_per_worker, 1, firm_idx), zeros_h)
                     + c.savings_weight * torch.log1p((hh_deposits / exp_(P)).clamp_min(0))
                     - c.debt_weight * hh_debt / exp_(P))
        depreciation_value = c.capital_depreciation * s["capital"] * price
        firm_profit = market["revenue"] - wages_paid_firm - firm_int - depreciation_value - adjust_cost
        firm_reward = firm_profit / exp_(P) - c.bankruptcy_penalty * firm_default.to(dt)

        self.last_flows = {
            "lending": lending, "principal": principal.sum(1), "loan_interest": loan_interest.sum(1),
            "seized": seized.sum(1), "writeoff": writeoff.sum(1), "deposit_interest": deposit_interest.sum(1),
            "bank_dividends": bank_div.sum(1), "resolution": resolution, "resolution_levy": hole.sum(1), "reserve_interest": reserve_interest.sum(1), "tax": tax * M,
            "hh_pay": hh_pay, "firm_pay": firm_pay, "capacity": capacity, "sold": production,
            "hh_writeoff": hh_set["writeoff"], "firm_writeoff": firm_set["writeoff"],
            "hh_debt_before_default": hh_set["writeoff"] + hh_set["debt"],
            "firm_debt_before_default": firm_set["writeoff"] + firm_set["debt"],
            "loan_loss": loan_loss.sum(1), "firm_profit": firm_profit, "adjust_cost": adjust_cost,
            "demand": market["demand"], "sold_out": market["sold_out"],
        }
        loans_w = bank_loans.clamp_min(1e-9)
        net_worth = hh_deposits - hh_debt
        macro = {
            "policy_rate_annual": policy,
            "lending_rate_annual": (lending_rate * loans_w).sum(1) / loans_w.sum(1),
            "deposit_rate_annual": deposit_rate.mean(1),
            "real_rate_annual": policy - pi_e,
            "inflation_annual": infl_a,
            "inflation_yoy": P / P_hist[:, 0] - 1,
            "output": output,
            "potential": potential,
            "output_gap": output_gap,
            "unemployment": unemployment,
            "hours": hours.sum(1) / eff_labor.sum(1).clamp_min(1e-9),
            "employment": eff_labor.sum(1),
            "consumption": consumption.sum(1),
            "investment": invest_goods.sum(1),
            "credit": bank_loans.sum(1) / P,
            "new_lending": lending / P,
            "price_level": P,
            "wage_index": wage_index,
            "real_wage": wage_index / P,
            "gini_wealth": gini(net_worth),
            "negative_net_worth_share": (net_worth < 0).to(dt).mean(1),
            "gini_income": gini(hh_income),
            "price_change_share": changed_price.to(dt).mean(1),
            "sold_out_share": market["sold_out"].to(dt).mean(1),
            "markup_gap": self._mean_where(torch.log(price / (c.markup * mc)) / (1 + c.demand_elasticity * a_ / (1 - a_)),
                                           ~market["sold_out"]),
            "default_rate": defaults.to(dt) / n_borrowers.clamp_min(1).to(dt),
            "cb_loss": cb_loss,
            "rate_change_annual": rate_change,
            "bank_reward": bank_reward.mean(1),
            "household_reward": hh_reward.mean(1),
            "firm_reward": firm_reward.mean(1),
            "money": hh_deposits.sum(1) + firm_deposits.sum(1),
        }

        # ---- commit state
        period = s["period"] + 1
        s.update({
            "policy_rate_annual": policy, "rate_change_annual": rate_change, "price": price, "mc": mc,
            "price_history": P_hist, "wage_index": wage_index, "tfp_aggregate": tfp_agg, "employer": employer,
            "hh_deposits": hh_deposits, "hh_debt": hh_debt, "hh_income": hh_income, "permanent_income": perm,
            "hh_real_rate": real_rate_h, "hh_plan": plan, "firm_real_rate": firm_real_rate,
            "firm_deposits": firm_deposits, "firm_debt": firm_debt, "capital": capital,
            "expected_output": expected_output, "desired_capital": k_star, "hours_per_worker": hours_per_worker,
            "invest_plan": invest_real,
            "sold_out": market["sold_out"], "last_revenue": market["revenue"],
            "bank_reserves": reserves, "bank_loans": bank_loans, "bank_equity": equity,
            "lending_rate_annual": lending_rate, "deposit_rate_annual": deposit_rate,
            "bank_default_rate": (credit.by_bank(hh_default.to(dt), hh_bank, N) + credit.by_bank(firm_default.to(dt), firm_bank, N))
            / (credit.by_bank((hh_debt > 0).to(dt), hh_bank, N) + credit.by_bank((firm_debt > 0).to(dt), firm_bank, N)).clamp_min(1),
            "bank_demand_met": torch.where(requested_by_bank > 0, granted_by_bank / requested_by_bank.clamp_min(1e-12),
                                           torch.ones_like(granted_by_bank)),
            "inflation_annual": infl_a, "inflation_monthly": infl_m, "output_gap": output_gap,
            "unemployment": unemployment, "credit_growth": credit_growth, "period": period,
        })
        redenominate(s, REDENOMINATE_BEYOND)
        rewards = {"central_bank": r_cb.float(), "bank": bank_reward.float(), "household": hh_reward.float(),
                   "firm": firm_reward.float()}
        # all economies run in lockstep, so an episode ends everywhere at once; the end is a truncation
        # (learners bootstrap from final_obs), not a terminal state; the base class restarts the economies
        return Transition(s, rewards, period >= c.sim_length, {k: v.float() for k, v in macro.items()})

    # ----------------------------------------------------------------- accounting checks
    def balance_sheet_errors(self) -> Dict[str, torch.Tensor]:
        """Largest absolute violation ``[E]`` of each accounting identity in the current state."""
        s, N = self.state, self.config.num_banks
        deposits = credit.by_bank(s["hh_deposits"], s["hh_bank"], N) + credit.by_bank(s["firm_deposits"], s["firm_bank"], N)
        debts = credit.by_bank(s["hh_debt"], s["hh_bank"], N) + credit.by_bank(s["firm_debt"], s["firm_bank"], N)
        return {
            "bank_assets_minus_liabilities": (s["bank_reserves"] + s["bank_loans"] - deposits - s["bank_equity"]).abs().amax(1),
            "bank_loans_minus_borrower_debt": (s["bank_loans"] - debts).abs().amax(1),
        }

    @staticmethod
    def _mean_where(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        m = mask.to(x.dtype)
        return (x * m).sum(-1) / m.sum(-1).clamp_min(1.0)

    def money(self) -> torch.Tensor:
        """The money stock ``[E]``: all household and firm deposits."""
        return self.state["hh_deposits"].sum(1) + self.state["firm_deposits"].sum(1)
