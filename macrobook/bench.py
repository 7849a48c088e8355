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
# economies whose run module adds BENCH_NUM_ENVS (default sizes) or bench_extra(device, args)
RUN_MODULES: dict[str, str] = {"rbc": "macrobook.runs.rbc"}


@dataclass
class BenchCase:
    batched_step: Callable[[], None]
    loop_step: Callable[[], None]
    agents_per_env: int
    sync: Callable[[], None] = lambda: None


def policy_actors(econ, hidden: int = 64, device="cpu"):
    """The bench's policies: one randomly initialised ``Actor`` per agent type of ``econ`` (seeded),
    a ``batched_step()`` that acts for every agent and steps every economy at once, and CPU copies of
    the same actors for the per-agent loop. Returns ``(batched_step, loop_actors)``."""
    from .nets import Actor

    torch.manual_seed(0)
    actors = {k: Actor(s.obs_dim, s.action, (hidden, hidden), "relu").to(device) for k, s in econ.specs.items()}
    state = {"obs": econ.reset(seed=0)}

    def batched_step():
        acts = {k: actors[k].act(state["obs"][k])[0] for k in actors}
        state["obs"] = econ.step(acts).obs

    loop_actors = {k: Actor(s.obs_dim, s.action, (hidden, hidden), "relu") for k, s in econ.specs.items()}
    for k in actors:
        loop_actors[k].load_state_dict({n: v.cpu() for n, v in actors[k].state_dict().items()})
    return batched_step, loop_actors


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
              loop_max_envs: int | None = None, args=None) -> dict:
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
    out = {
        "economy": economy,
        "device": str(dev),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "machine": platform.machine(),
        "results": rows,
    }
    # an economy may add measurements of its own (rbc: training throughput, time to epsilon)
    extra = getattr(importlib.import_module(RUN_MODULES[economy]), "bench_extra", None) if economy in RUN_MODULES else None
    if extra is not None and args is not None:
        out.update(extra(dev, args))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m macrobook bench", description=__doc__.split("\n\n")[0])
    ap.add_argument("economy", help=f"one of {sorted(BENCHES)} or 'all'")
    ap.add_argument("--json", action="store_true", help="print JSON only")
    ap.add_argument("--num-envs", type=int, nargs="+", default=None, metavar="E",
                    help="parallel economies (default 1 16 256; rbc: 1 16 64 256 1024)")
    ap.add_argument("--device", default="cpu", help="cpu (default), cuda or auto")
    ap.add_argument("--min-seconds", type=float, default=0.5, help="time each measurement at least this long")
    ap.add_argument("--threads", type=int, default=None,
                    help="torch intra-op threads (default: torch's own choice, one per core)")
    ap.add_argument("--train-envs", type=int, default=32, help="rbc: economies for the training measurements")
    ap.add_argument("--epsilon-budget-s", type=float, default=1200.0,
                    help="rbc: train until every type's epsilon is under the paper's bounds, at most this long (0 skips)")
    ap.add_argument("--epsilon-iterations", type=int, default=900, help="rbc: length of that run (sets the curricula)")
    ap.add_argument("--epsilon-envs", type=int, default=16, help="rbc: economies per iteration in that run")
    ap.add_argument("--epsilon-br-iterations", type=int, default=40, help="rbc: best-response iterations per check")
    args = ap.parse_args(argv)
    if args.num_envs is not None and any(e < 1 for e in args.num_envs):
        ap.error("--num-envs values must be >= 1")
    for name in ("train_envs", "epsilon_iterations", "epsilon_envs", "epsilon_br_iterations"):
        if getattr(args, name) < 1:
            ap.error(f"--{name.replace('_', '-')} must be >= 1, got {getattr(args, name)}")
    if args.epsilon_budget_s < 0:
        ap.error(f"--epsilon-budget-s must be >= 0, got {args.epsilon_budget_s}")
    if args.threads is not None:
        if args.threads < 1:
            ap.error(f"--threads must be >= 1, got {args.threads}")
        torch.set_num_threads(args.threads)
    names = sorted(BENCHES) if args.economy == "all" else [args.economy]

    def sizes(name):
        if args.num_envs is not None:
            return args.num_envs
        mod = importlib.import_module(RUN_MODULES[name]) if name in RUN_MODULES else None
        return list(getattr(mod, "BENCH_NUM_ENVS", (1, 16, 256)))

    out = [run_bench(n, sizes(n), args.device, args.min_seconds, args=args) for n in names]
    if args.json:
        print(json.dumps(out if len(out) > 1 else out[0], indent=2))
    else:
        for r in out:
            print(f"{r['economy']} on {r['device']} (torch {r['torch']}, {r['threads']} threads)")
            print(f"{'num_envs':>9} {'batched/s':>14} {'loop/s':>12} {'ratio':>8}")
            for row in r["results"]:
                print(f"{row['num_envs']:>9} {row['batched_agent_steps_per_s']:>14.0f} "
                      f"{row['loop_agent_steps_per_s']:>12.0f} {row['speedup']:>8.1f}")
            if "training" in r:
                print(f"training (rollout + updates): {r['training']['agent_steps_per_s']:,.0f} agent-steps/s "
                      f"at {r['training']['num_envs']} economies")
            if "time_to_epsilon" in r:
                t = r["time_to_epsilon"]
                print(f"epsilon bounds {'reached' if t['reached'] else 'NOT reached'} after {t['iterations']} "
                      f"iterations, {t['train_seconds']:.0f} s of training ({t['wall_seconds']:.0f} s with checks)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
