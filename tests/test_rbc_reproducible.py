"""Same seed + same thread count -> the same numbers, bit for bit, for a reduced Chapter 6.

The chapter's full run (notebooks/06_rbc_general_equilibrium.ipynb) trains with curricula, evaluates
the trained economy and retrains every type for its best response. This test runs that pipeline at a
reduced setting in two fresh processes, with the chapter's thread count and reproducibility settings
(:func:`macrobook.train.reproducible_cpu`), different Python hash seeds and a different memory
history (the second process allocates odd-sized tensors first, which moves where later tensors
land), and compares every number: each training-log column, a digest of every weight after every
iteration, the evaluation summary and the epsilon table.
"""
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
THREADS = 2   # the chapter's pinned thread count (THREADS in its parameters cell)


def worker() -> dict:
    from macrobook.train import reproducible_cpu

    reproducible_cpu(THREADS)
    import torch

    if os.environ.get("MACROBOOK_TEST_JUNK"):
        junk = [torch.empty(1000 + 7 * i) for i in range(50)]   # another allocator history
        del junk[::2]
    from macrobook.analysis.best_response import epsilon_table
    from macrobook.recipes.rbc import (RBCTrainConfig, evaluation_economy, full_model, make_trainer,
                                       rollout_summary)

    cfg = RBCTrainConfig(iterations=8, num_envs=4, hidden=32)   # firms learn from iteration 1, the government from 2
    tr = make_trainer(cfg, seed=3, device="cpu")
    weights = []

    def keep(t, row):
        h = hashlib.sha256()
        for k, l in t.learners.items():
            for m in l.modules().values():
                for p in m.state_dict().values():
                    h.update(p.detach().contiguous().numpy().tobytes())
        weights.append(h.hexdigest())

    log = tr.train(cfg.iterations, callback=keep)
    summary = rollout_summary(tr, episodes=1, seed=1003, num_envs=8)
    untrained = make_trainer(cfg, seed=3, device="cpu")
    eps = epsilon_table(tr, untrained, evaluation_economy(tr, num_envs=8), 2, episodes=1, prepare=full_model)
    return {"log": {c: [repr(v) for v in log[c]] for c in log.columns if c != "seconds"},
            "weights": weights,
            "summary": {k: v.double().flatten().tolist() for k, v in summary.items()},
            "epsilon": {c: [repr(v) for v in eps[c]] for c in eps.columns},
            "threads": torch.get_num_threads()}


def _run(junk: bool, hash_seed: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OMP_", "MKL_"))}
    env.update(PYTHONPATH=str(ROOT), PYTHONHASHSEED=hash_seed)
    if junk:
        env["MACROBOOK_TEST_JUNK"] = "1"
    out = subprocess.run([sys.executable, __file__, "--worker"], env=env, capture_output=True, text=True,
                         timeout=300, cwd=str(ROOT))
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_reduced_chapter_6_is_bit_reproducible():
    a = _run(junk=False, hash_seed="1")
    b = _run(junk=True, hash_seed="2")
    assert a["threads"] == b["threads"] == THREADS
    assert len(a["weights"]) == 8
    for part in ("log", "weights", "summary", "epsilon"):
        assert a[part].keys() == b[part].keys() if isinstance(a[part], dict) else True
        if isinstance(a[part], dict):
            for k in a[part]:
                assert a[part][k] == b[part][k], f"{part}/{k} differs between two runs with the same seed"
        else:
            first = next((i for i, (x, y) in enumerate(zip(a[part], b[part])) if x != y), None)
            assert first is None, f"weights differ from iteration {first} on"
    # the numbers are not trivially equal: training moved the weights and the log varies
    assert len(set(a["weights"])) == 8
    assert len(set(a["log"]["reward/firm"])) > 1


if __name__ == "__main__" and "--worker" in sys.argv:
    print(json.dumps(worker()))


def test_build_sets_the_same_reproducibility_environment():
    sys.path.insert(0, str(ROOT / "tools"))
    import build_book
    from macrobook.train import REPRODUCIBLE_ENV

    assert build_book.REPRODUCIBLE_ENV == REPRODUCIBLE_ENV
