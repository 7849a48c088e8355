"""Command line: ``python -m macrobook <command> ...``, one argparse tree.

    train ECONOMY ...            train an economy (monetary, rbc, six_sector); writes RUN_DIR/models, logs
    eval --model-path PATH       evaluate a trained run (PATH = RUN_DIR/models/best or last)
    bench ECONOMY [--json]       agent-steps/s, batched vs a per-agent Python loop
    best-response RUN_DIR        epsilon of each agent type by best-response retraining
    scorecard RUN_DIR [--json]   the stylized-facts scorecard of a trained monetary or six_sector run
    sweep CHAPTER --seeds ...    seed x scenario x hyperparameter sweeps (--engine local or ray)
    llm diverseland ...          the LLM-augmented Diverseland scenario

Every subcommand is a parser in this file (no string dispatch); a bad value ends in one line that
names the flag and what is allowed, and a non-zero exit.
"""
from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path

from .config import ConfigError, float_arg, int_arg

SEED = int_arg("--seed", min=0, max=2**63 - 1)


class Parser(argparse.ArgumentParser):
    """argparse, but a bad argument ends in one line (no usage dump) and exit status 2."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


# ----------------------------------------------------------------------------- train / eval
def _add_train(sub) -> None:
    from .recipes import RECIPES
    from .train import add_run_arguments

    train = sub.add_parser("train", help="train an economy; writes RUN_DIR/models, plots, logs",
                           description="Train (or resume) an economy. Running the same command again resumes "
                                       "from RUN_DIR/models/last; --fresh starts over.")
    econs = train.add_subparsers(dest="economy", metavar="ECONOMY", required=True, parser_class=Parser)
    for name, recipe in RECIPES.items():
        ap = econs.add_parser(name, help=getattr(recipe, "HELP", name))
        add_run_arguments(ap, recipe)
        ap.set_defaults(func=_train, recipe=recipe)
    from .recipes import six_sector   # Chapter 3: its own loop (MADDPG is not a Trainer learner)

    ap = econs.add_parser(six_sector.NAME, help=six_sector.HELP, description=six_sector.train_main.__doc__.split("\n\n")[0])
    six_sector.add_train_arguments(ap)
    ap.set_defaults(func=six_sector.train_main)


def _train(args) -> int:
    from .train import run

    recipe = args.recipe
    del args.recipe, args.func
    if not args.output_dir:
        raise SystemExit("--output-dir must be a non-empty path")
    rd = run(recipe, args)
    print(f"run directory: {rd.root}")
    return 0


def _add_eval(sub) -> None:
    ap = sub.add_parser("eval", help="evaluate a trained run")
    ap.add_argument("--model-path", required=True, help="RUN_DIR/models/best or RUN_DIR/models/last (.safetensors optional)")
    ap.add_argument("--steps", type=int_arg("--steps", min=1), default=None, help="periods to simulate (default: the run's)")
    ap.add_argument("--seed", type=SEED, default=12345)
    ap.add_argument("--output-dir", default=None, help="where to write (default RUN_DIR/eval)")
    ap.add_argument("--device", choices=["auto", "cpu", "cuda"], default=None)
    ap.set_defaults(func=_eval)


def _eval(args) -> int:
    from .recipes import RECIPES
    from .train import load_run

    path = Path(args.model_path)
    if path.suffix != ".safetensors":
        path = path.with_suffix(".safetensors")
    if not path.exists():
        raise SystemExit(f"--model-path: no checkpoint at {path}")
    recipe, _, trainer, rd = load_run(path.parent.parent, RECIPES, model=path.stem, device=args.device)
    out_dir = Path(args.output_dir) if args.output_dir else rd.root / "eval"
    out_dir.mkdir(parents=True, exist_ok=True)
    recipe.evaluate(trainer, rd, args, out_dir)
    print(f"evaluation written to {out_dir}")
    return 0


# ----------------------------------------------------------------------------- bench
def _add_module(sub, name: str, help: str, module) -> None:
    """A subcommand whose module defines ``add_arguments(parser)`` and ``main(args)``."""
    ap = sub.add_parser(name, help=help, description=module.__doc__.split("\n\n")[0])
    module.add_arguments(ap)
    ap.set_defaults(func=module.main)


def _add_bench(sub) -> None:
    from . import bench

    _add_module(sub, "bench", "agent-steps/s, batched vs a per-agent Python loop", bench)


# ----------------------------------------------------------------------------- best response
def _add_best_response(sub) -> None:
    ap = sub.add_parser("best-response", help="epsilon of each agent type by best-response retraining",
                        description="epsilon of each agent type by best-response retraining")
    ap.add_argument("run_dir", help="a run directory written by `python -m macrobook train ...`")
    ap.add_argument("--iterations", type=int_arg("--iterations", min=1), default=None,
                    help="retraining iterations per type (default: 20%% of the run's epochs)")
    ap.add_argument("--episodes", type=int_arg("--episodes", min=1), default=2, help="evaluation episodes")
    ap.add_argument("--seed", type=SEED, default=777)
    ap.add_argument("--types", nargs="+", default=None, help="agent types to check (default: all learned)")
    ap.add_argument("--model", choices=["last", "best"], default="last")
    ap.add_argument("--device", choices=["auto", "cpu", "cuda"], default=None)
    ap.add_argument("--baseline", choices=["own", "profile"], default="own",
                    help="what the training gain is measured against: this type untrained among the learned others "
                         "(own, default) or every type untrained (profile)")
    ap.add_argument("--ent-coef", type=float_arg("--ent-coef", min=0.0), default=0.0,
                    help="entropy bonus while retraining (default 0: the reward itself, as the paper's vanilla PG)")
    ap.add_argument("--json", action="store_true", help="print JSON only")
    ap.set_defaults(func=_best_response)


def _best_response(args) -> int:
    from .analysis.best_response import PAPER_BOUNDS, epsilon_table, within_bounds
    from .io import atomic_write_json
    from .recipes import RECIPES
    from .train import RunDir, load_run
    from .utils import seed_everything

    rd = RunDir(args.run_dir)
    info = rd.read_info()
    seed_everything(int(info["args"].get("seed", 0)))
    # the same seed rebuilds the initial (untrained) policies, then the trained ones are loaded
    recipe, targs, trainer, rd = load_run(rd.root, RECIPES, model=args.model, device=args.device, with_optimizers=True)
    seed_everything(int(targs.seed))
    untrained = recipe.build(targs)
    seed_everything(int(targs.seed))
    bad = set(args.types or []) - set(trainer.learners)
    if bad:
        raise SystemExit(f"--types: unknown {sorted(bad)}; known: {sorted(trainer.learners)}")
    iterations = args.iterations or max(1, int(0.2 * int(getattr(targs, "epochs", 50))))
    prepare = getattr(recipe, "full_model", None)
    make_eval = getattr(recipe, "evaluation_economy", None)
    eval_econ = make_eval(trainer) if make_eval else copy.deepcopy(trainer.economy)
    table = epsilon_table(trainer, untrained, eval_econ, iterations, args.types, args.episodes, args.seed, prepare,
                          ent_coef=args.ent_coef, baseline=args.baseline)
    records = [{k: (None if isinstance(v, float) and v != v else v) for k, v in r.items()}  # NaN -> null
               for r in table.to_dict("records")]
    result = {"run_dir": str(Path(args.run_dir)), "model": args.model, "iterations": iterations,
              "baseline": args.baseline, "ent_coef": args.ent_coef,
              "paper_bounds": PAPER_BOUNDS, "all_within_bounds": within_bounds(table), "types": records}
    atomic_write_json(rd.logs / "best_response.json", result)
    if args.json:
        print(json.dumps(result, indent=2, default=float))
        return 0
    for r in result["types"]:
        eps = r.get("epsilon")
        eps_s = f"{eps:.2%}" if eps is not None else "undefined (no gain in training)"
        print(f"{r['type']:>10}: reward {r['reward_before']:.4g} -> {r['reward_after']:.4g} after "
              f"{iterations} iterations; epsilon {eps_s} (paper bound {PAPER_BOUNDS.get(r['type'], float('nan')):.0%})")
    return 0


# ----------------------------------------------------------------------------- scorecard
def _add_scorecard(sub) -> None:
    ap = sub.add_parser("scorecard", help="the stylized-facts scorecard of a trained monetary run",
                        description="the twelve stylized-facts checks (macrobook.analysis.scorecard) of a trained "
                                    "monetary run; epsilons are read from RUN_DIR/logs/epsilon.json when present")
    ap.add_argument("run_dir", help="a run directory written by `python -m macrobook train monetary`")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--seed", type=SEED, default=0, help="seed of the measurement economies")
    ap.set_defaults(func=_scorecard)


def _run_economy(run_dir) -> str | None:
    """The economy a run directory's run.json names, or None when it cannot be read."""
    try:
        return json.loads((Path(run_dir) / "run.json").read_text(encoding="utf-8")).get("economy")
    except Exception:
        return None


def _scorecard(args) -> int:
    import argparse as _ap

    from .analysis.scorecard import (RunDirError, card_from_measurement, card_json, format_card, measure_monetary,
                                     read_run_dir)
    from .recipes import monetary as recipe

    def fail(msg: str) -> int:
        print(f"macrobook scorecard: {msg}", file=sys.stderr)
        return 2

    if _run_economy(args.run_dir) == "six_sector":   # Chapter 3's card (macrobook.recipes.six_sector)
        from .recipes.six_sector import SixSectorRunError, scorecard_of_run
        try:
            card = scorecard_of_run(args.run_dir)
        except SixSectorRunError as e:
            print(str(e), file=sys.stderr)
            return 2
        print(card_json(card) if args.json else format_card(card))
        return 0
    try:
        targs, model, eps = read_run_dir(args.run_dir)
    except RunDirError as e:
        return fail(str(e))
    try:
        ns = _ap.Namespace(**targs)
        ns.device = "cpu"
        trainer = recipe.build(ns)
        trainer.progress = False
        trainer.load(model, with_optimizers=False)
    except SystemExit as e:
        return fail(f"{args.run_dir}: cannot rebuild the run ({e})")
    except Exception as e:  # a checkpoint that does not match run.json, a truncated file, ...
        return fail(f"{model} is damaged or does not match run.json ({type(e).__name__}: {e})")
    card = card_from_measurement(measure_monetary(trainer.learners, trainer.economy.config, seed=args.seed), eps)
    print(card_json(card) if args.json else format_card(card))
    return 0


# ----------------------------------------------------------------------------- sweep
def _add_sweep(sub) -> None:
    from .adapters import sweep

    _add_module(sub, "sweep", "seed x scenario x hyperparameter sweeps of a chapter's training", sweep)


# ----------------------------------------------------------------------------- llm
def _add_llm(sub) -> None:
    from .llm import cli as llm_cli

    ap = sub.add_parser("llm", help="LLM-augmented agent scenarios", description=llm_cli.__doc__.split("\n\n")[0])
    scen = ap.add_subparsers(dest="scenario", metavar="SCENARIO", required=True, parser_class=Parser)
    d = scen.add_parser("diverseland", help="households A/B/C, a firm, a government and a central bank")
    llm_cli.add_arguments(d)
    d.set_defaults(func=llm_cli.run)


# ----------------------------------------------------------------------------- the tree
def build_parser() -> argparse.ArgumentParser:
    ap = Parser(prog="python -m macrobook", description=__doc__.split("\n\n")[0],
                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", metavar="COMMAND", required=True, parser_class=Parser)
    for add in (_add_train, _add_eval, _add_bench, _add_best_response, _add_scorecard, _add_sweep, _add_llm):
        add(sub)
    return ap


def _one_line(command: str, e: BaseException) -> str:
    """The message of an error a user can cause, as one line naming what went wrong."""
    if isinstance(e, OSError) and e.strerror:
        where = f" {e.filename!r}" if e.filename else ""
        hint = {28: " (the disk is full)", 30: " (the file system is read-only)", 13: " (no permission)"}.get(e.errno, "")
        text = f"cannot use{where}: {e.strerror}{hint}"
    elif isinstance(e, MemoryError) or (isinstance(e, RuntimeError) and "alloc" in str(e).lower()):
        text = "not enough memory for these sizes; use fewer economies or agents (--num-envs, --num-households, ...)"
    else:
        text = str(e)
    text = " ".join(text.split())   # one line, whatever the library said
    prefix = f"macrobook {command}"
    return text if text.startswith(prefix) else f"{prefix}: {text}"


def main(argv=None) -> int:
    from .envs.base import EconomyDiverged
    from .io import CheckpointError

    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as e:   # --help (0) or a bad argument (2): the code, not an exception, for callers
        return int(e.code or 0) if not isinstance(e.code, str) else 2
    command = args.command
    try:
        return int(args.func(args) or 0)
    except ConfigError as e:
        print(_one_line(command, e), file=sys.stderr)
        return 2
    except SystemExit as e:   # the library's own one-line stops (RunError, a recipe's bad value), and exit codes
        if isinstance(e.code, str):
            print(_one_line(command, Exception(e.code)), file=sys.stderr)
            return 1
        return int(e.code or 0)
    except (CheckpointError, EconomyDiverged, OSError, MemoryError) as e:
        print(_one_line(command, e), file=sys.stderr)
        return 1
    except RuntimeError as e:
        if "alloc" not in str(e).lower():
            raise
        print(_one_line(command, e), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"macrobook {command}: interrupted", file=sys.stderr)
        return 130
