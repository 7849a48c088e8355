"""Throughput benchmark: ``python -m macrobook bench ECONOMY [--json] [--num-envs 1 64 1024]``.

Counts agent-steps per second (economies x agents x steps / seconds) of one period of an economy
*with the policy forward pass included*, for the batched tensor implementation and for a
straightforward per-agent Python loop of the same economy, measured side by side in one run.
It prints both figures and their ratio for several numbers of parallel economies. It is a
benchmark, not a timed test: the numbers depend on the machine, the ratio is the point.

Adding an economy: put a function ``bench_case(num_envs: int, device: torch.device) -> BenchCase``
in the economy's module and one line in ``BENCHES`` below. ``BenchCase.batched_step()`` runs one
period for all ``num_envs`` economies (policy forward for every agent type + ``economy.step``);
``BenchCase.loop_step()`` runs the same period agent by agent and economy by economy in Python
(policy forward one agent at a time, markets with Python numbers). Both must compute the same
economics (each economy's tests check that the two agree).
"""
from __future__ import annotations

import argparse
import importlib
import json
import platform
import sys
import time
from dataclasses import dataclass
from typing import Callable

import torch

BENCHES: dict[str, str] = {
    "cournot": "macrobook.envs.cournot:bench_case",
    "monetary": "macrobook.envs.monetary:bench_case",
    "rbc": "macrobook.envs.rbc:bench_case",
    "six_sector": "macrobook.envs.six_sector:bench_case",
}


@dataclass
class BenchCase:
    batched_step: Callable[[], None]
    loop_step: Callable[[], None]
    agents_per_env: int
    sync: Callable[[], None] = lambda: None


def _time(fn: Callable[[], None], sync, min_seconds: float, max_steps: int) -> tuple[int, float]:
    fn()  # warm-up
    sync()
    steps, t0 = 0, time.perf_counter()
    while True:
        fn()
        steps += 1
        sync()
        elapsed = time.perf_counter() - t0
        if elapsed >= min_seconds or steps >= max_steps:
            return steps, elapsed


def run_bench(economy: str, num_envs_list=(1, 16, 256), device="cpu", min_seconds: float = 0.5,
              loop_max_envs: int | None = None) -> dict:
    """Measure one economy; returns a JSON-able dict with both figures and their ratio."""
    from .utils import resolve_device

    if economy not in BENCHES:
        raise SystemExit(f"unknown economy {economy!r}; choose from {sorted(BENCHES)} or 'all'")
    mod, fn = BENCHES[economy].split(":")
    make_case = getattr(importlib.import_module(mod), fn)
    dev = resolve_device(device)
    rows = []
    for E in num_envs_list:
        case: BenchCase = make_case(E, dev)
        with torch.no_grad():
            bs, bt = _time(case.batched_step, case.sync, min_seconds, 10_000)
            ls, lt = _time(case.loop_step, lambda: None, min_seconds, 10_000)
        b = E * case.agents_per_env * bs / bt
        l = E * case.agents_per_env * ls / lt
        rows.append({
            "num_envs": E,
            "agents_per_env": case.agents_per_env,
            "batched_agent_steps_per_s": b,
            "loop_agent_steps_per_s": l,
            "speedup": b / l,
        })
    return {
        "economy": economy,
        "device": str(dev),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "machine": platform.machine(),
        "results": rows,
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m macrobook bench", description=__doc__.split("\n\n")[0])
    ap.add_argument("economy", help=f"one of {sorted(BENCHES)} or 'all'")
    ap.add_argument("--json", action="store_true", help="print JSON only")
    ap.add_argument("--num-envs", type=int, nargs="+", default=[1, 16, 256], metavar="E")
    ap.add_argument("--device", default="cpu", help="cpu (default), cuda or auto")
    ap.add_argument("--min-seconds", type=float, default=0.5, help="time each measurement at least this long")
    args = ap.parse_args(argv)
    if any(e < 1 for e in args.num_envs):
        ap.error("--num-envs values must be >= 1")
    names = sorted(BENCHES) if args.economy == "all" else [args.economy]
    out = [run_bench(n, args.num_envs, args.device, args.min_seconds) for n in names]
    if args.json:
        print(json.dumps(out if len(out) > 1 else out[0], indent=2))
    else:
        for r in out:
            print(f"{r['economy']} on {r['device']} (torch {r['torch']}, {r['threads']} threads)")
            print(f"{'num_envs':>9} {'batched/s':>14} {'loop/s':>12} {'ratio':>8}")
            for row in r["results"]:
                print(f"{row['num_envs']:>9} {row['batched_agent_steps_per_s']:>14.0f} "
                      f"{row['loop_agent_steps_per_s']:>12.0f} {row['speedup']:>8.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
