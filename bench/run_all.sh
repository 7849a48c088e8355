#!/usr/bin/env bash
# Run every registered benchmark and keep the JSON with the date and machine in the name.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
mkdir -p bench/results
out="bench/results/$(date +%Y%m%d)-$(uname -m).json"
"$PY" -m macrobook bench all --json --num-envs 1 16 256 1024 "$@" | tee "$out"
echo "saved $out"
