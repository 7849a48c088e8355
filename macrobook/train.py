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

import dataclasses
import json
import random
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
from .replay import learner_policy, replay
from .io import (CheckpointError, atomic_write_csv, clean_stale_temp, load_checkpoint, load_checkpoint_tensors,
                 read_checkpoint_attachment, read_checkpoint_header, save_checkpoint)


#: what :func:`reproducible_cpu` sets: Intel MKL's strict conditional numerical reproducibility (its
#: matrix products give the same bits whatever the number of threads and the memory alignment) and no
#: run-time adjustment of thread counts by MKL or OpenMP (Intel's conditions for run-to-run equality)
REPRODUCIBLE_ENV = {"MKL_CBWR": "AUTO,STRICT", "MKL_DYNAMIC": "FALSE", "OMP_DYNAMIC": "FALSE"}


def reproducible_cpu(threads: int | None = None, deterministic: bool = True) -> int:
    """Make CPU runs bit-reproducible for a given thread count; returns the thread count in use.

    Sets :data:`REPRODUCIBLE_ENV` (MKL reads it at its first matrix product, so call this before any
    training; ``tools/build_book.py`` also sets it for every notebook kernel), pins torch's threads to
    ``threads`` (PyTorch splits its own reductions by thread count, so a sum over a tensor depends on
    it) and, with ``deterministic``, asks torch for deterministic algorithms (an operation without one
    raises instead of running differently from run to run; meant for the CPU: on a GPU it would also
    need ``CUBLAS_WORKSPACE_CONFIG`` set before the first matrix product, so pass False there). Without it, a run's numbers can depend on
    how many threads the machine offered and on the load: MKL by default may use fewer threads
    than asked, and a product split over fewer threads rounds differently.
    """
    import os

    for k, v in REPRODUCIBLE_ENV.items():
        os.environ[k] = v
    if threads is not None:
        if not isinstance(threads, int) or isinstance(threads, bool) or threads < 1:
            raise ConfigError(f"threads must be an integer >= 1, got {threads!r}")
        torch.set_num_threads(threads)
    if deterministic:
        torch.use_deterministic_algorithms(True)
    return torch.get_num_threads()


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
        hist = replay(economy or self.economy, learner_policy(self.learners, deterministic), steps, seed=seed)
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
        """Write learners' weights and optimizer state, the log and the run state as one commit.

        ``path`` is a .safetensors file. The log (one row per iteration) and the run state (the
        economy's state, its random streams, the in-flight observation, the global random
        streams) travel inside it, so weights and log can never disagree after a kill; a readable
        copy of the log goes beside it as ``<stem>.log.csv``. Resuming with :meth:`load` and
        ``restore_state=True`` continues exactly as an uninterrupted run would (on the CPU).
        """
        path = Path(path)
        mods, opts = self._modules()
        meta = {"iteration": self.iteration, "env_steps": self.env_steps, "seed": self.seed,
                "agent_types": list(self.learners), "num_envs": self.economy.num_envs,
                "log_rows": len(self.records)}
        meta.update(metadata or {})
        state_tensors, state_info = self.run_state()
        save_checkpoint(path, mods, config=config, metadata=meta, optimizers=opts, tensors=state_tensors,
                        attachments={"log": json.dumps(self.records, default=_plain),
                                     "run_state": json.dumps(state_info, default=_plain)})
        atomic_write_csv(path.with_suffix(".log.csv"), self.log)  # a copy for readers
        return path

    def load(self, path: str | Path, with_optimizers: bool = True, restore_state: bool = False) -> dict:
        """Load weights (and optimizer state, iteration counters and log) saved by :meth:`save`.

        Verifies that the log inside the checkpoint has one row per iteration (0 to iteration-1).
        ``restore_state=True`` also restores the economy's state and random streams, the global
        random streams and the in-flight observation (what resuming a run needs).
        """
        path = Path(path)
        mods, opts = self._modules()
        header = load_checkpoint(path, mods, optimizers=opts if with_optimizers else None)
        meta = header.get("metadata", {})
        try:
            iteration = int(meta.get("iteration", 0))
            env_steps = int(meta.get("env_steps", 0))
        except (TypeError, ValueError) as e:
            raise CheckpointError(f"{str(path)!r}: damaged metadata ({e})") from e
        text = read_checkpoint_attachment(path, "log")
        if text is not None:
            records = json.loads(text)
        else:  # an older checkpoint: the log is the CSV beside it
            records = _read_log_csv(path.with_suffix(".log.csv"))
        its = [r.get("iteration") for r in records]
        if its != list(range(iteration)):
            raise CheckpointError(
                f"{str(path)!r} is at iteration {iteration} but its log holds {len(records)} rows "
                f"(iterations {its[:1]}..{its[-1:]}); the checkpoint and its log disagree")
        self.iteration, self.env_steps, self.records = iteration, env_steps, records
        self._obs = None
        if restore_state:
            self.restore_run_state(path)
        return header

    # ------------------------------------------------------------------ run state (exact resume)
    def run_state(self) -> tuple[Dict[str, torch.Tensor], dict]:
        """Everything besides the weights that the next iteration depends on, as named tensors
        and a JSON-able description: the global random streams (torch, NumPy, Python), the
        economy's state and generator, the in-flight observation and learners' counters."""
        import numpy as np

        tensors: Dict[str, torch.Tensor] = {"rng.torch": torch.get_rng_state()}
        kind, keys, pos, has_gauss, cached = np.random.get_state()
        tensors["rng.numpy"] = torch.from_numpy(np.asarray(keys, dtype=np.int64))
        info: dict = {"numpy": [kind, int(pos), int(has_gauss), float(cached)],
                      "python": _to_lists(random.getstate()),
                      "obs": None, "learners": {}}
        if self._obs is not None:
            info["obs"] = sorted(self._obs)
            for k, v in self._obs.items():
                tensors[f"obs.{k}"] = v
        for k, l in self.learners.items():
            n = getattr(l, "num_updates", None)
            if isinstance(n, int):
                info["learners"][k] = {"num_updates": n}
        counter = [0]
        info["economy"] = {a: _encode(v, tensors, counter) for a, v in vars(self.economy).items()
                           if a not in _ECONOMY_SETTINGS}
        return tensors, info

    def restore_run_state(self, path: str | Path) -> None:
        """Restore what :meth:`run_state` saved into checkpoint ``path`` (see :meth:`load`)."""
        import numpy as np

        text = read_checkpoint_attachment(path, "run_state")
        if text is None:
            raise CheckpointError(f"{str(path)!r} holds no run state (written by an older macrobook); "
                                  "it can be evaluated but not resumed exactly: use --fresh")
        info = json.loads(text)
        tensors = load_checkpoint_tensors(path, "__state__.")
        try:
            econ = self.economy
            econ.reset(seed=self.seed)  # builds the structure that the saved values replace
            for a, spec in info["economy"].items():
                setattr(econ, a, _decode(spec, getattr(econ, a, None), tensors, econ.device))
            self._obs = None if info["obs"] is None else {k: tensors[f"obs.{k}"].to(econ.device) for k in info["obs"]}
            for k, d in info.get("learners", {}).items():
                if k in self.learners and hasattr(self.learners[k], "num_updates"):
                    self.learners[k].num_updates = int(d["num_updates"])
            torch.set_rng_state(tensors["rng.torch"])
            kind, pos, has_gauss, cached = info["numpy"]
            np.random.set_state((kind, tensors["rng.numpy"].numpy().astype(np.uint32), pos, has_gauss, cached))
            random.setstate(_to_tuples(info["python"]))
        except (KeyError, TypeError, ValueError, RuntimeError) as e:
            raise CheckpointError(f"{str(path)!r}: its run state does not fit this economy ({type(e).__name__}: {e})") from e

    @staticmethod
    def header(path: str | Path) -> dict:
        return read_checkpoint_header(path)

# ------------------------------------------------------------------ run-state encoding
#: attributes of an economy that are settings, not state (rebuilt from the config on resume)
_ECONOMY_SETTINGS = frozenset({"specs", "config", "device", "dtype", "num_envs", "check_actions"})


def _plain(o):
    """JSON for the run state: what the checkpoint writer knows (tensors, numbers, sets), else its text."""
    from .io import _json_default

    try:
        return _json_default(o)
    except TypeError:
        return str(o)


def _to_lists(o):
    return [_to_lists(v) for v in o] if isinstance(o, (list, tuple)) else o


def _to_tuples(o):
    return tuple(_to_tuples(v) for v in o) if isinstance(o, list) else o


def _encode(v, tensors: Dict[str, torch.Tensor], counter: list) -> dict:
    """A JSON description of ``v``; its tensors go into ``tensors`` under fresh names."""
    def name():
        counter[0] += 1
        return f"economy.{counter[0]}"

    if isinstance(v, torch.Tensor):
        for n, saved in tensors.items():   # the same tensor object under two names stays one tensor
            if saved is v and n.startswith("economy."):
                return {"t": "tensor", "name": n}
        n = name()
        tensors[n] = v
        return {"t": "tensor", "name": n}
    if isinstance(v, torch.Generator):
        n = name()
        tensors[n] = v.get_state()
        return {"t": "generator", "name": n}
    if dataclasses.is_dataclass(v) and not isinstance(v, type):
        return {"t": "dataclass", "class": type(v).__name__,
                "fields": {f.name: _encode(getattr(v, f.name), tensors, counter) for f in dataclasses.fields(v)}}
    if isinstance(v, dict) and all(isinstance(k, str) for k in v):
        return {"t": "dict", "items": {k: _encode(x, tensors, counter) for k, x in v.items()}}
    if isinstance(v, (list, tuple)):
        return {"t": type(v).__name__ if type(v) in (list, tuple) else "list",
                "items": [_encode(x, tensors, counter) for x in v]}
    if v is None or isinstance(v, (bool, int, float, str)):
        return {"t": "value", "v": v}
    return {"t": "kept"}  # not state we can store (a callable, a device): keep the rebuilt one


def _decode(spec: dict, current, tensors: Mapping[str, torch.Tensor], device):
    t = spec["t"]
    if t == "tensor":
        dev = current.device if isinstance(current, torch.Tensor) else device
        return tensors[spec["name"]].to(dev)
    if t == "generator":
        if not isinstance(current, torch.Generator):
            raise TypeError("expected a torch.Generator")
        current.set_state(tensors[spec["name"]])
        return current
    if t == "dataclass":
        if not (dataclasses.is_dataclass(current) and type(current).__name__ == spec["class"]):
            raise TypeError(f"expected a {spec['class']}, found {type(current).__name__}")
        return dataclasses.replace(current, **{f: _decode(s, getattr(current, f, None), tensors, device)
                                               for f, s in spec["fields"].items()})
    if t == "dict":
        cur = current if isinstance(current, dict) else {}
        return {k: _decode(s, cur.get(k), tensors, device) for k, s in spec["items"].items()}
    if t in ("list", "tuple"):
        cur = list(current) if isinstance(current, (list, tuple)) else []
        items = [_decode(s, cur[i] if i < len(cur) else None, tensors, device) for i, s in enumerate(spec["items"])]
        return tuple(items) if t == "tuple" else items
    if t == "value":
        return spec["v"]
    return current


def _read_log_csv(path: Path) -> list:
    import pandas as pd

    if not path.exists() or path.stat().st_size == 0:
        return []
    try:
        return pd.read_csv(path).to_dict("records")
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as e:
        raise CheckpointError(f"{str(path)!r} is not a readable training log CSV ({type(e).__name__}: {e})") from e


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
class RunError(SystemExit):
    """A run directory cannot be used as asked; its message is one line for the user (exit 1)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class RunDir:
    """A run directory::

        RUN_DIR/run.json                   economy, arguments, macrobook version (no machine paths)
        RUN_DIR/models/last.safetensors    weights, optimizer state, log and run state: one file,
                                           written every --save-every epochs in one atomic commit
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
        for d in (self.root, self.models, self.plots, self.logs):
            if d.exists() and not d.is_dir():
                raise RunError(f"--output-dir: {str(d)!r} is a file, not a folder; choose another --output-dir")
        for d in (self.models, self.plots, self.logs):
            d.mkdir(parents=True, exist_ok=True)
        for d in (self.root, self.models, self.plots, self.logs):
            clean_stale_temp(d)  # temporary files of writes a kill interrupted
        return self

    @property
    def last(self) -> Path:
        return self.models / "last.safetensors"

    @property
    def best(self) -> Path:
        return self.models / "best.safetensors"

    def checkpoints(self) -> list[Path]:
        """Every file the run loop writes under models/ (checkpoints and their copies)."""
        if not self.models.is_dir():
            return []
        return [p for p in self.models.iterdir() if p.is_file() and p.name.endswith((".safetensors", ".json", ".log.csv"))]

    def read_info(self) -> dict:
        p = self.root / "run.json"
        if not p.is_file():
            raise RunError(f"{str(self.root)!r} is not a macrobook run directory (no run.json)")
        try:
            info = json.loads(p.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as e:
            raise RunError(f"{str(p)!r} is not valid JSON ({e}); repair it or start over with --fresh") from e
        if not isinstance(info, dict) or not isinstance(info.get("args"), dict) or not isinstance(info.get("economy"), str):
            raise RunError(f"{str(p)!r} is not a macrobook run.json (needs an 'economy' name and an 'args' object)")
        return info


#: arguments that may change between a run and its resumption: they control the run, not the model.
#: Every other argument of the recipe's parser (sizes, variant, hidden units, learning rate, seed,
#: number of economies, ...) is structural; a recipe may add to this with ``RESUMABLE``.
RUN_CONTROL = frozenset({"epochs", "device", "output_dir", "save_every", "fresh", "no_progress", "command", "func",
                         "recipe"})


def structural_args(recipe, args: Mapping[str, object]) -> list[str]:
    """The arguments of ``args`` that must equal the checkpoint's for a resume (derived from the
    recipe's parser, not a hand list)."""
    free = RUN_CONTROL - set(getattr(recipe, "STRUCTURAL_CONTROL", ())) | set(getattr(recipe, "RESUMABLE", ()))
    return sorted(k for k in args if k not in free)


# kept for readers of older code: the guard now covers every structural argument of the recipe
STRUCTURAL = ("num_households", "num_firms", "num_banks", "num_consumers", "economy", "open_economy")


def default_score(trainer: Trainer, row: dict) -> float:
    """Higher is better: the sum of the per-type mean rewards of the epoch."""
    return float(sum(v for k, v in row.items() if k.startswith("reward/")))


def add_run_arguments(ap, recipe) -> None:
    """The flags of ``python -m macrobook train NAME`` (the run loop's, then the recipe's own).

    One definition for the command line and for sweeps (:mod:`macrobook.adapters.sweep`)."""
    from .config import int_arg

    name = recipe.NAME
    ap.add_argument("--epochs", type=int_arg("--epochs", min=1), default=100, help="training epochs (default 100)")
    ap.add_argument("--seed", type=int_arg("--seed", min=0, max=2**63 - 1), default=0)
    ap.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto",
                    help="auto (CUDA if available), cpu or cuda")
    ap.add_argument("--output-dir", default=f"runs/{name}", help=f"the run directory (default runs/{name})")
    ap.add_argument("--save-every", type=int_arg("--save-every", min=1), default=5,
                    help="write models/last every N epochs")
    ap.add_argument("--fresh", action="store_true", help="ignore an existing checkpoint and start over")
    ap.add_argument("--no-progress", action="store_true", help="no progress bar")
    recipe.add_arguments(ap)


def _flag(k: str) -> str:
    return "--" + k.replace("_", "-")


def run(recipe, args) -> RunDir:
    """Train (or resume) ``recipe`` with the parsed ``args`` and write the run directory.

    ``recipe`` is a module of :mod:`macrobook.recipes` with ``NAME``, ``build(args) -> Trainer``,
    ``finish(trainer, run_dir, args)`` and optionally ``score(trainer, row)``. One epoch is one
    ``trainer.train(1)``. Resuming: the same command again continues from ``models/last`` (weights,
    optimizer state, epoch counter, log, the economy's state and every random stream: on the CPU
    the result is bit-identical to an uninterrupted run); ``args.fresh`` deletes the old
    checkpoints and starts over. Resuming with a different structural argument (anything but
    :data:`RUN_CONTROL`) is refused. SIGTERM and Ctrl-C finish or abandon the epoch, save, and exit
    with 143 and 130 (as a shell reports them), so a scheduler never mistakes a stop for success.
    """
    from tqdm.auto import tqdm

    from .version import __version__
    from .io import atomic_write_json
    from .utils import seed_everything

    economy = recipe.NAME
    rd = RunDir(args.output_dir).make()
    # paths are not stored: the run directory is wherever run.json is (no machine paths)
    stored = {k: v for k, v in vars(args).items() if not callable(v) and k != "output_dir"
              and not isinstance(v, type(sys))}
    info = {"economy": economy, "args": stored}
    seed_everything(args.seed)
    trainer = recipe.build(args)
    trainer.progress = False
    if args.fresh:
        for p in rd.checkpoints():  # a --fresh run killed before its first save must not resume these
            p.unlink()
    resume = rd.last.exists()
    if resume:
        old = rd.read_info() if (rd.root / "run.json").exists() else {"economy": economy, "args": {}}
        if old.get("economy") != economy:
            raise RunError(f"{rd.root} holds a {old.get('economy')!r} run; use another --output-dir or --fresh")
        saved = read_checkpoint_header(rd.last).get("config", {})
        keys = structural_args(recipe, {**saved, **stored})
        changed = [k for k in keys if saved.get(k) != stored.get(k)]
        if changed:
            raise RunError(
                f"cannot resume {rd.root}: {', '.join(_flag(c) for c in changed)} differ from the checkpoint "
                f"({', '.join(c + '=' + repr(saved.get(c)) for c in changed)}); use --fresh or another --output-dir")
    info["macrobook_version"] = __version__
    atomic_write_json(rd.root / "run.json", info)
    if resume:
        trainer.load(rd.last, restore_state=True)
        print(f"resuming from {rd.last} at epoch {trainer.iteration}", file=sys.stderr)
    score = getattr(recipe, "score", default_score)
    best = max((score(trainer, r) for r in trainer.records), default=-float("inf"))
    bar = tqdm(total=args.epochs, initial=trainer.iteration, desc=f"train {economy}", disable=args.no_progress)
    stop = {"signal": None}

    def on_signal(signum, frame):  # finish the epoch, save, stop; a second Ctrl-C abandons the epoch
        if signum == signal.SIGINT and stop["signal"] is not None:
            raise KeyboardInterrupt
        stop["signal"] = signum
        if signum == signal.SIGINT:
            print("\ninterrupt: finishing the epoch and saving (Ctrl-C again to abandon the epoch)", file=sys.stderr)

    import threading

    old_handlers = {}
    if threading.current_thread() is threading.main_thread():  # signals reach the main thread only
        old_handlers = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        while trainer.iteration < args.epochs and stop["signal"] is None:
            trainer.train(1)
            s = score(trainer, trainer.records[-1])
            if s > best:
                best = s
                trainer.save(rd.best, config=stored, metadata={"score": s})
            if trainer.iteration % args.save_every == 0 or trainer.iteration == args.epochs:
                trainer.save(rd.last, config=stored)
            bar.update(1)
            bar.set_postfix(score=f"{s:.4g}")
        trainer.save(rd.last, config=stored)
    except KeyboardInterrupt:
        # the epoch in flight is abandoned: the last save is what a resume continues from (saving the
        # half-updated trainer would break the exact resume)
        bar.close()
        print(f"interrupted: the epoch in flight is lost; run the same command to resume from {rd.last}",
              file=sys.stderr)
        raise SystemExit(130)
    finally:
        for sig, h in old_handlers.items():
            signal.signal(sig, h)
    bar.close()
    if stop["signal"] is not None:
        name, code = ("SIGTERM", 143) if stop["signal"] == signal.SIGTERM else ("Ctrl-C", 130)
        print(f"stopped by {name}: saved {rd.last} at epoch {trainer.iteration}; run the same command to resume",
              file=sys.stderr)
        raise SystemExit(code)
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
        raise RunError(f"{rd.root}: unknown economy {economy!r} in run.json; known: {sorted(recipes)}")
    recipe = recipes[economy]
    targs = argparse.Namespace(**info["args"])
    targs.output_dir = str(rd.root)
    if device:
        targs.device = device
    path = rd.models / f"{model}.safetensors"
    if not path.exists():
        raise RunError(f"{rd.root}: no checkpoint {path}; train first")
    trainer = recipe.build(targs)
    trainer.progress = False
    trainer.load(path, with_optimizers=with_optimizers)
    return recipe, targs, trainer, rd
