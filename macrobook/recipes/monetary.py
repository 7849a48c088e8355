"""``python -m macrobook train monetary ...`` and ``eval`` for the monetary economy (seed 002).

Independent PPO, one policy per agent type shared by all agents of the type (central bank,
banks, households, firms), in the run-directory layout of :mod:`.common`::

    python -m macrobook train monetary --phases 50,20,120,10 --epochs 200 --sim-length 120 \\
        --num-households 100 --num-firms 20 --num-banks 5 --seed 0 --device auto --output-dir runs/monetary
    python -m macrobook eval --model-path runs/monetary/models/best

One epoch is one rollout of ``--rollout-len`` months in each of ``--num-envs`` economies and
one PPO update of the types that learn in it. Training runs Chapter 4's phases
(:data:`PHASES`, :class:`PhasedTrainer`): ``--phases`` gives the epochs of each (firms alone,
private sector under random Taylor rules, central bank alone, all jointly); epochs beyond their
sum train jointly, and ``--epochs`` defaults to the sum. ``models/best`` is the joint-phase epoch
with the smallest central-bank loss (the question the chapter asks is about monetary policy).
At the end ``logs/epsilon.json`` holds each type's best-response epsilon (``--br-iterations``
retraining iterations per type), which ``python -m macrobook scorecard RUN_DIR`` reads. Used from
Chapter 4 as well::

    from macrobook.recipes.monetary import MonetaryTrainConfig, train_in_phases
    trainer, log = train_in_phases((50, 20, 120, 10), MonetaryTrainConfig(num_envs=16), seed=0, device="cpu")
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
    lr: float = 3e-3
    gamma: float = 0.95          # monthly: a horizon of about 20 months
    epochs: int = 4               # PPO passes over each rollout
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
                 seed: int = 0, device="auto", progress: bool = False, phases=None, warm_start: bool = True) -> Trainer:
    """The economy and one PPO learner per agent type (parameter sharing within a type).

    With ``phases`` (four iteration counts, :data:`PHASES`) the trainer is a :class:`PhasedTrainer`
    that runs Chapter 4's curriculum; without, every type learns from the first iteration."""
    train = train or MonetaryTrainConfig()
    econ = MonetaryEconomy(economy or MonetaryConfig(), num_envs=train.num_envs, device=device)
    learners = {}
    for i, k in enumerate(AGENT_TYPES):
        cfg = PPOConfig(lr=train.lr, gamma=train.gamma, epochs=train.epochs, minibatches=train.minibatches,
                        ent_coef=train.ent_coef, hidden=(train.hidden, train.hidden), vf_clip=None,
                        bootstrap_on_done=True,  # the end of an episode is a truncation, not the end of time
                        reward_scale=REWARD_SCALES[k])
        learners[k] = PPO(econ.specs[k], cfg, device=econ.device, seed=seed * 100 + i)
    if phases is not None:
        return PhasedTrainer(econ, learners, phases, rollout_len=train.rollout_len, seed=seed, progress=progress,
                             warm_start=warm_start)
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
    ap.add_argument("--lr", type=float_arg("--lr", min=1e-8, max=1.0), default=3e-3)
    ap.add_argument("--no-zlb", action="store_true", help="let the policy rate go below zero (to -5%%)")
    ap.add_argument("--phases", type=_phases_arg, default=DEFAULT_PHASES,
                    help="epochs of each training phase: firms alone, private sector under random rules, central "
                         "bank alone, all jointly (default %(default)s; epochs beyond their sum train jointly)")
    ap.add_argument("--br-iterations", type=int_arg("--br-iterations", min=0), default=3,
                    help="best-response retraining iterations per type for logs/epsilon.json (0: skip)")
    # the default run goes through every phase once (epochs = the phases' sum, Chapter 4's full setting)
    total = sum(int(x) for x in DEFAULT_PHASES.split(","))
    ap.set_defaults(epochs=total)
    for action in ap._actions:
        if action.dest == "epochs":
            action.help = f"training epochs (default {total}: every phase once)"


#: the default phase schedule of ``train monetary`` (Chapter 4's full setting)
DEFAULT_PHASES = "50,20,120,10"


def _phases_arg(text: str) -> str:
    parts = str(text).split(",")
    if len(parts) != len(PHASES) or not all(p.strip().isdigit() for p in parts):
        raise argparse.ArgumentTypeError(f"--phases must be {len(PHASES)} integers >= 0 separated by commas "
                                         f"(firms, private sector, central bank, jointly), got {text!r}")
    return ",".join(p.strip() for p in parts)


def phase_schedule(args) -> tuple[int, ...]:
    return tuple(int(x) for x in str(getattr(args, "phases", DEFAULT_PHASES)).split(","))


def _configs(args) -> tuple[MonetaryTrainConfig, MonetaryConfig]:
    try:
        train = MonetaryTrainConfig(num_envs=args.num_envs, rollout_len=args.rollout_len, lr=float(args.lr))
        econ = MonetaryConfig(num_banks=args.num_banks, num_households=args.num_households, num_firms=args.num_firms,
                              sim_length=args.sim_length, zero_lower_bound=not getattr(args, "no_zlb", False))
    except ConfigError as e:
        raise SystemExit(f"macrobook train monetary: {e}")
    return train, econ


def build(args) -> Trainer:
    """The :class:`PhasedTrainer` of a run (Chapter 4's phases, ``--phases``)."""
    train, econ = _configs(args)
    try:
        return make_trainer(train, econ, seed=args.seed, device=args.device, phases=phase_schedule(args))
    except ConfigError as e:
        raise SystemExit(f"macrobook train monetary: {e}")


def score(trainer: Trainer, row: dict) -> float:
    """Higher is better: minus the central bank's mean loss in the epoch, counted only once every
    type learns (the last phase): in earlier phases the central bank is a rule, and a ``best``
    model from them would hold an untrained central bank."""
    if row.get("phase", PHASES[-1][0]) != PHASES[-1][0]:
        return -float("inf")
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
    phases = getattr(trainer, "phase_iterations", None)
    if phases is not None:
        done = [min(max(trainer.iteration - sum(phases[:k]), 0), n) for k, n in enumerate(phases)]
        stats["phases"] = [{"phase": p[0], "learns": list(p[1]), "planned": n, "completed": d}
                           for p, n, d in zip(PHASES, phases, done)]
        stats["warm_start"] = getattr(trainer, "warm_start_report", {})
    atomic_write_json(run.logs / "train_stats.json", stats)
    plot_run(trainer, frame, run.plots)
    br = int(getattr(args, "br_iterations", 0))
    if br > 0:
        atomic_write_json(run.logs / "epsilon.json", measure_epsilon(trainer, args, br))


#: months and economies of the best-response evaluation (common random numbers across profiles)
EPSILON_EVAL_MONTHS, EPSILON_EVAL_ENVS = 36, 8


def measure_epsilon(trainer: Trainer, args, iterations: int, episodes: int = 1, seed: int = 777) -> dict:
    """Best-response epsilon per type (:func:`~macrobook.analysis.best_response.epsilon_table`,
    baseline "own": each type's untrained policy among the others' learned ones), evaluated over
    :data:`EPSILON_EVAL_MONTHS` months in :data:`EPSILON_EVAL_ENVS` economies with common random
    numbers. Returns ``{type: epsilon}`` (``null`` where training did not raise the type's reward,
    so the share is undefined), what ``python -m macrobook scorecard`` reads from
    ``logs/epsilon.json``."""
    import dataclasses

    from ..analysis.best_response import epsilon_table
    from ..utils import seed_everything

    seed_everything(int(args.seed))
    untrained = make_trainer(*_configs(args), seed=int(args.seed), device=trainer.economy.device)
    cfg = dataclasses.replace(trainer.economy.config, sim_length=EPSILON_EVAL_MONTHS)
    eval_econ = MonetaryEconomy(cfg, num_envs=EPSILON_EVAL_ENVS, device=trainer.economy.device)
    table = epsilon_table(trainer, untrained, eval_econ, iterations, episodes=episodes, seed=seed)
    trainer._obs = None
    return {r["type"]: (float(r["epsilon"]) if np.isfinite(r["epsilon"]) else None) for r in table.to_dict("records")}


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


class ReferenceFirm(FixedPolicy):
    """A rule firm (Chapter 4's fixed policy, never learned): an (S, s) price setter that resets
    toward the static optimum ``e/(e-1) mc`` when its price has drifted more than ``band`` away
    (Sheshinski and Weiss 1977), staffs for last month's orders, and invests at the middle speed. Reads :class:`MonetaryEconomy`'s firm observation."""

    def __init__(self, band: float = 0.02):
        from ..envs.monetary import PRICE_CHANGES
        self.band = band
        self.changes = torch.tensor(PRICE_CHANGES)

    def act(self, obs: torch.Tensor, deterministic: bool = False):
        gap = obs[..., 1] / 10                      # log(price / optimal static price)
        ch = self.changes.to(obs.device)
        nearest = (torch.log1p(ch) + gap.unsqueeze(-1)).abs().argmin(-1)
        price_a = torch.where(gap.abs() > self.band, nearest, torch.full_like(nearest, 2))
        hire = torch.ones_like(price_a)  # staff for last month's orders
        a = torch.stack([price_a, hire, torch.ones_like(hire)], -1)
        return a, {"action": a}


class ConstantAction(ReferenceFirm):
    """Every agent of a type takes the same action (e.g. households: plan x 1, no loan, work)."""

    def __init__(self, action):
        self.action = torch.as_tensor(action)

    def act(self, obs: torch.Tensor, deterministic: bool = False):
        a = self.action.to(obs.device).expand(*obs.shape[:-1], *self.action.shape).clone()
        return a, {"action": a}


def reference_agents(phi_pi: float = 1.5, phi_y: float = 0.5, r_star: float = 0.01):
    """The fixed-policy economy of Chapter 4's first section: a Taylor (1993) central bank,
    middle-of-the-grid banks, households that follow their plan, (S, s) rule firms."""
    return {"central_bank": TaylorRuleCentralBank(phi_pi=phi_pi, phi_y=phi_y, r_star=r_star),
            "bank": ConstantAction([2, 2, 1]), "household": ConstantAction([2, 0, 1]), "firm": ReferenceFirm()}


#: the range of phi_pi that phase 2's random Taylor rules are drawn from
RANDOM_RULE_PHI_PI = (0.5, 2.5)


class RandomTaylorRule(FixedPolicy):
    """A central bank whose Taylor rule is drawn per economy: ``phi_pi ~ U[lo, hi]``,
    ``phi_y ~ U[0, 1]``, so the private sector learns to respond to rates rather than to one rule
    (Chapter 4, phase 2). Draws are fixed per instance (seeded)."""

    def __init__(self, num_envs: int, seed: int = 0, phi_pi=RANDOM_RULE_PHI_PI, r_star: float = 0.01):
        g = torch.Generator().manual_seed(10_000 + seed)
        lo, hi = phi_pi
        self.phi_pi = (lo + (hi - lo) * torch.rand(num_envs, 1, generator=g)).double()
        self.phi_y = torch.rand(num_envs, 1, generator=g).double()
        self.rule = TaylorRuleCentralBank(phi_pi=self.phi_pi, phi_y=self.phi_y, r_star=r_star)

    def act(self, obs, deterministic: bool = False):
        return self.rule.act(obs.double(), deterministic)


#: Chapter 4's phases: (name, types that learn, what the others do)
PHASES = (
    ("firms alone", ("firm",), "rules: Taylor (1993) central bank, households follow their plan, mid-grid banks"),
    ("private sector under random rules", ("bank", "household", "firm"), "central bank: a Taylor rule drawn per economy"),
    ("central bank alone", ("central_bank",), "private sector frozen at its phase-2 policies"),
    ("all jointly", AGENT_TYPES, "everyone learns"),
)


#: how much probability a warm-started learner puts on the rule's action (see :func:`imitate`)
WARM_START_PROB = 0.5


def imitate(learner, obs: torch.Tensor, actions: torch.Tensor, target_prob: float = WARM_START_PROB,
            max_steps: int = 300, lr: float = 3e-3) -> dict:
    """Warm start: fit ``learner``'s policy to a rule's ``actions`` on observations ``obs``
    (behavioural cloning; Pomerleau 1991), until the rule's action has probability
    ``target_prob`` on average (the policy keeps the rest of its mass on the other actions,
    so PPO can still explore). Only the actor moves, with its own Adam; the PPO optimizer is
    untouched. Returns ``{"steps", "prob"}``.
    """
    actor = learner.actor
    d = obs.shape[-1]
    o = obs.reshape(-1, d).to(learner.device)
    a = actions.reshape((o.shape[0],) + tuple(actions.shape[obs.dim() - 1:])).to(learner.device)
    opt = torch.optim.Adam(actor.parameters(), lr=lr)
    steps, prob = 0, 0.0
    for steps in range(max_steps + 1):
        logp, _ = actor.evaluate(o, a)
        prob = float(logp.detach().exp().mean())
        if prob >= target_prob or steps == max_steps:
            break
        loss = -logp.mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return {"steps": steps, "prob": prob}


class PhasedTrainer(Trainer):
    """Chapter 4's curriculum (:data:`PHASES`) as one :class:`~macrobook.train.Trainer`.

    ``phase_iterations``: four numbers, one per phase; iteration ``i`` belongs to the phase whose
    range holds it, and every iteration after the last phase trains all types jointly. The
    learners are the PPO learners of every type (what is saved and loaded); in each phase the
    types that do not learn are played by the rules (phase 1: Taylor 1993 central bank,
    households that follow their plan, mid-grid banks), by a Taylor rule drawn per economy (the
    central bank in phase 2) or by their frozen learned policy. Each phase starts from a fresh
    reset of the economies (seed ``seed + 17 k`` for the ``k``-th non-empty phase).

    With ``warm_start`` the private-sector types that start learning in phase 2 (households and
    banks) are first fitted to the rules they played in phase 1 (:func:`imitate`), so that the
    firms trained in phase 1 do not meet a private sector that acts at random (half the
    households out of the labour force). A curriculum set from outside (the best-response check
    sets one) switches the phases off: all learners act and the curriculum says who learns.
    """

    def __init__(self, economy, learners, phase_iterations, rollout_len: int = 24, seed: int = 0,
                 progress: bool = False, warm_start: bool = True):
        super().__init__(economy, learners, rollout_len=rollout_len, seed=seed, progress=progress)
        if len(phase_iterations) != len(PHASES) or any(int(n) < 0 for n in phase_iterations):
            raise ConfigError(f"phase iterations must be {len(PHASES)} integers >= 0 (one per phase), "
                              f"got {tuple(phase_iterations)}")
        self.phase_iterations = tuple(int(n) for n in phase_iterations)
        self.base_seed = seed
        self.warm_start = warm_start
        self.rules = reference_agents()
        self.random_rule = RandomTaylorRule(economy.num_envs, seed)
        self.warm_start_report: dict = {}

    # ---------------------------------------------------------------- which phase
    def phase_index(self, iteration: int | None = None) -> int:
        it = self.iteration if iteration is None else iteration
        end = 0
        for k, n in enumerate(self.phase_iterations):
            end += n
            if it < end:
                return k
        return len(PHASES) - 1

    def phase_start(self, k: int) -> int:
        return sum(self.phase_iterations[:k])

    def phase_agents(self, k: int) -> dict:
        name, learn, _ = PHASES[k]
        ppo = self.learners
        if name == "firms alone":
            return {t: (ppo[t] if t in learn else self.rules[t]) for t in AGENT_TYPES}
        if name.startswith("private"):
            return {**ppo, "central_bank": self.random_rule}
        return dict(ppo)

    # ---------------------------------------------------------------- Trainer hooks
    def actions(self, obs, deterministic: bool = False):
        if self.curriculum is not None:
            return super().actions(obs, deterministic)
        acts, extras = {}, {}
        for t, agent in self.phase_agents(self.phase_index()).items():
            acts[t], extras[t] = agent.act(obs[t], deterministic=deterministic)
        return acts, extras

    def active_types(self) -> list[str]:
        if self.curriculum is not None:
            return super().active_types()
        return list(PHASES[self.phase_index()][1])

    def _warm_start(self) -> None:
        """Fit households and banks to their phase-1 rules on a year of phase-1 play (own economy copy)."""
        from ..replay import PolicySampler

        econ = type(self.economy)(self.economy.config, num_envs=self.economy.num_envs, device=self.economy.device)
        agents = self.phase_agents(0)
        sampler = PolicySampler(agents, self.base_seed + 5, False)
        obs = econ.reset(seed=self.base_seed + 5)
        O = {t: [] for t in ("household", "bank")}
        A = {t: [] for t in O}
        with torch.no_grad():
            for _ in range(12):
                acts = sampler(obs)
                for t in O:
                    O[t].append(obs[t]); A[t].append(acts[t])
                obs = econ.step(acts).obs
        for t in O:
            if t in self.learners and getattr(self.learners[t], "actor", None) is not None:
                self.warm_start_report[t] = imitate(self.learners[t], torch.stack(O[t]), torch.stack(A[t]))

    def train(self, iterations: int, callback=None):
        if self.curriculum is not None:
            return super().train(iterations, callback)
        for _ in range(iterations):
            k = self.phase_index()
            live = [j for j, n in enumerate(self.phase_iterations) if n > 0]
            self.seed = self.base_seed + 17 * (live.index(k) if k in live else len(live))
            if self.iteration == self.phase_start(k) and (k in live or self.iteration == sum(self.phase_iterations)):
                self._obs = None  # a phase starts from a fresh reset
                if self.warm_start and PHASES[k][0].startswith("private") and self.phase_iterations[0] > 0:
                    self._warm_start()
            super().train(1, callback)
            self.records[-1]["phase"] = PHASES[k][0]
        return self.log


def train_in_phases(iterations, train: MonetaryTrainConfig | None = None, economy: MonetaryConfig | None = None,
                    seed: int = 0, device="cpu", progress: bool = False, callback=None, warm_start: bool = True):
    """Chapter 4's curriculum. ``iterations``: four numbers, one per entry of :data:`PHASES`.

    Returns ``(trainer, log)``: the :class:`PhasedTrainer` holds the PPO learners of every type
    (all learned by the end) and ``log`` one row per iteration with its phase. The learners
    persist across phases; a type that is not learning in a phase is played by its rule
    (phase 1), by a random Taylor rule (the central bank in phase 2) or by its frozen learned
    policy. ``warm_start``: see :class:`PhasedTrainer`.
    """
    if len(iterations) != len(PHASES):
        raise ConfigError(f"iterations must have {len(PHASES)} entries (one per phase), got {len(iterations)}")
    trainer = make_trainer(train, economy, seed=seed, device=device, progress=progress, phases=iterations,
                           warm_start=warm_start)
    trainer.train(sum(iterations), callback=callback)
    trainer._obs = None
    return trainer, trainer.log
