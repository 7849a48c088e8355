"""bench/gpu.sh runs end to end: its CPU smoke mode (GPU_SH_SMOKE=1) goes through every step the GPU run
takes, from a relative output folder, and writes both JSON files."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_gpu_sh_smoke_writes_both_json_files(tmp_path):
    env = {**os.environ, "GPU_SH_SMOKE": "1", "PY": sys.executable}
    r = subprocess.run(["bash", str(ROOT / "bench" / "gpu.sh"), "out"], cwd=tmp_path, env=env,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    bench = json.loads((tmp_path / "out" / "bench-rbc-gpu.json").read_text())
    train = json.loads((tmp_path / "out" / "train-rbc-gpu.json").read_text())
    assert bench["economy"] == "rbc" and bench["results"][0]["loop_agent_steps_per_s"] > 0
    assert [d["num_envs"] for d in bench["training_designs"]] == [1] and len(bench["training_designs"][0]["designs"]) == 3
    assert train["agent_steps_per_s"] > 0 and train["iterations"] == 2


def test_gpu_sh_refuses_without_a_gpu_in_one_line(tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    env = {**os.environ, "PY": sys.executable}
    env.pop("GPU_SH_SMOKE", None)
    r = subprocess.run(["bash", str(ROOT / "bench" / "gpu.sh"), str(tmp_path / "o")], env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode != 0 and "no CUDA device" in r.stderr and not (tmp_path / "o" / "bench-rbc-gpu.json").exists()
