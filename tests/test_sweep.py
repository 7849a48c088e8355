"""`python -m macrobook sweep`: the local engine returns one DataFrame, Ray Tune the same numbers."""
import json

import pytest

from macrobook.adapters.sweep import parse_grid, sweep, trials
from macrobook.cli import main
from macrobook.config import ConfigError

TINY = {"num_envs": ["2"], "hidden": ["8"]}


def test_local_sweep_returns_one_row_per_trial_and_resumes(tmp_path, capsys):
    frame = sweep("rbc", [0, 1], {**TINY, "variant": ["open", "closed"]}, epochs=2, output_dir=tmp_path)
    assert list(frame["trial"]) == [0, 1, 2, 3] and list(frame["seed"]) == [0, 0, 1, 1]
    assert list(frame["variant"]) == ["open", "closed", "open", "closed"]
    assert frame["epochs"].eq(2).all() and frame["reward/consumer"].notna().all()
    assert (tmp_path / "results.csv").exists() and (tmp_path / frame["run_dir"][0] / "run.json").exists()
    assert frame.loc[0, "reward/consumer"] != frame.loc[2, "reward/consumer"]   # seeds differ
    again = sweep("rbc", [0, 1], {**TINY, "variant": ["open", "closed"]}, epochs=2, output_dir=tmp_path)
    assert again.drop(columns=[]).equals(frame)   # finished trials are read back, not retrained


def test_sweep_cli_and_its_errors(tmp_path, capsys):
    assert main(["sweep", "rbc", "--seeds", "0", "--grid", "num-envs=2", "--grid", "hidden=8", "--epochs", "1",
                 "--output-dir", str(tmp_path), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 1 and rows[0]["seed"] == 0
    for bad, what in ([["--grid", "nosuch=1"], "no flag --nosuch"], [["--grid", "hidden=0"], "--hidden"],
                      [["--grid", "variant"], "NAME=V1,V2"], [["--grid", "seed=1"], "cannot set 'seed'"]):
        assert main(["sweep", "rbc", "--seeds", "0", "--output-dir", str(tmp_path / "x")] + bad) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and what in err[0], err
    assert main(["sweep", "rbc", "--seeds", "-1"]) == 2


def test_trials_are_validated_before_anything_runs():
    with pytest.raises(ConfigError, match="--variant"):
        trials("rbc", [0], {"variant": ["open", "sideways"]}, epochs=1)
    assert parse_grid(["--num-envs=2,4"]) == {"num_envs": ["2", "4"]}


def test_ray_engine_gives_the_local_numbers(tmp_path):
    """The issue's CI check: a 2-trial sweep on a local Ray instance equals the local engine's."""
    pytest.importorskip("ray")
    local = sweep("rbc", [0, 1], TINY, epochs=2, output_dir=tmp_path / "local")
    try:
        ray = sweep("rbc", [0, 1], TINY, epochs=2, output_dir=tmp_path / "ray", engine="ray", workers=2)
    except Exception as e:  # noqa: BLE001
        # Ray's raylet gives its agents about 30 s to start; on an overloaded machine (load 7 on 2 cores
        # here) they take longer and Ray gives up. That says nothing about the sweep: skip, visibly.
        if "timed out during startup" in str(e):
            pytest.skip(f"a local Ray node could not start on this machine: {e}")
        raise
    assert ray.equals(local), (ray.compare(local) if ray.shape == local.shape else ray)
