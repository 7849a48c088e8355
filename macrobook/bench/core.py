"""The bench's machinery: ``BenchCase``, the seeded policies, timing side by side."""
from __future__ import annotations

import platform
import time
from dataclasses import dataclass
from typing import Callable

import torch

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
    from ..nets import Actor

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


def economy_by_economy_case(econ_type, config, num_envs: int, device, hidden: int, agents_per_env: int) -> BenchCase:
    """A :class:`BenchCase` whose loop calls the same actors once per agent on a ``[1, obs_dim]``
    observation and steps ``num_envs`` one-economy instances (on the CPU) one after another; the
    batched side steps one ``econ_type(config, num_envs)`` for all economies at once."""
    econ = econ_type(config, num_envs=num_envs, device=device)
    batched_step, loop_actors = policy_actors(econ, hidden, device)
    singles = [econ_type(config, num_envs=1, device="cpu") for _ in range(num_envs)]
    loop_obs = [e.reset(seed=i) for i, e in enumerate(singles)]

    def loop_step():
        for i, e in enumerate(singles):
            acts = {}
            for k, spec in e.specs.items():
                rows = [loop_actors[k].act(loop_obs[i][k][0, j][None])[0][0] for j in range(spec.count)]
                acts[k] = torch.stack(rows).unsqueeze(0)
            loop_obs[i] = e.step(acts).obs

    device = torch.device(device)
    sync = (lambda: torch.cuda.synchronize(device)) if device.type == "cuda" else (lambda: None)
    return BenchCase(batched_step=batched_step, loop_step=loop_step, agents_per_env=agents_per_env, sync=sync)


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


def run_bench(case_module, num_envs_list=(1, 16, 256), device="cpu", min_seconds: float = 0.5, args=None,
              loop_max_envs: int | None = None) -> dict:
    """Measure one economy (``case_module`` has ``NAME`` and ``bench_case(num_envs, device)``); returns a
    JSON-able dict with the batched and the per-agent-loop figures and their ratio, measured in one run.
    The loop is timed only up to ``loop_max_envs`` economies (null above: it would take minutes a step)."""
    from ..utils import resolve_device

    dev = resolve_device(device)
    rows = []
    for E in num_envs_list:
        case: BenchCase = case_module.bench_case(E, dev)
        with torch.no_grad():
            bs, bt = _time(case.batched_step, case.sync, min_seconds, 10_000)
            b = E * case.agents_per_env * bs / bt
            l = None
            if loop_max_envs is None or E <= loop_max_envs:
                ls, lt = _time(case.loop_step, lambda: None, min_seconds, 10_000)
                l = E * case.agents_per_env * ls / lt
        rows.append({"num_envs": E, "agents_per_env": case.agents_per_env, "batched_agent_steps_per_s": b,
                     "loop_agent_steps_per_s": l, "speedup": None if l is None else b / l})
    out = {"economy": case_module.NAME, "device": str(dev), "torch": torch.__version__,
           "threads": torch.get_num_threads(), "machine": platform.machine(), "results": rows}
    # an economy may add measurements of its own (rbc: training throughput, time to epsilon)
    extra = getattr(case_module, "bench_extra", None)
    if extra is not None and args is not None:
        out.update(extra(dev, args))
    return out
