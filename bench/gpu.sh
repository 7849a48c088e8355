#!/usr/bin/env bash
# GPU benchmark of the RBC economy (Chapter 6), for a CUDA machine. Under 8 minutes on one H100/H200.
#
#   bash bench/gpu.sh OUT_DIR
#
# Set-up on a fresh CUDA machine: `make env`, then replace the CPU wheel of torch by a CUDA build of
# the same version, e.g. `.venv/bin/pip install --force-reinstall torch==2.13.0 --index-url
# https://download.pytorch.org/whl/cu128` (or a CUDA wheel of 2.13.0 copied to the machine).
# The script refuses to run when torch sees no GPU.
#
# Writes OUT_DIR/bench-rbc-gpu.json (step + policy forward at 1k-64k economies, the per-agent loop
# alongside at 1 economy) and OUT_DIR/train-rbc-gpu.json (a chapter-sized training run at GPU scale:
# agent-steps per second of rollouts plus PPO updates).
#
# GPU_SH_SMOKE=1 runs the same steps on the CPU at tiny sizes (seconds): a check of the script itself
# on a machine without a GPU (tests/test_rbc_reproducible.py runs it); its numbers mean nothing.
set -euo pipefail
out=${1:?usage: bash bench/gpu.sh OUT_DIR}
mkdir -p "$out"
out=$(cd "$out" && pwd)            # absolute: the script works from the repository root below
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
if [ "${GPU_SH_SMOKE:-0}" = 1 ]; then
  DEV=cpu; SIZES="1 4"; TRAIN_ENVS=2; ITERS=4; HIDDEN=16; MINSEC=0.05; DESIGN_ENVS="1"; DESIGN_ITERS=1
else
  DEV=cuda; SIZES="1 1024 4096 16384 65536"; TRAIN_ENVS=4096; ITERS=60; HIDDEN=128; MINSEC=2
  DESIGN_ENVS="128 4096"; DESIGN_ITERS=6
  "$PY" - <<'PYCHECK'
import sys, torch
if not torch.cuda.is_available():
    sys.exit("bench/gpu.sh: torch sees no CUDA device (torch " + torch.__version__ + "); install a CUDA build first")
print("GPU:", torch.cuda.get_device_name(0), "torch", torch.__version__)
PYCHECK
fi
# 1. step + every policy's forward pass, batched, at GPU scale (loop timed at the smallest size only), and
#    the training designs (autograd heads, closed-form heads, + bfloat16 products) side by side
# shellcheck disable=SC2086
"$PY" -m macrobook bench rbc --device "$DEV" --num-envs $SIZES --loop-max-envs 1 --min-seconds "$MINSEC" \
  --train-envs "$TRAIN_ENVS" --epsilon-budget-s 0 --design-envs $DESIGN_ENVS --design-iterations "$DESIGN_ITERS" \
  --json > "$out/bench-rbc-gpu.json"
# 2. a chapter-sized training run (the chapter's curricula) at 4096 economies, timed
"$PY" - "$out/train-rbc-gpu.json" "$DEV" "$TRAIN_ENVS" "$ITERS" "$HIDDEN" <<'PYTRAIN'
import json, sys, time, torch
from macrobook.recipes.rbc import RBCTrainConfig, make_trainer
dev, E, iters, hidden = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
sync = torch.cuda.synchronize if dev == "cuda" else (lambda: None)
tr = make_trainer(RBCTrainConfig(iterations=iters, num_envs=E, hidden=hidden), seed=0, device=dev)
tr.progress = False
tr.train(2); sync()
t0 = time.perf_counter(); tr.train(iters - 2); sync(); secs = time.perf_counter() - t0
agents = tr.economy.num_consumers + tr.economy.num_firms + 1
steps = (iters - 2) * E * tr.economy.config.episode_length
res = {"num_envs": E, "iterations": iters - 2, "seconds": secs, "agent_steps_per_s": steps * agents / secs,
       "device": torch.cuda.get_device_name(0) if dev == "cuda" else "cpu (GPU_SH_SMOKE)", "torch": torch.__version__,
       "final_welfare": tr.records[-1].get("macro/welfare")}
json.dump(res, open(sys.argv[1], "w"), indent=2)
print(json.dumps(res, indent=2))
PYTRAIN
echo "wrote $out/bench-rbc-gpu.json and $out/train-rbc-gpu.json"
