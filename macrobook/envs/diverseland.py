"""Diverseland: a small economy with heterogeneous households whose stated expectations enter contracts.

Three households want different goods: A mostly traditional basic goods, B mostly tech goods,
C mostly green goods. Household ``g`` works in the sector that makes good ``g``. In each sector
the book's firm (the learning agent) competes with a fringe of small firms; a government pays a
stimulus transfer; a central bank sets the policy rate. One period is a quarter.

Order of events in a quarter (tensor operations over ``[num_envs, ...]``, no loop over agents):

1. **Contracts.** Each household's nominal wage for the quarter is set on the inflation it
   *states* it expects (Fischer 1977 contracts), with catch-up for last quarter's surprise and a
   Phillips term in its sector's hours:
   ``W_g = W_g,prev * (1 + e_g + kappa (pi_prev - e_g,prev) + phi (h_g,prev - 1))``, ``e`` quarterly.
   With full catch-up (``kappa = 1``) the wage level is the past price level times the current
   expectation: surprise inflation lowers the real wage for one quarter only, so it cannot be farmed.
2. **Prices.** Unit labour cost is ``W_g / A_g``. The firm posts ``p_g = (1 + mu_g) W_g / A_g``
   (its action: the markup); the fringe posts the flexible-price optimum ``e/(e-1) W_g / A_g``
   (Dixit and Stiglitz 1977). Changing a price costs the firm a Rotemberg (1982) cost
   (:func:`macrobook.markets.pricing.rotemberg_cost`), counted in its reward.
3. **Spending.** Each household spends a share (its action) of its cash on hand: deposits, interest
   at the policy rate, the stimulus transfer, minus lump-sum taxes. Interest on deposits is paid
   by the government and financed by a lump-sum tax of the same amount
   (:func:`macrobook.markets.money.reserve_interest_and_tax`), so interest is never printed; the
   stimulus is financed by government debt, repaid by a lump-sum tax of ``debt_repayment`` of the
   debt each quarter (a passive fiscal rule).
4. **Goods market, production to order.** Budgets go to the three goods by CES shares with the
   household's taste weights (elasticity ``goods_elasticity``) and, within a good, to the firm's
   variety and the fringe's by CES shares (``variety_elasticity``)
   (:func:`macrobook.markets.goods.ces_expenditure_shares`); producers make what is ordered, up to
   capacity (``capacity_hours`` of normal hours), rationing proportionally only at capacity
   (:func:`macrobook.markets.goods.ration_among`). Output is demand-determined.
5. **Incomes.** Hours worked in sector ``g`` are its output over productivity; household ``g``
   earns ``W_g`` an hour; producers' profits are paid out to the three households equally.
6. **Measurement.** Inflation is the change of the geometric mean of the six posted prices
   (:func:`macrobook.markets.goods.price_index`). The output gap is output against potential,
   the output of normal hours (1 per worker) at current productivity, valued at base prices: the
   output of the flexible-price economy, where hours sit at their normal level. It takes either sign.
7. **Expectations.** Each household's expectation (percent per year) updates adaptively unless the
   caller overrides it with :meth:`Diverseland.set_expectations` (the LLM-augmented run does: the
   households *state* their expectations in messages). Each household's ex-ante real rate
   ``i - E_g pi`` uses its own expectation and enters its observation.

Money identity (tested): the change of all deposits equals the stimulus transfer minus the debt
repayment tax; interest moves money between people and creates none.

Very long episodes stay finite: wage growth is bounded, productivity is stationary, and when the
price level leaves ``[1e-4, 1e4]`` every nominal stock is divided by it (a currency reform, as
countries with high inflation have done): relative prices, real quantities, rates and inflation
are unchanged by it.

Agent types, observations (``obs_names``) and actions:

* ``household`` (3): Box [0.2, 1.0], share of cash on hand spent;
* ``firm`` (1): Box [0, 0.5]^3, markup of each good's price over its unit labour cost;
* ``government`` (1): Box [0, 0.05], stimulus transfer as a share of last quarter's output;
* ``central_bank`` (1): Box [0, 0.12], policy rate, decimal per year.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Mapping

import torch

from ..config import Config, check, check_float, check_int
from ..contract import AgentSpec, Box
from ..markets import goods, money, pricing
from .base import BatchedEconomy, Transition

GOODS = ("basic", "tech", "green")
HOUSEHOLDS = ("Household A", "Household B", "Household C")


@dataclass
class DiverselandConfig(Config):
    episode_len: int = 50
    preference_own: float = 0.6            # taste weight on the preferred good; the rest split evenly
    initial_prices: tuple = (2.0, 50.0, 10.0)   # dollars per unit at the start: basic basket, tech gadget, green product
    wage: float = 80.0                     # dollars per hour-quarter of normal work at the start (all sectors)
    initial_cash: float = 64.0             # dollars of deposits per household at the start (the steady state at share 0.6)
    goods_elasticity: float = 2.0          # substitution across the three goods
    variety_elasticity: float = 6.0        # substitution between the firm's variety and the fringe's
    capacity_hours: float = 1.3            # most hours a sector can work, normal = 1
    productivity_rho: float = 0.9          # AR(1) persistence of log productivity
    productivity_sigma: float = 0.01       # std of log-productivity innovations
    catch_up: float = 0.5                  # kappa: share of last quarter's inflation surprise caught up in wages
    wage_phillips: float = 0.05            # phi: wage growth per unit of sector hours above normal
    rotemberg: float = 10.0                # Rotemberg cost of the firm's price changes (share of revenue)
    debt_repayment: float = 0.1            # share of the gap between debt and its target closed by lump-sum taxes each quarter
    inflation_target_annual: float = 0.02
    expectation_gains: tuple = (0.5, 0.2, 0.3)  # adaptive-expectations gains of A, B, C (when nobody states)
    expectation_noise: float = 0.002       # std of expectation shocks (decimal per year)

    def validate(self) -> None:
        check_int(self, "episode_len", min=1)
        check_float(self, "preference_own", min=1 / 3, max=1.0, max_open=True)
        check(len(self.initial_prices) == 3 and all(isinstance(x, (int, float)) and not isinstance(x, bool)
                                                    and 1e-2 <= x <= 1e6 for x in self.initial_prices),
              self, "initial_prices", "three numbers in [0.01, 1e6] (basic, tech, green)")
        check(len(self.expectation_gains) == 3 and all(isinstance(g, (int, float)) and 0 <= g <= 1
                                                       for g in self.expectation_gains), self,
              "expectation_gains", "three numbers in [0, 1]")
        check_float(self, "wage", min=0.01, max=1e6)
        check_float(self, "initial_cash", min=0.0, max=1e9)
        check_float(self, "goods_elasticity", min=1.0, max=20.0, min_open=True)
        check_float(self, "variety_elasticity", min=1.0, max=50.0, min_open=True)
        check_float(self, "capacity_hours", min=1.0, max=3.0)
        check_float(self, "productivity_rho", min=0.0, max=1.0, max_open=True)
        check_float(self, "productivity_sigma", min=0.0, max=0.2)
        check_float(self, "catch_up", min=0.0, max=1.0)
        check_float(self, "wage_phillips", min=0.0, max=1.0)
        check_float(self, "rotemberg", min=0.0, max=1e3)
        check_float(self, "debt_repayment", min=0.0, max=1.0, min_open=True)
        check_float(self, "inflation_target_annual", min=-0.1, max=0.5)
        check_float(self, "expectation_noise", min=0.0, max=0.1)


def annualize(rate_quarterly: torch.Tensor) -> torch.Tensor:
    """Quarterly decimal rate -> annual decimal rate, compounding four quarters."""
    return (1 + rate_quarterly) ** 4 - 1


def quarterly(rate_annual: torch.Tensor) -> torch.Tensor:
    """Annual decimal rate -> quarterly decimal rate."""
    return (1 + rate_annual).clamp_min(1e-6) ** 0.25 - 1


@dataclass
class DiverselandState:
    prices: torch.Tensor            # [E, 3, 2] dollars: (good, firm / fringe)
    deposits: torch.Tensor          # [E, 3] household deposits (money; negative: an overdraft), dollars
    dividend: torch.Tensor          # [E] producers' profits paid out last quarter, dollars
    wage: torch.Tensor              # [E, 3] dollars per hour, household g in sector g
    hours: torch.Tensor             # [E, 3] last quarter's hours per sector (normal = 1)
    log_prod_shock: torch.Tensor    # [E, 3]
    cpi: torch.Tensor               # [E], 1 at the start (geometric mean of the posted prices over base)
    inflation: torch.Tensor         # [E] quarterly decimal, last quarter
    expectation_annual: torch.Tensor  # [E, 3] household inflation expectations (decimal per year) for the coming year
    contract_expectation: torch.Tensor  # [E, 3] the quarterly inflation last quarter's wage contracts expected
    markup: torch.Tensor            # [E, 3] the firm's markups last quarter
    policy_rate_annual: torch.Tensor  # [E]
    stimulus_share: torch.Tensor      # [E]
    nominal_output: torch.Tensor      # [E] dollars, last quarter
    output_gap: torch.Tensor          # [E] last quarter
    debt: torch.Tensor                # [E] government debt, dollars

    def clone(self) -> "DiverselandState":
        return DiverselandState(**{k: v.clone() for k, v in self.__dict__.items()})

    def repeat(self, n: int, index: int = 0) -> "DiverselandState":
        """``n`` copies of economy ``index`` (for the model-consistent forecast and paired experiments)."""
        return DiverselandState(**{k: v[index:index + 1].repeat_interleave(n, 0).clone()
                                   for k, v in self.__dict__.items()})


HOUSEHOLD_OBS = ("deposits_over_annual_wage", "own_real_rate_annual_x10", "inflation_annual_x10",
                 "policy_rate_annual_x10", "expectation_annual_x10", "own_hours_gap", "stimulus_share_x10",
                 "prefers_basic", "prefers_tech", "prefers_green")
FIRM_OBS = ("markup_basic", "markup_tech", "markup_green", "hours_gap_basic", "hours_gap_tech", "hours_gap_green",
            "inflation_annual_x10", "mean_expectation_annual_x10", "policy_rate_annual_x10", "output_gap_x10",
            "wage_growth_basic_x10", "wage_growth_tech_x10", "wage_growth_green_x10")
GOV_OBS = ("output_gap_x10", "inflation_annual_x10", "mean_expectation_annual_x10", "debt_over_annual_output",
           "policy_rate_annual_x10")
CB_OBS = ("inflation_annual_x10", "inflation_gap_x10", "output_gap_x10", "mean_expectation_annual_x10",
          "policy_rate_annual_x10", "stimulus_share_x10")


class Diverseland(BatchedEconomy):
    """The Diverseland economy, batched over ``num_envs`` copies. See the module docstring."""

    macro_units = {"inflation_annual": "decimal per year", "policy_rate_annual": "decimal per year",
                   "stimulus_share": "share of output", "output_gap": "share of potential",
                   "nominal_output": "dollars", "cpi": "index, start = 1", "wage_index": "index, start = 1",
                   "spending": "dollars", "real_spending": "dollars at base prices",
                   "expectation_A": "decimal per year", "expectation_B": "decimal per year",
                   "expectation_C": "decimal per year", "real_rate_A": "decimal per year",
                   "real_rate_B": "decimal per year", "real_rate_C": "decimal per year",
                   "price_basic": "dollars", "price_tech": "dollars", "price_green": "dollars",
                   "wage_A": "dollars per hour", "wage_B": "dollars per hour", "wage_C": "dollars per hour",
                   "money": "dollars", "money_change": "dollars", "transfer": "dollars", "repayment_tax": "dollars",
                   "interest_paid": "dollars", "interest_tax": "dollars", "sold_out_share": "share of varieties",
                   "redenomination": "factor (1: none)"}
    SHOCKS = {"policy_rate": "added to the central bank's rate, decimal per year (0.01 = +100 bp)",
              "stated_expectation_A": "added to household A's expectation, decimal per year (0.01 = +1 pp)"}

    def __init__(self, config: DiverselandConfig | None = None, num_envs: int = 1, device="auto"):
        super().__init__(num_envs, device)
        self.config = config or DiverselandConfig()
        c, d = self.config, self.device
        other = (1 - c.preference_own) / 2
        self.taste = torch.full((3, 3), other, device=d)
        self.taste.fill_diagonal_(c.preference_own)
        self.fringe_markup = 1.0 / (c.variety_elasticity - 1.0)
        base = torch.tensor(c.initial_prices, device=d, dtype=torch.float32)
        self.base_prices = base.unsqueeze(-1).expand(3, 2).clone()        # [3 goods, 2 varieties]
        # productivity (units per hour) at which the fringe's price is the base price at the starting wage
        self.base_productivity = (1 + self.fringe_markup) * c.wage / base
        self.gains = torch.tensor(c.expectation_gains, device=d, dtype=torch.float32)
        #: government debt (= money) per dollar of quarterly nominal output in the starting state
        self.debt_ratio = 3 * c.initial_cash / float((base * self.base_productivity).sum())
        self.specs = {
            "household": AgentSpec(3, len(HOUSEHOLD_OBS), Box(0.2, 1.0, (1,)), HOUSEHOLD_OBS),
            "firm": AgentSpec(1, len(FIRM_OBS), Box(0.0, 0.5, (3,)), FIRM_OBS),
            "government": AgentSpec(1, len(GOV_OBS), Box(0.0, 0.05, (1,)), GOV_OBS),
            "central_bank": AgentSpec(1, len(CB_OBS), Box(0.0, 0.12, (1,)), CB_OBS),
        }

    # ------------------------------------------------------------------ state
    def initial_state(self, n: int) -> DiverselandState:
        c, d = self.config, self.device
        z = lambda *s: torch.zeros(*s, device=d)  # noqa: E731
        target = c.inflation_target_annual
        return DiverselandState(
            prices=self.base_prices.expand(n, 3, 2).clone(), deposits=torch.full((n, 3), c.initial_cash, device=d),
            dividend=torch.full((n,), 3 * c.wage * self.fringe_markup, device=d),
            wage=torch.full((n, 3), c.wage, device=d), hours=torch.ones(n, 3, device=d), log_prod_shock=z(n, 3),
            cpi=torch.ones(n, device=d), inflation=torch.full((n,), (1 + target) ** 0.25 - 1, device=d),
            expectation_annual=target + c.expectation_noise * self.randn(n, 3),
            contract_expectation=torch.full((n, 3), (1 + target) ** 0.25 - 1, device=d),
            markup=torch.full((n, 3), self.fringe_markup, device=d),
            policy_rate_annual=torch.full((n,), 0.04, device=d), stimulus_share=z(n),
            nominal_output=torch.full((n,), float((self.base_prices[:, 0] * self.base_productivity).sum()), device=d),
            output_gap=z(n), debt=torch.full((n,), 3 * c.initial_cash, device=d))

    def set_expectations(self, expectation_annual: torch.Tensor) -> Dict[str, torch.Tensor]:
        """Replace the households' inflation expectations ``[E, 3]`` (decimal per year), e.g. with
        the ones they stated in messages; they set this quarter's wage contracts and real rates.
        Returns the new observations."""
        e = torch.as_tensor(expectation_annual, dtype=torch.float32, device=self.device).reshape(self.num_envs, 3)
        self.state.expectation_annual = e.clamp(-0.5, 1.0).clone()
        return self.observe()

    # ------------------------------------------------------------------ observations
    def observe(self, state: "DiverselandState | None" = None) -> Dict[str, torch.Tensor]:
        s, c = (self.state if state is None else state), self.config
        E = s.cpi.shape[0]
        x10 = lambda v: 10.0 * v  # noqa: E731  (rates of a few percent become numbers near 0.2-1)
        infl = annualize(s.inflation)
        mean_exp = s.expectation_annual.mean(-1)
        real_rate = s.policy_rate_annual.unsqueeze(-1) - s.expectation_annual
        col = lambda v: v.unsqueeze(-1).expand(E, 3)  # noqa: E731
        h = torch.stack([s.deposits / (4 * s.wage), x10(real_rate), col(x10(infl)), col(x10(s.policy_rate_annual)),
                         x10(s.expectation_annual), s.hours - 1, col(x10(s.stimulus_share))], -1)
        h = torch.cat([h, torch.eye(3, device=self.device).expand(E, 3, 3)], -1)
        wage_growth = annualize(s.contract_expectation)   # what the contracts built in, per year
        f = torch.cat([s.markup, s.hours - 1, torch.stack([x10(infl), x10(mean_exp), x10(s.policy_rate_annual),
                                                           x10(s.output_gap)], -1), x10(wage_growth)], -1).unsqueeze(1)
        g = torch.stack([x10(s.output_gap), x10(infl), x10(mean_exp), s.debt / (4 * s.nominal_output.clamp_min(1e-6)),
                         x10(s.policy_rate_annual)], -1).unsqueeze(1)
        cb = torch.stack([x10(infl), x10(infl - c.inflation_target_annual), x10(s.output_gap), x10(mean_exp),
                          x10(s.policy_rate_annual), x10(s.stimulus_share)], -1).unsqueeze(1)
        return {"household": h, "firm": f, "government": g, "central_bank": cb}

    def productivity(self, state: "DiverselandState | None" = None) -> torch.Tensor:
        """Units of each good an hour of work makes, ``[E, 3]``."""
        s = self.state if state is None else state
        return self.base_productivity * torch.exp(s.log_prod_shock)

    # ------------------------------------------------------------------ dynamics
    def transition(self, s: "DiverselandState", actions: Mapping[str, torch.Tensor]) -> Transition:
        c = self.config
        E = s.cpi.shape[0]
        spend_share = actions["household"].reshape(E, 3)
        markup = actions["firm"].reshape(E, 3)
        stimulus = actions["government"].reshape(E)
        rate_annual = (actions["central_bank"].reshape(E) + self.shocks["policy_rate"]).clamp(-0.05, 0.5)
        rate_q = quarterly(rate_annual)
        expectation = s.expectation_annual.clone()
        expectation[:, 0] = expectation[:, 0] + self.shocks["stated_expectation_A"]
        expectation = expectation.clamp(-0.5, 1.0)

        # 0. a currency reform when the price level leaves [1e-4, 1e4] (divides every nominal stock)
        out_of_band = (s.cpi > 1e4) | (s.cpi < 1e-4)
        redenom = torch.where(out_of_band, s.cpi, torch.ones_like(s.cpi))
        r1, r2 = redenom.unsqueeze(-1), redenom.reshape(E, 1, 1)
        prices_prev, deposits, wage_prev = s.prices / r2, s.deposits / r1, s.wage / r1
        cpi_prev, debt, nominal_prev = s.cpi / redenom, s.debt / redenom, s.nominal_output / redenom
        dividend_prev = s.dividend / redenom

        # 1. wage contracts on stated expectations, with catch-up for last quarter's surprise
        e_q = quarterly(expectation)                                                     # [E, 3]
        surprise = s.inflation.unsqueeze(-1) - s.contract_expectation
        growth = e_q + c.catch_up * surprise + c.wage_phillips * (s.hours - 1)
        wage = wage_prev * (1 + growth.clamp(-0.03, 0.06))

        # 2. productivity and prices: markups over unit labour cost
        log_prod = c.productivity_rho * s.log_prod_shock + c.productivity_sigma * self.randn(E, 3)
        prod = self.base_productivity * torch.exp(log_prod)                               # [E, 3]
        ulc = wage / prod
        prices = torch.stack([(1 + markup) * ulc, (1 + self.fringe_markup) * ulc], -1)   # [E, 3, 2]

        # 3. cash on hand: interest paid out of a lump-sum tax (never printed), stimulus out of debt
        interest, interest_tax = money.reserve_interest_and_tax(deposits, rate_q, 3)
        transfer = stimulus * nominal_prev
        # passive fiscal rule (Leeper 1991): lump-sum taxes (negative: transfers) steer the government's
        # debt, the money households hold, toward a fixed share of last quarter's nominal output
        debt_target = self.debt_ratio * nominal_prev
        repay = c.debt_repayment * (debt + transfer - debt_target)
        liquid = deposits + interest - interest_tax.unsqueeze(-1) + (transfer - repay).unsqueeze(-1) / 3
        # cash on hand counts this quarter's contracted wage for normal hours and last quarter's dividend:
        # a household may run an overdraft against income it is owed (paid at the end of the quarter)
        cash = liquid + wage + dividend_prev.unsqueeze(-1) / 3
        spend = spend_share * cash.clamp_min(0.0)                                          # [E, 3]

        # 4. goods market: CES across goods (taste weights) and across varieties; production to order
        within = goods.ces_expenditure_shares(prices, c.variety_elasticity)                # [E, 3, 2]
        good_index = goods.ces_price_index(prices, c.variety_elasticity)                   # [E, 3]
        # a good's price relative to its base price (units differ: a basket, a gadget), adjusted for taste
        relative = good_index / self.base_prices[:, 0]
        taste_adjusted = relative.unsqueeze(1) * self.taste.unsqueeze(0) ** (-1.0 / (c.goods_elasticity - 1.0))
        across = goods.ces_expenditure_shares(taste_adjusted, c.goods_elasticity)          # [E, 3 hh, 3 goods]
        orders = (spend.reshape(E, 3, 1, 1) * across.unsqueeze(-1) * within.unsqueeze(1)
                  / prices.unsqueeze(1)).reshape(E, 3, 6)                                  # [E, hh, 6] units
        capacity = (c.capacity_hours * prod / 2).repeat_interleave(2, -1)                  # [E, 6] (half a sector each)
        bought, sold, fill = goods.ration_among(orders, capacity)
        flat_prices = prices.reshape(E, 6)
        paid = (bought * flat_prices.unsqueeze(1)).sum(-1)                                 # [E, hh]
        revenue = sold * flat_prices                                                       # [E, 6]
        sold_out = sold >= capacity * (1 - 1e-6)

        # 5. incomes: hours per sector, wages, profits paid out equally
        output = sold.reshape(E, 3, 2)
        hours = output.sum(-1) / prod                                                      # [E, 3]
        wage_income = wage * hours
        wage_bill = wage.unsqueeze(-1) * output / prod.unsqueeze(-1)                       # [E, 3, 2]
        profit = revenue.reshape(E, 3, 2) - wage_bill
        dividends = profit.sum((1, 2))
        new_deposits = liquid - paid + wage_income + dividends.unsqueeze(-1) / 3
        new_debt = debt + transfer - repay

        # 6. measurement
        cpi = goods.price_index(prices.reshape(E, 6) / self.base_prices.reshape(1, 6))
        inflation = cpi / cpi_prev - 1
        infl_annual = annualize(inflation)
        base_p = self.base_prices[:, 0]
        real_output = (output.sum(-1) * base_p).sum(-1)
        potential = (prod * base_p).sum(-1)
        output_gap = real_output / potential - 1
        nominal_output = revenue.sum(-1)

        # 7. expectations: the economy's own adaptive rule (overridden by stated ones before the next step)
        # (a stated_expectation_A shock is what A *says*; its own forecast updates from what it held)
        held = s.expectation_annual
        new_expectation = (held + self.gains * (infl_annual.unsqueeze(-1) - held)
                           + c.expectation_noise * self.randn(E, 3)).clamp(-0.5, 1.0)

        # rewards
        q = bought.reshape(E, 3, 3, 2).sum(-1) / (self.base_productivity / 3)              # [E, hh, goods] vs normal share
        r_house = (self.taste.unsqueeze(0) * torch.log(q.clamp_min(1e-6))).sum(-1)
        firm_revenue = revenue.reshape(E, 3, 2)[..., 0]
        adjust = pricing.rotemberg_cost(prices[..., 0], prices_prev[..., 0], firm_revenue, c.rotemberg,
                                        indexation=quarterly(torch.tensor(c.inflation_target_annual))).sum(-1)
        r_firm = ((profit[..., 0].sum(-1) - adjust) / cpi / (3 * c.wage)).unsqueeze(-1)
        gap_pi = infl_annual - c.inflation_target_annual
        # central bank: quadratic loss in inflation and output gaps (Gali 2015, ch. 5)
        r_cb = (-100.0 * (gap_pi ** 2 + 0.5 * output_gap ** 2)).unsqueeze(-1)
        r_gov = (-100.0 * (output_gap ** 2 + 0.5 * stimulus ** 2)).unsqueeze(-1)

        new = DiverselandState(
            prices=prices, deposits=new_deposits, dividend=dividends, wage=wage, hours=hours, log_prod_shock=log_prod, cpi=cpi,
            inflation=inflation, expectation_annual=new_expectation, contract_expectation=e_q, markup=markup,
            policy_rate_annual=rate_annual, stimulus_share=stimulus, nominal_output=nominal_output.clamp_min(1e-6),
            output_gap=output_gap, debt=new_debt)
        spent = paid.sum(-1)
        macro = {
            "inflation_annual": infl_annual, "policy_rate_annual": rate_annual, "stimulus_share": stimulus,
            "output_gap": output_gap, "nominal_output": nominal_output, "cpi": cpi,
            "wage_index": torch.exp(torch.log(wage / c.wage).mean(-1)),
            "spending": spent, "real_spending": real_output,
            "price_basic": prices[:, 0, 0], "price_tech": prices[:, 1, 0], "price_green": prices[:, 2, 0],
                "money": new_deposits.sum(-1), "money_change": new_deposits.sum(-1) - deposits.sum(-1),
            "transfer": transfer, "repayment_tax": repay, "interest_paid": interest.sum(-1),
            "interest_tax": 3 * interest_tax, "sold_out_share": sold_out.float().mean(-1), "redenomination": redenom,
        }
        for i, k in enumerate("ABC"):
            macro[f"expectation_{k}"] = expectation[:, i]
            macro[f"real_rate_{k}"] = rate_annual - expectation[:, i]
            macro[f"wage_{k}"] = wage[:, i]
        info = {"bought": bought, "sold": sold, "orders": orders, "capacity": capacity, "paid": paid, "spend": spend,
                "revenue": revenue, "hours": hours, "prices": prices, "fill": fill}
        done = torch.full((E,), self.t >= c.episode_len, dtype=torch.bool, device=self.device)
        reward = {"household": r_house, "firm": r_firm, "government": r_gov, "central_bank": r_cb}
        return Transition(new, reward, done, macro, info)

    # ------------------------------------------------------------------ forecasts
    def rational_expectation(self, policy, num_draws: int = 64, index: int = 0, horizon: int = 4) -> float:
        """Model-consistent forecast of inflation over the next year (decimal), from economy ``index``.

        ``num_draws`` copies of the current state are simulated ``horizon`` quarters ahead with the
        agents' own decision rules ``policy(obs) -> actions`` and fresh productivity shocks; the
        mean of the compounded inflation is the benchmark (Muth 1961): the forecast the model itself
        implies under those rules. Expectations follow the economy's adaptive rule in the copies.
        """
        ghost = Diverseland(self.config.replace(episode_len=10**9), num_envs=num_draws, device=self.device)
        ghost.generator.manual_seed(int(torch.randint(0, 2**31 - 1, (1,), generator=self.generator, device=self.device)))
        ghost.state = self.state.repeat(num_draws, index)
        ghost.t = self.t
        ghost.check_actions = False
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


__all__ = ["Diverseland", "DiverselandConfig", "DiverselandState", "GOODS", "HOUSEHOLDS", "annualize", "quarterly",
           "adaptive_expectations"]
