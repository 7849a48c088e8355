"""Seed x scenario x hyperparameter sweeps of a chapter's training, on one machine or a Ray cluster.

    python -m macrobook sweep rbc --seeds 0 1 2 --grid variant=open,closed --grid hidden=32,64 \\
        --epochs 50 --engine local --output-dir runs/sweep-rbc
    python -m macrobook sweep rbc --seeds 0 1 2 --grid variant=open,closed --engine ray          # Ray Tune
    python -m macrobook sweep rbc ... --engine ray --address ray://head-node:10001               # a cluster

A trial is one ``python -m macrobook train CHAPTER`` run with the trial's seed and values: its own
run directory (``OUTPUT_DIR/trials/<name>``: checkpoints, logs, plots, resumable as any run),
seeded by the run loop, on one thread. The local engine (no dependency beyond macrobook) runs
the trials one after another, or in ``--workers`` processes; the Ray engine (``pip install
'macrobook[ray]'``) hands the same trials to Ray Tune, on a local Ray instance or on the cluster
at ``--address``. Either way the result is one pandas DataFrame, one row per trial (its seed and
values, the last epoch's rewards and macro aggregates, the best score), written to
``OUTPUT_DIR/results.csv``, and the same seeds give the same numbers on either engine.
"""
from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence

from ..config import ConfigError, int_arg

#: the columns of a trial's row that come from its training (the rest are its settings)
METRIC_PREFIXES = ("reward/", "macro/", "loss/", "entropy/")


class _Raising(argparse.ArgumentParser):
    def error(self, message):
        raise ConfigError(message)


def trial_parser(chapter: str) -> argparse.ArgumentParser:
    from ..recipes import RECIPES
    from ..train import add_run_arguments

    if chapter not in RECIPES:
        raise ConfigError(f"CHAPTER must be one of {sorted(RECIPES)}, got {chapter!r}")
    ap = _Raising(prog=f"sweep {chapter}", add_help=False)
    add_run_arguments(ap, RECIPES[chapter])
    return ap


def parse_grid(items: Sequence[str]) -> Dict[str, List[str]]:
    """``["variant=open,closed", "hidden=32"]`` -> ``{"variant": ["open", "closed"], "hidden": ["32"]}``."""
    grid: Dict[str, List[str]] = {}
    for item in items or []:
        key, sep, values = item.partition("=")
        key = key.strip().lstrip("-").replace("-", "_")
        vals = [v.strip() for v in values.split(",") if v.strip()]
        if not sep or not key or not vals:
            raise ConfigError(f"--grid must look like NAME=V1,V2,... (a train flag and its values), got {item!r}")
        if key in ("seed", "output_dir", "fresh", "no_progress", "device"):
            raise ConfigError(f"--grid cannot set {key!r}: the sweep sets it (use --seeds, --output-dir, --device)")
        grid[key] = vals
    return grid


def trials(chapter: str, seeds: Sequence[int], grid: Mapping[str, Sequence[str]], epochs: int,
           device: str = "cpu") -> List[dict]:
    """Every (seed, values) combination as a trial: ``{"trial", "name", "seed", "argv", <name>: value}``.

    Every trial's flags are parsed here, before anything runs: a bad name or value is one error."""
    ap = trial_parser(chapter)
    dests = {a.dest: a for a in ap._actions}
    for key in grid:
        if key not in dests:
            allowed = sorted(k for k in dests if k not in ("help", "seed", "output_dir", "fresh", "no_progress", "device"))
            raise ConfigError(f"--grid: {chapter} has no flag --{key.replace('_', '-')}; allowed: {allowed}")
    keys = list(grid)
    out = []
    for i, (seed, *values) in enumerate(itertools.product(seeds, *(grid[k] for k in keys))):
        argv = ["--seed", str(seed), "--epochs", str(epochs), "--device", device, "--no-progress"]
        for k, v in zip(keys, values):
            action = dests[k]
            if action.nargs == 0:   # a switch: true/false
                if v.lower() in ("1", "true", "yes", "on"):
                    argv.append(action.option_strings[0])
                elif v.lower() not in ("0", "false", "no", "off"):
                    raise ConfigError(f"--grid {k}: a switch takes true or false, got {v!r}")
            else:
                argv += [action.option_strings[0], v]
        try:
            ap.parse_args(argv + ["--output-dir", "x"])
        except ConfigError as e:
            raise ConfigError(f"--grid: {e}") from None
        name = f"{i:03d}_seed{seed}" + "".join(f"_{k}-{v}" for k, v in zip(keys, values))
        out.append({"trial": i, "name": name, "seed": int(seed), "argv": argv, **dict(zip(keys, values))})
    return out


def run_trial(chapter: str, trial: Mapping, output_dir: str) -> dict:
    """Train one trial (resuming it if its run directory holds a checkpoint); return its row."""
    import torch

    from ..io import read_checkpoint_attachment, read_checkpoint_header
    from ..recipes import RECIPES
    from ..train import RunDir, run

    torch.set_num_threads(1)   # trials run side by side; one thread each keeps them reproducible
    run_dir = Path(output_dir) / "trials" / trial["name"]
    args = trial_parser(chapter).parse_args(list(trial["argv"]) + ["--output-dir", str(run_dir)])
    rd = RunDir(run_dir)
    if not (rd.last.exists() and read_checkpoint_header(rd.last)["metadata"].get("iteration") == args.epochs
            and (rd.root / "run.json").exists()):
        run(RECIPES[chapter], args)
    log = json.loads(read_checkpoint_attachment(rd.last, "log"))
    last = log[-1]
    row = {k: v for k, v in trial.items() if k not in ("argv", "name")}
    row.update({k: v for k, v in last.items() if k.startswith(METRIC_PREFIXES)})
    row["epochs"] = len(log)
    row["best_score"] = (read_checkpoint_header(rd.best)["metadata"].get("score") if rd.best.exists() else None)
    row["run_dir"] = str(Path("trials") / trial["name"])   # relative to the sweep's output directory
    return row


def _local(chapter, todo, output_dir, workers):
    if workers <= 1:
        return [run_trial(chapter, t, output_dir) for t in todo]
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn")) as pool:
        return list(pool.map(run_trial, [chapter] * len(todo), todo, [output_dir] * len(todo)))


def _ray(chapter, todo, output_dir, address, cpus_per_trial, max_concurrent):
    try:
        import ray
        from ray import tune
    except ImportError as e:
        raise ConfigError("--engine ray needs Ray Tune: pip install 'macrobook[ray]'") from e

    started = False
    if not ray.is_initialized():
        kwargs = {"include_dashboard": False, "log_to_driver": False, "configure_logging": False}
        if address:
            ray.init(address=address, **kwargs)
        else:
            # a local instance on a small, busy machine (a 2-core CI runner) can take longer than
            # Ray's 30 s default to start its agents; wait rather than fail
            for var, value in (("RAY_agent_register_timeout_ms", "180000"), ("RAY_raylet_start_wait_time_s", "180")):
                os.environ.setdefault(var, value)
            ray.init(num_cpus=max(1, max_concurrent * cpus_per_trial), **kwargs)
        started = True
    out = str(Path(output_dir).resolve())

    def trainable(config):
        row = run_trial(config["chapter"], config["trial"], config["output_dir"])
        # one JSON string: Ray leaves it untouched (it would flatten "reward/x" keys and add its own)
        tune.report({"row": json.dumps(row)})

    try:
        tuner = tune.Tuner(
            tune.with_resources(trainable, {"cpu": cpus_per_trial}),
            param_space={"chapter": chapter, "output_dir": out, "trial": tune.grid_search(list(todo))},
            tune_config=tune.TuneConfig(max_concurrent_trials=max_concurrent),
            run_config=tune.RunConfig(name="sweep", storage_path=str(Path(out) / "ray"), verbose=0),
        )
        results = tuner.fit()
        rows, errors = [], []
        for r in results:
            if r.error is not None:
                errors.append(f"trial {r.config['trial']['name']}: {r.error}")
            else:
                rows.append(json.loads(r.metrics["row"]))
        if errors:
            raise RuntimeError("; ".join(errors))
        return rows
    finally:
        if started:
            ray.shutdown()


def sweep(chapter: str, seeds: Sequence[int], grid: Optional[Mapping[str, Sequence]] = None, epochs: int = 10,
          engine: str = "local", output_dir: str | os.PathLike = "runs/sweep", device: str = "cpu",
          workers: int = 1, address: Optional[str] = None, cpus_per_trial: int = 1):
    """Run every trial of ``seeds`` x ``grid`` and return a pandas DataFrame (one row per trial,
    ordered by trial), also written to ``output_dir/results.csv``."""
    import pandas as pd

    from ..io import atomic_write_csv

    if engine not in ("local", "ray"):
        raise ConfigError(f"--engine must be 'local' or 'ray', got {engine!r}")
    if not seeds:
        raise ConfigError("--seeds needs at least one seed")
    grid = {k: [str(v) for v in vs] for k, vs in (grid or {}).items()}
    todo = trials(chapter, list(seeds), grid, epochs, device)
    out = Path(output_dir)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--output-dir {str(out)!r} is a file, not a folder")
    out.mkdir(parents=True, exist_ok=True)
    if engine == "local":
        rows = _local(chapter, todo, str(out), workers)
    else:
        rows = _ray(chapter, todo, str(out), address, cpus_per_trial, max(1, workers))
    frame = pd.DataFrame(sorted(rows, key=lambda r: r["trial"]))
    atomic_write_csv(out / "results.csv", frame)
    return frame


# ----------------------------------------------------------------------------- command line
def add_arguments(ap: argparse.ArgumentParser) -> None:
    from ..recipes import RECIPES

    ap.add_argument("chapter", metavar="CHAPTER", choices=sorted(RECIPES), help=f"one of {sorted(RECIPES)}")
    ap.add_argument("--seeds", type=int_arg("--seeds", min=0, max=2**63 - 1), nargs="+", required=True, metavar="SEED")
    ap.add_argument("--grid", action="append", default=[], metavar="NAME=V1,V2",
                    help="a train flag and its values (repeat for a product), e.g. --grid variant=open,closed")
    ap.add_argument("--epochs", type=int_arg("--epochs", min=1), default=10, help="epochs per trial (default 10)")
    ap.add_argument("--engine", choices=["local", "ray"], default="local", help="local (default) or ray (Ray Tune)")
    ap.add_argument("--workers", type=int_arg("--workers", min=1, max=1024), default=1,
                    help="trials at once (local: processes; ray: concurrent trials)")
    ap.add_argument("--address", default=None, help="ray: a cluster, e.g. ray://head:10001 or auto (default: a local instance)")
    ap.add_argument("--device", choices=["cpu", "cuda", "auto"], default="cpu")
    ap.add_argument("--output-dir", default=None, help="default runs/sweep-CHAPTER")
    ap.add_argument("--json", action="store_true", help="print the rows as JSON")


def main(args: argparse.Namespace) -> int:
    out = args.output_dir if args.output_dir is not None else f"runs/sweep-{args.chapter}"
    if not out:
        raise ConfigError("--output-dir must be a non-empty path")
    frame = sweep(args.chapter, args.seeds, parse_grid(args.grid), epochs=args.epochs, engine=args.engine,
                  output_dir=out, device=args.device, workers=args.workers, address=args.address)
    if args.json:
        print(frame.to_json(orient="records", indent=2))
    else:
        import pandas as pd

        with pd.option_context("display.width", 160, "display.max_columns", 12):
            print(frame.drop(columns=["run_dir"]).to_string(index=False))
        print(f"wrote {Path(out) / 'results.csv'} ({len(frame)} trials, engine {args.engine})", file=sys.stderr)
    return 0
