"""Chapter 7's experiment drivers: the frontier claims of the literature, tested on the book's economies.

Defined in Chapter 7 (notebooks/07_frontiers.ipynb). Each driver returns tidy pandas tables (one row per
run) that the chapter summarises with intervals across seeds and turns into verdicts with
:func:`verdict`. Every run is seeded; the same seed and thread count give the same numbers.

1. :func:`activation_run` trains PPO on a problem with a known answer (cake eating against its closed
   form, the buffer-stock saver against value function iteration, the Cournot duopoly against its Nash
   quantity) with one activation function, recording the error as it learns and the gradient norm of
   every layer of the actor.
2. :func:`long_horizon` runs a trained policy for many more periods than it was trained on.
3. :func:`ai_comparative_statics` and :func:`optimal_ai_tax` trace the AI-adoption economy; a learned
   government is trained by :func:`train_ai_government`.
4. :class:`RoutedActor` routes each agent to a mixture of skill sub-networks (:func:`routing_run`).
5. Distillation lives in :mod:`macrobook.analysis.distill`; :func:`cost_table` counts agent-steps and seconds.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Callable, Dict, Sequence

import numpy as np
import pandas as pd
import torch
from torch import nn

from ..algos.ppo import PPO, PPOConfig
from ..analysis.dp import solve_vfi
from ..envs.ai_adoption import AIAdoptionConfig, AIAdoptionEconomy, equilibrium
from ..envs.cake import CakeConfig, CakeEatingEconomy, mean_relative_error
from ..envs.cournot import CournotConfig, CournotEconomy, clear_market
from ..nets import Actor, mlp
from ..train import Trainer
from ..utils import seed_everything

ACTIVATION_NAMES = ("relu", "tanh", "silu", "gelu", "weierstrass_tanh")
PROBLEMS = ("cake", "buffer_stock", "cournot")
#: a run whose final error exceeds this (or is not finite) counts as a failure
FAILURE_ERROR = 0.25
#: the error a run must reach for "learning speed" (agent-steps until first below it)
TARGET_ERROR = 0.10


# ============================================================================ statistics and verdicts
#: two-sided 95% quantiles of Student's t for 1..10 degrees of freedom (any table); 1.96 beyond
_T975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228)


def t_interval(x: Sequence[float]) -> tuple[float, float, float]:
    """Mean and 95% Student-t interval across seeds: (mean, low, high). One value gives (x, nan, nan);
    non-finite values (diverged runs) are left out of the interval and counted as failures elsewhere."""
    x = np.asarray([v for v in x if np.isfinite(v)], float)
    if len(x) == 0:
        return float("nan"), float("nan"), float("nan")
    m = float(x.mean())
    if len(x) < 2:
        return m, float("nan"), float("nan")
    t = _T975[len(x) - 2] if len(x) - 1 <= len(_T975) else 1.96
    half = float(t * x.std(ddof=1) / math.sqrt(len(x)))
    return m, m - half, m + half


def verdict(candidate: Sequence[float], baseline: Sequence[float], lower_is_better: bool = True) -> str:
    """Compare two sets of per-seed results by their 95% intervals of the mean.

    "better" or "worse" only when the intervals do not overlap; "within the seed spread" otherwise.
    """
    _, lo_c, hi_c = t_interval(candidate)
    _, lo_b, hi_b = t_interval(baseline)
    if not all(np.isfinite([lo_c, hi_c, lo_b, hi_b])):
        return "not enough seeds"
    if hi_c < lo_b:
        return "better" if lower_is_better else "worse"
    if lo_c > hi_b:
        return "worse" if lower_is_better else "better"
    return "within the seed spread"


def summarise(df: pd.DataFrame, by: Sequence[str], value: str) -> pd.DataFrame:
    """Mean and 95% t-interval of ``value`` across seeds for every group in ``by``."""
    rows = []
    for key, g in df.groupby(list(by), sort=False):
        m, lo, hi = t_interval(g[value])
        key = key if isinstance(key, tuple) else (key,)
        rows.append({**dict(zip(by, key)), "mean": m, "low": lo, "high": hi, "seeds": len(g)})
    return pd.DataFrame(rows)


# ============================================================================ 1. activations
@dataclass
class Problem:
    """A problem with a known answer: how to build it, train it and measure its error."""

    name: str
    make_economy: Callable[[int], object]
    ppo_config: Callable[[str], PPOConfig]
    rollout_len: int
    error: Callable[[PPO], float]


_TRUTH_CACHE: Dict[str, np.ndarray] = {}


def _cake_problem(income: str) -> Problem:
    cfg = CakeConfig(beta=0.9, income=income)
    wealth = cfg.wealth_grid(50)
    if income == "none":
        truth = cfg.optimal_consumption(wealth)
    else:
        if "buffer_stock" not in _TRUTH_CACHE:
            _TRUTH_CACHE["buffer_stock"] = solve_vfi(cfg, grid_size=150).policy_consumption(wealth)
        truth = _TRUTH_CACHE["buffer_stock"]
    obs_grid = torch.tensor(np.log(wealth), dtype=torch.float32).reshape(-1, 1, 1)

    def error(learner: PPO) -> float:
        with torch.no_grad():
            share = learner.act(obs_grid, deterministic=True)[0].reshape(-1).double().numpy()
        return mean_relative_error(share * wealth, truth) if np.all(np.isfinite(share)) else float("inf")

    def config(act: str) -> PPOConfig:
        # Chapter 1's PPO set-up (squashed Gaussian head, restarts as time limits), one activation changed
        return PPOConfig(lr=3e-3, gamma=cfg.beta, bootstrap_on_done=True, box_head="squashed", gae_lambda=0.9,
                         ent_coef=0.0, hidden=(32, 32, 32), vf_clip=None, reward_scale=0.1, minibatches=2,
                         activation=act)

    return Problem("cake" if income == "none" else "buffer_stock",
                   lambda n: CakeEatingEconomy(cfg, num_envs=n, device="cpu"), config, 16, error)


def _cournot_problem() -> Problem:
    cfg = CournotConfig(num_firms=2)
    q_nash = cfg.nash_quantity()

    def error(learner: PPO) -> float:
        # |mean greedy quantity - q^N| / q^N in the duopoly's own play (both firms use the shared policy)
        econ = CournotEconomy(cfg, num_envs=64, device="cpu")
        obs, qs = econ.reset(seed=10_000), []
        with torch.no_grad():
            for _ in range(cfg.episode_length):
                out = econ.step({"firm": learner.act(obs["firm"], deterministic=True)[0]})
                qs.append(out.info["quantity"])
                obs = out.obs
        return float(abs(torch.cat(qs).mean().item() - q_nash) / q_nash)

    def config(act: str) -> PPOConfig:
        # Chapter 2's PPO set-up, parameter sharing, one activation changed
        return PPOConfig(lr=3e-3, gamma=0.9, ent_coef=0.01, reward_scale=0.1, hidden=(32, 32, 32), activation=act)

    return Problem("cournot", lambda n: CournotEconomy(cfg, num_envs=n, device="cpu"), config, 16, error)


def make_problem(name: str) -> Problem:
    if name == "cake":
        return _cake_problem("none")
    if name == "buffer_stock":
        return _cake_problem("iid")
    if name == "cournot":
        return _cournot_problem()
    raise ValueError(f"problem must be one of {PROBLEMS}, got {name!r}")


def _layer_grad_hooks(actor: nn.Module, store: list[list[float]]):
    """Record the gradient norm of every Linear weight of the actor at each backward pass (before clipping)."""
    linears = [m for m in actor.modules() if isinstance(m, nn.Linear)]
    for _ in linears:
        store.append([])
    handles = []
    for k, lin in enumerate(linears):
        handles.append(lin.weight.register_hook(lambda g, k=k: store[k].append(float(g.norm())) or None))
    return handles


def activation_run(problem: str, activation: str, seed: int, iterations: int, num_envs: int,
                   eval_every: int = 5, keep: bool = False) -> dict:
    """Train PPO on ``problem`` with ``activation``; return errors, learning speed and gradient norms.

    Gradient norms are per Linear layer of the actor, input layer first, averaged over all updates;
    ``grad_ratio`` = input-layer norm / output-layer norm (far below 1: vanishing towards the input;
    far above: exploding). ``keep=True`` adds the trained learner under ``"learner"``.
    """
    p = make_problem(problem)
    seed_everything(seed)
    econ = p.make_economy(num_envs)
    learner = PPO(econ.specs[next(iter(econ.specs))], p.ppo_config(activation), device="cpu")
    grads: list[list[float]] = []
    handles = _layer_grad_hooks(learner.actor, grads)
    trainer = Trainer(econ, {next(iter(econ.specs)): learner}, rollout_len=p.rollout_len, seed=seed, progress=False)
    curve = []
    t0 = time.perf_counter()
    for it in range(0, iterations, eval_every):
        trainer.train(min(eval_every, iterations - it))
        curve.append((trainer.env_steps * econ.specs[next(iter(econ.specs))].count, p.error(learner)))
    seconds = time.perf_counter() - t0
    for h in handles:
        h.remove()
    final = curve[-1][1]
    reached = [s for s, e in curve if e <= TARGET_ERROR]
    layer_norms = [float(np.mean(g)) if g else float("nan") for g in grads]
    finite = np.isfinite(final)
    out = {"problem": problem, "activation": activation, "seed": seed, "final_error": final,
           "steps_to_target": reached[0] if reached else float("nan"),
           "failed": bool((not finite) or final > FAILURE_ERROR),
           "grad_input_layer": layer_norms[0], "grad_output_layer": layer_norms[-1],
           "grad_ratio": layer_norms[0] / layer_norms[-1] if layer_norms[-1] > 0 else float("nan"),
           "grad_max": float(max(max(g) for g in grads if g)) if any(grads) else float("nan"),
           "agent_steps": curve[-1][0], "seconds": seconds,
           "curve": curve, "layer_norms": layer_norms}
    if keep:
        out["learner"] = learner
    return out


def activation_sweep(problems: Sequence[str], activations: Sequence[str], seeds: Sequence[int], iterations: int,
                     num_envs: int, keep_for: Sequence[str] = (), progress: bool = False):
    """Every (problem, activation, seed). Returns (runs DataFrame, {(problem, activation, seed): learner})."""
    rows, kept = [], {}
    for prob in problems:
        for act in activations:
            for s in seeds:
                r = activation_run(prob, act, s, iterations, num_envs, keep=(prob, act) in keep_for
                                   or prob in keep_for)
                if "learner" in r:
                    kept[(prob, act, s)] = r.pop("learner")
                rows.append(r)
                if progress:
                    print(f"{prob:>12} {act:>16} seed {s}: error {r['final_error']:.3f} ({r['seconds']:.1f} s)")
    return pd.DataFrame(rows), kept


# ============================================================================ 2. long horizons
@torch.no_grad()
def long_horizon_cake(learner: PPO, steps: int, clip_obs: tuple[float, float] | None = None,
                      num_households: int = 16, seed: int = 0) -> pd.DataFrame:
    """Run a trained cake-eating policy ``steps`` periods with no restarts (a life far beyond training).

    The economy is the one the policy was trained on except that nobody dies: ``death_prob`` is 1e-12.
    ``clip_obs`` (the remedy) clips log wealth to the training range before the policy sees it.
    Columns: period, share (mean over households), log_wealth (mean), identity_residual (largest
    |log W' - log R - log(1 - s) - log W| this period: the budget constraint in logs).
    """
    cfg0 = CakeConfig(beta=0.9)
    cfg = CakeConfig(beta=cfg0.beta, death_prob=1e-12, gross_return=cfg0.gross_return)
    econ = CakeEatingEconomy(cfg, num_envs=num_households, device="cpu")
    obs = econ.reset(seed=seed)["household"]
    rows = []
    for t in range(steps):
        seen = obs if clip_obs is None else obs.clamp(*clip_obs)
        a = learner.act(seen, deterministic=True)[0]
        log_w = econ.log_wealth.clone()
        out = econ.step({"household": a})
        share = a[..., 0].clamp(cfg.share_min, cfg.share_max)
        resid = (out.info["final_obs"]["household"][..., 0] - (math.log(cfg.gross_return) + torch.log1p(-share) + log_w)).abs()
        rows.append((t, float(share.mean()), float(log_w.mean()), float(resid.max())))
        obs = out.obs["household"]
    return pd.DataFrame(rows, columns=["period", "share", "log_wealth", "identity_residual"])


@torch.no_grad()
def long_horizon_cournot(learner: PPO, steps: int, train_length: int = 16, clip_clock: bool = False,
                         num_envs: int = 16, seed: int = 0) -> pd.DataFrame:
    """Run a trained Cournot duopoly ``steps`` periods in one long episode.

    The policy was trained on 16-period episodes and observes the period as ``t / 16``; here that
    clock keeps running (t / 16 reaches ``steps / 16``). ``clip_clock`` (the remedy) caps it at 1.
    Columns: period, mean_quantity, price, identity_residual (largest |profit - (P - c) q| with
    P = max(0, a - b Q): the market's accounting).
    """
    cfg = CournotConfig(num_firms=2, episode_length=steps + 1)
    econ = CournotEconomy(cfg, num_envs=num_envs, device="cpu")
    obs = econ.reset(seed=seed)["firm"]
    rows = []
    for t in range(steps):
        o = obs.clone()
        clock = torch.full_like(o[..., 3], t / train_length)
        o[..., 3] = clock.clamp(max=1.0) if clip_clock else clock
        a = learner.act(o, deterministic=True)[0]
        out = econ.step({"firm": a})
        q = out.info["quantity"]
        price, profit = clear_market(q, cfg)
        manual = ((cfg.demand_intercept - cfg.demand_slope * q.sum(-1)).clamp_min(0).unsqueeze(-1)
                  - cfg.marginal_cost) * q
        resid = float((out.info["profit"] - manual).abs().max())
        rows.append((t, float(q.mean()), float(out.macro["price"].mean()), resid))
        obs = out.obs["firm"]
    return pd.DataFrame(rows, columns=["period", "mean_quantity", "price", "identity_residual"])


def first_exit(values: np.ndarray, low: float, high: float) -> float:
    """The first index at which ``values`` leaves [low, high] (nan if it never does)."""
    idx = np.flatnonzero((values < low) | (values > high))
    return float(idx[0]) if len(idx) else float("nan")


# ============================================================================ 3. AI adoption
@torch.no_grad()
def ai_comparative_statics(prices: Sequence[float], tax: float | Sequence[float] = 0.0,
                           config: AIAdoptionConfig | None = None) -> pd.DataFrame:
    """The AI-adoption economy's equilibrium at each AI price (one economy per price, one step each)."""
    cfg = config or AIAdoptionConfig()
    econ = AIAdoptionEconomy(cfg, num_envs=len(prices), device="cpu")
    econ.reset(seed=0)
    econ.set_ai_price(prices)
    tau = torch.as_tensor(np.broadcast_to(np.asarray(tax, float), (len(prices),)).copy(), dtype=torch.float32)
    out = econ.step({"government": tau.reshape(-1, 1, 1)})
    df = pd.DataFrame({k: v.numpy() for k, v in out.macro.items()})
    return df


@torch.no_grad()
def optimal_ai_tax(prices: Sequence[float], config: AIAdoptionConfig | None = None,
                   grid: int = 201) -> pd.DataFrame:
    """The welfare-maximising tax at each price by search on a grid of ``grid`` tax rates (the static
    optimum: this economy has no state, so the best policy is the best tax period by period)."""
    cfg = config or AIAdoptionConfig()
    econ = AIAdoptionEconomy(cfg, num_envs=1, device="cpu")
    taxes = torch.linspace(0.0, cfg.tax_max, grid)
    rows = []
    for p in prices:
        eq = equilibrium(torch.full((grid,), float(p)), taxes, cfg, econ.skills, econ.tfp)
        welfare = eq["income"].clamp_min(1e-9).log().mean(-1)
        k = int(welfare.argmax())
        rows.append({"ai_price": float(p), "optimal_tax": float(taxes[k]), "optimal_welfare": float(welfare[k]),
                     "welfare_no_tax": float(welfare[0])})
    return pd.DataFrame(rows)


def train_ai_government(seed: int, iterations: int, num_envs: int = 32,
                        config: AIAdoptionConfig | None = None) -> tuple[PPO, float]:
    """PPO for the government of the AI-adoption economy; returns (learner, seconds)."""
    cfg = config or AIAdoptionConfig()
    seed_everything(seed)
    econ = AIAdoptionEconomy(cfg, num_envs=num_envs, device="cpu")
    gov = PPO(econ.specs["government"], PPOConfig(lr=3e-3, gamma=0.0, gae_lambda=0.0, ent_coef=0.0, hidden=(32, 32),
                                                  box_head="squashed", vf_clip=None, minibatches=2),
              device="cpu")
    t0 = time.perf_counter()
    Trainer(econ, {"government": gov}, rollout_len=16, seed=seed, progress=False).train(iterations)
    return gov, time.perf_counter() - t0


@torch.no_grad()
def government_play(gov: PPO, prices: Sequence[float], config: AIAdoptionConfig | None = None,
                    periods: int = 4) -> pd.DataFrame:
    """The learned government's tax and the economy's outcomes at held-fixed AI prices (after ``periods``
    periods, so the lagged observations have settled)."""
    cfg = config or AIAdoptionConfig()
    econ = AIAdoptionEconomy(cfg, num_envs=len(prices), device="cpu")
    econ.reset(seed=0)
    obs = econ.set_ai_price(prices)
    for _ in range(periods):
        out = econ.step({"government": gov.policy(obs["government"])})
        obs = out.obs
    return pd.DataFrame({k: v.numpy() for k, v in out.macro.items()})


# ============================================================================ 4. skill routing
class RoutedActor(Actor):
    """An actor whose trunk is a router over ``num_skills`` skill sub-networks (a soft mixture of experts,
    Jacobs et al. 1991; Shazeer et al. 2017): ``h(o) = sum_m g_m(o) h_m(o)``, ``g = softmax(router(o))``.

    Every agent is routed by its own observation, so agents of different kinds can come to use different
    skills. ``gates(obs)`` returns the routing weights ``[..., num_skills]``.
    """

    def __init__(self, obs_dim, space, hidden=(32, 32), activation="tanh", box_head="squashed", num_skills=3):
        super().__init__(obs_dim, space, hidden, activation, box_head)
        self.skills = nn.ModuleList([mlp(obs_dim, hidden[-1], hidden[:-1], activation) for _ in range(num_skills)])
        self.router = mlp(obs_dim, num_skills, (16,), activation, out_gain=0.01)
        del self.trunk

    def gates(self, obs: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.router(obs), -1)

    def dist(self, obs):
        g = self.gates(obs)
        h = torch.stack([s(obs) for s in self.skills], -1)             # [..., hidden, M]
        return self.head(self.act_fn((h * g.unsqueeze(-2)).sum(-1)))


#: three kinds of household, one policy problem each: no income (closed form), low and high i.i.d. income (VFI)
HOUSEHOLD_KINDS = {
    "no income": CakeConfig(beta=0.9),
    "low income": CakeConfig(beta=0.9, income="iid", income_low=0.25, income_high=0.75),
    "high income": CakeConfig(beta=0.9, income="iid", income_low=1.0, income_high=3.0),
}


class MixedHouseholds:
    """Three cake-eating economies side by side, one kind of household each, seen as one economy with one
    household type whose observation is ``[log wealth, one-hot kind]``.

    ``num_envs`` economies per kind; economies are stacked kind-major, so ``done`` stays per economy.
    A loop over the three kinds (not over agents) calls their batched steps.
    """

    def __init__(self, num_envs: int, kinds: Dict[str, CakeConfig] = HOUSEHOLD_KINDS):
        from ..contract import AgentSpec, Box

        self.kinds = list(kinds)
        self.parts = [CakeEatingEconomy(c, num_envs=num_envs, device="cpu") for c in kinds.values()]
        self.num_envs = num_envs * len(self.parts)
        self.per = num_envs
        c0 = next(iter(kinds.values()))
        self.specs = {"household": AgentSpec(count=1, obs_dim=1 + len(self.parts),
                                             action=Box(c0.share_min, c0.share_max, (1,)))}
        self.onehot = torch.eye(len(self.parts)).repeat_interleave(num_envs, 0).unsqueeze(1)   # [E, 1, K]

    def _obs(self, obs_list):
        return torch.cat([torch.cat(obs_list, 0), self.onehot], -1)

    def reset(self, seed=None):
        return {"household": self._obs([p.reset(seed=None if seed is None else seed + k)["household"]
                                        for k, p in enumerate(self.parts)])}

    def step(self, actions):
        from ..contract import StepResult

        a = actions["household"]
        outs = [p.step({"household": a[k * self.per:(k + 1) * self.per]}) for k, p in enumerate(self.parts)]
        cat = lambda xs: torch.cat(xs, 0)  # noqa: E731
        return StepResult(obs={"household": self._obs([o.obs["household"] for o in outs])},
                          reward={"household": cat([o.reward["household"] for o in outs])},
                          done=cat([o.done for o in outs]), macro={"consumption": cat([o.macro["consumption"] for o in outs])},
                          info={"final_obs": {"household": self._obs([o.info["final_obs"]["household"] for o in outs])}})


_KIND_TRUTH: Dict[str, np.ndarray] = {}


def kind_truth(kind: str, wealth: np.ndarray) -> np.ndarray:
    """The optimal consumption of each kind of household on ``wealth`` (closed form or VFI)."""
    cfg = HOUSEHOLD_KINDS[kind]
    if kind not in _KIND_TRUTH:
        _KIND_TRUTH[kind] = (cfg.optimal_consumption(wealth) if cfg.income == "none"
                             else solve_vfi(cfg, grid_size=150).policy_consumption(wealth))
    return _KIND_TRUTH[kind]


def _routing_ppo_config() -> PPOConfig:
    return PPOConfig(lr=3e-3, gamma=0.9, bootstrap_on_done=True, box_head="squashed", gae_lambda=0.9, ent_coef=0.0,
                     hidden=(32, 32), vf_clip=None, reward_scale=0.1, minibatches=2)


def routing_run(arm: str, seed: int, iterations: int, num_envs: int, eval_every: int = 10) -> dict:
    """One arm of the skill-routing experiment on three kinds of household.

    ``arm``: "shared" (one policy, kind in the observation), "separate" (one policy per kind, each on a
    third of the economies), "routed" (:class:`RoutedActor` with three skills). Every arm simulates the same
    number of household-periods. Returns per-kind errors, the sample cost to reach ``TARGET_ERROR`` on
    every kind, and (routed arm) the mean routing weights of each kind.
    """
    seed_everything(seed)
    wealth = CakeConfig().wealth_grid(50)
    kinds = list(HOUSEHOLD_KINDS)
    K = len(kinds)
    pcfg = _routing_ppo_config()

    if arm == "separate":
        econs = [CakeEatingEconomy(HOUSEHOLD_KINDS[k], num_envs=num_envs, device="cpu") for k in kinds]
        learners = [PPO(e.specs["household"], pcfg, device="cpu") for e in econs]
        trainers = [Trainer(e, {"household": l}, rollout_len=16, seed=seed + i, progress=False)
                    for i, (e, l) in enumerate(zip(econs, learners))]

        def errors():
            out = {}
            for k, l in zip(kinds, learners):
                with torch.no_grad():
                    s = l.act(torch.tensor(np.log(wealth), dtype=torch.float32).reshape(-1, 1, 1), True)[0]
                out[k] = mean_relative_error(s.reshape(-1).double().numpy() * wealth, kind_truth(k, wealth))
            return out

        def train(n):
            for tr in trainers:
                tr.train(n)
            return sum(tr.env_steps for tr in trainers)
    else:
        econ = MixedHouseholds(num_envs)
        learner = PPO(econ.specs["household"], pcfg, device="cpu")
        if arm == "routed":
            learner.actor = RoutedActor(econ.specs["household"].obs_dim, econ.specs["household"].action,
                                        pcfg.hidden, pcfg.activation, pcfg.box_head, num_skills=K)
            learner.optimizer = torch.optim.Adam(list(learner.actor.parameters()) + list(learner.critic.parameters()),
                                                 lr=pcfg.lr, eps=1e-5)
        elif arm != "shared":
            raise ValueError(f"arm must be 'shared', 'separate' or 'routed', got {arm!r}")
        trainer = Trainer(econ, {"household": learner}, rollout_len=16, seed=seed, progress=False)

        def kind_obs(i):
            o = torch.zeros(len(wealth), 1, 1 + K)
            o[:, 0, 0] = torch.tensor(np.log(wealth), dtype=torch.float32)
            o[:, 0, 1 + i] = 1.0
            return o

        def errors():
            out = {}
            for i, k in enumerate(kinds):
                with torch.no_grad():
                    s = learner.act(kind_obs(i), True)[0]
                out[k] = mean_relative_error(s.reshape(-1).double().numpy() * wealth, kind_truth(k, wealth))
            return out

        def train(n):
            trainer.train(n)
            return trainer.env_steps

    t0 = time.perf_counter()
    curve = []
    for it in range(0, iterations, eval_every):
        steps = train(min(eval_every, iterations - it))
        e = errors()
        curve.append((steps, max(e.values()), e))
    seconds = time.perf_counter() - t0
    reached = [s for s, worst, _ in curve if worst <= TARGET_ERROR]
    row = {"arm": arm, "seed": seed, "mean_error": float(np.mean(list(curve[-1][2].values()))),
           "worst_error": curve[-1][1], "steps_to_target": reached[0] if reached else float("nan"),
           "agent_steps": curve[-1][0], "seconds": seconds}
    row.update({f"error/{k}": v for k, v in curve[-1][2].items()})
    if arm == "routed":
        with torch.no_grad():
            gates = np.stack([learner.actor.gates(kind_obs(i)).reshape(-1, K).mean(0).numpy() for i in range(K)])
        row["gates"] = gates
        row["specialisation"] = routing_specialisation(gates)
    return row


def routing_specialisation(gates: np.ndarray) -> float:
    """Mutual information between kind and skill over log(number of skills), with kinds equally likely:
    0 = every kind uses the skills alike, 1 = each kind has a skill of its own. ``gates``: [kinds, skills]."""
    g = np.asarray(gates, float)
    g = g / g.sum(1, keepdims=True)
    pbar = g.mean(0, keepdims=True)                                       # skill use, kinds equally likely
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(g > 0, g * np.log(g / pbar), 0.0)
    mi = float(terms.sum(1).mean())
    return float(mi / math.log(g.shape[1]))


# ============================================================================ 5. compute cost
def cost_table(entries: Dict[str, tuple[float, float]], device: str = "cpu") -> pd.DataFrame:
    """``{result: (agent_steps, seconds)}`` -> a table with agent-steps per second, for one device."""
    rows = [{"result": k, "device": device, "agent_steps": int(s), "seconds": float(t),
             "agent_steps_per_second": float(s / t) if t > 0 else float("nan")} for k, (s, t) in entries.items()]
    return pd.DataFrame(rows)
