"""Best-response (epsilon) checks: bookkeeping, frozen types, the formula, and the CLI."""
import argparse
import json

import pytest
import torch

from macrobook.analysis import best_response as br
from macrobook.runs.rbc import RBCTrainConfig, evaluation_economy, full_model, make_trainer

torch.set_num_threads(1)


def small(iterations=4, **kw):
    return RBCTrainConfig(iterations=iterations, num_envs=2, hidden=16, **kw)


def params(learner):
    return torch.cat([p.detach().reshape(-1).clone() for m in learner.modules().values() for p in m.parameters()])


def test_best_response_trains_one_type_and_restores_everything():
    tr = make_trainer(small(), seed=0, device="cpu")
    tr.train(2)
    before = {k: params(l) for k, l in tr.learners.items()}
    it, n_rec = tr.iteration, len(tr.records)
    ev = evaluation_economy(tr, num_envs=2)
    out = br.best_response(tr, "firm", 2, ev, initial_rewards={"firm": 0.0}, episodes=1, prepare=full_model,
                           restore=False)
    changed = {k: not torch.equal(params(l), before[k]) for k, l in tr.learners.items()}
    assert changed == {"consumer": False, "firm": True, "government": False}, changed  # others frozen
    assert tr.iteration == it and len(tr.records) == n_rec
    # the formula: eps = max(gain, 0) / |training gain|
    assert out["gain"] == pytest.approx(out["reward_after"] - out["reward_before"])
    assert out["epsilon"] == pytest.approx(max(out["gain"], 0.0) / abs(out["reward_before"]))
    assert out["training_improved"] == (out["reward_before"] > 0.0)
    # with restore=True (the default) the weights come back exactly
    snap = params(tr.learners["firm"])
    br.best_response(tr, "firm", 1, ev, episodes=1, prepare=full_model)
    assert torch.equal(params(tr.learners["firm"]), snap)


def test_mean_rewards_same_seed_same_numbers():
    tr = make_trainer(small(), seed=0, device="cpu")
    ev = evaluation_economy(tr, num_envs=2)
    full_model(tr)
    a = br.mean_rewards(tr, ev, episodes=1, seed=3)
    b = br.mean_rewards(tr, ev, episodes=1, seed=3)
    c = br.mean_rewards(tr, ev, episodes=1, seed=4)
    assert a == b and a != c


def test_best_response_improves_untrained_consumers():
    # Untrained consumers are far from a best response to untrained firms; a few PPO
    # iterations of consumers alone must raise their reward (a check that can fail).
    tr = make_trainer(RBCTrainConfig(iterations=10, num_envs=4, hidden=32, lr=3e-3), seed=1, device="cpu")
    ev = evaluation_economy(tr, num_envs=8)
    out = br.best_response(tr, "consumer", 6, ev, initial_rewards=None, episodes=1, prepare=full_model)
    assert out["gain"] > 0, out


def test_cli_train_resume_and_best_response(tmp_path, capsys):
    from macrobook.cli import main

    run_dir = tmp_path / "rbc"
    argv = ["train", "rbc", "--epochs", "3", "--num-envs", "2", "--hidden", "16", "--save-every", "1",
            "--output-dir", str(run_dir), "--no-progress", "--device", "cpu"]
    assert main(argv) == 0
    for sub in ("models/last.safetensors", "logs/train_log.csv", "plots/training_curves.png", "run.json"):
        assert (run_dir / sub).exists(), sub
    # resume: asking for more epochs continues from the checkpoint (the log keeps growing)
    argv[3] = "4"
    assert main(argv) == 0
    import pandas as pd

    log = pd.read_csv(run_dir / "logs/train_log.csv")
    assert log["iteration"].tolist() == [0, 1, 2, 3]
    capsys.readouterr()
    assert main(["best-response", str(run_dir), "--iterations", "1", "--episodes", "1", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert {r["type"] for r in res["types"]} == {"consumer", "firm", "government"}
    for r in res["types"]:
        assert r["epsilon"] >= 0 and r["training_improved"] == (r["training_gain"] > 0)
    assert (run_dir / "logs/best_response.json").exists()
