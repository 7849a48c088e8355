"""Command line: ``python -m macrobook <command> ...``

    train ECONOMY ...            train an economy; writes RUN_DIR/models, plots, logs
    eval --model-path PATH       evaluate a trained run (PATH = RUN_DIR/models/best or last)
    bench ECONOMY [--json]       agent-steps/s, batched vs a per-agent Python loop
    llm diverseland ...          the LLM-augmented Diverseland scenario
    best-response RUN_DIR        epsilon of each agent type by best-response retraining
    scorecard RUN_DIR [--json]   the stylized-facts scorecard of a trained monetary run
"""
from __future__ import annotations

import importlib
import sys

# command -> "module:function"; each function takes argv (a list of str) and returns an exit code
COMMANDS = {
    "train": "macrobook.runs.common:train_main",
    "eval": "macrobook.runs.common:eval_main",
    "bench": "macrobook.bench:main",
    "llm": "macrobook.llm.cli:main",
    "best-response": "macrobook.analysis.best_response:main",
    "scorecard": "macrobook.analysis.scorecard:main",
}


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0 if argv else 2
    cmd, rest = argv[0], argv[1:]
    if cmd not in COMMANDS:
        print(f"macrobook: unknown command {cmd!r}; choose from {sorted(COMMANDS)}", file=sys.stderr)
        return 2
    mod, fn = COMMANDS[cmd].split(":")
    try:
        target = getattr(importlib.import_module(mod), fn)
    except (ImportError, AttributeError) as e:
        print(f"macrobook: command {cmd!r} is not available in this version ({e})", file=sys.stderr)
        return 2
    return int(target(rest) or 0)
