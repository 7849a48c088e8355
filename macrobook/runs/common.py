"""The shape every command-line run shares: ``python -m macrobook train ECONOMY ...`` and ``eval``.

A run directory holds::

    RUN_DIR/run.json                   economy, arguments, macrobook version
    RUN_DIR/models/last.safetensors    written after every --save-every epochs (atomically)
    RUN_DIR/models/best.safetensors    the epoch with the best score so far
    RUN_DIR/plots/*.png
    RUN_DIR/logs/train_log.csv, logs/train_stats.json, ...

Resuming: run the same command again; if ``RUN_DIR/models/last.safetensors`` exists the run
continues from it (weights, optimizer state, epoch counter and log), so an interruption loses
at most ``--save-every`` epochs. ``--fresh`` starts over.

An economy plugs in with a module ``macrobook.runs.<name>`` (registered in ``RUNS``) defining:

* ``add_arguments(parser)``: its own flags (validated; errors name the flag and what is allowed);
* ``build(args) -> Trainer``: the economy, learners and curriculum; one epoch = one
  ``trainer.train(1)`` call;
* ``score(trainer, row) -> float`` (optional): higher is better, picks ``best``; default is the
  sum of the per-type mean rewards of the epoch;
* ``finish(trainer, run_dir, args)``: write plots/ and logs/ after training;
* ``evaluate(trainer, run_dir, args, out_dir)``: what ``eval`` writes.
"""
from __future__ import annotations

import argparse
import importlib
import json
import signal
import sys
from pathlib import Path

from ..io import atomic_write_json

RUNS = {
    "monetary": "macrobook.runs.monetary",
    "rbc": "macrobook.runs.rbc",
    "six_sector": "macrobook.runs.six_sector",
}

# flags whose change makes a checkpoint unusable (network shapes or the economy change)
STRUCTURAL = ("num_households", "num_firms", "num_banks", "num_consumers", "economy", "open_economy")


class RunDir:
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
        p = self.root / "run.json"
        if not p.exists():
            raise SystemExit(f"{self.root} is not a macrobook run directory (no run.json)")
        return json.loads(p.read_text())


def _positive_int(name):
    def parse(s):
        try:
            v = int(s)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be an integer >= 1, got {s!r}")
        if v < 1:
            raise argparse.ArgumentTypeError(f"{name} must be an integer >= 1, got {v}")
        return v

    return parse


def _nonneg_int(name):
    def parse(s):
        try:
            v = int(s)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be an integer >= 0, got {s!r}")
        if v < 0:
            raise argparse.ArgumentTypeError(f"{name} must be an integer >= 0, got {v}")
        return v

    return parse


positive_int = _positive_int
nonneg_int = _nonneg_int


def _load_module(economy: str):
    if economy not in RUNS:
        raise SystemExit(f"macrobook train: unknown economy {economy!r}; choose from {sorted(RUNS)}")
    try:
        return importlib.import_module(RUNS[economy])
    except ImportError as e:
        raise SystemExit(f"macrobook train: economy {economy!r} is not available in this version ({e})")


def _default_score(trainer, row) -> float:
    return float(sum(v for k, v in row.items() if k.startswith("reward/")))


def train_main(argv=None) -> int:
    argv = list(argv or [])
    if not argv or argv[0].startswith("-"):
        print(f"usage: python -m macrobook train ECONOMY [flags]; ECONOMY is one of {sorted(RUNS)}", file=sys.stderr)
        return 2
    economy, rest = argv[0], argv[1:]
    mod = _load_module(economy)
    ap = argparse.ArgumentParser(prog=f"python -m macrobook train {economy}")
    ap.add_argument("--epochs", type=positive_int("--epochs"), default=100, help="training epochs (default 100)")
    ap.add_argument("--seed", type=nonneg_int("--seed"), default=0)
    ap.add_argument("--device", default="auto", help="auto (CUDA if available), cpu or cuda")
    ap.add_argument("--output-dir", default=f"runs/{economy}", help="the run directory (default runs/ECONOMY)")
    ap.add_argument("--save-every", type=positive_int("--save-every"), default=5, help="write models/last every N epochs")
    ap.add_argument("--fresh", action="store_true", help="ignore an existing checkpoint and start over")
    ap.add_argument("--no-progress", action="store_true", help="no progress bar")
    mod.add_arguments(ap)
    args = ap.parse_args(rest)
    run = train(economy, args, mod)
    print(f"run directory: {run.root}")
    return 0


def train(economy: str, args, mod=None) -> RunDir:
    """Train (or resume) and write the run directory. Usable from notebooks too."""
    from tqdm.auto import tqdm

    from ..utils import seed_everything

    mod = mod or _load_module(economy)
    run = RunDir(args.output_dir).make()
    info = {"economy": economy, "args": {k: v for k, v in vars(args).items()}}
    seed_everything(args.seed)
    trainer = mod.build(args)
    trainer.progress = False
    if run.last.exists() and not args.fresh:
        old = run.read_info()
        if old.get("economy") != economy:
            raise SystemExit(f"{run.root} holds a {old.get('economy')!r} run; use another --output-dir or --fresh")
        changed = [k for k in STRUCTURAL if k in old["args"] and old["args"].get(k) != info["args"].get(k)]
        if changed:
            raise SystemExit(
                f"cannot resume {run.root}: {', '.join('--' + c.replace('_', '-') for c in changed)} differ from the "
                f"checkpoint ({', '.join(c + '=' + str(old['args'][c]) for c in changed)}); use --fresh or another --output-dir"
            )
        trainer.load(run.last)
        print(f"resuming from {run.last} at epoch {trainer.iteration}", file=sys.stderr)
    from .. import __version__

    info["macrobook_version"] = __version__
    atomic_write_json(run.root / "run.json", info)
    score = getattr(mod, "score", _default_score)
    best = max((score(trainer, r) for r in trainer.records), default=-float("inf"))
    bar = tqdm(total=args.epochs, initial=trainer.iteration, desc=f"train {economy}", disable=args.no_progress)

    interrupted = {"flag": False}

    def on_term(signum, frame):  # finish the epoch, save, stop
        interrupted["flag"] = True

    old_handler = signal.signal(signal.SIGTERM, on_term)
    try:
        while trainer.iteration < args.epochs and not interrupted["flag"]:
            trainer.train(1)
            row = trainer.records[-1]
            s = score(trainer, row)
            if s > best:
                best = s
                trainer.save(run.best, config=info["args"], metadata={"score": s})
            if trainer.iteration % args.save_every == 0 or trainer.iteration == args.epochs:
                trainer.save(run.last, config=info["args"])
            bar.update(1)
            bar.set_postfix(score=f"{s:.4g}")
    except KeyboardInterrupt:
        trainer.save(run.last, config=info["args"])
        bar.close()
        print(f"interrupted: saved {run.last} at epoch {trainer.iteration}; run the same command to resume", file=sys.stderr)
        raise SystemExit(130)
    finally:
        signal.signal(signal.SIGTERM, old_handler)
    trainer.save(run.last, config=info["args"])
    bar.close()
    if interrupted["flag"]:
        print(f"stopped: saved {run.last} at epoch {trainer.iteration}", file=sys.stderr)
        return run
    mod.finish(trainer, run, args)
    return run


def eval_main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m macrobook eval")
    ap.add_argument("--model-path", required=True, help="RUN_DIR/models/best or RUN_DIR/models/last (.safetensors optional)")
    ap.add_argument("--steps", type=positive_int("--steps"), default=None, help="periods to simulate (default: the run's)")
    ap.add_argument("--seed", type=nonneg_int("--seed"), default=12345)
    ap.add_argument("--output-dir", default=None, help="where to write (default RUN_DIR/eval)")
    ap.add_argument("--device", default=None)
    args = ap.parse_args(argv)
    path = Path(args.model_path)
    if path.suffix != ".safetensors":
        path = path.with_suffix(".safetensors")
    if not path.exists():
        raise SystemExit(f"--model-path: no checkpoint at {path}")
    run = RunDir(path.parent.parent)
    info = run.read_info()
    mod = _load_module(info["economy"])
    targs = argparse.Namespace(**info["args"])
    if args.device:
        targs.device = args.device
    trainer = mod.build(targs)
    trainer.progress = False
    trainer.load(path, with_optimizers=False)
    out_dir = Path(args.output_dir) if args.output_dir else run.root / "eval"
    out_dir.mkdir(parents=True, exist_ok=True)
    mod.evaluate(trainer, run, args, out_dir)
    print(f"evaluation written to {out_dir}")
    return 0
