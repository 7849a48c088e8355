"""``python -m macrobook train rbc ...``: PPO for consumers, firms and government with the
curricula of Curry et al. (2022, Sec. 6), in the run-directory layout of :mod:`.common`.

Used from Chapter 6 (notebooks/06_rbc_general_equilibrium.ipynb) as well::

    from macrobook.recipes.rbc import RBCTrainConfig, make_trainer
    trainer = make_trainer(RBCTrainConfig(iterations=200, num_envs=32), seed=0, device="cpu")
    log = trainer.train(200)

One iteration is one 10-step episode in each of ``num_envs`` economies followed by one PPO
update of every type the curriculum lets learn, as in the authors' code (there 128
economies per iteration and 200k iterations; here a few hundred, see the chapter).

The curricula, in fractions of the run (the paper's 30k and 60k of 200k episodes):

1. consumers learn from the start; the labour cost ``theta`` is phased in as
   ``1 - exp(-it / (theta_tau * iterations))``;
2. until ``firm_start``: firms are frozen and may only post prices in
   ``[1000 - 1000 s, 1000 + 1500 s]`` and wages in ``[22 - 22 s, 22 + 22 s]``, ``s`` rising
   from 0 to 1; the tax cap is 0;
3. from ``firm_start``: firms learn; the tax cap rises linearly to 1 at ``government_start``
   while the government is frozen;
4. from ``government_start``: the government learns;
5. every type's entropy coefficient decays as ``ent_start * max(exp(-k / ent_tau), ent_floor)``
   with ``k`` the iterations since that type began to learn (the paper's restart); the
   authors' values are ``ent_start = 0.5`` and a floor of 0.05. With both ten times lower
   (this module's first defaults) every seed of the chapter's full setting ended with
   firms' policies nearly deterministic at price 2500 and wage 0 (Chapter 6 compares the two);
6. ours, not the authors': over the last ``ent_final`` (a fifth) of the run every type's bonus
   falls linearly to zero. The equilibrium the best-response check tests is one of the game's
   own rewards, and a policy held noisy on purpose is not a best response to anything. With the
   bonus kept to the end (``ent_final=0``; 900 iterations of 16 economies, seed 0) the
   government's policy kept 0.9 nats of entropy, and playing its most likely action gained it
   1.3-1.7% of its training gain in three of four evaluations, above the paper's 1% bound.

``curriculum=False`` trains every type from iteration 0 on the full model (the ablation).
"""
from __future__ import annotations

import argparse
import math
from dataclasses import dataclass
from typing import Dict

import torch

from ..algos.ppo import PPO, PPOConfig
from ..config import Config, check, check_choice, check_float, check_int, float_arg, int_arg
from ..envs.rbc import RBCConfig, RBCEconomy
from ..replay import learner_policy, replay
from ..train import FixedPolicy, Trainer

#: the raw (unscaled) per-agent reward of each type in ``StepResult.macro``
REWARD_MACRO = {"consumer": "consumer_utility", "firm": "firm_profit", "government": "welfare"}


@dataclass
class RBCTrainConfig(Config):
    """Scale, curricula and PPO settings of an RBC training run (fractions are of ``iterations``)."""

    iterations: int = 300
    num_envs: int = 32
    variant: str = "open"
    curriculum: bool = True
    firm_start: float = 0.15
    government_start: float = 0.30
    theta_tau: float = 0.05
    ent_start: float = 0.5         # the authors' code [S]: 0.5 * max(exp(-episodes / 10000), 0.1)
    ent_floor: float = 0.1         # the coefficient never falls below ent_floor * ent_start (0.05)
    ent_tau: float = 0.1
    ent_final: float = 0.2         # over this last fraction of the run every bonus falls linearly to 0 (ours)
    hidden: int = 64
    lr: float = 1e-3
    government_lr: float = 5e-4    # the paper's table; its code uses 5e-5
    epochs: int = 2
    minibatches: int = 2
    clip_eps: float = 0.1          # [M]
    gamma: float = 0.99
    fixed_tax: float = -1.0        # >= 0: the government is not learned and sets both rates to this value
    productivity_sigma: float = 0.0
    # ours, off by default: firms wait until consumers have learned something (see RBCCurriculum)
    consumer_gate: float = 0.0     # > 0: firms start once consumer entropy <= this share of uniform play's
    gate_deadline: float = 0.5     # ... or at this fraction of the run, whichever comes first
    analytic_heads: bool = True    # consumers' log-probabilities and entropies with closed-form gradients (speed)
    matmul_dtype: str = "float32"  # "bfloat16": the networks' matrix products in bfloat16 (speed; numbers change)

    def validate(self):
        check_int(self, "iterations", min=1)
        check_int(self, "num_envs", min=1)
        check_choice(self, "variant", ["open", "closed"])
        check(isinstance(self.curriculum, bool), self, "curriculum", "True or False")
        check_float(self, "firm_start", min=0.0, max=1.0)
        check_float(self, "government_start", min=0.0, max=1.0)
        check(self.government_start >= self.firm_start, self, "government_start", f">= firm_start={self.firm_start}")
        check_float(self, "theta_tau", min=0.0, min_open=True)
        check_float(self, "ent_start", min=0.0)
        check_float(self, "ent_floor", min=0.0, max=1.0)
        check_float(self, "ent_tau", min=0.0, min_open=True)
        check_float(self, "ent_final", min=0.0, max=1.0)
        check_int(self, "hidden", min=1)
        check_float(self, "lr", min=0.0, min_open=True)
        check_float(self, "government_lr", min=0.0, min_open=True)
        check_int(self, "epochs", min=1)
        check_int(self, "minibatches", min=1)
        check_float(self, "clip_eps", min=0.0, min_open=True)
        check_float(self, "gamma", min=0.0, max=1.0)
        check(self.fixed_tax == -1.0 or 0.0 <= self.fixed_tax <= 1.0, self, "fixed_tax", "-1 (learned) or a rate in [0, 1]")
        check_float(self, "productivity_sigma", min=0.0)
        check_float(self, "consumer_gate", min=0.0, max=1.0, max_open=True)
        check_float(self, "gate_deadline", min=0.0, max=1.0)
        check(isinstance(self.analytic_heads, bool), self, "analytic_heads", "True or False")
        check_choice(self, "matmul_dtype", ["float32", "bfloat16"])
        check(self.consumer_gate == 0 or self.gate_deadline >= self.firm_start, self, "gate_deadline",
              f">= firm_start={self.firm_start} when consumer_gate is on")


class FixedGovernment(FixedPolicy):
    """A government that is not learned: it always sets the same pair of tax rates
    (the fixed-rate baselines of Curry et al. 2022, Fig. 5). Implements the learner protocol."""

    def __init__(self, economy: RBCEconomy, income_tax: float, corporate_tax: float | None = None):
        corporate_tax = income_tax if corporate_tax is None else corporate_tax
        self.index = economy.government_action_index(income_tax, corporate_tax)
        self.rates = (income_tax, corporate_tax)

    def act(self, obs, deterministic=False):
        a = torch.full(obs.shape[:-1], self.index, dtype=torch.long, device=obs.device)
        return a, {"action": a}


class RBCCurriculum:
    """The staged curricula of Curry et al. (2022, Sec. 6); called by the Trainer each iteration.

    With ``consumer_gate > 0`` (ours; the authors' schedule is fixed in episodes) firms do not start at
    ``firm_start`` unless consumers have learned something by then: the gate opens at the first
    iteration from ``firm_start`` on after which the consumers' policy entropy (the last PPO update's
    mean, in nats) is at most ``consumer_gate`` times its value under uniform play, and at
    ``gate_deadline`` of the run at the latest. The government's start moves by the same delay (the
    tax cap still rises over the same number of iterations in between). The gate is read from the
    training log, so a resumed run opens it at the same iteration."""

    def __init__(self, config: RBCTrainConfig):
        self.config = config
        self.delay = 0   # iterations the consumer gate held the firms back

    def start(self, agent_type: str) -> int:
        c = self.config
        if not c.curriculum or agent_type == "consumer":
            return 0
        frac = c.firm_start if agent_type == "firm" else c.government_start
        return int(round(frac * c.iterations)) + self.delay

    @staticmethod
    def uniform_entropy(trainer: Trainer) -> float:
        """Entropy (nats) of a consumer choosing every head's level uniformly at random."""
        a = trainer.economy.specs["consumer"].action
        return float(sum(math.log(n) for n in a.nvec))

    def gate_opens(self, records: list, uniform_entropy: float) -> int | None:
        """The iteration at which the consumer gate opens given the training log so far (None: still shut)."""
        c = self.config
        base = int(round(c.firm_start * c.iterations))
        deadline = max(base, int(round(c.gate_deadline * c.iterations)))
        for it in range(base, len(records) + 1):
            if it >= deadline:
                return deadline
            ent = records[it - 1].get("entropy/consumer") if it >= 1 else None
            if ent is not None and ent == ent and ent <= c.consumer_gate * uniform_entropy:
                return it
        return deadline if len(records) >= deadline else None

    def _update_gate(self, iteration: int, trainer: Trainer) -> None:
        c = self.config
        if not (c.curriculum and c.consumer_gate > 0):
            return
        base = int(round(c.firm_start * c.iterations))
        opens = self.gate_opens(trainer.records[:iteration], self.uniform_entropy(trainer))
        self.delay = (opens if opens is not None else max(iteration, base) + 1) - base

    def apply(self, iteration: int, economy: RBCEconomy) -> None:
        """Set the economy's curriculum knobs for ``iteration``."""
        c = self.config
        if not c.curriculum:
            economy.set_curriculum(1.0, (0.0, 2500.0), (0.0, 44.0), 1.0)
            return
        it = iteration
        theta = 1.0 - math.exp(-it / (c.theta_tau * c.iterations))
        f0, g0 = self.start("firm"), self.start("government")
        s = min(it / f0, 1.0) if f0 > 0 else 1.0
        price_range = (1000.0 - 1000.0 * s, 1000.0 + 1500.0 * s)
        wage_range = (22.0 - 22.0 * s, 22.0 + 22.0 * s)
        if it < f0:
            cap = 0.0
        elif g0 > f0:
            cap = min((it - f0) / (g0 - f0), 1.0)
        else:
            cap = 1.0
        economy.set_curriculum(theta, price_range, wage_range, cap)

    def final_factor(self, iteration: int) -> float:
        """1 until the last ``ent_final`` of the run, then falling linearly to 0 at its end."""
        c = self.config
        n = c.ent_final * c.iterations
        if n <= 0:
            return 1.0
        return min(1.0, max(0.0, (c.iterations - iteration) / n))

    def __call__(self, iteration: int, trainer: Trainer):
        c = self.config
        self._update_gate(iteration, trainer)
        self.apply(iteration, trainer.economy)
        active = []
        for k, learner in trainer.learners.items():
            k0 = self.start(k)
            if iteration >= k0 and not isinstance(learner, FixedGovernment):
                active.append(k)
                # entropy annealing restarts when a type begins to learn
                learner.config.ent_coef = c.ent_start * max(math.exp(-(iteration - k0) / (c.ent_tau * c.iterations)),
                                                            c.ent_floor) * self.final_factor(iteration)
        return active


def make_economy(config: RBCTrainConfig, device="auto", num_envs: int | None = None) -> RBCEconomy:
    return RBCEconomy(RBCConfig(variant=config.variant, productivity_sigma=config.productivity_sigma),
                      num_envs=num_envs or config.num_envs, device=device)


def make_trainer(config: RBCTrainConfig, seed: int = 0, device="auto", progress: bool = False) -> Trainer:
    """Economy + one PPO per type (parameter sharing) + the curriculum, seeded."""
    torch.manual_seed(seed)
    econ = make_economy(config, device)
    econ.check_actions = False  # the learners' actions are valid by construction; checking costs time
    learners: Dict[str, object] = {}
    for k, spec in econ.specs.items():
        if k == "government" and config.fixed_tax >= 0:
            learners[k] = FixedGovernment(econ, config.fixed_tax)
            continue
        pc = PPOConfig(lr=config.government_lr if k == "government" else config.lr, gamma=config.gamma,
                       gae_lambda=0.95, clip_eps=config.clip_eps, epochs=config.epochs,
                       minibatches=1 if k == "government" else config.minibatches, ent_coef=config.ent_start,
                       vf_clip=None, max_grad_norm=2.0, hidden=(config.hidden, config.hidden), activation="relu",
                       analytic_heads=config.analytic_heads, matmul_dtype=config.matmul_dtype)
        learners[k] = PPO(spec, pc, device=econ.device)
    curriculum = RBCCurriculum(config)
    trainer = Trainer(econ, learners, curriculum=curriculum, rollout_len=econ.config.episode_length,
                      seed=seed, progress=progress)
    trainer.rbc_config = config
    return trainer


def full_model(trainer: Trainer) -> None:
    """Switch every curriculum knob to the full model (for best responses and evaluation)."""
    trainer.economy.set_curriculum(1.0, (0.0, 2500.0), (0.0, 44.0), 1.0)


def evaluation_economy(trainer: Trainer, num_envs: int | None = None) -> RBCEconomy:
    """A separate copy of the economy (full model) for evaluations and best responses."""
    econ = make_economy(trainer.rbc_config, trainer.economy.device, num_envs or max(16, trainer.economy.num_envs))
    econ.check_actions = False
    return econ


@torch.no_grad()
def rollout_summary(trainer: Trainer, episodes: int = 1, seed: int = 12345, deterministic: bool = False,
                    economy: RBCEconomy | None = None, num_envs: int | None = None) -> dict:
    """Run ``episodes`` full episodes on a separate economy (full model, the trained policies)
    and return per-economy means of the quantities the chapter plots: {name: tensor [E]} and
    per-firm means {name: tensor [E, F]}."""
    cfg = trainer.rbc_config
    econ = economy or make_economy(cfg, trainer.economy.device, num_envs)
    if economy is None:
        econ.set_curriculum(1.0, (0.0, 2500.0), (0.0, 44.0), 1.0)
    econ.check_actions = False
    torch.manual_seed(seed)
    sums: Dict[str, torch.Tensor] = {}
    steps = episodes * econ.config.episode_length

    def accumulate(t, out):
        i = out.info
        rows = dict(out.macro)
        rows.update({f"firm_{k}": v for k, v in (("price", i["price_paid"]), ("wage", i["wage_paid"]),
                                                 ("hours", i["hours_at_firm"]), ("sales", i["sales"]),
                                                 ("exports", i["exports"]), ("profit", i["firm_profit"]),
                                                 ("production", i["production"]),
                                                 ("investment", i["investment"]))})
        for k, v in rows.items():
            sums[k] = sums.get(k, 0) + v.float()

    replay(econ, learner_policy(trainer.learners, deterministic), steps, seed=seed, variables=(), on_step=accumulate)
    return {k: v / steps for k, v in sums.items()}


# ------------------------------------------------------------------ command line (python -m macrobook train rbc)
NAME = "rbc"
HELP = "Chapter 6: the RBC economy of Curry et al. (2022), 100 consumers, 10 firms and a government"


def add_arguments(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--num-envs", type=int_arg("--num-envs", min=1), default=32, help="parallel economies (default 32)")
    ap.add_argument("--variant", choices=["open", "closed"], default="open", help="open (importer) or closed economy")
    ap.add_argument("--no-curriculum", action="store_true", help="train every type from the start on the full model")
    ap.add_argument("--hidden", type=int_arg("--hidden", min=1), default=64, help="hidden units per layer (default 64)")
    ap.add_argument("--fixed-tax", type=float_arg("--fixed-tax", min=-1.0, max=1.0), default=-1.0, help="fix both tax rates at this value (default: learned)")
    ap.add_argument("--matmul-dtype", choices=["float32", "bfloat16"], default="float32",
                    help="the networks' matrix products: float32 (default, the chapter's) or bfloat16 (faster on "
                         "CPUs with AMX or AVX-512 BF16 and on GPUs; the numbers change)")


def _config(args) -> RBCTrainConfig:
    return RBCTrainConfig(iterations=int(args.epochs), num_envs=int(args.num_envs), variant=args.variant,
                          curriculum=not bool(args.no_curriculum), hidden=int(args.hidden),
                          fixed_tax=float(args.fixed_tax), matmul_dtype=getattr(args, "matmul_dtype", "float32"))


def build(args) -> Trainer:
    from ..config import ConfigError

    try:
        cfg = _config(args)
    except ConfigError as e:
        raise SystemExit(f"macrobook train rbc: {e}")
    return make_trainer(cfg, seed=int(args.seed), device=args.device)


def score(trainer: Trainer, row: dict) -> float:
    """Welfare (the government's objective), measured only once every type trains on the full model."""
    if trainer.iteration <= trainer.curriculum.start("government"):
        return -float("inf")
    return float(row.get("macro/welfare", -float("inf")))


def _plot_training(log, path) -> None:
    import matplotlib.pyplot as plt

    from .. import plots as mp
    from ..io import atomic_savefig

    mp.style()
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.4))
    for ax, (k, col) in zip(axes, REWARD_MACRO.items()):
        ax.plot(log["iteration"], log[f"macro/{col}"].rolling(5, min_periods=1).mean())
        ax.set_title(f"{k}: mean reward per step")
        ax.set_xlabel("iteration (one episode in every economy)")
        ax.set_ylabel(col.replace("_", " "))
    fig.tight_layout()
    atomic_savefig(path, fig)
    plt.close(fig)


def finish(trainer: Trainer, run_dir, args) -> None:
    from ..io import atomic_write_csv, atomic_write_json

    log = trainer.log
    atomic_write_csv(run_dir.logs / "train_log.csv", log)
    _plot_training(log, run_dir.plots / "training_curves.png")
    summary = rollout_summary(trainer, episodes=2)
    atomic_write_json(run_dir.logs / "final_rollout.json",
                      {k: v.mean().item() for k, v in summary.items() if v.dim() == 1})


def evaluate(trainer: Trainer, run_dir, args, out_dir) -> None:
    from ..io import atomic_write_csv

    full_model(trainer)
    steps = args.steps or trainer.economy.config.episode_length
    hist = trainer.evaluate(steps=steps, seed=args.seed, deterministic=False)
    atomic_write_csv(out_dir / "history.csv", hist.wide())
