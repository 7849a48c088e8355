"""A consumption-savings (cake-eating) economy, batched: ``num_envs`` households at once.

Defined in Chapter 1 (notebooks/01_rl_fundamentals.ipynb), where it makes the vocabulary of
reinforcement learning concrete on a problem whose answer is known.

The model. A household holds wealth ``W_t > 0`` and each period chooses the share
``s_t = c_t / W_t`` of it to consume. Period utility is ``log c_t``, the discount factor is
``beta``. Two variants:

* ``income="none"`` (deterministic cake eating): ``W_{t+1} = R (W_t - c_t)``. With log utility
  the optimal rule is the closed form ``c_t = (1 - beta) W_t`` whatever ``R`` is
  (e.g. Stokey and Lucas 1989, sec. 2.1; Adda and Cooper 2003, ch. 2), with value
  ``V(W) = A + log(W) / (1 - beta)``,
  ``A = [log(1 - beta) + beta / (1 - beta) * log(beta R)] / (1 - beta)``.
* ``income="iid"`` (stochastic income, a buffer-stock saver, Deaton 1991): ``W_t`` is cash on
  hand and ``W_{t+1} = R (W_t - c_t) + y_{t+1}`` with income ``y`` drawn i.i.d. from
  ``{income_low, income_high}`` (``income_high`` with probability ``income_prob_high``).
  There is no closed form; ``macrobook.analysis.dp.solve_vfi`` is the ground truth.

The horizon. The household lives forever and discounts by ``beta``. A simulation cannot run
forever, so each period the household "dies" (its economy's episode ends and restarts with a
fresh household) with probability ``1 - beta``: then the expected undiscounted sum of utility
equals the discounted sum, ``E[sum_{t <= tau} u_t] = sum_t beta^t u_t`` (the survival
interpretation of discounting, Yaari 1965). A learner may therefore either

* use ``gamma = 1`` and treat ``done`` as terminal (PPO, REINFORCE and A2C in Chapter 1), or
* use ``gamma = beta`` and bootstrap through ``done`` from ``info["final_obs"]`` (the
  pre-restart observation): the restart is then only a fresh start for exploration
  (tabular Q-learning in Chapter 1, which cannot afford the noise of sampled deaths).

Set ``death_prob`` to change the restart rate (``None`` means ``1 - beta``). With a smaller
death rate ``p`` the discount splits into survival and impatience, ``beta = gamma (1 - p)``
(Yaari 1965): a learner that treats death as terminal then uses ``gamma = beta / (1 - p)``
(``CakeConfig.survival_gamma``). Fewer deaths mean less noise in the learner's targets, since
a sampled death swings the target by the whole continuation value.

Observation (``obs_dim = 1``): ``log(W_t)``, the log of wealth (cash on hand). Log wealth
because the problem is scale-free in ``W`` and wealth spans orders of magnitude.

Action: the consumption share ``s = c / W`` in ``[share_min, share_max]`` (a ``Box``). The
bounds keep consumption and next-period wealth strictly positive (log utility).

Reward: ``log(c_t)``; ``log c = log s + log W`` is computed in logs so that no wealth level
underflows. Wealth never becomes negative: ``W' = R (1 - s) W (+ y)`` with ``s < 1``.

New households draw ``W_0`` log-uniformly on ``[wealth_min, wealth_max]``, the wealth grid on
which the chapter compares learned consumption rules with the truth.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Dict, Mapping

import torch

from ..config import Config, check, check_choice, check_float, check_int
from ..contract import AgentSpec, Box
from .base import BatchedEconomy, Transition

OBS_NAMES = ("log_wealth",)


@dataclass
class CakeConfig(Config):
    """Parameters of the consumption-savings problem (wealth in units of the consumption good)."""

    #: beta: the discount factor per period
    beta: float = 0.9
    #: R: gross return on wealth carried to the next period
    gross_return: float = 1.0
    #: "none": deterministic cake eating; "iid": i.i.d. two-point income each period
    income: str = "none"
    income_low: float = 0.5
    income_high: float = 1.5
    income_prob_high: float = 0.5
    #: new households draw W_0 log-uniformly on [wealth_min, wealth_max]
    wealth_min: float = 0.5
    wealth_max: float = 5.0
    #: the consumption share c / W is restricted to [share_min, share_max]
    share_min: float = 0.01
    share_max: float = 0.99
    #: probability per period that a household's life (its episode) ends; None: 1 - beta
    death_prob: float | None = None
    num_households: int = 1

    def validate(self) -> None:
        check_float(self, "beta", min=0.0, max=1.0, min_open=True, max_open=True)
        check_float(self, "gross_return", min=0.0, min_open=True)
        check_choice(self, "income", ["none", "iid"])
        check_float(self, "income_low", min=0.0, min_open=True)
        check_float(self, "income_high", min=0.0, min_open=True)
        check(self.income_high >= self.income_low, self, "income_high", f">= income_low={self.income_low}")
        check_float(self, "income_prob_high", min=0.0, max=1.0)
        check_float(self, "wealth_min", min=0.0, min_open=True)
        check_float(self, "wealth_max", min=0.0, min_open=True)
        check(self.wealth_max > self.wealth_min, self, "wealth_max", f"> wealth_min={self.wealth_min}")
        check_float(self, "share_min", min=0.0, max=1.0, min_open=True, max_open=True)
        check_float(self, "share_max", min=0.0, max=1.0, min_open=True, max_open=True)
        check(self.share_max > self.share_min, self, "share_max", f"> share_min={self.share_min}")
        if self.death_prob is not None:
            # gamma = beta / (1 - death_prob) must not exceed 1: deaths can carry at most all the discounting.
            check_float(self, "death_prob", min=0.0, max=1.0 - self.beta, min_open=True)
        check_int(self, "num_households", min=1, max=100_000)
        if self.income == "none":
            # The closed form must be feasible inside the action bounds, or the chapter's truth is wrong.
            s = 1.0 - self.beta
            check(self.share_min <= s <= self.share_max, self, "beta",
                  f"such that 1 - beta lies in [share_min, share_max] = [{self.share_min}, {self.share_max}]")

    # ------------------------------------------------------------- closed forms
    @property
    def restart_prob(self) -> float:
        """The probability per period that a household's episode ends."""
        return 1.0 - self.beta if self.death_prob is None else float(self.death_prob)

    @property
    def survival_gamma(self) -> float:
        """The discount a learner that treats death as terminal must use: gamma (1 - death_prob) = beta."""
        return self.beta / (1.0 - self.restart_prob)

    def optimal_share(self) -> float:
        """Deterministic case: c / W = 1 - beta (log utility, any R)."""
        return 1.0 - self.beta

    def optimal_consumption(self, wealth):
        """Deterministic case: c = (1 - beta) W."""
        return (1.0 - self.beta) * wealth

    def optimal_value(self, wealth):
        """Deterministic case: V(W) = A + log(W) / (1 - beta), A as in the module docstring."""
        b, R = self.beta, self.gross_return
        A = (math.log(1.0 - b) + b / (1.0 - b) * math.log(b * R)) / (1.0 - b)
        if isinstance(wealth, torch.Tensor):
            return A + torch.log(wealth) / (1.0 - b)
        import numpy as np

        return A + np.log(wealth) / (1.0 - b)

    def wealth_grid(self, n: int = 50):
        """``n`` log-spaced wealth levels on [wealth_min, wealth_max] (float64 numpy)."""
        import numpy as np

        return np.geomspace(self.wealth_min, self.wealth_max, n)

    def income_values(self) -> tuple[tuple[float, float], ...]:
        """((income, probability), ...) of next period's income; ((0, 1),) without income."""
        if self.income == "none":
            return ((0.0, 1.0),)
        p = self.income_prob_high
        return ((self.income_low, 1.0 - p), (self.income_high, p))


# ----------------------------------------------------------------- the transition as tensor ops
def budget(wealth: torch.Tensor, share: torch.Tensor, gross_return: float, income: torch.Tensor | float = 0.0):
    """One period of the budget constraint for all households at once (shapes ``[E, n]``).

    c = s W;   W' = R (W - c) + y = R (1 - s) W + y.   Returns (consumption, next wealth).
    """
    consumption = share * wealth
    next_wealth = gross_return * (1.0 - share) * wealth + income
    return consumption, next_wealth


def mean_relative_error(learned_consumption, true_consumption) -> float:
    """mean_i |c_learned(W_i) - c_true(W_i)| / c_true(W_i) over a wealth grid (the chapter's metric)."""
    import numpy as np

    a = np.asarray(learned_consumption, dtype=np.float64)
    b = np.asarray(true_consumption, dtype=np.float64)
    return float(np.mean(np.abs(a - b) / np.abs(b)))


@dataclass
class CakeState:
    log_wealth: torch.Tensor   # [E, n] log of each household's wealth


class CakeEatingEconomy(BatchedEconomy):
    """``num_envs`` independent households solving the consumption-savings problem (module docstring).

    Agent type ``"household"``: obs ``[E, n, 1]`` = log wealth; action ``[E, n, 1]`` = the
    consumption share c / W; reward ``[E, n]`` = log c.

    macro (each ``[E]``, means over the economy's households): consumption, wealth (at the
    start of the period), consumption_share, income (received at the end of the period).
    ``info["final_obs"]``: ``{"household": [E, n, 1]}``, the observation after the step *before*
    any restart (equal to ``obs`` where no economy restarted).
    """

    #: a death draws a fresh household: draw every period so the stream does not depend on deaths
    redraw_every_step = True

    macro_units = {
        "consumption": "goods per period",
        "wealth": "goods (start of period)",
        "consumption_share": "share of wealth",
        "income": "goods per period",
    }

    def __init__(self, config: CakeConfig | None = None, num_envs: int = 1, device="auto"):
        super().__init__(num_envs, device)
        self.config = config if config is not None else CakeConfig()
        cfg = self.config
        self.n = cfg.num_households
        self.specs = {
            "household": AgentSpec(
                count=self.n, obs_dim=1, action=Box(cfg.share_min, cfg.share_max, (1,)), obs_names=OBS_NAMES
            )
        }
        self.state = CakeState(torch.zeros(num_envs, self.n, device=self.device))

    @property
    def log_wealth(self) -> torch.Tensor:
        """Log wealth of every household, ``[E, n]``."""
        return self.state.log_wealth

    # ----------------------------------------------------------------- the economics
    def initial_state(self, num_envs: int) -> "CakeState":
        lo, hi = math.log(self.config.wealth_min), math.log(self.config.wealth_max)
        return CakeState(lo + (hi - lo) * self.rand(num_envs, self.n))

    def observe(self, state: "CakeState | None" = None) -> Dict[str, torch.Tensor]:
        state = self.state if state is None else state
        return {"household": state.log_wealth.unsqueeze(-1).clone()}

    def set_wealth(self, wealth: torch.Tensor) -> Dict[str, torch.Tensor]:
        """Put every household at the given wealth ``[E, n]`` (for evaluation on a grid); returns obs."""
        wealth = torch.as_tensor(wealth, dtype=torch.float32, device=self.device).reshape(self.num_envs, self.n)
        if not bool((wealth > 0).all()):
            raise ValueError("wealth must be positive")
        self.state = CakeState(torch.log(wealth))
        return self.observe()

    def transition(self, state: "CakeState", actions: Mapping[str, torch.Tensor]) -> Transition:
        cfg = self.config
        log_wealth = state.log_wealth
        share = actions["household"][..., 0].clamp(cfg.share_min, cfg.share_max)   # [E, n]
        # Draws are made every step in both variants so the random stream does not depend on the variant.
        income_draw = self.rand(self.num_envs, self.n)
        death_draw = self.rand(self.num_envs)

        log_consumption = torch.log(share) + log_wealth
        reward = log_consumption
        wealth = torch.exp(log_wealth)
        if cfg.income == "none":
            # In logs: log W' = log R + log(1 - s) + log W (no underflow however long a life is).
            next_log_wealth = math.log(cfg.gross_return) + torch.log1p(-share) + log_wealth
            income = torch.zeros_like(share)
        else:
            income = torch.where(income_draw < cfg.income_prob_high,
                                 torch.full_like(share, cfg.income_high), torch.full_like(share, cfg.income_low))
            _, next_wealth = budget(wealth, share, cfg.gross_return, income)
            next_log_wealth = torch.log(next_wealth)

        macro = {
            "consumption": torch.exp(log_consumption).mean(-1),
            "wealth": wealth.mean(-1),
            "consumption_share": share.mean(-1),
            "income": income.mean(-1),
        }
        # a household dies with probability restart_prob: the base class restarts it from a fresh draw
        return Transition(CakeState(next_log_wealth), {"household": reward}, death_draw < cfg.restart_prob, macro)
