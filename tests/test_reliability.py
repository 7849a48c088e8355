"""Faults a user can cause, and what the run loop and checkpoints do about them (issue 18).

Each test names the finding it covers; every one failed on the code before the fix."""
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from macrobook.cli import build_parser, main
from macrobook.io import CheckpointError, load_checkpoint, read_checkpoint_header, save_checkpoint
from macrobook.train import RunDir, load_run, run

ROOT = Path(__file__).resolve().parents[1]

TINY = {
    "rbc": ["--num-envs", "2", "--hidden", "8"],
    "monetary": ["--num-envs", "2", "--num-households", "6", "--num-firms", "3", "--num-banks", "2",
                 "--rollout-len", "4", "--sim-length", "6"],
}


def parse(argv):
    a = build_parser().parse_args(argv)
    recipe = a.recipe
    del a.recipe, a.func
    return recipe, a


class StopAt:
    """The recipe, but a SIGTERM arrives while epoch ``at`` trains (as a scheduler would send it)."""

    def __init__(self, recipe, at):
        self._recipe, self._at = recipe, at

    def __getattr__(self, name):
        return getattr(self._recipe, name)

    def score(self, trainer, row):
        if trainer.iteration == self._at:
            os.kill(os.getpid(), signal.SIGTERM)
        return getattr(self._recipe, "score")(trainer, row)


class Killed(BaseException):
    """Stands for kill -9: nothing of the run loop runs after it."""


class KillAt(StopAt):
    def score(self, trainer, row):
        if trainer.iteration == self._at:
            raise Killed()
        return getattr(self._recipe, "score")(trainer, row)


def _tensors(path):
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        return {k: f.get_tensor(k) for k in f.keys()}


def _log(path):
    from macrobook.io import read_checkpoint_attachment

    return [{k: v for k, v in r.items() if k != "seconds"} for r in json.loads(read_checkpoint_attachment(path, "log"))]


@pytest.mark.parametrize("economy", ["rbc", "monetary"])
def test_sigterm_exits_143_and_resume_is_bit_identical(tmp_path, economy):
    """Findings: SIGTERM exited 0; a resumed run differed from an uninterrupted one. Before: exit 0,
    and the resumed weights differed (the economy restarted from reset, the random streams moved on)."""
    base = ["train", economy, "--no-progress", "--device", "cpu", "--save-every", "2", "--epochs", "5"] + TINY[economy]
    recipe, a = parse(base + ["--output-dir", str(tmp_path / "full")])
    run(recipe, a)
    recipe, a = parse(base + ["--output-dir", str(tmp_path / "cut")])
    with pytest.raises(SystemExit) as e:
        run(StopAt(recipe, 3), a)
    assert e.value.code == 143
    cut = RunDir(tmp_path / "cut")
    assert read_checkpoint_header(cut.last)["metadata"]["iteration"] == 3   # saved at the stop, not at epoch 2
    recipe, a = parse(base + ["--output-dir", str(tmp_path / "cut")])
    run(recipe, a)
    full, resumed = _tensors(tmp_path / "full/models/last.safetensors"), _tensors(cut.last)
    weights = [k for k in full if not k.startswith("__state__")]
    assert weights and set(weights) <= set(resumed)
    for k in full:
        assert torch.equal(full[k], resumed[k]), k
    assert _log(cut.last) == _log(tmp_path / "full/models/last.safetensors")


def test_log_travels_inside_the_checkpoint(tmp_path):
    """Finding: checkpoint, JSON and log CSV were written one after another, so a kill between them
    resumed with log rows missing and no error. Now the log is inside the checkpoint (one commit);
    a stale sidecar CSV does not matter, and a checkpoint whose log disagrees is refused."""
    recipe, a = parse(["train", "rbc", "--no-progress", "--device", "cpu", "--epochs", "3", "--save-every", "1",
                       "--output-dir", str(tmp_path)] + TINY["rbc"])
    run(recipe, a)
    rd = RunDir(tmp_path)
    csv = rd.last.with_suffix(".log.csv")
    csv.write_text("iteration\n0\n")         # the sidecar of an older epoch (a kill between writes)
    _, _, trainer, _ = load_run(tmp_path, {"rbc": recipe})
    assert trainer.iteration == 3 and [r["iteration"] for r in trainer.records] == [0, 1, 2]
    # a checkpoint whose log has fewer rows than its iteration is refused with one line
    trainer.records = trainer.records[:1]
    trainer.save(tmp_path / "bad.safetensors")
    with pytest.raises(CheckpointError, match="log holds 1 rows"):
        trainer.load(tmp_path / "bad.safetensors")


def test_stale_temp_files_are_removed(tmp_path):
    """Finding: temp files of interrupted writes were never cleaned up."""
    rd = RunDir(tmp_path).make()
    stale = [rd.models / ".last.safetensors.abc123.tmp", tmp_path / ".run.json.xyz.tmp", rd.logs / ".train_log.csv.q.tmp"]
    for p in stale:
        p.write_bytes(b"half a file")
    RunDir(tmp_path).make()
    assert not any(p.exists() for p in stale)


def test_non_finite_checkpoints_are_refused(tmp_path):
    """Findings: an all-NaN checkpoint evaluated with exit 0; a NaN learning rate in a header resumed
    into NaN weights. Before: loaded silently."""
    net = torch.nn.Linear(3, 2)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    path = save_checkpoint(tmp_path / "ok.safetensors", {"net": net}, optimizers={"opt": opt})
    load_checkpoint(path, {"net": net}, optimizers={"opt": opt})
    with torch.no_grad():
        net.weight.fill_(float("nan"))
    with pytest.raises(CheckpointError, match="non-finite"):  # a diverged run never overwrites a good checkpoint
        save_checkpoint(tmp_path / "nan.safetensors", {"net": net})
    # a NaN checkpoint written by someone else
    from safetensors.torch import save_file

    hdr = read_checkpoint_header(path)
    bad = {"net.weight": torch.full((2, 3), float("nan")), "net.bias": torch.zeros(2)}
    save_file(bad, str(tmp_path / "nanw.safetensors"), metadata={"macrobook": json.dumps(hdr)})
    with pytest.raises(CheckpointError, match="non-finite.*net.weight"):
        load_checkpoint(tmp_path / "nanw.safetensors", {"net": torch.nn.Linear(3, 2)})
    hdr["optimizers"]["opt"]["param_groups"][0]["lr"] = float("nan")
    good = {"net.weight": torch.zeros(2, 3), "net.bias": torch.zeros(2)}
    save_file(good, str(tmp_path / "nanlr.safetensors"), metadata={"macrobook": json.dumps(hdr)})
    with pytest.raises(CheckpointError, match="header at optimizers.opt.param_groups"):
        load_checkpoint(tmp_path / "nanlr.safetensors", {"net": torch.nn.Linear(3, 2)})


def test_fresh_killed_before_first_save_does_not_resume_old_weights(tmp_path):
    """Finding: a --fresh run killed before its first checkpoint was later resumed under the new
    settings with the old weights. Before: the resume loaded the old models/last."""
    common = ["train", "rbc", "--no-progress", "--device", "cpu", "--epochs", "2", "--output-dir", str(tmp_path),
              "--num-envs", "2"]
    recipe, a = parse(common + ["--hidden", "8"])
    run(recipe, a)
    recipe, a = parse(common + ["--hidden", "8", "--variant", "closed", "--fresh"])
    with pytest.raises(Killed):
        run(KillAt(recipe, 1), a)   # kill -9 in its first epoch, before anything is saved
    assert not RunDir(tmp_path).last.exists()   # the old run's checkpoints went with --fresh
    recipe, a = parse(common + ["--hidden", "8", "--variant", "closed"])
    run(recipe, a)                               # the same command again starts from scratch
    hdr = read_checkpoint_header(RunDir(tmp_path).last)
    assert hdr["config"]["variant"] == "closed" and hdr["metadata"]["iteration"] == 2


@pytest.mark.parametrize("change", [["--variant", "closed"], ["--hidden", "16"], ["--num-envs", "3"], ["--seed", "1"],
                                    ["--fixed-tax", "0.2"], ["--no-curriculum"]])
def test_structural_guard_covers_every_model_setting(tmp_path, change, capsys):
    """Finding: `train rbc --variant closed` resumed an open run. Before: only sizes were guarded."""
    common = ["train", "rbc", "--no-progress", "--device", "cpu", "--output-dir", str(tmp_path)]
    recipe, a = parse(common + ["--epochs", "2", "--num-envs", "2", "--hidden", "8"])
    run(recipe, a)
    argv = common + ["--epochs", "2", "--num-envs", "2", "--hidden", "8"] + change
    assert main(argv) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and change[0] in err[0] and "cannot resume" in err[0]


def test_no_machine_paths_in_run_files(tmp_path):
    """Finding: an absolute --output-dir was written into run.json and every checkpoint header."""
    recipe, a = parse(["train", "rbc", "--no-progress", "--device", "cpu", "--epochs", "1", "--output-dir",
                       str(tmp_path.resolve())] + TINY["rbc"])
    run(recipe, a)
    texts = [(tmp_path / "run.json").read_text(), json.dumps(read_checkpoint_header(RunDir(tmp_path).last))]
    assert all(str(tmp_path.resolve()) not in t for t in texts)
    # and the run still loads from wherever it is
    moved = tmp_path.parent / (tmp_path.name + "_moved")
    tmp_path.rename(moved)
    _, targs, trainer, _ = load_run(moved, {"rbc": recipe})
    assert trainer.iteration == 1 and Path(targs.output_dir) == moved


def test_sigterm_in_a_subprocess_exits_143(tmp_path):
    """The scheduler's view: a real SIGTERM to `python -m macrobook train` gives exit status 143."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    p = subprocess.Popen([sys.executable, "-m", "macrobook", "train", "rbc", "--no-progress", "--device", "cpu",
                          "--epochs", "100000", "--output-dir", str(tmp_path)] + TINY["rbc"],
                         env=env, stderr=subprocess.PIPE, text=True)
    import time

    for _ in range(600):   # wait for the first epochs to be saved
        time.sleep(0.1)
        if (tmp_path / "models/last.safetensors").exists():
            break
    p.send_signal(signal.SIGTERM)
    _, err = p.communicate(timeout=60)
    assert p.returncode == 143, err
    assert "SIGTERM" in err


def test_bad_invocations_end_in_one_line(tmp_path, capsys, monkeypatch):
    """Findings: non-JSON run.json, a damaged checkpoint, an output path that is a file, sizes that
    cannot be allocated, --seed 2**70, --device mps and a full disk ended in raw tracebacks; a
    CheckpointError was never caught in eval, train and best-response. Now: one line, exit != 0."""
    import errno

    recipe, a = parse(["train", "rbc", "--no-progress", "--device", "cpu", "--epochs", "1", "--output-dir",
                       str(tmp_path / "run")] + TINY["rbc"])
    run(recipe, a)
    (tmp_path / "file").write_text("x")
    bad_json = tmp_path / "badjson"
    import shutil

    shutil.copytree(tmp_path / "run", bad_json)
    (bad_json / "run.json").write_text("{not json")
    bad_ckpt = tmp_path / "badckpt"
    shutil.copytree(tmp_path / "run", bad_ckpt)
    (bad_ckpt / "models/last.safetensors").write_bytes(b"garbage")
    T = ["train", "rbc", "--no-progress", "--device", "cpu", "--epochs", "2"] + TINY["rbc"]
    cases = [
        (T + ["--output-dir", str(bad_json)], "not valid JSON"),
        (["eval", "--model-path", str(bad_json / "models/last")], "not valid JSON"),
        (["best-response", str(bad_json), "--iterations", "1"], "not valid JSON"),
        (T + ["--output-dir", str(bad_ckpt)], "not a readable safetensors checkpoint"),
        (["eval", "--model-path", str(bad_ckpt / "models/last")], "not a readable safetensors checkpoint"),
        (["best-response", str(bad_ckpt), "--iterations", "1"], "not a readable safetensors checkpoint"),
        (T + ["--output-dir", str(tmp_path / "file")], "is a file, not a folder"),
        (T + ["--output-dir", ""], "--output-dir"),
        (["train", "rbc", "--num-envs", "100000000000", "--output-dir", str(tmp_path / "big")], "num_envs"),
        (["train", "monetary", "--num-households", "10000000000", "--output-dir", str(tmp_path / "big2")],
         "num_households"),
        (T + ["--seed", str(2**70), "--output-dir", str(tmp_path / "s")], "--seed"),
        (T + ["--device", "mps", "--output-dir", str(tmp_path / "s")], "--device"),
        (["bench", "cournot", "--min-seconds", "-1"], "--min-seconds"),
        (["llm", "diverseland", "--output-dir", "", "--steps", "1", "--pretrain-steps", "0"], "--output-dir"),
        (["llm", "diverseland", "--output-dir", str(tmp_path / "l"), "--budget-usd", "nan"], "--budget-usd"),
        (["llm", "diverseland", "--output-dir", str(tmp_path / "l"), "--backend", "openai", "--base-url", "notaurl",
          "--pretrain-steps", "0"], "--base-url"),
    ]
    for argv, what in cases:
        rc = main(argv)
        err = [l for l in capsys.readouterr().err.splitlines() if l.strip()]
        assert rc != 0 and len(err) == 1 and what in err[0] and "Traceback" not in err[0], (argv, rc, err)

    def full_disk(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "run/models/last.safetensors"))

    monkeypatch.setattr("macrobook.train.run", full_disk)
    assert main(T + ["--output-dir", str(tmp_path / "run")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "the disk is full" in err[0]
