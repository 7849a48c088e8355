"""``python -m macrobook llm diverseland ...``: run the Diverseland scenario from the command line.

    python -m macrobook llm diverseland --steps 50 --backend offline --seed 0 --output-dir runs/dl
    OPENAI_API_KEY=... python -m macrobook llm diverseland --backend openai --model gpt-4o-mini \\
        --cache-dir runs/cache --budget-usd 0.50 --output-dir runs/dl-openai
    python -m macrobook llm diverseland --backend openai --base-url http://localhost:11434/v1 \\
        --model llama3.1 --output-dir runs/dl-ollama          # a local server needs no key
    python -m macrobook llm diverseland --backend replay --model gpt-4o-mini --cache-dir runs/cache ...

A real-model run of the chapter's 50 steps against any OpenAI-compatible server (llama.cpp, vLLM,
Ollama or a hosted API), recorded into the cache and then replayed offline, without the server::

    python -m macrobook llm diverseland --steps 50 --backend openai --base-url http://localhost:8080/v1 \
        --model my-model --cache-dir runs/cache --output-dir runs/dl-local
    python -m macrobook llm diverseland --steps 50 --backend replay --base-url http://localhost:8080/v1 \
        --model my-model --cache-dir runs/cache --output-dir runs/dl-replay

The replay needs the same ``--base-url``, ``--model`` and ``--seed`` as the recording (they are part of
the cache key); Chapter 5 replays such a run with ``BACKEND = "replay"`` and the same three settings.
Pretraining (``--pretrain-steps``) fits the actors to the textbook starting rules first, then trains
the firm, the government and the central bank by DDPG, as the chapter does.

Writes ``transcript.jsonl``, ``expectations.csv``, ``expectations.png`` and ``summary.json``
(steps, calls, cache hits, fallbacks by kind, tokens, cost) into ``--output-dir``. The key is
read from OPENAI_API_KEY only, and never printed or written. With ``--backend openai`` the
expected cost is printed before any call (:func:`macrobook.llm.diverseland.estimate_cost`: a
free dry run of the same agents on the offline stand-in, scaled, with an upper bound).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from ..config import float_arg, int_arg

def add_arguments(d: argparse.ArgumentParser) -> None:
    """The flags of ``python -m macrobook llm diverseland``."""
    d.add_argument("--steps", type=int_arg("--steps", min=1), default=50)
    d.add_argument("--backend", choices=["offline", "openai", "replay"], default="offline")
    d.add_argument("--base-url", default=None, help="OpenAI-compatible server, e.g. http://localhost:11434/v1")
    d.add_argument("--model", default=None, help="model name (default gpt-4o-mini for openai)")
    d.add_argument("--seed", type=int_arg("--seed", min=0, max=2**63 - 1), default=0)
    d.add_argument("--output-dir", required=True)
    d.add_argument("--cache-dir", default=None, help="record (openai/offline) or replay from this directory")
    d.add_argument("--budget-usd", type=float_arg("--budget-usd", min=0.0), default=None, help="stop cleanly once this many dollars are spent")
    d.add_argument("--budget-tokens", type=int_arg("--budget-tokens", min=1), default=None, help="stop cleanly once this many tokens are spent")
    d.add_argument("--price-in", type=float_arg("--price-in", min=0.0), default=None, help="dollars per million input tokens (override)")
    d.add_argument("--price-out", type=float_arg("--price-out", min=0.0), default=None, help="dollars per million output tokens (override)")
    d.add_argument("--timeout", type=float_arg("--timeout", min=0.001), default=30.0, help="seconds per request")
    d.add_argument("--max-tokens", type=int_arg("--max-tokens", min=1), default=300, help="longest reply asked for, in tokens")
    d.add_argument("--max-retries", type=int_arg("--max-retries", min=0), default=4)
    d.add_argument("--backoff", type=float_arg("--backoff", min=0.0), default=1.0, help="first backoff wait in seconds (doubles each retry)")
    d.add_argument("--concurrency", type=int_arg("--concurrency", min=1), default=4)
    d.add_argument("--pretrain-steps", type=int_arg("--pretrain-steps", min=0), default=200, help="DDPG pretraining periods (64 economies)")
    d.add_argument("--re-draws", type=int_arg("--re-draws", min=1), default=64, help="continuations for the rational-expectations benchmark")


def run(args: argparse.Namespace) -> int:
    """Run the scenario with parsed ``args`` (from :func:`add_arguments`); returns the exit code."""
    import torch

    from ..config import ConfigError
    from ..io import atomic_savefig, atomic_write_csv, atomic_write_json, atomic_write_text
    from .client import Budget, CacheMiss, make_client
    from .protocol import safe_display
    from .diverseland import DiverselandSimulation, SimulationConfig, estimate_cost, plot_expectations

    torch.set_num_threads(1)
    if not args.output_dir:
        print("error: --output-dir must be a non-empty path", file=sys.stderr)
        return 2
    price = None
    if args.price_in is not None or args.price_out is not None:
        price = (args.price_in or 0.0, args.price_out or 0.0)
    budget = Budget(max_usd=args.budget_usd, max_tokens=args.budget_tokens)
    extra = {}
    if args.backend == "openai":
        extra = {"timeout_s": args.timeout, "max_retries": args.max_retries, "backoff_base_s": args.backoff,
                 "max_tokens": args.max_tokens}
    try:
        client = make_client(args.backend, seed=args.seed, base_url=args.base_url, model=args.model,
                             cache_dir=args.cache_dir, budget=budget, price_per_mtok=price, **extra)
        cfg = SimulationConfig(steps=args.steps, seed=args.seed, concurrency=args.concurrency, re_draws=args.re_draws)
        if args.pretrain_steps < 0:
            raise ConfigError(f"--pretrain-steps must be an integer >= 0, got {args.pretrain_steps}")
    except ConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    sim = DiverselandSimulation(client, cfg)
    if args.pretrain_steps > 0:
        print(f"pretraining the DDPG actors for {args.pretrain_steps} periods in {cfg.pretrain_envs} economies ...")
        sim.pretrain(args.pretrain_steps)
    if args.backend == "offline":
        print(f"backend: offline stand-in {client.label} (rule-based, not a language model); cost $0")
    elif args.backend == "replay":
        print(f"backend: replay of model {client.model!r} at {client.base_url} from {args.cache_dir} "
              f"{client.label} (recorded replies only: no server, no cost; a missing reply is an error)")
    else:
        pin = client.usage.price_per_mtok
        print(f"backend: openai-compatible server {client.base_url}, model {client.model!r}")
        print("API key (OPENAI_API_KEY):", "present" if os.environ.get("OPENAI_API_KEY") else
              "absent (fine for a local server)")
        # printed before any call is made: the dry run uses the offline stand-in only
        est = estimate_cost(args.steps, pin, learners=sim.learners, seed=args.seed, max_tokens=args.max_tokens)
        unknown = pin == (0.0, 0.0)
        print(f"estimated cost before any call: {est}"
              + ("; price unknown (a local server costs nothing; for a paid model pass --price-in/--price-out)"
                 if unknown else ""))
        if budget.max_usd is None and budget.max_tokens is None and pin != (0.0, 0.0):
            print("no budget set: pass --budget-usd to stop cleanly at a spending limit")
    try:
        result = sim.run()
    except CacheMiss as e:
        print(safe_display(f"error: replay stopped: {e}"), file=sys.stderr)
        return 1
    out = Path(args.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "transcript.jsonl",
                      "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in result.transcript))
    atomic_write_csv(out / "expectations.csv", result.expectations)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if len(result.expectations):
        ax = plot_expectations(result.expectations, label=client.label)
    else:  # stopped before the first step finished: still write the figure, saying so
        _, ax = plt.subplots(figsize=(9, 4.8))
        ax.set_axis_off()
        ax.text(0.5, 0.5, f"no step completed (stopped: {result.summary['stopped']})\n{client.label}",
                ha="center", va="center")
    atomic_savefig(out / "expectations.png", ax.figure, dpi=120)
    plt.close(ax.figure)
    summary = {**result.summary, "pretrain_steps": args.pretrain_steps}
    atomic_write_json(out / "summary.json", summary)
    s = result.summary
    print(f"{s['steps']}/{s['steps_requested']} steps ({s['stopped']}), {s['calls']} calls, {s['cache_hits']} cache hits, "
          f"{s['fallbacks_total']} fallbacks {s['fallbacks']}, {s['total_tokens']} tokens, ${s['cost_usd']:.4f}")
    print(f"wrote {out}/transcript.jsonl, expectations.csv, expectations.png, summary.json")
    return 0
