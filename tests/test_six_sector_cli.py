"""`python -m macrobook train six_sector` and `python -m macrobook scorecard RUN_DIR` on a tiny run:
the run directory, the card's schema, resuming equals an uninterrupted run, bad run directories
end in one line and a non-zero exit."""
import json

import pytest
import torch

from macrobook.cli import main
from macrobook.io import load_checkpoint_tensors

TINY = ["--iterations", "6", "--num-envs", "3", "--num-households", "3", "--num-firms", "2", "--episode-len", "4",
        "--save-every", "3"]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("six") / "run"
    assert main(["train", "six_sector", "--output-dir", str(d), *TINY]) == 0
    return d


def test_train_writes_a_run_directory_and_a_card(run_dir):
    info = json.loads((run_dir / "run.json").read_text())
    assert info["economy"] == "six_sector" and info["args"]["algo"] == "MADDPG"
    assert (run_dir / "models" / "last.safetensors").is_file()
    card = json.loads((run_dir / "logs" / "scorecard.json").read_text())
    assert card["economy"] == "six_sector" and card["total"] == len(card["checks"]) == 7


def test_scorecard_json_has_the_shared_schema(run_dir, capsys):
    assert main(["scorecard", str(run_dir), "--json"]) == 0
    card = json.loads(capsys.readouterr().out)
    assert set(card) >= {"economy", "checks", "passed", "total"} and card["economy"] == "six_sector"
    for c in card["checks"]:
        assert set(c) >= {"name", "value", "low", "high", "pass"}
    assert card["passed"] == sum(c["pass"] for c in card["checks"])
    # the same trained model, measured again: the same card
    assert card == json.loads((run_dir / "logs" / "scorecard.json").read_text())


def test_resume_equals_an_uninterrupted_run(run_dir, tmp_path):
    d = tmp_path / "resumed"
    assert main(["train", "six_sector", "--output-dir", str(d), *TINY, "--stop-after", "3"]) == 0
    assert not (d / "logs" / "scorecard.json").exists()
    assert main(["train", "six_sector", "--output-dir", str(d), *TINY]) == 0
    a = load_checkpoint_tensors(run_dir / "models" / "last.safetensors")
    b = load_checkpoint_tensors(d / "models" / "last.safetensors")
    assert set(a) == set(b)
    for k in a:
        assert torch.equal(a[k], b[k]), k


def test_resume_with_another_structure_is_refused(run_dir, capsys):
    assert main(["train", "six_sector", "--output-dir", str(run_dir), *TINY[:-2], "--seed", "5"]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--seed" in err and "--fresh" in err


@pytest.mark.parametrize("damage", ["no_run_json", "bad_json", "truncated_model", "not_a_dir"])
def test_damaged_run_directory_gives_one_line(run_dir, tmp_path, capsys, damage):
    import shutil

    d = tmp_path / "copy"
    shutil.copytree(run_dir, d)
    if damage == "no_run_json":
        (d / "run.json").unlink()
    elif damage == "bad_json":
        (d / "run.json").write_text("{not json")
    elif damage == "truncated_model":
        p = d / "models" / "last.safetensors"
        p.write_bytes(p.read_bytes()[:200])
    else:
        shutil.rmtree(d)
        d.write_text("a file")
    assert main(["scorecard", str(d), "--json"]) != 0
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("macrobook scorecard:")


def test_training_into_another_economys_run_directory_is_refused(tmp_path, capsys):
    d = tmp_path / "monetary_run"
    d.mkdir()
    (d / "run.json").write_text(json.dumps({"economy": "monetary", "args": {"seed": 0}}))
    assert main(["train", "six_sector", "--output-dir", str(d), *TINY]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "'monetary' run" in err


def test_bad_flag_value_gives_one_line(tmp_path, capsys):
    assert main(["train", "six_sector", "--output-dir", str(tmp_path / "x"), "--iterations", "0"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--iterations" in err
