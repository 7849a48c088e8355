"""Best-response (epsilon) checks: bookkeeping, frozen types, the formula, and the CLI."""
import argparse
import json

import pytest
import torch

from macrobook.analysis import best_response as br
from macrobook.recipes.rbc import RBCTrainConfig, evaluation_economy, full_model, make_trainer

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
                           restore=False, baseline="profile")
    changed = {k: not torch.equal(params(l), before[k]) for k, l in tr.learners.items()}
    assert changed == {"consumer": False, "firm": True, "government": False}, changed  # others frozen
    assert tr.iteration == it and len(tr.records) == n_rec
    # the formula: eps = max(gain, 0) / training gain, undefined (NaN) without a training gain
    assert out["gain"] == pytest.approx(out["reward_after"] - out["reward_before"])
    assert out["training_gain"] == pytest.approx(out["reward_before"])
    if out["reward_before"] > 0:
        assert out["epsilon"] == pytest.approx(max(out["gain"], 0.0) / out["reward_before"])
    else:
        assert out["epsilon"] != out["epsilon"] and out["within_bound"] is False
    assert out["training_improved"] == (out["reward_before"] > 0.0)
    # with restore=True (the default) the weights come back exactly
    snap = params(tr.learners["firm"])
    br.best_response(tr, "firm", 1, ev, episodes=1, prepare=full_model)
    assert torch.equal(params(tr.learners["firm"]), snap)


def test_own_baseline_is_this_type_untrained_among_the_learned_others():
    """The default training gain: the type's reward at the learned profile minus its reward when it
    alone plays its untrained policy (others learned). Checked against mean_rewards on that profile."""
    cfg = small(iterations=4)
    tr = make_trainer(cfg, seed=0, device="cpu")
    tr.train(3)
    untrained = make_trainer(cfg, seed=0, device="cpu")
    ev = evaluation_economy(tr, num_envs=2)
    full_model(tr)
    full_model(untrained)
    initial = br.mean_rewards(untrained, ev, episodes=1)
    out = br.best_response(tr, "consumer", 1, ev, initial_rewards=initial, episodes=1, prepare=full_model,
                           untrained=untrained)
    mixed = {**tr.learners, "consumer": untrained.learners["consumer"]}
    own = br.mean_rewards(mixed, ev, episodes=1)["consumer"]
    assert out["baseline"] == "own" and out["reward_own_untrained"] == pytest.approx(own)
    assert out["training_gain"] == pytest.approx(out["reward_before"] - own) == pytest.approx(out["training_gain_own"])
    assert out["training_gain_profile"] == pytest.approx(out["reward_before"] - initial["consumer"])
    assert own != pytest.approx(initial["consumer"])             # the two baselines differ
    prof = br.best_response(tr, "consumer", 1, ev, initial_rewards=initial, episodes=1, prepare=full_model,
                            untrained=untrained, baseline="profile")
    assert prof["training_gain"] == pytest.approx(prof["training_gain_profile"])
    with pytest.raises(ValueError, match="baseline"):
        br.best_response(tr, "consumer", 1, ev, baseline="mine")
    table = br.epsilon_table(tr, untrained, ev, 1, episodes=1, prepare=full_model)
    assert {"training_gain_own", "training_gain_profile", "epsilon"} <= set(table.columns)


def test_epsilon_formula_and_bounds():
    import pandas as pd

    assert br.epsilon_of(0.02, 1.0) == pytest.approx(0.02)
    assert br.epsilon_of(-0.5, 1.0) == 0.0             # a best response that found nothing better
    assert br.epsilon_of(0.01, 0.0) != br.epsilon_of(0.01, 0.0)    # no training gain: undefined
    assert br.epsilon_of(0.01, -2.0) != br.epsilon_of(0.01, -2.0)  # never a tiny epsilon from |negative|
    ok = pd.DataFrame([{"type": "consumer", "epsilon": 0.029}, {"type": "firm", "epsilon": 0.099},
                       {"type": "government", "epsilon": 0.0099}])
    assert br.within_bounds(ok)
    for t, e in (("consumer", 0.031), ("firm", 0.1), ("government", 0.011), ("firm", float("nan"))):
        bad = ok.copy()
        bad.loc[bad["type"] == t, "epsilon"] = e
        assert not br.within_bounds(bad), (t, e)
    assert not br.within_bounds(ok.iloc[:0])


def test_train_until_epsilon_stops_at_the_bounds_or_the_budget():
    cfg = small(iterations=6)
    tr = make_trainer(cfg, seed=0, device="cpu")
    untrained = make_trainer(cfg, seed=0, device="cpu")
    ev = evaluation_economy(tr, num_envs=2)
    res = br.train_until_epsilon(tr, untrained, ev, cfg.iterations, check_every=2, br_iterations=1, first_check=4,
                                 episodes=1, prepare=full_model)
    its = [c["iteration"] for c in res["checks"]]
    assert its and its[0] == 4 and all(i >= 4 for i in its)          # no check before the government learns
    assert res["reached"] == res["checks"][-1]["all_within_bounds"]
    assert res["iterations"] == (its[-1] if res["reached"] else cfg.iterations)
    assert res["train_seconds"] > 0 and res["wall_seconds"] >= res["train_seconds"] + res["check_seconds"] - 1e-6
    tr2 = make_trainer(cfg, seed=0, device="cpu")
    res2 = br.train_until_epsilon(tr2, untrained, ev, cfg.iterations, check_every=1, br_iterations=1,
                                  first_check=0, max_seconds=0.0, episodes=1, prepare=full_model)
    assert res2["iterations"] == 1 and len(res2["checks"]) == 1        # the budget stops it after one round


def test_evaluations_feed_every_step_its_own_observation():
    """rollout_summary and mean_rewards must show the policies each step's state, not the first
    one (a bug the draft had: evaluated agents kept acting on the t = 0 prices and wages)."""
    from macrobook.recipes.rbc import rollout_summary

    tr = make_trainer(small(), seed=0, device="cpu")
    t_idx = tr.economy.specs["government"].obs_names.index("time (/T)")
    seen, orig = [], tr.learners["government"].act

    def spy(obs, deterministic=False):
        seen.append(round(obs[0, 0, t_idx].item(), 6))
        return orig(obs, deterministic)

    tr.learners["government"].act = spy
    rollout_summary(tr, episodes=1, num_envs=2)
    assert seen == pytest.approx([t / 10 for t in range(10)])
    seen.clear()
    br.mean_rewards(tr, evaluation_economy(tr, num_envs=2), episodes=1)
    assert seen == pytest.approx([t / 10 for t in range(10)])


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
    assert res["baseline"] == "own" and res["ent_coef"] == 0.0
    assert all("training_gain_own" in r and "training_gain_profile" in r for r in res["types"])
    assert {r["type"] for r in res["types"]} == {"consumer", "firm", "government"}
    for r in res["types"]:
        assert "training_gain" in r and r["training_improved"] == (r["training_gain"] > 0)
        assert (r["epsilon"] >= 0) if r["training_gain"] > 0 else r["epsilon"] is None  # NaN is written as null
    assert res["all_within_bounds"] in (True, False)
    assert (run_dir / "logs/best_response.json").exists()


def test_greedy_deviation_plays_the_mode_and_its_gain_is_measured_against_the_learned_policy():
    tr = make_trainer(small(), seed=0, device="cpu")
    ev = evaluation_economy(tr, num_envs=2)
    full_model(tr)
    obs = ev.reset(seed=0)
    g = br.Greedy(tr.learners["firm"])
    a1, _ = g.act(obs["firm"])
    a2, _ = tr.learners["firm"].act(obs["firm"], deterministic=True)
    assert torch.equal(a1, a2)
    gain, se = br.deviation_gain(tr, "firm", g, ev, episodes=1)
    base = br.rewards_by_economy(tr, ev, episodes=1)["firm"]
    dev = br.rewards_by_economy({**tr.learners, "firm": g}, ev, episodes=1)["firm"]
    assert base.shape == (2,) and gain == pytest.approx(float((dev - base).mean())) and gain != 0.0
    assert se == pytest.approx(float((dev - base).std()) / 2 ** 0.5)    # paired, over the 2 economies
    assert br.deviation_gain(tr, "firm", tr.learners["firm"], ev, episodes=1)[0] == 0.0   # no deviation, no gain
    # the table takes the larger of the two lower bounds
    untrained = make_trainer(small(), seed=0, device="cpu")
    out = br.best_response(tr, "firm", 1, ev, episodes=1, prepare=full_model, untrained=untrained)
    assert out["greedy_gain"] == pytest.approx(gain)
    assert out["epsilon"] == pytest.approx(br.epsilon_of(max(out["gain"], out["greedy_gain"]), out["training_gain"]),
                                           nan_ok=True)
    no_greedy = br.best_response(tr, "firm", 1, ev, episodes=1, prepare=full_model, untrained=untrained, greedy=False)
    assert "greedy_gain" not in no_greedy
    with pytest.raises(ValueError, match="unknown agent type"):
        br.deviation_gain(tr, "bank", g, ev)


def test_entropy_schedule_restarts_per_type_and_ends_at_zero():
    """The authors' schedule (0.5 * max(exp(-k / tau), floor), restarted when a type begins to learn)
    and ours on top: over the last ent_final of the run every bonus falls linearly to zero."""
    import math

    cfg = RBCTrainConfig(iterations=100, num_envs=2, hidden=8)
    tr = make_trainer(cfg, seed=0, device="cpu")
    cur = tr.curriculum
    coef = {}
    for it in (0, 10, 14, 15, 40, 79, 80, 90, 99):
        active = cur(it, tr)
        coef[it] = {k: tr.learners[k].config.ent_coef for k in active}
    assert set(coef[14]) == {"consumer"} and set(coef[15]) == {"consumer", "firm"}
    assert coef[15]["firm"] == pytest.approx(0.5)                              # restarted for firms
    assert coef[10]["consumer"] == pytest.approx(0.5 * math.exp(-10 / 10))
    assert coef[40]["consumer"] == pytest.approx(0.05) and coef[79]["consumer"] == pytest.approx(0.05)  # the floor
    assert coef[90]["government"] == pytest.approx(0.05 * 0.5)                # halfway down the final fifth
    assert all(v == pytest.approx(0.05 * 0.05) for v in coef[99].values())
    keep = make_trainer(RBCTrainConfig(iterations=100, num_envs=2, hidden=8, ent_final=0.0), seed=0, device="cpu")
    keep.curriculum(99, keep)
    assert keep.learners["consumer"].config.ent_coef == pytest.approx(0.05)
    with pytest.raises(Exception, match="ent_final"):
        RBCTrainConfig(ent_final=1.5)
