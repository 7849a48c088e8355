"""``python -m macrobook train monetary ...`` and ``eval`` for the monetary economy (seed 002).

Independent PPO, one policy per agent type shared by all agents of the type (central bank,
banks, households, firms), in the run-directory layout of :mod:`.common`::

    python -m macrobook train monetary --epochs 200 --sim-length 120 --num-households 100 \\
        --num-firms 20 --num-banks 5 --seed 0 --device auto --output-dir runs/monetary
    python -m macrobook eval --model-path runs/monetary/models/best

One epoch is one rollout of ``--rollout-len`` months in each of ``--num-envs`` economies and
one PPO update of every type. ``models/best`` is the epoch with the smallest central-bank loss
(the question the chapter asks is about monetary policy). Used from Chapter 4 as well::

    from macrobook.recipes.monetary import MonetaryTrainConfig, make_trainer
    trainer = make_trainer(MonetaryTrainConfig(num_envs=16), seed=0, device="cpu")
"""
from __future__ import annotations

import argparse
from dataclasses import dataclass

import numpy as np
import torch

from ..algos.ppo import PPO, PPOConfig
from ..config import Config, ConfigError, check_float, check_int, float_arg, int_arg
from ..envs.monetary import AGENT_TYPES, RATE_CHANGES_BP, MonetaryConfig, MonetaryEconomy
from ..io import atomic_savefig, atomic_write_csv, atomic_write_json
from ..train import FixedPolicy, Trainer

#: PPO sees rewards times these factors so that every type's returns are of order one
#: (the central bank's loss is in pp^2 and can be in the hundreds early on).
REWARD_SCALES = {"central_bank": 0.01, "bank": 0.1, "household": 1.0, "firm": 0.2}


@dataclass
class MonetaryTrainConfig(Config):
    """Scale and PPO settings of a monetary training run."""

    num_envs: int = 16
    rollout_len: int = 24
    lr: float = 1e-3
    gamma: float = 0.95          # monthly: a horizon of about 20 months
    epochs: int = 2
    minibatches: int = 2
    ent_coef: float = 0.01
    hidden: int = 64

    def validate(self):
        check_int(self, "num_envs", min=1)
        check_int(self, "rollout_len", min=1)
        check_float(self, "lr", min=0.0, min_open=True)
        check_float(self, "gamma", min=0.0, max=1.0)
        check_int(self, "epochs", min=1)
        check_int(self, "minibatches", min=1)
        check_float(self, "ent_coef", min=0.0)
        check_int(self, "hidden", min=1)


def make_trainer(train: MonetaryTrainConfig | None = None, economy: MonetaryConfig | None = None,
                 seed: int = 0, device="auto", progress: bool = False) -> Trainer:
    """The economy and one PPO learner per agent type (parameter sharing within a type)."""
    train = train or MonetaryTrainConfig()
    econ = MonetaryEconomy(economy or MonetaryConfig(), num_envs=train.num_envs, device=device)
    learners = {}
    for i, k in enumerate(AGENT_TYPES):
        cfg = PPOConfig(lr=train.lr, gamma=train.gamma, epochs=train.epochs, minibatches=train.minibatches,
                        ent_coef=train.ent_coef, hidden=(train.hidden, train.hidden), vf_clip=None,
                        reward_scale=REWARD_SCALES[k])
        learners[k] = PPO(econ.specs[k], cfg, device=econ.device, seed=seed * 100 + i)
    return Trainer(econ, learners, rollout_len=train.rollout_len, seed=seed, progress=progress)


# ---------------------------------------------------------------- command line (python -m macrobook train monetary)
NAME = "monetary"


def add_arguments(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--sim-length", type=int_arg("--sim-length", min=2), default=120, help="months per episode (default 120)")
    ap.add_argument("--num-households", type=int_arg("--num-households", min=1), default=100)
    ap.add_argument("--num-firms", type=int_arg("--num-firms", min=1), default=20)
    ap.add_argument("--num-banks", type=int_arg("--num-banks", min=1), default=5)
    ap.add_argument("--num-envs", type=int_arg("--num-envs", min=1), default=16, help="parallel economies")
    ap.add_argument("--rollout-len", type=int_arg("--rollout-len", min=1), default=24, help="months per epoch")
    ap.add_argument("--lr", type=float_arg("--lr", min=1e-8, max=1.0), default=1e-3)
    ap.add_argument("--no-zlb", action="store_true", help="let the policy rate go below zero (to -5%%)")


def _configs(args) -> tuple[MonetaryTrainConfig, MonetaryConfig]:
    try:
        train = MonetaryTrainConfig(num_envs=args.num_envs, rollout_len=args.rollout_len, lr=float(args.lr))
        econ = MonetaryConfig(num_banks=args.num_banks, num_households=args.num_households, num_firms=args.num_firms,
                              sim_length=args.sim_length, zero_lower_bound=not getattr(args, "no_zlb", False))
    except ConfigError as e:
        raise SystemExit(f"macrobook train monetary: {e}")
    return train, econ


def build(args) -> Trainer:
    train, econ = _configs(args)
    try:
        return make_trainer(train, econ, seed=args.seed, device=args.device)
    except ConfigError as e:
        raise SystemExit(f"macrobook train monetary: {e}")


def score(trainer: Trainer, row: dict) -> float:
    """Higher is better: minus the central bank's mean loss in the epoch."""
    return -float(row.get("macro/cb_loss", float("inf")))


def simulate(trainer: Trainer, steps: int, seed: int, greedy: bool = False):
    """The trained policies from a fresh reset; returns the wide history (one row per t, env).

    Actions are sampled from the policies, as in training and in Chapter 4, with one seeded
    random stream per agent type (:class:`~macrobook.replay.PolicySampler`);
    ``greedy=True`` takes each policy's most likely action instead.
    """
    from ..replay import PolicySampler, replay

    hist = replay(trainer.economy, PolicySampler(trainer.learners, seed=seed, deterministic=greedy), steps, seed=seed)
    trainer._obs = None  # a later training epoch restarts from a fresh reset
    return hist.wide()


def plot_run(trainer: Trainer, frame, plots_dir) -> None:
    """The four figures of seed 002 from a simulation frame and the training log."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from .. import plots as mp

    mp.style()
    mean = frame.drop(columns="env").groupby("t").mean()
    t = mean.index.to_numpy()
    fig, ax = plt.subplots(2, 2, figsize=(10, 6.5))
    ax[0, 0].plot(t, mean["output"]); ax[0, 0].set(title="Output", xlabel="month", ylabel="goods per month")
    ax[0, 1].plot(t, 100 * mean["inflation_yoy"], label="12-month")
    ax[0, 1].plot(t, 100 * mean["inflation_annual"], alpha=0.5, label="monthly, annualized")
    ax[0, 1].set(title="Inflation", xlabel="month", ylabel="% per year"); ax[0, 1].legend()
    ax[1, 0].plot(t, 100 * mean["unemployment"]); ax[1, 0].set(title="Unemployment", xlabel="month", ylabel="% of job seekers")
    ax[1, 1].plot(t, 100 * mean["policy_rate_annual"], label="policy rate")
    ax[1, 1].plot(t, 100 * mean["lending_rate_annual"], label="lending rate")
    ax[1, 1].plot(t, 100 * mean["deposit_rate_annual"], label="deposit rate")
    ax[1, 1].set(title="Interest rates", xlabel="month", ylabel="% per year"); ax[1, 1].legend()
    fig.tight_layout(); atomic_savefig(plots_dir / "macro_variables.png", fig); plt.close(fig)

    log = trainer.log
    fig, ax = plt.subplots(1, 2, figsize=(10, 3.8))
    for k in AGENT_TYPES:
        if f"loss/{k}" in log:
            ax[0].plot(log["iteration"], log[f"loss/{k}"], label=k)
        if f"entropy/{k}" in log:
            ax[1].plot(log["iteration"], log[f"entropy/{k}"], label=k)
    ax[0].set(title="PPO loss", xlabel="epoch", ylabel="loss"); ax[0].legend()
    ax[1].set(title="Policy entropy", xlabel="epoch", ylabel="nats"); ax[1].legend()
    fig.tight_layout(); atomic_savefig(plots_dir / "training_curves.png", fig); plt.close(fig)

    fig, ax = plt.subplots(1, 3, figsize=(12, 3.8))
    ax[0].plot(t, 100 * mean["policy_rate_annual"], label="policy"); ax[0].plot(t, 100 * mean["lending_rate_annual"], label="lending")
    ax[0].set(title="Rates", xlabel="month", ylabel="% per year"); ax[0].legend()
    ax[1].plot(t, mean["credit"]); ax[1].set(title="Real credit", xlabel="month", ylabel="goods")
    ax[2].plot(t, mean["consumption"], label="consumption"); ax[2].plot(t, mean["investment"], label="investment")
    ax[2].set(title="Demand", xlabel="month", ylabel="goods per month"); ax[2].legend()
    fig.suptitle("Policy transmission: rate -> lending rate -> credit -> demand")
    fig.tight_layout(); atomic_savefig(plots_dir / "policy_transmission.png", fig); plt.close(fig)

    fig, ax = plt.subplots(1, 4, figsize=(14, 3.4))
    for a, k in zip(ax, AGENT_TYPES):
        if f"reward/{k}" in log:
            a.plot(log["iteration"], log[f"reward/{k}"])
        a.set(title=k, xlabel="epoch", ylabel="mean reward per agent-month")
    fig.tight_layout(); atomic_savefig(plots_dir / "agent_rewards.png", fig); plt.close(fig)


def _summary(frame) -> dict:
    m = frame.drop(columns="env").groupby("t").mean()
    keys = ["output", "inflation_annual", "inflation_yoy", "unemployment", "policy_rate_annual", "cb_loss",
            "gini_wealth", "price_change_share", "default_rate"]
    return {k: float(np.mean(m[k])) for k in keys if k in m}


def finish(trainer: Trainer, run, args) -> None:
    econ = trainer.economy
    frame = simulate(trainer, econ.config.sim_length, seed=args.seed + 1000)
    atomic_write_csv(run.logs / "simulation_history.csv", frame)
    atomic_write_csv(run.logs / "train_log.csv", trainer.log)
    log = trainer.log
    stats = {
        "epochs": int(trainer.iteration),
        "env_steps": int(trainer.env_steps),
        "final": {k: float(v) for k, v in log.iloc[-1].items() if isinstance(v, (int, float, np.floating, np.integer))},
        "best_score": float(max(score(trainer, r) for r in trainer.records)),
        "evaluation_means": _summary(frame),
        "reward_scales_seen_by_ppo": REWARD_SCALES,
    }
    atomic_write_json(run.logs / "train_stats.json", stats)
    plot_run(trainer, frame, run.plots)


def evaluate(trainer: Trainer, run, args, out_dir) -> None:
    from pathlib import Path

    out_dir = Path(out_dir)
    steps = args.steps or trainer.economy.config.sim_length
    frame = simulate(trainer, steps, seed=args.seed)
    atomic_write_csv(out_dir / "simulation_history.csv", frame)
    atomic_write_json(out_dir / "eval_stats.json", {"steps": steps, "seed": args.seed, "means": _summary(frame)})
    plots = out_dir / "plots"
    plots.mkdir(parents=True, exist_ok=True)
    plot_run(trainer, frame, plots)


# ---------------------------------------------------------------- rule agents
class TaylorRuleCentralBank(FixedPolicy):
    """A central bank that follows ``i* = r* + pi + 0.5 (pi - pi*) + 0.5 y`` (Taylor 1993, with
    ``phi_pi = 1.5`` total and ``phi_y = 0.5``) as closely as the discrete action grid allows:
    each month it picks the rate change in {-50, ..., +50} bp that lands nearest ``i*``.

    Implements the learner protocol (it never learns). It reads the central bank's
    observation of :class:`~macrobook.envs.monetary.MonetaryEconomy`: 12-month inflation,
    the output gap and the current policy rate. ``phi_pi`` and ``phi_y`` are the total responses.
    """

    def __init__(self, phi_pi: float = 1.5, phi_y: float = 0.5, r_star: float = 0.02, inflation_target: float = 0.02,
                 inflation_obs: int = 1):
        self.phi_pi, self.phi_y, self.r_star, self.target = phi_pi, phi_y, r_star, inflation_target
        self.inflation_obs = inflation_obs  # 1 = 12-month inflation (pp), 0 = monthly annualized
        self.changes = torch.tensor(RATE_CHANGES_BP) / 1e4

    def rule_rate(self, obs: torch.Tensor) -> torch.Tensor:
        pi = obs[..., self.inflation_obs] / 100
        gap = obs[..., 3] / 100
        return self.r_star + self.target + self.phi_pi * (pi - self.target) + self.phi_y * gap

    def act(self, obs: torch.Tensor, deterministic: bool = False):
        current = obs[..., 5] / 100
        want = self.rule_rate(obs)
        ch = self.changes.to(obs.device)
        a = (current.unsqueeze(-1) + ch - want.unsqueeze(-1)).abs().argmin(-1)
        return a, {"action": a}
