"""Throughput benchmark: ``python -m macrobook bench ECONOMY [--json] [--num-envs 1 64 1024]``.

Counts agent-steps per second (economies x agents x steps / seconds) of one period of an economy
*with the policy forward pass included*, for the batched tensor implementation and for a
straightforward per-agent Python loop of the same economy, measured side by side in one run.
It prints both figures and their ratio for several numbers of parallel economies. It is a
benchmark, not a timed test: the numbers depend on the machine, the ratio is the point.

This package holds, per economy, the per-agent reference loop (slow on purpose: the bench's
baseline and the tests' oracle for the batched step) and its ``bench_case``. Economies never
import it. Adding an economy: a module here with ``NAME`` and ``bench_case(num_envs, device) ->
BenchCase``, and one entry in ``CASES``. ``BenchCase.batched_step()`` runs one period for all
``num_envs`` economies (policy forward for every agent type + ``economy.step``);
``BenchCase.loop_step()`` runs the same period agent by agent and economy by economy in Python.
"""
from __future__ import annotations

import argparse
import json

import torch

from ..config import float_arg, int_arg
from . import cournot, diverseland, monetary, rbc, six_sector
from .core import BenchCase, policy_actors, run_bench

CASES = {m.NAME: m for m in (cournot, diverseland, monetary, rbc, six_sector)}

__all__ = ["BenchCase", "CASES", "policy_actors", "run_bench", "add_arguments", "main"]


def add_arguments(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("economy", choices=sorted(CASES) + ["all"], help="the economy to measure, or all")
    ap.add_argument("--json", action="store_true", help="print JSON only")
    ap.add_argument("--num-envs", type=int_arg("--num-envs", min=1, max=1_000_000), nargs="+", default=None,
                    metavar="E", help="parallel economies (default 1 16 256; rbc: 1 16 64 256 1024)")
    ap.add_argument("--device", choices=["cpu", "cuda", "auto"], default="cpu", help="cpu (default), cuda or auto")
    ap.add_argument("--min-seconds", type=float_arg("--min-seconds", min=0.0, max=3600.0), default=0.5,
                    help="time each measurement at least this long")
    ap.add_argument("--loop-max-envs", type=int_arg("--loop-max-envs", min=1), default=None,
                    help="time the per-agent loop only up to this many economies (default: every size)")
    ap.add_argument("--threads", type=int_arg("--threads", min=1, max=1024), default=None,
                    help="torch intra-op threads (default: torch's own choice, one per core)")
    ap.add_argument("--train-envs", type=int_arg("--train-envs", min=1), default=32,
                    help="rbc: economies for the training measurements")
    ap.add_argument("--design-envs", type=int_arg("--design-envs", min=1), nargs="+", default=[16, 128], metavar="E",
                    help="rbc: economies an iteration for the side-by-side training designs (default 16 128)")
    ap.add_argument("--design-iterations", type=int_arg("--design-iterations", min=1), default=6,
                    help="rbc: iterations of each training design (default 6; medians are reported)")
    ap.add_argument("--epsilon-budget-s", type=float_arg("--epsilon-budget-s", min=0.0), default=1200.0,
                    help="rbc: train until every type's epsilon is under the paper's bounds, at most this long (0 skips)")
    ap.add_argument("--epsilon-iterations", type=int_arg("--epsilon-iterations", min=1), default=900,
                    help="rbc: length of that run (sets the curricula)")
    ap.add_argument("--epsilon-envs", type=int_arg("--epsilon-envs", min=1), default=16,
                    help="rbc: economies per iteration in that run")
    ap.add_argument("--epsilon-br-iterations", type=int_arg("--epsilon-br-iterations", min=1), default=40,
                    help="rbc: best-response iterations per check")


def main(args: argparse.Namespace) -> int:
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    names = sorted(CASES) if args.economy == "all" else [args.economy]
    out = [run_bench(CASES[n], args.num_envs or list(getattr(CASES[n], "BENCH_NUM_ENVS", (1, 16, 256))),
                     args.device, args.min_seconds, args=args, loop_max_envs=args.loop_max_envs) for n in names]
    if args.json:
        print(json.dumps(out if len(out) > 1 else out[0], indent=2))
        return 0
    for r in out:
        print(f"{r['economy']} on {r['device']} (torch {r['torch']}, {r['threads']} threads)")
        print(f"{'num_envs':>9} {'batched/s':>14} {'loop/s':>12} {'ratio':>8}")
        for row in r["results"]:
            loop, ratio = row["loop_agent_steps_per_s"], row["speedup"]
            print(f"{row['num_envs']:>9} {row['batched_agent_steps_per_s']:>14.0f} "
                  + (f"{loop:>12.0f} {ratio:>8.1f}" if loop is not None else f"{'-':>12} {'-':>8}"))
        if "training" in r:
            print(f"training (rollout + updates): {r['training']['agent_steps_per_s']:,.0f} agent-steps/s "
                  f"at {r['training']['num_envs']} economies")
        for d in r.get("training_designs", []):
            floor = d["consumer_networks_floor"]["agent_steps_per_s"]
            print(f"training designs at {d['num_envs']} economies an iteration (agent-steps/s; consumers' "
                  f"networks alone: {floor:,.0f}):")
            for name, v in d["designs"].items():
                print(f"  {name:<40} {v['agent_steps_per_s']:>10,.0f}")
            fl = d["consumer_networks_floor"]
            if "gflops" in fl:
                print(f"  consumers' networks: {fl['gflop_per_iteration']:.2f} GFLOP an iteration at {fl['gflops']:.0f} "
                      f"GFLOP/s; 400k agent-steps/s needs {fl['gflops_needed_for_400k']:.0f} GFLOP/s for them alone")
        if "matmul_gflops" in r:
            m = r["matmul_gflops"]
            print(f"large matrix product on this machine: {m['float32']:.0f} GFLOP/s float32, "
                  f"{m['bfloat16']:.0f} GFLOP/s bfloat16")
        if "time_to_epsilon" in r:
            t = r["time_to_epsilon"]
            print(f"epsilon bounds {'reached' if t['reached'] else 'NOT reached'} after {t['iterations']} "
                  f"iterations, {t['train_seconds']:.0f} s of training ({t['wall_seconds']:.0f} s with checks)")
    return 0
