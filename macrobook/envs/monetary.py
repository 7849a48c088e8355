"""A monetary economy in which policy transmission has to emerge (seed 002).

One central bank, ``N`` commercial banks, ``M`` households and ``K`` firms in ``num_envs``
parallel economies, one step = one month. Defined in Chapter 4
(notebooks/04_monetary_transmission.ipynb), which writes the model out in math.

Who does what each month (every market clears on *this* month's decisions):

1. The central bank moves the policy rate by {-50, -25, 0, +25, +50} bp (floored at the
   lower bound when ``zero_lower_bound`` is on).
2. Banks post a lending spread and a deposit spread over the policy rate and a risk
   tolerance (the debt-service and loan-to-value limits they accept).
3. Labor market: households choose whether to look for work; firms lay off, hold or post
   vacancies; seekers and vacancies are matched at random (``markets.labor``). The wage
   index moves with unemployment (a wage Phillips curve, a rule, not a learned choice).
4. Firms produce ``y = A z K^alpha L^(1-alpha)`` into inventory.
5. Credit market: households ask for consumer loans, firms for working capital and
   investment; each asks its own bank, which grants up to its limits (``markets.credit``).
   Lending creates deposits.
6. Firms pay wages; households spend a chosen share of their deposits, firms buy investment
   goods; the goods market clears with CES demand and proportional rationing
   (``markets.goods``).
7. Debt service; borrowers who cannot pay (or hit the exogenous default hazard) default:
   the loan is written off, deposits are seized up to the debt. Deposit interest, interest
   on reserves at the policy rate, firm and bank dividends to the households that own them.

Accounting (tested every step): each bank's ``reserves + loans = deposits + equity``;
bank loans equal borrowers' debts; the money stock (all deposits) changes only by
``lending - repayment - seized collateral - loan interest + deposit interest + bank dividends``
(payments among households and firms move money, never create it).

Rewards are those of seed 002 and nothing else. In particular the central bank's is
``-[(pi - pi*)^2 + lambda gap^2 + mu (delta i)^2]`` (in percentage points) with no reference
(Taylor) rate anywhere in it; see :func:`central_bank_loss`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Mapping

import torch

from ..config import Config, ConfigError, check, check_float, check_int
from ..markets import credit, goods, labor
from ..contract import AgentSpec, StepResult
from .base import BatchedEconomy
from ..contract import Discrete, MultiDiscrete

AGENT_TYPES = ("central_bank", "bank", "household", "firm")

#: action grids (seed 002's table). Central bank: rate change in basis points.
RATE_CHANGES_BP = (-50.0, -25.0, 0.0, 25.0, 50.0)
LENDING_SPREADS_ANNUAL = (0.01, 0.02, 0.03, 0.04, 0.05)
DEPOSIT_SPREADS_ANNUAL = (0.0, 0.005, 0.01, 0.015, 0.02)
DSR_LIMITS = (0.15, 0.30, 0.45)          # risk tolerance: low, medium, high
LTV_LIMITS = (0.4, 0.6, 0.8)
CONSUMPTION_RATES = (0.1, 0.2, 0.3, 0.45, 0.6)   # share of deposits spent this month
BORROW_MULTIPLES = (0.0, 1.0, 3.0)               # loan asked, in months of own wage
LABOR_SUPPLY = (0.0, 1.0)                        # look for work: no / yes
PRICE_CHANGES = (-0.02, -0.005, 0.0, 0.005, 0.02)
HIRING = (-1, 0, 1)                              # lay off ~10%, hold, post vacancies ~10%
INVESTMENT_RATES = (0.0, 0.01, 0.03)             # real investment, share of own capital


@dataclass
class MonetaryConfig(Config):
    """Parameters of :class:`MonetaryEconomy` (defaults: seed 002 where it says, else ours).

    Rates named ``*_annual`` are annual decimals. ``zero_lower_bound`` floors the policy rate
    (and deposit rates) at ``lower_bound_annual``; off, the floor is ``-0.05``.
    """

    num_banks: int = 5
    num_households: int = 100
    num_firms: int = 20
    sim_length: int = 120                 # months per episode
    inflation_target_annual: float = 0.02
    initial_policy_rate_annual: float = 0.03
    zero_lower_bound: bool = True
    lower_bound_annual: float = 0.0
    max_policy_rate_annual: float = 0.20
    # central bank loss weights (seed 002): -[(pi-pi*)^2 + lambda gap^2 + mu (delta i)^2], in pp
    output_gap_weight: float = 0.5        # lambda
    rate_change_weight: float = 0.1       # mu
    # technology
    capital_share: float = 0.3            # alpha
    tfp_mean: float = 0.92
    tfp_dispersion: float = 0.1           # sd of log firm productivity
    tfp_rho: float = 0.95                 # aggregate TFP, AR(1) per month
    tfp_sigma: float = 0.005
    capital_depreciation: float = 0.01    # per month
    inventory_depreciation: float = 0.02  # per month: also the firms' holding cost
    initial_capital: float = 20.0
    demand_elasticity: float = 6.0        # CES elasticity across firms' goods
    # labor market
    natural_unemployment: float = 0.05
    wage_flexibility: float = 0.05
    wage_indexation: float = 0.5
    matching_efficiency: float = 0.9
    skill_dispersion: float = 0.3
    # credit market
    amortization: float = 0.02            # share of principal due per month
    base_default_rate_annual: float = 0.01  # exogenous default hazard of every borrower
    capital_requirement: float = 0.08     # equity / loans below this is penalised
    capital_penalty: float = 50.0
    initial_firm_leverage: float = 0.5    # debt / capital value at the start
    # payouts
    firm_payout_rate: float = 0.5         # share of deposits above one month's costs paid out
    bank_payout_rate: float = 0.2         # share of equity above 1.5x the requirement paid out
    # household preferences
    labor_disutility: float = 0.5
    savings_weight: float = 0.1
    debt_weight: float = 0.05
    wealth_dispersion: float = 0.8        # sd of log initial deposits
    initial_deposit_months: float = 3.0
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
                     "debt_weight", "bankruptcy_penalty", "capital_penalty", "tfp_sigma",
                     "tfp_dispersion", "skill_dispersion", "wealth_dispersion", "wage_flexibility",
                     "wage_indexation"):
            check_float(self, name, min=0.0)
        check_float(self, "capital_share", min=0.0, max=1.0, min_open=True, max_open=True)
        check_float(self, "tfp_mean", min=0.0, min_open=True)
        check_float(self, "tfp_rho", min=0.0, max=1.0, max_open=True)
        for name in ("capital_depreciation", "inventory_depreciation", "natural_unemployment",
                     "amortization", "base_default_rate_annual", "capital_requirement",
                     "firm_payout_rate", "bank_payout_rate", "initial_firm_leverage"):
            check_float(self, name, min=0.0, max=1.0)
        check_float(self, "amortization", min=0.0, max=1.0, min_open=True)
        # with no initial loans the banks' return on loans divides by zero at the first step
        check_float(self, "initial_firm_leverage", min=0.0, max=1.0, min_open=True)
        check_float(self, "tfp_sigma", min=0.0, max=0.5)   # log-normal shocks: beyond, output overflows
        for name in ("tfp_dispersion", "skill_dispersion", "wealth_dispersion"):
            check_float(self, name, min=0.0, max=3.0)
        check_float(self, "initial_capital", min=0.0, min_open=True)
        check_float(self, "initial_deposit_months", min=0.0)
        check_float(self, "demand_elasticity", min=1.0, min_open=True)
        check_float(self, "matching_efficiency", min=0.0, max=10.0, min_open=True)
        check(self.dtype in ("float32", "float64"), self, "dtype", "'float32' or 'float64'")

    @property
    def rate_floor_annual(self) -> float:
        return self.lower_bound_annual if self.zero_lower_bound else -0.05


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


def gini(x: torch.Tensor) -> torch.Tensor:
    """Gini coefficient over the last dimension ``[..., n] -> [...]``: mean absolute difference
    over twice the mean (works for negative entries too, where it can exceed 1)."""
    n = x.shape[-1]
    diff = (x.unsqueeze(-1) - x.unsqueeze(-2)).abs().sum((-1, -2))
    mean = x.mean(-1)
    return diff / (2 * n * n * mean.abs().clamp_min(1e-12))


class MonetaryEconomy(BatchedEconomy):
    """Batched monetary economy; see the module docstring for the timing and accounting.

    Agent types and actions (all discrete, ``MultiDiscrete``):

    * ``central_bank`` (1): ``Discrete(5)`` rate change in bp, :data:`RATE_CHANGES_BP`
    * ``bank`` (N): ``(5, 5, 3)`` = lending spread x deposit spread x risk tolerance (75)
    * ``household`` (M): ``(5, 3, 2)`` = consumption rate x borrowing x labor supply (30)
    * ``firm`` (K): ``(5, 3, 3)`` = price change x hiring x investment (45)

    ``shock(kind, size, mask)`` adds an inflation (price-level) or policy-rate shock before
    the next step, for impulse responses with common random numbers.
    """

    macro_units = {
        "policy_rate_annual": "annual decimal",
        "lending_rate_annual": "annual decimal (loan-weighted mean over banks)",
        "deposit_rate_annual": "annual decimal",
        "inflation_annual": "annualized month-on-month change of the price index",
        "inflation_yoy": "12-month change of the price index",
        "output": "goods per month",
        "output_gap": "log deviation from potential",
        "unemployment": "share of job seekers without a job",
        "consumption": "goods per month (households)",
        "investment": "goods per month (firms)",
        "credit": "real loans outstanding",
        "new_lending": "real new loans this month",
        "price_level": "index, 1 at start",
        "wage_index": "money per unit of skill per month",
        "gini_wealth": "Gini of household net worth",
        "gini_income": "Gini of household income",
        "price_change_share": "share of firms that changed their price",
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
                "credit demand met", "inflation_annual (pp)", "output_gap (%)", "own lending rate (pp)")),
            "household": AgentSpec(c.num_households, 10, MultiDiscrete((5, 3, 2)), obs_names=(
                "log real deposits", "real debt / wage", "employed", "skill", "real wage",
                "deposit rate (pp)", "lending rate (pp)", "inflation_annual (pp)", "unemployment (%)/10",
                "real income / wage")),
            "firm": AgentSpec(c.num_firms, 12, MultiDiscrete((5, 3, 3)), obs_names=(
                "log relative price", "inventory / sales", "workers / 5", "log capital / initial",
                "real deposits / wage bill", "debt / capital value", "lending rate (pp)", "inflation_annual (pp)",
                "output_gap (%)", "demand met", "log productivity", "real wage")),
        }
        dev, dt = self.device, self.dtype
        self._rate_changes = torch.tensor(RATE_CHANGES_BP, device=dev, dtype=dt) / 1e4
        self._lend_spreads = torch.tensor(LENDING_SPREADS_ANNUAL, device=dev, dtype=dt)
        self._dep_spreads = torch.tensor(DEPOSIT_SPREADS_ANNUAL, device=dev, dtype=dt)
        self._dsr = torch.tensor(DSR_LIMITS, device=dev, dtype=dt)
        self._ltv = torch.tensor(LTV_LIMITS, device=dev, dtype=dt)
        self._cons_rates = torch.tensor(CONSUMPTION_RATES, device=dev, dtype=dt)
        self._borrow = torch.tensor(BORROW_MULTIPLES, device=dev, dtype=dt)
        self._labor = torch.tensor(LABOR_SUPPLY, device=dev, dtype=dt)
        self._price_changes = torch.tensor(PRICE_CHANGES, device=dev, dtype=dt)
        self._hiring = torch.tensor(HIRING, device=dev, dtype=dt)
        self._inv_rates = torch.tensor(INVESTMENT_RATES, device=dev, dtype=dt)
        self._pending_shocks: list = []
        self.state: Dict[str, torch.Tensor] = {}
        self.last_flows: Dict[str, torch.Tensor] = {}

    # ----------------------------------------------------------------- shocks
    def shock(self, kind: str, size: float, mask: torch.Tensor | None = None) -> None:
        """Queue a one-off shock applied at the start of the next step.

        ``"inflation"``: all firm prices and the wage index jump by ``size`` (a decimal, e.g.
        0.01 = 1% cost-push); ``"policy_rate"``: the policy rate jumps by ``size`` (annual
        decimal, 0.0025 = 25 bp) on top of the central bank's own move. ``mask [E]`` (bool)
        picks the economies that get it (default: all).
        """
        if kind not in ("inflation", "policy_rate"):
            raise ConfigError(f"shock kind must be 'inflation' or 'policy_rate', got {kind!r}")
        if mask is None:
            mask = torch.ones(self.num_envs, dtype=torch.bool, device=self.device)
        self._pending_shocks.append((kind, float(size), mask.to(self.device)))

    # ----------------------------------------------------------------- reset
    def _reset(self) -> Dict[str, torch.Tensor]:
        c, E, dev, dt = self.config, self.num_envs, self.device, self.dtype
        N, M, K = c.num_banks, c.num_households, c.num_firms
        r = lambda *s: self.rand(*s).to(dt)  # noqa: E731
        rn = lambda *s: self.randn(*s).to(dt)  # noqa: E731
        skill = torch.exp(c.skill_dispersion * rn(E, M))
        skill = skill / skill.mean(1, keepdim=True)
        tfp_firm = c.tfp_mean * torch.exp(c.tfp_dispersion * rn(E, K))
        wealth_draw = torch.exp(c.wealth_dispersion * rn(E, M))
        hh_deposits = c.initial_deposit_months * skill * wealth_draw / wealth_draw.mean(1, keepdim=True)
        # ownership of firms and banks in proportion to initial wealth (so dividends are unequal)
        ownership = hh_deposits / hh_deposits.sum(1, keepdim=True)
        hh_bank = torch.floor(r(E, M) * N).long().clamp_max(N - 1)
        firm_bank = torch.floor(r(E, K) * N).long().clamp_max(N - 1)
        # jobs: households spread over firms, 1 - u* employed
        employer = torch.floor(r(E, M) * K).long().clamp_max(K - 1)
        employer = torch.where(r(E, M) < c.natural_unemployment, torch.full_like(employer, -1), employer)
        capital = torch.full((E, K), c.initial_capital, device=dev, dtype=dt)
        firm_debt = c.initial_firm_leverage * capital
        firm_deposits = torch.full((E, K), 3.0, device=dev, dtype=dt)
        hh_debt = torch.zeros(E, M, device=dev, dtype=dt)
        loans = credit.by_bank(firm_debt, firm_bank, N) + credit.by_bank(hh_debt, hh_bank, N)
        deposits = credit.by_bank(hh_deposits, hh_bank, N) + credit.by_bank(firm_deposits, firm_bank, N)
        equity = 0.12 * loans + 1.0
        reserves = deposits + equity - loans  # negative = overdraft at the central bank
        policy = torch.full((E,), c.initial_policy_rate_annual, device=dev, dtype=dt)
        self.state = {
            "policy_rate_annual": policy,
            "rate_change_annual": torch.zeros(E, device=dev, dtype=dt),
            "price": torch.ones(E, K, device=dev, dtype=dt),
            "price_history": torch.ones(E, 13, device=dev, dtype=dt),  # index, t-12 .. t
            "wage_index": torch.ones(E, device=dev, dtype=dt),
            "tfp_aggregate": torch.zeros(E, device=dev, dtype=dt),
            "tfp_firm": tfp_firm,
            "skill": skill,
            "ownership": ownership,
            "hh_bank": hh_bank,
            "firm_bank": firm_bank,
            "employer": employer,
            "hh_deposits": hh_deposits,
            "hh_debt": hh_debt,
            "hh_income": skill.clone(),
            "firm_deposits": firm_deposits,
            "firm_debt": firm_debt,
            "capital": capital,
            "inventory": torch.full((E, K), 2.0, device=dev, dtype=dt),
            "last_sales": torch.full((E, K), 5.0, device=dev, dtype=dt),
            "last_revenue": torch.full((E, K), 5.0, device=dev, dtype=dt),
            "demand_met": torch.ones(E, K, device=dev, dtype=dt),
            "bank_reserves": reserves,
            "bank_loans": loans,
            "bank_equity": equity,
            "lending_rate_annual": policy.unsqueeze(-1) + 0.03 + torch.zeros(E, N, device=dev, dtype=dt),
            "deposit_rate_annual": (policy.unsqueeze(-1) - 0.01).expand(E, N).clone(),
            "bank_default_rate": torch.zeros(E, N, device=dev, dtype=dt),
            "bank_demand_met": torch.ones(E, N, device=dev, dtype=dt),
            "inflation_annual": torch.full((E,), c.inflation_target_annual, device=dev, dtype=dt),
            "inflation_monthly": torch.full((E,), (1 + c.inflation_target_annual) ** (1 / 12) - 1, device=dev, dtype=dt),
            "output_gap": torch.zeros(E, device=dev, dtype=dt),
            "unemployment": torch.full((E,), c.natural_unemployment, device=dev, dtype=dt),
            "credit_growth": torch.zeros(E, device=dev, dtype=dt),
            "period": torch.zeros(E, device=dev, dtype=torch.long),
        }
        self._pending_shocks = []
        return self._observe()

    # ----------------------------------------------------------------- observations
    def _observe(self) -> Dict[str, torch.Tensor]:
        s, c = self.state, self.config
        E = self.num_envs
        N, M, K = c.num_banks, c.num_households, c.num_firms
        P = goods.price_index(s["price"])
        W = s["wage_index"]
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
        cap_ratio = s["bank_equity"] / loans.clamp_min(1e-9)
        exp_ = lambda x: x.unsqueeze(-1)  # noqa: E731
        bank = torch.stack([
            exp_(policy_pp).expand(E, N), 10 * cap_ratio, loans / bank_deposits.clamp_min(1e-9),
            100 * s["bank_default_rate"], s["bank_demand_met"], exp_(infl_pp).expand(E, N),
            exp_(gap_pct).expand(E, N), 100 * s["lending_rate_annual"],
        ], -1)
        wage_h = (s["skill"] * exp_(W)).clamp_min(1e-9)
        hh_lend = torch.gather(s["lending_rate_annual"], 1, s["hh_bank"])
        hh_dep = torch.gather(s["deposit_rate_annual"], 1, s["hh_bank"])
        household = torch.stack([
            torch.log1p((s["hh_deposits"] / exp_(P)).clamp_min(0)), s["hh_debt"] / wage_h,
            (s["employer"] >= 0).to(self.dtype), s["skill"], wage_h / exp_(P),
            100 * hh_dep, 100 * hh_lend, exp_(infl_pp).expand(E, M), exp_(u10).expand(E, M),
            s["hh_income"] / wage_h,
        ], -1)
        workers = labor.headcount(s["employer"], K).to(self.dtype)
        wage_bill = labor.headcount(s["employer"], K, s["skill"]).to(self.dtype) * exp_(W)
        firm_lend = torch.gather(s["lending_rate_annual"], 1, s["firm_bank"])
        firm = torch.stack([
            torch.log(s["price"] / exp_(P)), s["inventory"] / s["last_sales"].clamp_min(0.5),
            workers / 5.0, torch.log(s["capital"] / c.initial_capital),
            s["firm_deposits"] / wage_bill.clamp_min(1.0), s["firm_debt"] / (s["capital"] * s["price"]).clamp_min(1e-9),
            100 * firm_lend, exp_(infl_pp).expand(E, K), exp_(gap_pct).expand(E, K), s["demand_met"],
            torch.log(s["tfp_firm"] / c.tfp_mean), exp_(W / P).expand(E, K),
        ], -1)
        obs = {"central_bank": cb, "bank": bank, "household": household, "firm": firm}
        return {k: torch.nan_to_num(v.float().clamp(-50, 50)) for k, v in obs.items()}

    # ----------------------------------------------------------------- step
    def _step(self, actions: Mapping[str, torch.Tensor]) -> StepResult:
        c, s, E, dev, dt = self.config, self.state, self.num_envs, self.device, self.dtype
        N, M, K = c.num_banks, c.num_households, c.num_firms
        exp_ = lambda x: x.unsqueeze(-1)  # noqa: E731
        zeros_h = torch.zeros(E, M, device=dev, dtype=dt)

        # ---- shocks queued for this step (impulse responses)
        price = s["price"]
        wage_index = s["wage_index"]
        policy_prev = s["policy_rate_annual"]
        rate_shock = torch.zeros(E, device=dev, dtype=dt)
        for kind, size, mask in self._pending_shocks:
            if kind == "inflation":
                f = 1 + size * mask.to(dt)
                price = price * exp_(f)
                wage_index = wage_index * f
            else:
                rate_shock = rate_shock + size * mask.to(dt)
        self._pending_shocks = []
        P_prev = s["price_history"][:, -1]

        # ---- 1. central bank
        a_cb = actions["central_bank"].reshape(E)
        wanted = policy_prev + self._rate_changes[a_cb] + rate_shock
        policy = wanted.clamp(c.rate_floor_annual, c.max_policy_rate_annual)
        rate_change = policy - policy_prev

        # ---- 2. banks
        a_b = actions["bank"]
        deposit_floor = c.rate_floor_annual if c.zero_lower_bound else None
        lending_rate, deposit_rate = credit.bank_rates(policy, self._lend_spreads[a_b[..., 0]],
                                                       self._dep_spreads[a_b[..., 1]], deposit_floor)
        dsr_limit, ltv_limit = self._dsr[a_b[..., 2]], self._ltv[a_b[..., 2]]
        r_lend_m, r_dep_m = lending_rate / 12, deposit_rate / 12
        hh_bank, firm_bank = s["hh_bank"], s["firm_bank"]

        # ---- 3. labor market
        a_h, a_f = actions["household"], actions["firm"]
        seeking = self._labor[a_h[..., 2]] > 0
        # a firm's hiring choice sets its target headcount relative to last month's;
        # it replaces workers who quit and posts vacancies or lays off to reach the target
        workers_before = labor.headcount(s["employer"], K)
        hire_dir = self._hiring[a_f[..., 1]]
        step_size = torch.clamp(torch.round(0.1 * workers_before), min=1.0)
        target = (workers_before + hire_dir * step_size).clamp_min(0.0)
        employer = torch.where(seeking, s["employer"], torch.full_like(s["employer"], -1))  # quits
        workers = labor.headcount(employer, K)
        layoffs = (workers - target).clamp_min(0.0)
        vacancies = (target - workers).clamp_min(0.0)
        employer = labor.separate(employer, layoffs, self.rand(E, M).to(torch.float64))
        employer, hires = labor.match(employer, seeking, vacancies, self.rand(E, M).to(torch.float64), c.matching_efficiency)
        employed = employer >= 0
        n_seek = seeking.sum(1).to(dt)
        unemployment = torch.where(n_seek > 0, (seeking & ~employed).sum(1).to(dt) / n_seek.clamp_min(1), torch.ones_like(n_seek))
        wage_index = labor.update_wage_index(wage_index, unemployment, s["inflation_monthly"],
                                             c.natural_unemployment, c.wage_flexibility, c.wage_indexation)
        eff_labor = labor.headcount(employer, K, s["skill"]).to(dt)            # [E, K] skill units
        wage_bill = eff_labor * exp_(wage_index)

        # ---- 4. production (aggregate TFP is AR(1) in logs)
        tfp_agg = c.tfp_rho * s["tfp_aggregate"] + c.tfp_sigma * self.randn(E).to(dt)
        z = exp_(torch.exp(tfp_agg))
        capital = s["capital"]
        production = z * s["tfp_firm"] * capital**c.capital_share * eff_labor ** (1 - c.capital_share)
        labor_force = s["skill"].sum(1)
        share_k = capital / capital.sum(1, keepdim=True)
        potential = (z * s["tfp_firm"] * capital**c.capital_share
                     * (exp_((1 - c.natural_unemployment) * labor_force) * share_k) ** (1 - c.capital_share)).sum(1)
        stock = s["inventory"] + production

        # ---- firms' prices (this month's decision, posted before the market opens)
        price = price * (1 + self._price_changes[a_f[..., 0]])
        changed_price = (a_f[..., 0] != 2)
        P = goods.price_index(price)

        # ---- 5. credit market: requests, limits, new loans (lending creates deposits)
        hh_deposits, hh_debt = s["hh_deposits"].clone(), s["hh_debt"].clone()
        firm_deposits, firm_debt = s["firm_deposits"].clone(), s["firm_debt"].clone()
        hh_r = torch.gather(r_lend_m, 1, hh_bank)
        firm_r = torch.gather(r_lend_m, 1, firm_bank)
        wage_h = s["skill"] * exp_(wage_index)
        expected_income = torch.where(employed, wage_h, 0.2 * wage_h) + 0.0
        hh_limit = credit.credit_limit(expected_income, None, hh_r, c.amortization, torch.gather(dsr_limit, 1, hh_bank), None)
        hh_request = self._borrow[a_h[..., 1]] * wage_h
        hh_new = credit.grant_loans(hh_request, hh_debt, hh_limit)
        invest_real = self._inv_rates[a_f[..., 2]] * capital
        invest_spend_wanted = invest_real * exp_(P)
        firm_int_due, firm_prin_due = credit.debt_service(firm_debt, firm_r, c.amortization)
        firm_need = (wage_bill + invest_spend_wanted + firm_int_due + firm_prin_due - firm_deposits).clamp_min(0.0)
        firm_limit = credit.credit_limit(s["last_revenue"], capital * price, firm_r, c.amortization,
                                         torch.gather(dsr_limit, 1, firm_bank), torch.gather(ltv_limit, 1, firm_bank))
        firm_new = credit.grant_loans(firm_need, firm_debt, firm_limit)
        requested_by_bank = credit.by_bank(hh_request, hh_bank, N) + credit.by_bank(firm_need, firm_bank, N)
        granted_by_bank = credit.by_bank(hh_new, hh_bank, N) + credit.by_bank(firm_new, firm_bank, N)
        hh_deposits += hh_new
        hh_debt += hh_new
        firm_deposits += firm_new
        firm_debt += firm_new
        lending = hh_new.sum(1) + firm_new.sum(1)

        # ---- 6a. wages (a firm short of money pays what it has, pro rata)
        paid_share = torch.where(wage_bill > 0, (firm_deposits / wage_bill.clamp_min(1e-12)).clamp(0, 1), torch.ones_like(wage_bill))
        wages_paid_firm = wage_bill * paid_share
        firm_idx = employer.clamp_min(0)
        hh_wage = torch.where(employed, wage_h * torch.gather(paid_share, 1, firm_idx), zeros_h)
        firm_deposits -= wages_paid_firm
        hh_deposits += hh_wage

        # ---- 6b. goods market: household consumption + firm investment, this month's choices
        hh_spend = self._cons_rates[a_h[..., 0]] * hh_deposits.clamp_min(0)
        firm_spend = torch.minimum(invest_spend_wanted, firm_deposits.clamp_min(0))
        market = goods.clear_goods_market(torch.cat([hh_spend, firm_spend], 1), price, stock, c.demand_elasticity)
        hh_spent, firm_spent = market["spent"][:, :M], market["spent"][:, M:]
        consumption = market["bought"][:, :M]
        invest_goods = market["bought"][:, M:]
        hh_deposits -= hh_spent
        firm_deposits += market["revenue"] - firm_spent
        inventory = (stock - market["sold"]) * (1 - c.inventory_depreciation)
        demand_met = torch.where(market["demand"] > 0, market["sold"] / market["demand"].clamp_min(1e-12), torch.ones_like(price))

        # ---- 7. debt service and defaults
        hh_int, hh_prin = credit.debt_service(hh_debt, hh_r, c.amortization)
        firm_int, firm_prin = credit.debt_service(firm_debt, firm_r, c.amortization)
        hazard = 1 - (1 - c.base_default_rate_annual) ** (1 / 12)
        hh_default = (hh_debt > 0) & ((hh_deposits < hh_int + hh_prin) | (self.rand(E, M).to(dt) < hazard))
        firm_default = (firm_debt > 0) & ((firm_deposits < firm_int + firm_prin) | (self.rand(E, K).to(dt) < hazard))
        # non-defaulters pay interest and principal; defaulters pay nothing and lose collateral
        hh_int = torch.where(hh_default, zeros_h, hh_int)
        hh_prin = torch.where(hh_default, zeros_h, hh_prin)
        firm_int = torch.where(firm_default, torch.zeros_like(firm_int), firm_int)
        firm_prin = torch.where(firm_default, torch.zeros_like(firm_prin), firm_prin)
        hh_deposits -= hh_int + hh_prin
        hh_debt -= hh_prin
        firm_deposits -= firm_int + firm_prin
        firm_debt -= firm_prin
        hh_set = credit.settle_defaults(hh_debt, hh_deposits, hh_default)
        firm_set = credit.settle_defaults(firm_debt, firm_deposits, firm_default)
        hh_debt, hh_deposits = hh_set["debt"], hh_set["deposits"]
        firm_debt, firm_deposits = firm_set["debt"], firm_set["deposits"]

        # ---- 7b. deposit interest (banks pay), interest on reserves (central bank pays)
        hh_dep_int = torch.gather(r_dep_m, 1, hh_bank) * hh_deposits.clamp_min(0)
        firm_dep_int = torch.gather(r_dep_m, 1, firm_bank) * firm_deposits.clamp_min(0)
        hh_deposits += hh_dep_int
        firm_deposits += firm_dep_int
        reserve_interest = s["bank_reserves"] * exp_(policy / 12)

        # ---- 7c. firm dividends: deposits above one month's costs, paid to owners
        buffer = wage_bill + invest_spend_wanted
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
        new_loans = granted_by_bank
        net_interest_income = loan_interest + reserve_interest - deposit_interest
        equity = s["bank_equity"] + net_interest_income - loan_loss
        bank_loans = s["bank_loans"] + new_loans - principal - writeoff
        required = c.capital_requirement * bank_loans
        bank_div = c.bank_payout_rate * (equity - 1.5 * required).clamp_min(0)
        equity = equity - bank_div
        hh_bank_div = s["ownership"] * exp_(bank_div.sum(1))
        hh_deposits += hh_firm_div + hh_bank_div

        # payments among households and firms settle between banks through reserves
        hh_pay = hh_wage - hh_spent + hh_firm_div + hh_bank_div
        firm_pay = -wages_paid_firm + market["revenue"] - firm_spent - firm_div
        reserves = (s["bank_reserves"] + credit.by_bank(hh_pay, hh_bank, N) + credit.by_bank(firm_pay, firm_bank, N)
                    - bank_div + reserve_interest)

        # ---- capital
        capital = capital * (1 - c.capital_depreciation) + invest_goods

        # ---- aggregates
        P_hist = torch.cat([s["price_history"][:, 1:], P.unsqueeze(-1)], 1)
        infl_m = P / P_prev - 1
        infl_a = (1 + infl_m).clamp_min(1e-6) ** 12 - 1
        output = production.sum(1)
        output_gap = torch.log(output.clamp_min(1e-9) / potential.clamp_min(1e-9))
        cb_loss = central_bank_loss(infl_a, c.inflation_target_annual, output_gap, rate_change,
                                    c.output_gap_weight, c.rate_change_weight)
        total_credit_prev = s["bank_loans"].sum(1)
        credit_growth = bank_loans.sum(1) / total_credit_prev.clamp_min(1e-9) - 1
        hh_income = hh_wage + hh_firm_div + hh_bank_div + hh_dep_int
        n_borrowers = (s["hh_debt"] > 0).sum(1) + (s["firm_debt"] > 0).sum(1) + (hh_new > 0).sum(1)
        defaults = hh_default.sum(1) + firm_default.sum(1)

        # ---- rewards (seed 002)
        r_cb = -cb_loss.unsqueeze(-1)
        loan_scale = 0.01 * c.initial_firm_leverage * c.initial_capital * K / N  # ~1% of a bank's initial book
        bank_reward = (net_interest_income - loan_loss) / (exp_(P) * loan_scale) \
            - c.capital_penalty * (c.capital_requirement - equity / bank_loans.clamp_min(1e-9)).clamp_min(0)
        real_cons = consumption
        hh_reward = (torch.log(real_cons + 0.05) - c.labor_disutility * employed.to(dt)
                     + c.savings_weight * torch.log1p((hh_deposits / exp_(P)).clamp_min(0))
                     - c.debt_weight * hh_debt / exp_(P))
        depreciation_value = c.capital_depreciation * s["capital"] * price
        profit = market["revenue"] - wages_paid_firm - firm_int - depreciation_value
        holding_cost = c.inventory_depreciation * inventory * price
        firm_reward = (profit - holding_cost) / exp_(P) - c.bankruptcy_penalty * firm_default.to(dt)

        self.last_flows = {
            "lending": lending, "principal": principal.sum(1), "loan_interest": loan_interest.sum(1),
            "seized": seized.sum(1), "writeoff": writeoff.sum(1), "deposit_interest": deposit_interest.sum(1),
            "bank_dividends": bank_div.sum(1), "reserve_interest": reserve_interest.sum(1),
            "hh_pay": hh_pay, "firm_pay": firm_pay, "stock": stock, "sold": market["sold"],
            "hh_writeoff": hh_set["writeoff"], "firm_writeoff": firm_set["writeoff"],
            "hh_debt_before_default": hh_set["writeoff"] + hh_set["debt"],
            "firm_debt_before_default": firm_set["writeoff"] + firm_set["debt"],
            "loan_loss": loan_loss.sum(1),
        }
        loans_w = bank_loans.clamp_min(1e-9)
        macro = {
            "policy_rate_annual": policy,
            "lending_rate_annual": (lending_rate * loans_w).sum(1) / loans_w.sum(1),
            "deposit_rate_annual": deposit_rate.mean(1),
            "inflation_annual": infl_a,
            "inflation_yoy": P / P_hist[:, 0] - 1,
            "output": output,
            "output_gap": output_gap,
            "unemployment": unemployment,
            "consumption": consumption.sum(1),
            "investment": invest_goods.sum(1),
            "credit": bank_loans.sum(1) / P,
            "new_lending": lending / P,
            "price_level": P,
            "wage_index": wage_index,
            "gini_wealth": gini(hh_deposits - hh_debt),
            "gini_income": gini(hh_income),
            "price_change_share": changed_price.to(dt).mean(1),
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
            "policy_rate_annual": policy, "rate_change_annual": rate_change, "price": price,
            "price_history": P_hist, "wage_index": wage_index, "tfp_aggregate": tfp_agg, "employer": employer,
            "hh_deposits": hh_deposits, "hh_debt": hh_debt, "hh_income": hh_income,
            "firm_deposits": firm_deposits, "firm_debt": firm_debt, "capital": capital, "inventory": inventory,
            "last_sales": market["sold"], "last_revenue": market["revenue"], "demand_met": demand_met,
            "bank_reserves": reserves, "bank_loans": bank_loans, "bank_equity": equity,
            "lending_rate_annual": lending_rate, "deposit_rate_annual": deposit_rate,
            "bank_default_rate": (credit.by_bank(hh_default.to(dt), hh_bank, N) + credit.by_bank(firm_default.to(dt), firm_bank, N))
            / (credit.by_bank((hh_debt > 0).to(dt), hh_bank, N) + credit.by_bank((firm_debt > 0).to(dt), firm_bank, N)).clamp_min(1),
            "bank_demand_met": torch.where(requested_by_bank > 0, granted_by_bank / requested_by_bank.clamp_min(1e-12),
                                           torch.ones_like(granted_by_bank)),
            "inflation_annual": infl_a, "inflation_monthly": infl_m, "output_gap": output_gap,
            "unemployment": unemployment, "credit_growth": credit_growth, "period": period,
        })
        rewards = {"central_bank": r_cb.float(), "bank": bank_reward.float(), "household": hh_reward.float(),
                   "firm": firm_reward.float()}
        done = period >= c.sim_length
        info = {}
        if bool(done.any()):
            # all economies run in lockstep, so an episode ends everywhere at once
            info["final_obs"] = self._observe()
            obs = self.reset()
        else:
            obs = self._observe()
        return StepResult(obs=obs, reward=rewards, done=done, macro={k: v.float() for k, v in macro.items()}, info=info)

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

    def money(self) -> torch.Tensor:
        """The money stock ``[E]``: all household and firm deposits."""
        return self.state["hh_deposits"].sum(1) + self.state["firm_deposits"].sum(1)
