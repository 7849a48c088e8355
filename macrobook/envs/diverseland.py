"""Diverseland: a small four-sector economy with heterogeneous households (seed 000's scenario).

Three households want different goods: A mostly traditional basic goods, B mostly tech goods,
C mostly green sustainable goods (Cobb-Douglas weights). One firm employs all three
households, produces the three goods and posts their prices. A government pays a stimulus
transfer; a central bank sets the policy rate paid on money balances. One period is a quarter.

Order of events in a period (all tensor operations over ``[num_envs, ...]``):

1. the central bank sets ``policy_rate_annual``; the government sets ``stimulus_share``
   (transfer as a share of last period's nominal output); the firm sets the growth of each
   price; each household chooses the share of its cash-on-hand it spends;
2. income arrives: wage, last period's dividend, the transfer, interest on money;
3. goods market: household ``i`` demands ``alpha[i, g] * spending_i / p_g`` units of good
   ``g``; the firm sells ``min(demand, stock)`` with proportional rationing, so it never sells
   more than it holds; unspent money stays with the household;
4. the firm pays the wage bill and holding costs, pays out what is left as dividends,
   carries unsold stock (minus depreciation), and wages are indexed to last period's inflation;
5. inflation is the change of a fixed-weight consumer price index; household inflation
   expectations (percent per year) update adaptively, unless the caller overrides them with
   :meth:`Diverseland.set_expectations` (the LLM-augmented run does: the households *state*
   their expectations in messages).

Money identity (tested): the change of all money (households plus the firm's account) equals
interest paid plus the transfer.

Agent types, observations (``obs_names``) and actions:

* ``household`` (3): Box [0.2, 1.0], share of cash-on-hand spent;
* ``firm`` (1): Box [-0.04, 0.05]^3, quarterly growth of the three prices;
* ``government`` (1): Box [0, 0.06], stimulus transfer as a share of output;
* ``central_bank`` (1): Box [0, 0.10], policy rate, decimal per year.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Mapping

import torch

from ..config import Config, check, check_float, check_int
from ..contract import AgentSpec
from ..markets.goods import ration_among
from .base import BatchedEconomy, Transition
from ..contract import Box

GOODS = ("basic", "tech", "green")
HOUSEHOLDS = ("Household A", "Household B", "Household C")


@dataclass
class DiverselandConfig(Config):
    episode_len: int = 50
    preference_own: float = 0.7            # Cobb-Douglas weight on the preferred good; the rest split evenly
    initial_prices: tuple = (2.0, 50.0, 10.0)   # dollars per unit: basic basket, tech gadget, green product
    productivity: tuple = (40.0, 1.6, 8.0)      # units per worker per quarter at the start
    tech_trend: float = 0.01               # quarterly productivity growth of tech goods
    productivity_rho: float = 0.9          # AR(1) persistence of productivity shocks
    productivity_sigma: float = 0.02       # std of log-productivity innovations
    wage: float = 80.0                     # dollars per worker per quarter at the start
    initial_cash: float = 160.0            # dollars per household at the start
    depreciation: float = 0.10             # share of unsold stock lost each quarter
    holding_cost: float = 0.05             # cost of unsold stock, share of its value
    inflation_target_annual: float = 0.02
    expectation_gains: tuple = (0.5, 0.2, 0.3)  # adaptive-expectations gains of A, B, C
    expectation_noise: float = 0.003       # std of expectation shocks (decimal per year)

    def validate(self) -> None:
        check_int(self, "episode_len", min=1)
        check_float(self, "preference_own", min=1 / 3, max=1.0)
        for name in ("initial_prices", "productivity"):
            v = getattr(self, name)
            check(len(v) == 3 and all(isinstance(x, (int, float)) and 1e-2 <= x <= 1e6 for x in v), self, name,
                  "three numbers in [0.01, 1e6] (basic, tech, green)")
        check(len(self.expectation_gains) == 3 and all(0 <= g <= 1 for g in self.expectation_gains), self,
              "expectation_gains", "three numbers in [0, 1]")
        check_float(self, "tech_trend", min=-0.1, max=0.1)
        check_float(self, "productivity_rho", min=0.0, max=1.0, max_open=True)
        check_float(self, "productivity_sigma", min=0.0, max=0.5)   # log-productivity shocks; beyond, prices overflow
        check_float(self, "wage", min=0.01, max=1e6)   # dollars a period: far below the prices, profits overflow
        check_float(self, "initial_cash", min=0.0)
        check_float(self, "depreciation", min=0.0, max=1.0)
        check_float(self, "holding_cost", min=0.0, max=1.0)
        check_float(self, "inflation_target_annual", min=-0.1, max=0.5)
        check_float(self, "expectation_noise", min=0.0, max=0.5)


def annualize(rate_quarterly: torch.Tensor) -> torch.Tensor:
    """Quarterly decimal rate -> annual decimal rate, compounding four quarters."""
    return (1 + rate_quarterly) ** 4 - 1


def clear_goods_market(spending: torch.Tensor, alpha: torch.Tensor, prices: torch.Tensor, stock: torch.Tensor):
    """Cobb-Douglas demand with proportional rationing.

    spending [E, 3 households] dollars, alpha [3 households, 3 goods], prices [E, 3 goods] dollars,
    stock [E, 3 goods] units. Returns (consumption [E, h, g] units, paid [E, h] dollars,
    sold [E, g] units, demand [E, g] units, fill [E, g] share of demand served).
    """
    wanted = alpha.unsqueeze(0) * spending.unsqueeze(-1) / prices.unsqueeze(1)   # [E, h, g] units
    demand = wanted.sum(1)
    consumption, sold, fill = ration_among(wanted, stock)
    paid = (consumption * prices.unsqueeze(1)).sum(-1)
    return consumption, paid, sold, demand, fill


@dataclass
class DiverselandState:
    prices: torch.Tensor            # [E, 3] dollars
    cash: torch.Tensor              # [E, 3] household money, dollars
    firm_cash: torch.Tensor         # [E] dollars (negative: the firm borrows)
    dividend: torch.Tensor          # [E] dollars to pay next quarter (all households alike)
    stock: torch.Tensor             # [E, 3] units carried over
    log_prod_shock: torch.Tensor    # [E, 3]
    wage: torch.Tensor              # [E] dollars per worker
    cpi: torch.Tensor               # [E], 1 at the start
    inflation: torch.Tensor         # [E] quarterly decimal, last quarter
    good_inflation: torch.Tensor    # [E, 3] quarterly decimal, last quarter
    expectation_annual: torch.Tensor  # [E, 3] household inflation expectations, decimal per year
    policy_rate_annual: torch.Tensor  # [E]
    stimulus_share: torch.Tensor      # [E]
    nominal_output: torch.Tensor      # [E] dollars
    output_gap: torch.Tensor          # [E] sold / produced - 1 at base prices
    fill: torch.Tensor                # [E, 3] share of demand served last quarter
    debt: torch.Tensor                # [E] government debt, dollars

    def clone(self) -> "DiverselandState":
        return DiverselandState(**{k: v.clone() for k, v in self.__dict__.items()})

    def repeat(self, n: int, index: int = 0) -> "DiverselandState":
        """``n`` copies of economy ``index`` (for the rational-expectations forecast)."""
        return DiverselandState(**{k: v[index:index + 1].repeat_interleave(n, 0).clone()
                                   for k, v in self.__dict__.items()})


HOUSEHOLD_OBS = ("cash_over_annual_wage", "log_price_own_good", "inflation_annual_x10", "own_good_inflation_annual_x10",
                 "policy_rate_annual_x10", "stimulus_share_x10", "expectation_annual_x10",
                 "prefers_basic", "prefers_tech", "prefers_green")
FIRM_OBS = ("log_price_basic", "log_price_tech", "log_price_green", "fill_basic", "fill_tech", "fill_green",
            "stock_over_output_basic", "stock_over_output_tech", "stock_over_output_green",
            "inflation_annual_x10", "mean_expectation_annual_x10", "policy_rate_annual_x10", "output_gap_x10")
GOV_OBS = ("output_gap_x10", "inflation_annual_x10", "mean_expectation_annual_x10", "debt_over_annual_output",
           "policy_rate_annual_x10")
CB_OBS = ("inflation_annual_x10", "inflation_gap_x10", "output_gap_x10", "mean_expectation_annual_x10",
          "policy_rate_annual_x10", "stimulus_share_x10")


class Diverseland(BatchedEconomy):
    """The Diverseland economy, batched over ``num_envs`` copies. See the module docstring."""

    macro_units = {"inflation_annual": "decimal per year", "policy_rate_annual": "decimal per year",
                   "stimulus_share": "share of output", "output_gap": "share", "nominal_output": "dollars",
                   "cpi": "index, start = 1", "expectation_A": "decimal per year", "expectation_B": "decimal per year",
                   "expectation_C": "decimal per year", "price_basic": "dollars", "price_tech": "dollars",
                   "price_green": "dollars"}

    def __init__(self, config: DiverselandConfig | None = None, num_envs: int = 1, device="auto"):
        super().__init__(num_envs, device)
        self.config = config or DiverselandConfig()
        c = self.config
        other = (1 - c.preference_own) / 2
        self.alpha = torch.full((3, 3), other, device=self.device)
        self.alpha.fill_diagonal_(c.preference_own)
        self.base_prices = torch.tensor(c.initial_prices, device=self.device)
        self.base_productivity = torch.tensor(c.productivity, device=self.device)
        self.gains = torch.tensor(c.expectation_gains, device=self.device)
        self.specs = {
            "household": AgentSpec(3, len(HOUSEHOLD_OBS), Box(0.2, 1.0, (1,)), HOUSEHOLD_OBS),
            "firm": AgentSpec(1, len(FIRM_OBS), Box(-0.04, 0.05, (3,)), FIRM_OBS),
            "government": AgentSpec(1, len(GOV_OBS), Box(0.0, 0.06, (1,)), GOV_OBS),
            "central_bank": AgentSpec(1, len(CB_OBS), Box(0.0, 0.10, (1,)), CB_OBS),
        }
        self.state: DiverselandState | None = None

    # ------------------------------------------------------------------ state
    def initial_state(self, n: int) -> DiverselandState:
        c, d = self.config, self.device
        z = lambda *s: torch.zeros(*s, device=d)  # noqa: E731
        target = c.inflation_target_annual
        prod = self.base_productivity.expand(n, 3)
        return DiverselandState(
            prices=self.base_prices.expand(n, 3).clone(), cash=torch.full((n, 3), c.initial_cash, device=d),
            firm_cash=z(n), dividend=z(n), stock=z(n, 3), log_prod_shock=z(n, 3),
            wage=torch.full((n,), c.wage, device=d), cpi=torch.ones(n, device=d), inflation=z(n),
            good_inflation=z(n, 3),
            expectation_annual=target + c.expectation_noise * self.randn(n, 3),
            policy_rate_annual=torch.full((n,), 0.04, device=d), stimulus_share=z(n),
            nominal_output=(prod * self.base_prices).sum(-1), output_gap=z(n), fill=torch.ones(n, 3, device=d),
            debt=z(n))

    def set_expectations(self, expectation_annual: torch.Tensor) -> Dict[str, torch.Tensor]:
        """Replace the households' inflation expectations ``[E, 3]`` (decimal per year), e.g. with
        the ones they stated in messages; returns the new observations."""
        self.state.expectation_annual = expectation_annual.to(self.device, torch.float32).reshape(self.num_envs, 3).clone()
        return self.observe()

    # ------------------------------------------------------------------ observations
    def observe(self, state: "DiverselandState | None" = None) -> Dict[str, torch.Tensor]:
        s, c = (self.state if state is None else state), self.config
        E = s.prices.shape[0]
        infl = annualize(s.inflation)
        good_infl = annualize(s.good_inflation)
        log_p = torch.log(s.prices / self.base_prices)
        mean_exp = s.expectation_annual.mean(-1)
        x10 = lambda v: 10.0 * v  # noqa: E731  (rates of a few percent become numbers near 0.2-1)
        own_log_p = log_p  # household i prefers good i
        h = torch.stack([
            s.cash / (4 * s.wage.unsqueeze(-1)), own_log_p, x10(infl).unsqueeze(-1).expand(E, 3), x10(good_infl),
            x10(s.policy_rate_annual).unsqueeze(-1).expand(E, 3), x10(s.stimulus_share).unsqueeze(-1).expand(E, 3),
            x10(s.expectation_annual)], dim=-1)
        h = torch.cat([h, torch.eye(3, device=self.device).expand(E, 3, 3)], dim=-1)
        prod = self.production(s)
        f = torch.cat([log_p, s.fill, s.stock / prod, torch.stack([
            x10(infl), x10(mean_exp), x10(s.policy_rate_annual), x10(s.output_gap)], -1)], -1).unsqueeze(1)
        g = torch.stack([x10(s.output_gap), x10(infl), x10(mean_exp), s.debt / (4 * s.nominal_output),
                         x10(s.policy_rate_annual)], -1).unsqueeze(1)
        cb = torch.stack([x10(infl), x10(infl - c.inflation_target_annual), x10(s.output_gap), x10(mean_exp),
                          x10(s.policy_rate_annual), x10(s.stimulus_share)], -1).unsqueeze(1)
        return {"household": h, "firm": f, "government": g, "central_bank": cb}

    def production(self, state: "DiverselandState | None" = None) -> torch.Tensor:
        """Units of each good produced this quarter, [E, 3]: one worker per good."""
        c, s = self.config, (self.state if state is None else state)
        trend = torch.tensor([1.0, (1 + c.tech_trend) ** self.t, 1.0], device=self.device)
        return self.base_productivity * trend * torch.exp(s.log_prod_shock)

    # ------------------------------------------------------------------ dynamics
    def transition(self, s: "DiverselandState", actions: Mapping[str, torch.Tensor]) -> Transition:
        c = self.config
        E = s.prices.shape[0]
        spend_share = actions["household"].reshape(E, 3)
        price_growth = actions["firm"].reshape(E, 3)
        stimulus = actions["government"].reshape(E)
        rate_annual = actions["central_bank"].reshape(E)
        rate_q = (1 + rate_annual) ** 0.25 - 1

        # 1-2. policy and income
        transfer = stimulus * s.nominal_output                        # total, split equally
        interest_h = s.cash * rate_q.unsqueeze(-1)
        interest_f = s.firm_cash * rate_q                             # the firm pays interest when it borrows
        income = s.wage.unsqueeze(-1) + (s.dividend + transfer).unsqueeze(-1) / 3 + interest_h
        cash_on_hand = s.cash + income
        spending = spend_share * cash_on_hand.clamp_min(0)

        # productivity: AR(1) in logs (tech also trends up)
        s.log_prod_shock = c.productivity_rho * s.log_prod_shock + c.productivity_sigma * self.randn(E, 3)
        produced = self.production(s)
        new_prices = s.prices * (1 + price_growth)

        # 3. goods market
        stock = s.stock + produced
        consumption, paid, sold, demand, fill = clear_goods_market(spending, self.alpha, new_prices, stock)
        revenue = (sold * new_prices).sum(-1)

        # 4. firm accounts: wages and holding costs, then pay out what is left as dividends
        left = stock - sold
        wage_bill = 3 * s.wage
        holding = c.holding_cost * (left * new_prices).sum(-1)
        firm_cash = s.firm_cash + interest_f + revenue - wage_bill - holding
        dividend = firm_cash.clamp_min(0)
        firm_cash = firm_cash - dividend
        # holding costs are paid to households as a service income next quarter (money is conserved)
        new_cash = cash_on_hand - paid

        # 5. prices and expectations
        cpi = (new_prices / self.base_prices).mean(-1)
        inflation = cpi / s.cpi - 1
        good_inflation = new_prices / s.prices - 1
        infl_annual = annualize(inflation)
        expectation = s.expectation_annual + self.gains * (infl_annual.unsqueeze(-1) - s.expectation_annual) \
            + c.expectation_noise * self.randn(E, 3)
        potential = (produced * self.base_prices).sum(-1)
        output_gap = (sold * self.base_prices).sum(-1) / potential - 1

        # rewards
        log_c = torch.log(consumption.clamp_min(1e-6) / self.base_productivity)
        r_house = (self.alpha.unsqueeze(0) * log_c).sum(-1)                        # Cobb-Douglas utility
        r_firm = ((revenue - wage_bill - holding) / cpi / (3 * c.wage)).unsqueeze(-1)   # real profit
        gap_pi = infl_annual - c.inflation_target_annual
        # central bank: quadratic loss in inflation and output gaps (Gali 2015, ch. 5)
        r_cb = (-100.0 * (gap_pi ** 2 + 0.5 * output_gap ** 2)).unsqueeze(-1)
        r_gov = (-100.0 * (output_gap ** 2 + 0.5 * stimulus ** 2)).unsqueeze(-1)

        new = DiverselandState(
            prices=new_prices, cash=new_cash + holding.unsqueeze(-1) / 3, firm_cash=firm_cash, dividend=dividend,
            stock=left * (1 - c.depreciation), log_prod_shock=s.log_prod_shock,
            wage=s.wage * (1 + inflation).clamp_min(0.5), cpi=cpi, inflation=inflation,
            good_inflation=good_inflation, expectation_annual=expectation, policy_rate_annual=rate_annual,
            stimulus_share=stimulus, nominal_output=revenue.clamp_min(1e-6), output_gap=output_gap, fill=fill,
            debt=s.debt * (1 + rate_q) + transfer)
        macro = {
            "inflation_annual": infl_annual, "policy_rate_annual": rate_annual, "stimulus_share": stimulus,
            "output_gap": output_gap, "nominal_output": revenue, "cpi": cpi,
            "expectation_A": s.expectation_annual[:, 0], "expectation_B": s.expectation_annual[:, 1],
            "expectation_C": s.expectation_annual[:, 2],
            "price_basic": new_prices[:, 0], "price_tech": new_prices[:, 1], "price_green": new_prices[:, 2],
            "money": new_cash.sum(-1) + holding + firm_cash + dividend,   # dividends owed count as money
            "interest_paid": interest_h.sum(-1) + interest_f, "transfer": transfer,
        }
        info = {"consumption": consumption, "sold": sold, "demand": demand, "stock": stock, "paid": paid,
                "revenue": revenue, "spending": spending}
        done = torch.full((E,), self.t >= c.episode_len, dtype=torch.bool, device=self.device)
        reward = {"household": r_house, "firm": r_firm, "government": r_gov, "central_bank": r_cb}
        return Transition(new, reward, done, macro, info)

    # ------------------------------------------------------------------ forecasts
    def rational_expectation(self, policy, num_draws: int = 64, index: int = 0, horizon: int = 4) -> float:
        """Model-consistent forecast of inflation over the next year (decimal), from economy ``index``.

        ``num_draws`` copies of the current state are simulated ``horizon`` quarters ahead with the
        agents' own decision rules ``policy(obs) -> actions`` and fresh productivity shocks; the
        mean of the compounded inflation is the rational-expectations benchmark (Muth 1961):
        the forecast the model itself implies. It holds the stated expectations fixed.
        """
        ghost = Diverseland(self.config, num_envs=num_draws, device=self.device)
        ghost.generator.manual_seed(int(torch.randint(0, 2**31 - 1, (1,), generator=self.generator, device=self.device)))
        ghost.state = self.state.repeat(num_draws, index)
        ghost.t = self.t
        ghost.check_actions = False
        ghost.config = self.config.replace(episode_len=10**9)
        growth = torch.ones(num_draws, device=self.device)
        obs = ghost.observe()
        with torch.no_grad():
            for _ in range(horizon):
                out = ghost.step(policy(obs))
                growth = growth * (1 + ghost.state.inflation)
                obs = out.obs
        return float((growth - 1).mean())


def adaptive_expectations(inflation: torch.Tensor, gain: float = 0.3, initial: float = 0.02) -> torch.Tensor:
    """Adaptive-expectations benchmark (Cagan 1956): E_{t+1} = E_t + gain (pi_t - E_t).
    ``inflation [T]`` -> forecast made after observing pi_t, ``[T]``."""
    out = torch.empty_like(inflation)
    e = torch.as_tensor(initial, dtype=inflation.dtype)
    for t in range(len(inflation)):
        e = e + gain * (inflation[t] - e)
        out[t] = e
    return out

