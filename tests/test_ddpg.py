"""DDPG (macrobook.algos.ddpg): replay buffer, soft updates, exploration bounds, and learning a
known optimum (a one-step problem whose best action is a closed form)."""
import pytest
import torch

from macrobook.algos.ddpg import DDPG, DDPGConfig, ReplayBuffer, soft_update
from macrobook.config import ConfigError
from macrobook.contract import AgentSpec
from macrobook.contract import Box
from macrobook.nets import QCritic

torch.set_num_threads(1)


def test_soft_update_is_polyak_average():
    a, b = QCritic(3, (4,)), QCritic(3, (4,))
    before = [p.clone() for p in a.parameters()]
    soft_update(a, b, 0.25)
    for pa, p0, pb in zip(a.parameters(), before, b.parameters()):
        assert torch.allclose(pa, 0.75 * p0 + 0.25 * pb)
    soft_update(a, b, 1.0)
    assert all(torch.equal(pa, pb) for pa, pb in zip(a.parameters(), b.parameters()))
    with pytest.raises(ConfigError):
        soft_update(a, b, 1.5)


def test_replay_buffer_ring_and_seeded_sampling():
    buf = ReplayBuffer(5, seed=3)
    buf.add(x=torch.arange(3.0).unsqueeze(-1), y=torch.arange(3))
    buf.add(x=torch.arange(3.0, 7.0).unsqueeze(-1), y=torch.arange(3, 7))
    assert len(buf) == 5
    # the oldest rows (0, 1) were overwritten: the buffer holds exactly 2..6
    assert sorted(buf.storage["x"].squeeze(-1).tolist()) == [2.0, 3.0, 4.0, 5.0, 6.0]
    s1 = ReplayBuffer(5, seed=3)
    s1.add(x=torch.arange(3.0).unsqueeze(-1), y=torch.arange(3))
    s1.add(x=torch.arange(3.0, 7.0).unsqueeze(-1), y=torch.arange(3, 7))
    assert torch.equal(buf.sample(8)["x"], s1.sample(8)["x"])
    b = buf.sample(16)
    assert torch.equal(b["x"].squeeze(-1).long(), b["y"])  # fields stay aligned row by row
    with pytest.raises(ValueError):
        buf.add(x=torch.zeros(2, 2), y=torch.zeros(2, dtype=torch.long))


def test_exploration_stays_in_box_and_config_errors():
    spec = AgentSpec(2, 3, Box(-1.0, 2.0, (2,)))
    lrn = DDPG(spec, DDPGConfig(exploration_sigma=5.0), seed=0)
    a, extras = lrn.act(torch.randn(7, 2, 3))
    assert a.shape == (7, 2, 2) and extras == {}
    assert spec.action.contains(a)
    assert (a == -1.0).any() and (a == 2.0).any()  # big noise is clipped, not wrapped
    with pytest.raises(ConfigError, match="tau"):
        DDPGConfig(tau=0.0)
    with pytest.raises(ConfigError, match="Box"):
        from macrobook.contract import Discrete
        DDPG(AgentSpec(1, 3, Discrete(2)))


def _train_bandit(seed):
    # one-step problem: reward = -(a - 0.5 o)^2, o ~ U(-1, 1); the optimal action is a* = 0.5 o
    spec = AgentSpec(4, 1, Box(-1.0, 1.0, (1,)))
    lrn = DDPG(spec, DDPGConfig(gamma=0.0, actor_lr=3e-3, critic_lr=3e-3, batch_size=64, learning_starts=64,
                                gradient_steps=15, hidden=(32, 32), exploration_sigma=0.3), seed=seed)
    g = torch.Generator().manual_seed(seed)
    for _ in range(40):
        obs = torch.rand(16, 4, 1, generator=g) * 2 - 1
        a, _ = lrn.act(obs)
        r = -(a[..., 0] - 0.5 * obs[..., 0]) ** 2
        lrn.store(obs, a, r, obs, torch.ones_like(r))
        lrn.learn()
    return lrn


def test_ddpg_learns_closed_form_optimum_and_is_seeded():
    lrn = _train_bandit(0)
    o = torch.linspace(-0.9, 0.9, 19).reshape(-1, 1, 1)
    a, _ = lrn.act(o, deterministic=True)
    err = (a - 0.5 * o).abs().max().item()
    assert err < 0.1, f"max |a - a*| = {err:.3f}"
    again = _train_bandit(0)
    assert torch.equal(lrn.act(o, deterministic=True)[0], again.act(o, deterministic=True)[0])


def test_update_follows_the_learner_protocol():
    spec = AgentSpec(2, 3, Box(0.0, 1.0, (1,)))
    lrn = DDPG(spec, DDPGConfig(learning_starts=10, batch_size=8, gradient_steps=2), seed=1)
    T, E = 4, 3
    rollout = {"obs": {"h": torch.randn(T + 1, E, 2, 3)}, "actions": {"h": torch.rand(T, E, 2, 1)},
               "rewards": {"h": torch.randn(T, E, 2)}, "dones": torch.zeros(T, E, dtype=torch.bool)}
    stats = lrn.update(rollout, "h")
    assert len(lrn.buffer) == T * E * 2
    assert stats["buffer_size"] == 24 and stats["loss"] == stats["loss"]  # not NaN: learning happened
    assert set(lrn.modules()) == {"actor", "critic", "actor_target", "critic_target"}
