"""The per-agent reference loop of :mod:`macrobook.envs.rbc` and its bench case.

The loop computes the same economics as the batched step with Python numbers, economy by economy
and agent by agent. It is slow on purpose: the benchmark's baseline (``python -m macrobook bench
rbc``) and the batched step's oracle in the tests.
"""
from __future__ import annotations

from typing import Mapping

import torch

from ..envs.rbc import RBCConfig, RBCEconomy, RBCState
from .core import BenchCase, policy_actors  # noqa: F401

NAME = "rbc"

# ----------------------------------------------------------------------------- reference loop
def reference_step_loop(econ: RBCEconomy, s: RBCState, actions: Mapping[str, torch.Tensor]):
    """The same step written the obvious way: Python loops over economies and agents,
    Python floats. Slow on purpose: the benchmark's baseline and the batched step's oracle.
    Returns (next_state, raw rewards) as tensors shaped like :meth:`RBCEconomy.transition`."""
    cfg = econ.config
    n, F = econ.num_consumers, econ.num_firms
    W, m = len(cfg.wage_grid), len(cfg.tax_grid)
    E = s.price.shape[0]
    L = lambda x: x.detach().cpu().tolist()  # noqa: E731
    ca, fa, ga = L(actions["consumer"]), L(actions["firm"]), L(actions["government"])
    theta, alpha = L(econ.theta), L(econ.alpha)
    out = {k: L(v) for k, v in s.__dict__.items()}
    cr, fr, gr = [], [], []
    for e in range(E):
        price, wage, stock = out["price"][e], out["wage"][e], out["inventory"][e]
        tau, sigma = out["income_tax"][e], out["corporate_tax"][e]
        budgets = out["consumer_budget"][e]
        wanted = []
        for j in range(n):
            d = [float(x) for x in ca[e][j][:F]]
            cost = sum(d[g] * price[g] for g in range(F))
            if cost > budgets[j]:
                d = [x * max(budgets[j], 0.0) / cost for x in d]
            wanted.append(d)
        total = [sum(wanted[j][g] for j in range(n)) for g in range(F)]
        over = [total[g] > 0 and total[g] > stock[g] for g in range(F)]
        consumed = [[wanted[j][g] * (stock[g] / total[g] if over[g] else 1.0) for g in range(F)] for j in range(n)]
        sales = [sum(consumed[j][g] for j in range(n)) for g in range(F)]
        left = [0.0 if over[g] else max(stock[g] - sales[g], 0.0) for g in range(F)]
        hours_at = [0.0] * F
        revenue_tax, c_rew, new_budget = 0.0, [], []
        for j in range(n):
            h = cfg.hours_grid[ca[e][j][F]]
            k = ca[e][j][F + 1]
            hours_at[k] += h
            income = wage[k] * h
            revenue_tax += tau * income
            util = sum(((consumed[j][g] + 1) ** (1 - cfg.crra) - 1) / (1 - cfg.crra) for g in range(F))
            c_rew.append(util - 0.5 * theta[j] * econ.labor_cost_scale * h)
            spend = sum(consumed[j][g] * price[g] for g in range(F))
            new_budget.append(max(budgets[j] - spend, 0.0) + income * (1 - tau))
        f_rew, inv, cap, fb = [], [], [], []
        tech = cfg.technology * torch.exp(torch.tensor(out["log_productivity"][e])).item()
        for i in range(F):
            exp_ = min(max(left[i], 0.0), cfg.importer_quantity) if (cfg.variant == "open" and price[i] >= cfg.importer_price) else 0.0
            gross = (sales[i] + exp_) * price[i] - hours_at[i] * wage[i]
            invest = max(cfg.investment_share * gross, 0.0)
            profit = gross - invest
            ctax = sigma * max(profit, 0.0)
            revenue_tax += ctax
            f_rew.append(profit - ctax)
            y = tech * out["capital"][e][i] ** (1 - alpha[i]) * hours_at[i] ** alpha[i]
            inv.append(left[i] - exp_ + y)
            cap.append(out["capital"][e][i] + invest)
            fb.append(out["firm_budget"][e][i] + profit - ctax)
        new_budget = [b + revenue_tax / n for b in new_budget]
        if cfg.interest_rate > 0:
            new_budget = [b * (1 + cfg.interest_rate) for b in new_budget]
            fb = [b * (1 + cfg.interest_rate) if b > 0 else b for b in fb]
        prices_next, wages_next = [], []
        for i in range(F):
            p_idx, w_idx = divmod(fa[e][i], W)
            prices_next.append(min(max(cfg.price_grid[p_idx], econ.price_range[0]), econ.price_range[1]))
            wages_next.append(min(max(cfg.wage_grid[w_idx], econ.wage_range[0]), econ.wage_range[1]))
        ti, tc = divmod(ga[e][0], m)
        out["price"][e], out["wage"][e] = prices_next, wages_next
        out["inventory"][e], out["capital"][e], out["firm_budget"][e] = inv, cap, fb
        out["consumer_budget"][e] = new_budget
        out["overdemanded"][e] = [1.0 if o else 0.0 for o in over]
        out["income_tax"][e] = min(cfg.tax_grid[ti], econ.tax_cap)
        out["corporate_tax"][e] = min(cfg.tax_grid[tc], econ.tax_cap)
        out["log_productivity"][e] = cfg.productivity_rho * out["log_productivity"][e]
        out["t"][e] += 1
        cr.append(c_rew)
        fr.append(f_rew)
        gr.append([sum(c_rew) + cfg.firm_reward_weight * sum(f_rew)])
    dev = s.price.device
    nxt = RBCState(**{k: torch.tensor(v, dtype=torch.float32, device=dev) for k, v in out.items()})
    rewards = {k: torch.tensor(v, dtype=torch.float32, device=dev)
               for k, v in (("consumer", cr), ("firm", fr), ("government", gr))}
    return nxt, rewards


def bench_case(num_envs: int, device: torch.device, hidden: int = 64):
    """For ``macrobook bench rbc``: one period with the policy forward pass, batched vs a loop.

    Batched: one (randomly initialised) actor per type on ``[E, n, obs_dim]`` and one
    :meth:`RBCEconomy.step`. Loop: the same actors called once per agent on a ``[1, obs_dim]``
    observation, then :func:`reference_step_loop` (Python numbers), on the CPU.
    """
    

    econ = RBCEconomy(RBCConfig(), num_envs=num_envs, device=device)
    econ.check_actions = False
    batched_step, loop_actors = policy_actors(econ, hidden, device)

    loop_econ = RBCEconomy(RBCConfig(), num_envs=num_envs, device="cpu")
    loop_state = {"s": loop_econ.initial_state()}

    def loop_step():
        s = loop_state["s"]
        obs = loop_econ.observe(s)
        acts = {}
        for k, spec in loop_econ.specs.items():
            rows = []
            for e in range(num_envs):
                row = []
                for j in range(spec.count):
                    a, _ = loop_actors[k].act(obs[k][e, j][None])
                    row.append(a[0])
                rows.append(torch.stack(row))
            acts[k] = torch.stack(rows)
        nxt, _ = reference_step_loop(loop_econ, s, acts)
        loop_state["s"] = nxt if float(nxt.t[0]) < loop_econ.config.episode_length else loop_econ.initial_state()

    sync = (lambda: torch.cuda.synchronize(device)) if device.type == "cuda" else (lambda: None)
    return BenchCase(batched_step=batched_step, loop_step=loop_step,
                     agents_per_env=econ.num_consumers + econ.num_firms + 1, sync=sync)


# ------------------------------------------------------------------ rbc's own measurements
#: parallel economies measured by ``python -m macrobook bench rbc`` (the issue's list)
BENCH_NUM_ENVS = (1, 16, 64, 256, 1024)


def training_profile(device, num_envs: int = 16, hidden: int = 64, min_seconds: float = 0.5) -> dict:
    """Chapter 6's training setting (16 economies, 64 hidden units, the curricula, past the point where
    the government learns, so every type updates): agent-steps per second of rollouts plus updates,
    and where the time goes (rollout, each type's PPO update), in seconds per iteration."""
    import time

    from ..recipes.rbc import RBCTrainConfig, make_trainer

    tr = make_trainer(RBCTrainConfig(iterations=900, num_envs=num_envs, hidden=hidden), seed=0, device=device)
    tr.progress = False
    tr.iteration = tr.curriculum.start("government") + 1
    sync = (lambda: torch.cuda.synchronize(device)) if torch.device(device).type == "cuda" else (lambda: None)
    tr.train(1)
    parts = {"rollout": 0.0, "consumer": 0.0, "firm": 0.0, "government": 0.0}
    n_it, t_start = 0, time.perf_counter()
    while n_it < 3 or time.perf_counter() - t_start < min_seconds:
        t0 = time.perf_counter()
        rollout = tr.collect()
        sync()
        parts["rollout"] += time.perf_counter() - t0
        for k in tr.active_types():
            t0 = time.perf_counter()
            tr.learners[k].update(rollout, k)
            sync()
            parts[k] += time.perf_counter() - t0
        tr.iteration += 1
        n_it += 1
    secs = sum(parts.values())
    agents = tr.economy.num_consumers + tr.economy.num_firms + 1
    steps = n_it * num_envs * tr.economy.config.episode_length
    return {"num_envs": num_envs, "hidden": hidden, "iterations": n_it, "seconds": secs,
            "agent_steps_per_s": steps * agents / secs,
            "seconds_per_iteration": {k: v / n_it for k, v in parts.items()},
            "note": "the chapter's setting with every type learning: rollout + the three PPO updates"}


def linear_flops(modules, samples: int) -> float:
    """Floating-point operations of the ``nn.Linear`` layers in ``modules`` (each a network whose first
    layer reads data), forward and backward, over ``samples`` samples: per layer ``2 * in * out`` for the
    forward product, as much for the weights' gradient, and as much again for the input's gradient except
    in a network's first layer. Biases and activations are left out (one operation per output against ``2 * in`` for the product)."""
    total = 0
    for net in modules:
        layers = [m for m in net.modules() if isinstance(m, torch.nn.Linear)]
        for i, lin in enumerate(layers):
            total += 2 * lin.in_features * lin.out_features * (2 if i == 0 else 3)
    return float(total) * samples


def matmul_rate(device, dtype: torch.dtype = torch.float32, n: int = 1024, min_seconds: float = 0.5) -> float:
    """This machine's rate for one large square matrix product (``n`` x ``n``) in ``dtype``, in GFLOP/s:
    the practical ceiling for any network's arithmetic here."""
    import time

    sync = (lambda: torch.cuda.synchronize(device)) if torch.device(device).type == "cuda" else (lambda: None)
    g = torch.Generator(device="cpu").manual_seed(0)
    a = torch.randn(n, n, generator=g).to(device=device, dtype=dtype)
    b = torch.randn(n, n, generator=g).to(device=device, dtype=dtype)
    a @ b
    sync()
    k, t0 = 0, time.perf_counter()
    while k < 3 or time.perf_counter() - t0 < min_seconds:
        a @ b
        k += 1
    sync()
    return 2.0 * n ** 3 * k / (time.perf_counter() - t0) / 1e9


#: the training designs ``bench rbc`` measures side by side: RBCTrainConfig overrides (the chapter's is the second)
TRAINING_DESIGNS = {
    "autograd heads": {"analytic_heads": False},
    "closed-form heads (the chapter's)": {"analytic_heads": True},
    "closed-form heads + bfloat16 products": {"analytic_heads": True, "matmul_dtype": "bfloat16"},
}


def training_designs(device, num_envs: int = 16, hidden: int = 64, iterations: int = 6) -> dict:
    """The designs of :data:`TRAINING_DESIGNS` in one process, their iterations interleaved (design A's,
    then B's, then C's, ``iterations`` times), past the point where the government learns, so every type
    updates. Reports, per design, the median seconds of each part of an iteration (rollout, each type's
    update) and agent-steps per second from their total.

    ``consumer_networks_floor``: the consumers' actor and critic alone, forward and backward on the same
    number of samples as one consumer update (``epochs`` passes of ``minibatches`` minibatches), in float32;
    the agent-steps per second a whole iteration would reach if everything else (rollout, the categorical
    heads, the optimiser, the firms and government) took no time. It bounds what a float32 rewrite of
    the update can reach with these networks run layer by layer on this machine. It also reports their arithmetic
    (:func:`linear_flops`), the rate the floor ran at, and the rate they alone would need for 400k
    agent-steps per second, to set against this machine's large-matrix rate (``matmul_gflops`` in
    :func:`bench_extra`)."""
    import time

    from ..recipes.rbc import RBCTrainConfig, make_trainer

    sync = (lambda: torch.cuda.synchronize(device)) if torch.device(device).type == "cuda" else (lambda: None)
    trainers = {}
    for name, over in TRAINING_DESIGNS.items():
        tr = make_trainer(RBCTrainConfig(iterations=900, num_envs=num_envs, hidden=hidden, **over), seed=0, device=device)
        tr.progress = False
        tr.iteration = tr.curriculum.start("government") + 1
        tr.train(1)                                     # warm-up
        trainers[name] = tr
    parts = {name: {"rollout": [], "consumer": [], "firm": [], "government": []} for name in trainers}
    for _ in range(iterations):
        for name, tr in trainers.items():
            t0 = time.perf_counter()
            rollout = tr.collect()
            sync()
            parts[name]["rollout"].append(time.perf_counter() - t0)
            for k in tr.active_types():
                t0 = time.perf_counter()
                tr.learners[k].update(rollout, k)
                sync()
                parts[name][k].append(time.perf_counter() - t0)
            tr.iteration += 1
    tr = next(iter(trainers.values()))
    agents = tr.economy.num_consumers + tr.economy.num_firms + 1
    steps = num_envs * tr.economy.config.episode_length * agents
    out = {}
    for name, p in parts.items():
        med = {k: sorted(v)[len(v) // 2] for k, v in p.items() if v}
        out[name] = {"seconds_per_iteration": med, "agent_steps_per_s": steps / sum(med.values())}

    # the floor: the consumers' two networks alone, as many samples as one update passes over
    learner = tr.learners["consumer"]
    c = learner.config
    N = num_envs * tr.economy.config.episode_length * tr.economy.num_consumers
    mb = max(1, N // c.minibatches)
    x = torch.randn(mb, learner.spec.obs_dim, device=device)
    params = list(learner.actor.parameters()) + list(learner.critic.parameters())

    def networks():
        for _ in range(c.epochs * -(-N // mb)):
            logits = learner.actor.head.linear(learner.actor.act_fn(learner.actor.trunk(x)))
            (logits.sum() + learner.critic(x).sum()).backward()
        sync()

    networks()
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        networks()
        times.append(time.perf_counter() - t0)
    for p_ in params:
        p_.grad = None
    floor = sorted(times)[1]
    flops = linear_flops([learner.actor, learner.critic], c.epochs * -(-N // mb) * mb)
    return {"num_envs": num_envs, "hidden": hidden, "iterations": iterations, "designs": out,
            "consumer_networks_floor": {"seconds_per_iteration": floor, "agent_steps_per_s": steps / floor,
                                        "gflop_per_iteration": flops / 1e9, "gflops": flops / floor / 1e9,
                                        # the rate the networks alone would need for 400k if nothing else took time
                                        "gflops_needed_for_400k": flops / (steps / 4e5) / 1e9},
            "note": "designs interleaved in one process; medians over iterations; every type learning"}


def bench_extra(device, args) -> dict:
    """Training throughput and the wall time to the paper's epsilon bounds, for ``bench rbc``.

    * training: agent-steps per second of :meth:`Trainer.train` with every type learning
      (no curriculum, so all three PPO updates run), rollouts *and* updates included;
    * time to epsilon: train with the curricula and, every ``check_every`` iterations once the
      government learns, run the best-response check of every type; stop when every type is
      under the paper's bounds or after ``--epsilon-budget-s`` seconds (0 skips this part).
    """
    import time

    from ..analysis.best_response import train_until_epsilon
    from ..recipes.rbc import RBCTrainConfig, evaluation_economy, full_model, make_trainer

    torch.set_num_threads(max(1, torch.get_num_threads()))
    E, hidden = int(getattr(args, "train_envs", 32)), 64
    tr = make_trainer(RBCTrainConfig(iterations=100, num_envs=E, hidden=hidden, curriculum=False), seed=0,
                      device=device)
    tr.train(1)  # warm-up
    n_it, t0 = 0, time.perf_counter()
    while n_it < 3 or time.perf_counter() - t0 < getattr(args, "min_seconds", 0.5):
        tr.train(1)
        n_it += 1
    secs = time.perf_counter() - t0
    agents = tr.economy.num_consumers + tr.economy.num_firms + 1
    steps = n_it * E * tr.economy.config.episode_length
    out = {"training": {"num_envs": E, "hidden": hidden, "iterations": n_it, "seconds": secs,
                        "agent_steps_per_s": steps * agents / secs,
                        "note": "rollout + PPO update of all three types (no curriculum)"},
           "training_chapter_setting": training_profile(device, num_envs=16, hidden=hidden,
                                                        min_seconds=getattr(args, "min_seconds", 0.5)),
           # the chapter's 16 economies an iteration and the authors' 128 (Curry et al. 2022)
           "training_designs": [training_designs(device, num_envs=e, hidden=hidden,
                                                 iterations=int(getattr(args, "design_iterations", 6)))
                                for e in getattr(args, "design_envs", (16, 128))],
           # this machine's rate for one large matrix product: the ceiling for the networks' arithmetic
           "matmul_gflops": {dt: matmul_rate(device, getattr(torch, dt), min_seconds=getattr(args, "min_seconds", 0.5))
                             for dt in ("float32", "bfloat16")}}
    budget = float(getattr(args, "epsilon_budget_s", 0.0) or 0.0)
    if budget > 0:
        # Chapter 6's full setting: the curricula over ``--epsilon-iterations`` iterations of
        # ``--epsilon-envs`` economies; epsilon as in the chapter: the larger of two deviations
        # (40 PPO iterations of the type alone with no entropy bonus; playing its policy's most
        # likely action) over the type's "own" training gain, on 256 evaluation economies
        E_eps = int(getattr(args, "epsilon_envs", 16))
        cfg = RBCTrainConfig(iterations=int(getattr(args, "epsilon_iterations", 900)), num_envs=E_eps, hidden=hidden)
        tr = make_trainer(cfg, seed=0, device=device)
        untrained = make_trainer(cfg, seed=0, device=device)
        ev = evaluation_economy(tr, num_envs=256)      # as Chapter 6's EVAL_ENVS
        br_its = int(getattr(args, "epsilon_br_iterations", 40))
        res = train_until_epsilon(tr, untrained, ev, cfg.iterations, check_every=max(1, cfg.iterations // 10),
                                  br_iterations=br_its,
                                  first_check=tr.curriculum.start("government") + max(1, cfg.iterations // 10),
                                  max_seconds=budget, prepare=full_model, ent_coef=0.0, baseline="own")
        res["checks"] = [{k: (None if isinstance(v, float) and v != v else v) for k, v in c.items()}
                         for c in res["checks"]]
        out["time_to_epsilon"] = {"num_envs": E_eps, "max_iterations": cfg.iterations, "budget_s": budget,
                                  "br_iterations": br_its, "br_ent_coef": 0.0, "baseline": "own",
                                  "paper_bounds": {"consumer": 0.03, "firm": 0.10, "government": 0.01}, **res}
    return out
