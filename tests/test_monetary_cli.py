"""``python -m macrobook train monetary`` / ``eval``: outputs, resume, and clear flag errors."""
import json
import subprocess
import sys

import pytest

from macrobook.cli import main

TINY = ["--sim-length", "12", "--num-households", "8", "--num-firms", "3", "--num-banks", "2",
        "--num-envs", "2", "--rollout-len", "4", "--seed", "0", "--device", "cpu", "--no-progress",
        "--phases", "1,0,0,1", "--br-iterations", "0"]


def _train(tmp_path, epochs, *extra):
    return main(["train", "monetary", "--epochs", str(epochs), "--output-dir", str(tmp_path / "run"), *TINY, *extra])


def test_train_writes_the_seed_layout_and_resumes(tmp_path):
    assert _train(tmp_path, 2, "--save-every", "1") == 0
    run = tmp_path / "run"
    for f in ["models/best.safetensors", "models/last.safetensors", "plots/macro_variables.png",
              "plots/training_curves.png", "plots/policy_transmission.png", "plots/agent_rewards.png",
              "logs/simulation_history.csv", "logs/train_stats.json"]:
        assert (run / f).exists(), f
    stats = json.loads((run / "logs/train_stats.json").read_text())
    assert stats["epochs"] == 2
    # resume: the same command with more epochs continues from epoch 2, keeping the log
    assert _train(tmp_path, 3) == 0
    stats = json.loads((run / "logs/train_stats.json").read_text())
    assert stats["epochs"] == 3
    import pandas as pd
    log = pd.read_csv(run / "logs/train_log.csv")
    assert list(log["iteration"]) == [0, 1, 2]
    assert main(["eval", "--model-path", str(run / "models/best"), "--steps", "6"]) == 0
    assert (run / "eval/simulation_history.csv").exists()


@pytest.mark.parametrize("flag,value,msg", [("--num-households", "0", "--num-households must be an integer >= 1"),
                                            ("--sim-length", "x", "--sim-length must be an integer"),
                                            ("--epochs", "-3", "--epochs must be an integer >= 1")])
def test_bad_flags_give_clear_errors(tmp_path, flag, value, msg):
    r = subprocess.run([sys.executable, "-m", "macrobook", "train", "monetary", flag, value,
                        "--output-dir", str(tmp_path / "x")], capture_output=True, text=True)
    assert r.returncode != 0
    assert msg in r.stderr


def test_an_interrupted_run_keeps_every_finished_epoch_and_resumes(tmp_path, monkeypatch):
    from macrobook.recipes import monetary

    real_build = monetary.build

    def build_then_interrupt(args):
        trainer = real_build(args)
        real_train = trainer.train

        def train(n):
            if trainer.iteration == 1:  # Ctrl-C during the second epoch: the epoch finishes, is saved
                import os
                import signal
                os.kill(os.getpid(), signal.SIGINT)
            return real_train(n)

        trainer.train = train
        return trainer

    monkeypatch.setattr(monetary, "build", build_then_interrupt)
    # --save-every defaults to 5: the interrupt handler must save anyway, and exit as Ctrl-C does
    assert _train(tmp_path, 3) == 130
    from macrobook.train import Trainer
    assert Trainer.header(tmp_path / "run/models/last.safetensors")["metadata"]["iteration"] == 2
    monkeypatch.setattr(monetary, "build", real_build)
    assert _train(tmp_path, 3) == 0
    import pandas as pd
    log = pd.read_csv(tmp_path / "run/logs/train_log.csv")
    assert list(log["iteration"]) == [0, 1, 2]


def test_train_runs_the_phases_and_writes_what_the_scorecard_reads(tmp_path):
    # one epoch of each phase, then the best-response check (one retraining iteration per type)
    assert main(["train", "monetary", "--epochs", "4", "--output-dir", str(tmp_path / "run"), *TINY,
                 "--phases", "1,1,1,1", "--br-iterations", "1"]) == 0
    run = tmp_path / "run"
    import pandas as pd
    from macrobook.recipes.monetary import PHASES
    log = pd.read_csv(run / "logs/train_log.csv")
    assert list(log["phase"]) == [p[0] for p in PHASES]
    assert list(log["active"]) == [",".join(p[1]) for p in PHASES]
    stats = json.loads((run / "logs/train_stats.json").read_text())
    assert [p["completed"] for p in stats["phases"]] == [1, 1, 1, 1]
    assert set(stats["warm_start"]) == {"household", "bank"}
    eps = json.loads((run / "logs/epsilon.json").read_text())
    assert set(eps) == {"central_bank", "bank", "household", "firm"}
    assert all(v is None or v >= 0 for v in eps.values())
    # models/best comes from the joint phase only (earlier phases have a rule central bank)
    from macrobook.train import Trainer
    assert Trainer.header(run / "models/best.safetensors")["metadata"]["iteration"] == 4
    r = subprocess.run([sys.executable, "-m", "macrobook", "scorecard", str(run), "--json"],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    card = json.loads(r.stdout)
    eq = [c for c in card["checks"] if c["name"] == "equilibrium"][0]
    assert "not measured" not in eq["note"].split(";")[0]
    assert sorted(eq["epsilon"]) == sorted(eps)


@pytest.mark.parametrize("value", ["1,2,3", "a,b,c,d", "1,-1,1,1"])
def test_bad_phases_are_one_clear_line(tmp_path, value):
    r = subprocess.run([sys.executable, "-m", "macrobook", "train", "monetary", "--phases", value,
                        "--output-dir", str(tmp_path / "x")], capture_output=True, text=True)
    assert r.returncode != 0 and "--phases must be 4 integers >= 0" in r.stderr


def test_train_then_scorecard_prints_one_json_object_with_twelve_checks(tmp_path):
    assert _train(tmp_path, 1) == 0
    r = subprocess.run([sys.executable, "-m", "macrobook", "scorecard", str(tmp_path / "run"), "--json"],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    card = json.loads(r.stdout)  # strict JSON: unmeasured values are null, never NaN
    assert card["economy"] == "monetary" and card["total"] == 12 == len(card["checks"])
    assert card["passed"] == sum(c["pass"] for c in card["checks"])
    for c in card["checks"]:
        assert {"name", "value", "low", "high", "pass"} <= set(c)
    # without logs/epsilon.json the equilibrium check cannot pass
    eq = [c for c in card["checks"] if c["name"] == "equilibrium"][0]
    assert eq["pass"] is False and "not measured" in eq["note"]
    # a damaged checkpoint is one clear line
    (tmp_path / "run/models/best.safetensors").write_bytes(b"not a checkpoint")
    (tmp_path / "run/models/last.safetensors").write_bytes(b"not a checkpoint")
    r = subprocess.run([sys.executable, "-m", "macrobook", "scorecard", str(tmp_path / "run"), "--json"],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode != 0 and len(r.stderr.strip().splitlines()) == 1 and "damaged" in r.stderr
