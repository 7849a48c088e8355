"""Trainer: rollouts from all economies at once -> updates for several agent types.

Defined in Chapter 2 and used by every later chapter::

    trainer = Trainer(econ, {"household": PPO(econ.specs["household"]), "firm": PPO(...)},
                      curriculum=lambda it, tr: ["household"] if it < 50 else ["household", "firm"])
    log = trainer.train(iterations=200)   # pandas DataFrame, one row per iteration
    hist = trainer.evaluate(steps=100, seed=1)   # History of macro aggregates

A learner is anything with the protocol below (PPO, A2C, REINFORCE, ...):

* ``act(obs [E, n, d], deterministic=False) -> (env_action, extras)``: extras is a dict of
  tensors with leading ``[E, n]`` (log-probabilities, values, raw actions) to keep in the rollout;
* ``update(rollout, agent_type) -> dict`` of float statistics (``loss``, ``entropy``, ...);
* ``modules()`` and ``optimizers()``: named parts, for checkpoints.

The curriculum says which types learn at each iteration; the others keep acting with their
current policy (frozen), which is how Curry et al. (2022) stage learning.

The resumable run loop behind ``python -m macrobook train`` lives here too (:func:`run`,
:class:`RunDir`): a chapter's recipe (``macrobook.recipes.<economy>``) builds the trainer and
writes its figures; this module trains, checkpoints and resumes.
"""
from __future__ import annotations

import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, Iterable, Mapping, Optional

import torch

from .config import ConfigError
from .envs.base import BatchedEconomy
from .contract import History
from .io import atomic_write_csv, load_checkpoint, read_checkpoint_header, save_checkpoint


@dataclass
class Rollout:
    """T steps of E economies. obs[type]: [T+1, E, n, d] (obs[t+1] follows step t);
    actions[type]: [T, E, n, ...] as sent to the economy; extras[type][key]: [T, E, n, ...];
    rewards[type]: [T, E, n]; dones: [T, E]; macro[name]: [T, E].

    final_obs[type]: [T, E, n, d], the observation right after step t *before* any restart (the
    economy's ``info["final_obs"]``; equal to obs[t+1] where no economy restarted), or ``None`` when
    the economy does not report it. A learner that treats ``done`` as a time limit rather than a
    terminal state bootstraps from it (Pardo et al. 2018)."""

    obs: Dict[str, torch.Tensor]
    actions: Dict[str, torch.Tensor]
    extras: Dict[str, Dict[str, torch.Tensor]]
    rewards: Dict[str, torch.Tensor]
    dones: torch.Tensor
    macro: Dict[str, torch.Tensor]
    final_obs: Optional[Dict[str, torch.Tensor]] = None

    @property
    def num_steps(self) -> int:
        return self.dones.shape[0]


Curriculum = Callable[[int, "Trainer"], Iterable[str]]


class Trainer:
    def __init__(
        self,
        economy: BatchedEconomy,
        learners: Mapping[str, object],
        curriculum: Optional[Curriculum] = None,
        rollout_len: int = 32,
        seed: int = 0,
        progress: bool = True,
    ):
        unknown = set(learners) - set(economy.specs)
        missing = set(economy.specs) - set(learners)
        if unknown or missing:
            raise ConfigError(
                f"learners must have one entry per agent type {sorted(economy.specs)}; "
                f"missing {sorted(missing)}, unknown {sorted(unknown)}"
            )
        if not isinstance(rollout_len, int) or rollout_len < 1:
            raise ConfigError(f"rollout_len must be an integer >= 1, got {rollout_len!r}")
        self.economy = economy
        self.learners = dict(learners)
        self.curriculum = curriculum
        self.rollout_len = rollout_len
        self.seed = seed
        self.progress = progress
        self.iteration = 0
        self.env_steps = 0
        self.records: list[dict] = []
        self._obs: Optional[Dict[str, torch.Tensor]] = None

    # ------------------------------------------------------------------ rollouts
    def actions(self, obs: Mapping[str, torch.Tensor], deterministic: bool = False):
        acts, extras = {}, {}
        for k, learner in self.learners.items():
            acts[k], extras[k] = learner.act(obs[k], deterministic=deterministic)
        return acts, extras

    @torch.no_grad()
    def collect(self, num_steps: Optional[int] = None, deterministic: bool = False) -> Rollout:
        """Run every economy ``num_steps`` periods with the current policies."""
        T = num_steps or self.rollout_len
        if self._obs is None:
            self._obs = self.economy.reset(seed=self.seed)
        obs_l = {k: [v] for k, v in self._obs.items()}
        act_l = {k: [] for k in self.learners}
        ext_l: Dict[str, Dict[str, list]] = {k: {} for k in self.learners}
        rew_l = {k: [] for k in self.learners}
        done_l, macro_l = [], {}
        fin_l: Optional[Dict[str, list]] = {k: [] for k in self.learners}
        for _ in range(T):  # a loop over time; agents and economies are tensor dimensions
            acts, extras = self.actions(self._obs, deterministic)
            out = self.economy.step(acts)
            for k in self.learners:
                act_l[k].append(acts[k])
                for ek, ev in extras[k].items():
                    ext_l[k].setdefault(ek, []).append(ev)
                rew_l[k].append(out.reward[k])
                obs_l[k].append(out.obs[k])
            done_l.append(out.done)
            fin = out.info.get("final_obs") if out.info else None
            if fin is None:
                fin_l = None
            elif fin_l is not None:
                for k in self.learners:
                    fin_l[k].append(fin[k])
            for mk, mv in out.macro.items():
                macro_l.setdefault(mk, []).append(mv)
            self._obs = out.obs
        self.env_steps += T * self.economy.num_envs
        return Rollout(
            obs={k: torch.stack(v) for k, v in obs_l.items()},
            actions={k: torch.stack(v) for k, v in act_l.items()},
            extras={k: {ek: torch.stack(ev) for ek, ev in d.items()} for k, d in ext_l.items()},
            rewards={k: torch.stack(v) for k, v in rew_l.items()},
            dones=torch.stack(done_l),
            macro={k: torch.stack(v) for k, v in macro_l.items()},
            final_obs=None if fin_l is None else {k: torch.stack(v) for k, v in fin_l.items()},
        )

    def active_types(self) -> list[str]:
        if self.curriculum is None:
            return list(self.learners)
        active = list(self.curriculum(self.iteration, self))
        bad = set(active) - set(self.learners)
        if bad:
            raise ConfigError(f"curriculum named unknown agent types {sorted(bad)}; known: {sorted(self.learners)}")
        return active

    # ------------------------------------------------------------------ training
    def train(self, iterations: int, callback: Optional[Callable[["Trainer", dict], None]] = None):
        """Collect a rollout and update the active learners, ``iterations`` times.

        Returns the whole log so far as a pandas DataFrame (one row per iteration).
        """
        from tqdm.auto import tqdm

        bar = tqdm(range(iterations), desc="training", disable=not self.progress, leave=False)
        for _ in bar:
            t0 = time.perf_counter()
            rollout = self.collect()
            row: dict = {"iteration": self.iteration, "env_steps": self.env_steps}
            active = self.active_types()
            for k in self.learners:
                row[f"reward/{k}"] = rollout.rewards[k].mean().item()
            for k in active:
                for sk, sv in self.learners[k].update(rollout, k).items():
                    row[f"{sk}/{k}"] = float(sv)
            for mk, mv in rollout.macro.items():
                row[f"macro/{mk}"] = mv.float().mean().item()
            row["seconds"] = time.perf_counter() - t0
            row["active"] = ",".join(active)
            self.records.append(row)
            self.iteration += 1
            if callback is not None:
                callback(self, row)
            bar.set_postfix({k.split("/")[1]: f"{v:.3g}" for k, v in row.items() if k.startswith("reward/")})
        return self.log

    @property
    def log(self):
        import pandas as pd

        return pd.DataFrame(self.records)

    @torch.no_grad()
    def evaluate(self, steps: int, seed: int = 12345, deterministic: bool = True,
                 economy: Optional[BatchedEconomy] = None) -> History:
        """Run the current policies ``steps`` periods from a fresh reset(seed); record macro aggregates.

        ``economy`` lets the caller evaluate on another copy (e.g. with a shock) without
        disturbing the training state.
        """
        econ = economy or self.economy
        hist = History()
        obs = econ.reset(seed=seed)
        for t in range(steps):
            acts = {k: l.act(obs[k], deterministic=deterministic)[0] for k, l in self.learners.items()}
            out = econ.step(acts)
            hist.record(out.macro, t)
            obs = out.obs
        if economy is None:
            self._obs = None  # the training stream restarts from a fresh reset
        return hist

    # ------------------------------------------------------------------ checkpoints
    def _modules(self):
        mods, opts = {}, {}
        for k, l in self.learners.items():
            for mk, m in l.modules().items():
                mods[f"{k}.{mk}"] = m
            for ok, o in l.optimizers().items():
                opts[f"{k}.{ok}"] = o
        return mods, opts

    def save(self, path: str | Path, config: Optional[dict] = None, metadata: Optional[dict] = None) -> Path:
        """Write learners' weights and optimizer state (safetensors) and the log (CSV), atomically.

        ``path`` is a .safetensors file; the log goes beside it as ``<stem>.log.csv``.
        """
        path = Path(path)
        mods, opts = self._modules()
        meta = {"iteration": self.iteration, "env_steps": self.env_steps, "seed": self.seed,
                "agent_types": list(self.learners), "num_envs": self.economy.num_envs}
        meta.update(metadata or {})
        save_checkpoint(path, mods, config=config, metadata=meta, optimizers=opts)
        atomic_write_csv(path.with_suffix(".log.csv"), self.log)
        return path

    def load(self, path: str | Path, with_optimizers: bool = True) -> dict:
        """Load weights (and optimizer state, iteration counters and log) saved by :meth:`save`."""
        import pandas as pd

        path = Path(path)
        mods, opts = self._modules()
        header = load_checkpoint(path, mods, optimizers=opts if with_optimizers else None)
        meta = header.get("metadata", {})
        self.iteration = int(meta.get("iteration", 0))
        self.env_steps = int(meta.get("env_steps", 0))
        log_path = path.with_suffix(".log.csv")
        if log_path.exists() and log_path.stat().st_size > 0:
            self.records = pd.read_csv(log_path).to_dict("records")
        self._obs = None
        return header

    @staticmethod
    def header(path: str | Path) -> dict:
        return read_checkpoint_header(path)


class FixedPolicy:
    """A learner that never learns: a rule (a Taylor rule, a fixed tax rate, ...) that plugs into
    the Trainer beside learned types. Subclasses implement ``act``."""

    def act(self, obs: torch.Tensor, deterministic: bool = False):  # pragma: no cover - abstract
        raise NotImplementedError

    def update(self, rollout, agent_type):
        return {}

    def modules(self):
        return {}

    def optimizers(self):
        return {}


# ============================================================================ the resumable run loop
class RunDir:
    """A run directory::

        RUN_DIR/run.json                   economy, arguments, macrobook version
        RUN_DIR/models/last.safetensors    written every --save-every epochs (atomically)
        RUN_DIR/models/best.safetensors    the epoch with the best score so far
        RUN_DIR/plots/*.png
        RUN_DIR/logs/train_log.csv, logs/train_stats.json, ...
    """

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.models = self.root / "models"
        self.plots = self.root / "plots"
        self.logs = self.root / "logs"

    def make(self) -> "RunDir":
        for d in (self.models, self.plots, self.logs):
            d.mkdir(parents=True, exist_ok=True)
        return self

    @property
    def last(self) -> Path:
        return self.models / "last.safetensors"

    @property
    def best(self) -> Path:
        return self.models / "best.safetensors"

    def read_info(self) -> dict:
        import json

        p = self.root / "run.json"
        if not p.exists():
            raise SystemExit(f"{self.root} is not a macrobook run directory (no run.json)")
        return json.loads(p.read_text())


# settings whose change makes a checkpoint unusable (network shapes or the economy change)
STRUCTURAL = ("num_households", "num_firms", "num_banks", "num_consumers", "economy", "open_economy")


def default_score(trainer: Trainer, row: dict) -> float:
    """Higher is better: the sum of the per-type mean rewards of the epoch."""
    return float(sum(v for k, v in row.items() if k.startswith("reward/")))


def run(recipe, args) -> RunDir:
    """Train (or resume) ``recipe`` with the parsed ``args`` and write the run directory.

    ``recipe`` is a module of :mod:`macrobook.recipes` with ``NAME``, ``build(args) -> Trainer``,
    ``finish(trainer, run_dir, args)`` and optionally ``score(trainer, row)``. One epoch is one
    ``trainer.train(1)``. Resuming: the same command again continues from ``models/last`` (weights,
    optimizer state, epoch counter and log); ``args.fresh`` starts over. SIGTERM finishes the epoch,
    saves and stops; Ctrl-C saves and exits with 130.
    """
    from tqdm.auto import tqdm

    from .version import __version__
    from .io import atomic_write_json
    from .utils import seed_everything

    economy = recipe.NAME
    rd = RunDir(args.output_dir).make()
    info = {"economy": economy, "args": {k: v for k, v in vars(args).items() if not callable(v)}}
    seed_everything(args.seed)
    trainer = recipe.build(args)
    trainer.progress = False
    if rd.last.exists() and not args.fresh:
        old = rd.read_info()
        if old.get("economy") != economy:
            raise SystemExit(f"{rd.root} holds a {old.get('economy')!r} run; use another --output-dir or --fresh")
        changed = [k for k in STRUCTURAL if k in old["args"] and old["args"].get(k) != info["args"].get(k)]
        if changed:
            raise SystemExit(
                f"cannot resume {rd.root}: {', '.join('--' + c.replace('_', '-') for c in changed)} differ from the "
                f"checkpoint ({', '.join(c + '=' + str(old['args'][c]) for c in changed)}); use --fresh or another --output-dir"
            )
        trainer.load(rd.last)
        print(f"resuming from {rd.last} at epoch {trainer.iteration}", file=sys.stderr)
    info["macrobook_version"] = __version__
    atomic_write_json(rd.root / "run.json", info)
    score = getattr(recipe, "score", default_score)
    best = max((score(trainer, r) for r in trainer.records), default=-float("inf"))
    bar = tqdm(total=args.epochs, initial=trainer.iteration, desc=f"train {economy}", disable=args.no_progress)
    interrupted = {"flag": False}

    def on_term(signum, frame):  # finish the epoch, save, stop
        interrupted["flag"] = True

    old_handler = signal.signal(signal.SIGTERM, on_term)
    try:
        while trainer.iteration < args.epochs and not interrupted["flag"]:
            trainer.train(1)
            s = score(trainer, trainer.records[-1])
            if s > best:
                best = s
                trainer.save(rd.best, config=info["args"], metadata={"score": s})
            if trainer.iteration % args.save_every == 0 or trainer.iteration == args.epochs:
                trainer.save(rd.last, config=info["args"])
            bar.update(1)
            bar.set_postfix(score=f"{s:.4g}")
    except KeyboardInterrupt:
        trainer.save(rd.last, config=info["args"])
        bar.close()
        print(f"interrupted: saved {rd.last} at epoch {trainer.iteration}; run the same command to resume", file=sys.stderr)
        raise SystemExit(130)
    finally:
        signal.signal(signal.SIGTERM, old_handler)
    trainer.save(rd.last, config=info["args"])
    bar.close()
    if interrupted["flag"]:
        print(f"stopped: saved {rd.last} at epoch {trainer.iteration}", file=sys.stderr)
        return rd
    recipe.finish(trainer, rd, args)
    return rd


def load_run(run_dir: str | Path, recipes: Mapping[str, object], model: str = "last", device: Optional[str] = None,
             with_optimizers: bool = False):
    """Rebuild the trainer of a finished run and load its weights.

    Returns ``(recipe, args, trainer, run_dir)``. ``recipes`` maps economy names to recipe modules.
    """
    import argparse

    rd = RunDir(run_dir)
    info = rd.read_info()
    economy = info.get("economy")
    if economy not in recipes:
        raise SystemExit(f"{rd.root}: unknown economy {economy!r} in run.json; known: {sorted(recipes)}")
    recipe = recipes[economy]
    targs = argparse.Namespace(**info["args"])
    if device:
        targs.device = device
    path = rd.models / f"{model}.safetensors"
    if not path.exists():
        raise SystemExit(f"{rd.root}: no checkpoint {path}; train first")
    trainer = recipe.build(targs)
    trainer.progress = False
    trainer.load(path, with_optimizers=with_optimizers)
    return recipe, targs, trainer, rd
