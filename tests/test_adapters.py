"""PettingZoo and TorchRL adapters for every economy (issue 18)."""
import numpy as np
import pytest
import torch

from economies import SMALL

pettingzoo = pytest.importorskip("pettingzoo")
from pettingzoo.test import parallel_api_test, parallel_seed_test  # noqa: E402

from macrobook.adapters import TensorDictEconomy, to_pettingzoo  # noqa: E402


@pytest.mark.parametrize("name", sorted(SMALL))
def test_pettingzoo_api_and_seed_tests_pass(name):
    env = to_pettingzoo(SMALL[name]())
    parallel_api_test(env, num_cycles=40)
    parallel_seed_test(lambda: to_pettingzoo(SMALL[name]()), num_cycles=40)
    obs, _ = env.reset(seed=3)
    types = list(env.economy.specs)
    assert env.possible_agents[0] == f"{types[0]}_0" and set(obs) == set(env.possible_agents)
    assert env.state().shape == env.state_space.shape
    # the adapter's episode is the economy's: an episode ends with every agent truncated
    steps = 0
    while env.agents:
        obs, rew, term, trunc, _ = env.step({a: env.action_space(a).sample() for a in env.agents})
        steps += 1
        assert all(np.isfinite(o).all() for o in obs.values()) and all(np.isfinite(r) for r in rew.values())
    assert all(trunc.values()) and not any(term.values()) and steps <= 10_000


def test_pettingzoo_from_a_batch_uses_one_economy():
    env = to_pettingzoo(SMALL["rbc"](num_envs=8))
    assert env.economy.num_envs == 1
    assert sum(a.startswith("consumer_") for a in env.possible_agents) == 4


@pytest.mark.parametrize("name", ["cournot", "rbc", "monetary"])
def test_tensordict_layout_is_torchrl_multi_agent(name):
    pytest.importorskip("tensordict")
    econ = SMALL[name](num_envs=3)
    group_map = "agents" if len(econ.specs) == 1 else "type"
    env = TensorDictEconomy(econ, group_map=group_map)
    td = env.reset(seed=0)
    assert td.batch_size == torch.Size([3])
    for g, k in env.groups.items():
        n, d = econ.specs[k].count, econ.specs[k].obs_dim
        assert td[g, "observation"].shape == (3, n, d)
    ro = env.rollout(5, seed=0)
    assert ro.batch_size == torch.Size([3, 5])
    for g, k in env.groups.items():
        n = econ.specs[k].count
        assert ro["next", g, "reward"].shape == (3, 5, n, 1)
        assert ro["next", g, "done"].dtype == torch.bool and ro["next", g, "truncated"].shape == (3, 5, n, 1)
        assert ro[g, "action"].shape[:3] == (3, 5, n)
    if group_map == "agents":
        assert list(env.groups) == ["agents"]
    # the same seed gives the same rollout from the TensorDict side too
    torch.manual_seed(0)
    a = env.rollout(4, seed=1)
    torch.manual_seed(0)
    b = env.rollout(4, seed=1)
    assert (a == b).all()


def test_example_trains_cournot_firms_through_pettingzoo():
    """examples/pettingzoo_reinforce.py: plain PyTorch REINFORCE over the PettingZoo API, tiny budget.
    Random quantities flood the market; the firms learn to restrain output and profits rise."""
    import importlib.util
    from pathlib import Path

    from macrobook.envs.cournot import CournotConfig, CournotEconomy

    path = Path(__file__).resolve().parents[1] / "examples" / "pettingzoo_reinforce.py"
    spec = importlib.util.spec_from_file_location("pettingzoo_reinforce", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    env = to_pettingzoo(CournotEconomy(CournotConfig(num_firms=2, episode_length=8), device="cpu"))
    hist = mod.train(env, episodes=80)
    assert np.mean(hist[-15:]) > np.mean(hist[:15]) + 1.0


@pytest.mark.parametrize("name", sorted(SMALL))
def test_torchrl_env_passes_check_env_specs(name):
    """Every economy as a TorchRL EnvBase: TorchRL's own spec check, a rollout across an episode's
    end (the economies restart themselves; the "next" observation at the end is the final one)."""
    pytest.importorskip("torchrl")
    from torchrl.envs.utils import check_env_specs

    from macrobook.adapters import to_torchrl

    econ = SMALL[name](num_envs=3)
    env = to_torchrl(econ)
    check_env_specs(env)
    T = 2 * econ.episode_length + 1 if hasattr(econ, "episode_length") else 20
    td = env.rollout(T, break_when_any_done=False)
    assert td.batch_size == torch.Size([3, T])
    assert td["next", "done"].any() and not td["next", "terminated"].any()
    for g, k in env.group_map.items():
        n = econ.specs[k].count
        assert td["next", g, "reward"].shape == (3, T, n, 1)
        assert torch.isfinite(td["next", g, "observation"]).all()
        assert env.action_spec[g, "action"].is_in(td[g, "action"][:, 0])
    # same seed, same rollout (the economy's generator and TorchRL's random actions both seeded)
    env.set_seed(5)
    torch.manual_seed(0)
    a = env.rollout(6, break_when_any_done=False)
    env.set_seed(5)
    torch.manual_seed(0)
    b = env.rollout(6, break_when_any_done=False)
    assert (a == b).all()


def test_torchrl_next_observation_at_an_episode_end_is_the_final_one():
    """At the step an episode ends, ("next", obs) is the economy's final observation (TorchRL's
    convention for a truncation) and the following root observation is the restarted economy's."""
    pytest.importorskip("torchrl")
    from macrobook.adapters import to_torchrl

    econ = SMALL["cournot"](num_envs=2)
    env = to_torchrl(econ, group_map="agents")
    L = econ.config.episode_length
    td = env.rollout(L + 1, break_when_any_done=False)
    end = L - 1
    assert td["next", "done"][:, end].all() and not td["next", "done"][:, :end].any()
    period = td["next", "agents", "observation"][:, end, :, 3]       # the period feature, t / L
    assert torch.allclose(period, torch.ones_like(period))
    restart = td["agents", "observation"][:, end + 1, :, 3]
    assert torch.allclose(restart, torch.zeros_like(restart))


def test_example_trains_cournot_firms_with_torchrl_ppo():
    """examples/torchrl_ppo.py: TorchRL's ClipPPOLoss, GAE and MultiAgentMLP through to_torchrl, tiny
    budget. The first, near-uniform policies flood the market; after training the firms produce
    close to the Cournot-Nash quantity 3 (2 firms, a = 10, b = c = 1) and earn close to its profit 9."""
    pytest.importorskip("torchrl")
    import importlib.util
    from pathlib import Path

    from macrobook.adapters import to_torchrl
    from macrobook.envs.cournot import CournotConfig, CournotEconomy

    path = Path(__file__).resolve().parents[1] / "examples" / "torchrl_ppo.py"
    spec = importlib.util.spec_from_file_location("torchrl_ppo", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    cfg = CournotConfig(num_firms=2, episode_length=8, num_quantities=19)
    env = to_torchrl(CournotEconomy(cfg, num_envs=64, device="cpu"), group_map="agents")
    hist = mod.train(env, iterations=30, values=cfg.quantity_grid())
    first_profit, first_q = hist[0]
    profit = np.mean([h[0] for h in hist[-5:]])
    q = np.mean([h[1] for h in hist[-5:]])
    assert first_profit < 5.0 and first_q > 3.8          # the untrained policies flood the market
    assert abs(q - 3.0) < 0.3 and profit > 8.3           # near Cournot-Nash (quantity 3, profit 9)
