"""SAC (macrobook.algos.sac): an interior optimum, a corner optimum, seeds and configs."""
from dataclasses import dataclass

import pytest
import torch

from macrobook.algos.maddpg import evaluate, train
from macrobook.algos.sac import SAC, SACConfig
from macrobook.config import ConfigError
from macrobook.contract import AgentSpec, Box, Discrete
from macrobook.envs.base import BatchedEconomy, Transition

torch.set_num_threads(1)


@dataclass
class _Noise:
    obs: dict


class Target(BatchedEconomy):
    """One agent per economy paid -(a - target)^2 on the box [0, 1]: interior at 0.3, a corner at 1.2."""

    def __init__(self, target: float, num_envs=32):
        super().__init__(num_envs, "cpu")
        self.target = target
        self.specs = {"agent": AgentSpec(1, 2, Box(0.0, 1.0, (1,)))}

    def initial_state(self, num_envs):
        return _Noise({"agent": self.randn(num_envs, 1, 2) * 0.1})

    def observe(self, state=None):
        return dict((self.state if state is None else state).obs)

    def transition(self, state, actions):
        a = actions["agent"][..., 0]
        return Transition(self.initial_state(self.num_envs), {"agent": -(a - self.target) ** 2},
                          torch.zeros(self.num_envs, dtype=torch.bool), {"action": a[:, 0]})


def _learned(target, seed=0):
    env = Target(target)
    sac = SAC(env.specs, SACConfig(gamma=0.0, learning_starts=64, batch_size=64, hidden=(32, 32), actor_lr=3e-3,
                                    critic_lr=3e-3, alpha_lr=3e-3), seed=seed)
    train(env, sac, iterations=300, steps_per_iteration=1, gradient_steps=1, seed=seed)
    _, rew = evaluate(env, sac.policy(), steps=3, seed=seed + 1)
    return sac, float(sac.act(env.reset(seed=5), deterministic=True)["agent"].mean())


def test_sac_finds_an_interior_optimum_and_a_corner_only_where_the_reward_has_one():
    _, inside = _learned(0.3)
    assert abs(inside - 0.3) < 0.08, inside
    _, corner = _learned(1.2)          # the best action in the box is its top
    assert corner > 0.85, corner


def test_same_seed_same_parameters():
    def params(seed):
        sac, _ = _learned(0.3, seed)
        return torch.cat([p.flatten() for t in sac.types.values() for p in t.parameters()])

    assert torch.equal(params(0), params(0))


def test_bad_configs_raise():
    with pytest.raises(ConfigError, match="gamma"):
        SACConfig(gamma=1.5)
    with pytest.raises(ConfigError, match="centralized"):
        SACConfig(centralized=True)
    with pytest.raises(ConfigError, match="Box"):
        SAC({"x": AgentSpec(1, 2, Discrete(3))})
    with pytest.raises(ConfigError, match="reward_scale"):
        SAC(Target(0.3).specs, SACConfig(reward_scale={"martian": 1.0}))
