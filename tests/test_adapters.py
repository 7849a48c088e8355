"""PettingZoo and TorchRL (TensorDict) adapters for every economy (issue 18)."""
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
