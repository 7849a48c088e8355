"""MADDPG / independent DDPG: fixed-size centralized critic, seeding, targets, learning a coordination game."""
import pytest
from dataclasses import dataclass

import torch

from macrobook.algos.maddpg import MADDPG, MADDPGConfig, evaluate, train
from macrobook.config import ConfigError
from macrobook.contract import AgentSpec
from macrobook.envs.base import BatchedEconomy, Transition
from macrobook.envs.six_sector import SixSectorConfig, SixSectorEconomy
from macrobook.contract import Box, Discrete

torch.set_num_threads(1)


class FollowTheLeader(BatchedEconomy):
    """A one-shot coordination game: the leader is paid -(a_L - 0.5)^2, each follower
    -(a_i - a_L)^2. The followers' best reply moves as the leader learns (non-stationarity);
    the equilibrium is a_L = a_i = 0.5, where every reward is 0."""

    def __init__(self, num_envs=64):
        super().__init__(num_envs, "cpu")
        self.specs = {"leader": AgentSpec(1, 2, Box(-1.0, 1.0, (1,))), "follower": AgentSpec(3, 2, Box(-1.0, 1.0, (1,)))}

    def _noise(self, num_envs):
        # the observation is fresh noise every period: the state holds nothing else
        return Noise({k: self.randn(num_envs, s.count, 2) * 0.1 for k, s in self.specs.items()})

    def initial_state(self, num_envs):
        return self._noise(num_envs)

    def observe(self, state=None):
        return dict((self.state if state is None else state).obs)

    def transition(self, state, actions):
        a_l = actions["leader"][..., 0]                      # [E, 1]
        a_f = actions["follower"][..., 0]                    # [E, 3]
        rew = {"leader": -(a_l - 0.5) ** 2, "follower": -(a_f - a_l) ** 2}
        done = torch.zeros(self.num_envs, dtype=torch.bool)
        return Transition(self._noise(self.num_envs), rew, done, {"leader_action": a_l[:, 0]})


@dataclass
class Noise:
    obs: dict


def _cfg(**kw):
    base = dict(learning_starts=64, batch_size=64, hidden=(32, 32), gamma=0.0, exploration_sigma=0.2,
                actor_lr=3e-3, critic_lr=3e-3, tau=0.05)
    base.update(kw)
    return MADDPGConfig(**base)


def test_centralized_critic_input_is_fixed_size_whatever_the_population():
    dims = []
    for h in (3, 20):
        econ = SixSectorEconomy(SixSectorConfig(num_households=h, num_firms=2), num_envs=2, device="cpu")
        m = MADDPG(econ.specs, MADDPGConfig(), seed=0)
        dims.append({k: t.critic.net[0].in_features for k, t in m.types.items()})
        ind = MADDPG(econ.specs, MADDPGConfig(centralized=False), seed=0)
        for k, t in ind.types.items():   # independent DDPG: own observation and action only
            assert t.critic.net[0].in_features == econ.specs[k].obs_dim + ind.act_dim[k]
    assert dims[0] == dims[1]
    # and the joint summary really depends on every type's actions
    econ = SixSectorEconomy(SixSectorConfig(num_households=4, num_firms=2), num_envs=3, device="cpu")
    obs = econ.reset(seed=0)
    m = MADDPG(econ.specs, MADDPGConfig(), seed=0)
    a = econ.reference_actions()
    j0 = m.joint_summary(obs, a)
    a["central_bank"] = a["central_bank"] + 0.01
    assert j0.shape == (3, m.joint_dim)
    assert not torch.equal(j0, m.joint_summary(obs, a))


def test_full_critic_sees_every_agent_and_grows_with_the_population():
    # critic_input="full" is Lowe et al.'s literal critic: every agent's (o, a), concatenated
    sizes = {}
    for h in (3, 5):
        econ = SixSectorEconomy(SixSectorConfig(num_households=h, num_firms=2), num_envs=2, device="cpu")
        m = MADDPG(econ.specs, MADDPGConfig(critic_input="full"), seed=0)
        joint = sum(s.count * (s.obs_dim + m.act_dim[k]) for k, s in econ.specs.items())
        for k, t in m.types.items():
            assert t.critic.net[0].in_features == econ.specs[k].obs_dim + m.act_dim[k] + joint
        sizes[h] = m.joint_dim
    hh = SixSectorEconomy(SixSectorConfig(num_households=3, num_firms=2), num_envs=1).specs["household"]
    assert sizes[5] - sizes[3] == 2 * (hh.obs_dim + 2)
    # one household's action changes the joint input in that household's own slot
    econ = SixSectorEconomy(SixSectorConfig(num_households=4, num_firms=2), num_envs=3, device="cpu")
    obs = econ.reset(seed=0)
    m = MADDPG(econ.specs, MADDPGConfig(critic_input="full"), seed=0)
    a = econ.reference_actions()
    j0 = m.joint_summary(obs, a)
    a["household"][:, 2, 1] += 0.1
    changed = (m.joint_summary(obs, a) != j0).any(0).nonzero().flatten().tolist()
    d = econ.specs["household"].obs_dim + 2
    assert changed == [2 * d + econ.specs["household"].obs_dim + 1]


def test_same_seed_same_parameters_after_training():
    def run(seed):
        env = FollowTheLeader(16)
        m = MADDPG(env.specs, _cfg(), seed=seed)
        train(env, m, iterations=8, steps_per_iteration=2, gradient_steps=2, seed=seed)
        return torch.cat([p.flatten() for t in m.types.values() for p in t.parameters()])

    assert torch.equal(run(0), run(0))
    assert not torch.equal(run(0), run(1))


def test_target_networks_trail_the_online_networks():
    env = FollowTheLeader(32)
    m = MADDPG(env.specs, _cfg(tau=0.1), seed=0)
    t = m.types["leader"]
    before = [p.clone() for p in t.actor_target.parameters()]
    train(env, m, iterations=10, steps_per_iteration=2, gradient_steps=3, seed=0)
    moved = any(not torch.equal(a, b) for a, b in zip(before, t.actor_target.parameters()))
    differs = any(not torch.equal(a, b) for a, b in zip(t.actor.parameters(), t.actor_target.parameters()))
    assert moved and differs


@pytest.mark.parametrize("centralized", [True, False])
def test_learns_the_coordination_equilibrium(centralized):
    env = FollowTheLeader(64)
    m = MADDPG(env.specs, _cfg(centralized=centralized), seed=0)
    untrained = MADDPG(env.specs, _cfg(centralized=centralized), seed=0)
    obs = env.reset(seed=1)

    # 1. Non-stationarity, as the algorithm defines it: both the centralized critic (Lowe et al.
    # 2017, eq. 5) and the independent one are trained on the leader's actions *from the replay
    # buffer*, so while the leader is still moving the follower tracks the buffer's average leader
    # action, not the leader's current one.
    train(env, m, iterations=250, steps_per_iteration=1, gradient_steps=1, seed=0)
    a = m.act(obs, deterministic=True)
    leader, follower = float(a["leader"].mean()), float(a["follower"].mean())
    replayed = float(m.buffer.storage["act/leader"][:len(m.buffer)].mean())
    assert leader - replayed > 0.05, (leader, replayed)        # the leader has moved on ...
    assert abs(follower - replayed) < 0.05, (follower, replayed)  # ... the follower tracks the replay

    # 2. Once the leader settles, the buffer catches up and both reach the equilibrium 0.5, 0.5.
    train(env, m, iterations=750, steps_per_iteration=1, gradient_steps=1, seed=1)
    a = m.act(obs, deterministic=True)
    leader = float(a["leader"].mean())
    assert abs(leader - 0.5) < 0.1, leader
    assert float((a["follower"] - a["leader"]).abs().mean()) < 0.05
    # the followers learned: against the trained leader, followers that kept their initial policy
    # (a ~ 0) would lose about 0.25 a period; the trained ones lose almost nothing
    def untrained_followers(o):
        acts = m.act(o, deterministic=True)
        acts["follower"] = untrained.act(o, deterministic=True)["follower"]
        return acts

    _, lazy = evaluate(env, untrained_followers, steps=5, seed=1)
    _, after = evaluate(env, m, steps=5, seed=1)
    assert lazy["follower"] < -0.15, lazy
    assert after["follower"] > -0.01, after


def test_trains_on_the_six_sector_economy_and_logs_every_type():
    econ = SixSectorEconomy(SixSectorConfig(num_households=3, num_firms=2, episode_len=5), num_envs=4, device="cpu")
    m = MADDPG(econ.specs, _cfg(learning_starts=8, batch_size=8), seed=0)
    log = train(econ, m, iterations=6, steps_per_iteration=2, gradient_steps=1, seed=0)
    for k in econ.specs:
        assert f"reward/{k}" in log and f"critic_loss/{k}" in log
    assert log["critic_loss/household"].notna().any()
    assert m.num_updates > 0


def test_bad_configs_raise():
    with pytest.raises(ConfigError, match="gamma"):
        MADDPGConfig(gamma=1.5)
    with pytest.raises(ConfigError, match="batch_size"):
        MADDPGConfig(batch_size=0)
    with pytest.raises(ConfigError, match="centralized"):
        MADDPGConfig(centralized="yes")
    with pytest.raises(ConfigError, match="critic_input"):
        MADDPGConfig(critic_input="everything")
    env = FollowTheLeader(2)
    with pytest.raises(ConfigError, match="reward_scale"):
        MADDPG(env.specs, MADDPGConfig(reward_scale={"martian": 2.0}))
    with pytest.raises(ConfigError, match="Box"):
        MADDPG({"x": AgentSpec(1, 2, Discrete(3))})


@pytest.mark.parametrize("how", ["full", "pooled"])
def test_actor_gradient_changes_only_the_agents_own_action(how):
    """Lowe et al. 2017, eq. 5: agent i's critic input has mu(o_i) for a_i and every other agent's
    action as replayed, also for the agents of i's own type."""
    econ = SixSectorEconomy(SixSectorConfig(num_households=3, num_firms=2), num_envs=4, device="cpu")
    m = MADDPG(econ.specs, MADDPGConfig(critic_input=how, normalize_actions=True), seed=0)
    obs = econ.reset(seed=0)
    act = {k: a.reshape(a.shape[:2] + (-1,)) for k, a in econ.sample_actions().items()}
    new = {k: a.reshape(a.shape[:2] + (-1,)) for k, a in econ.sample_actions().items()}
    parts = {k: m.pooled(k, obs[k], act[k]) for k in econ.specs}
    got = m.joint_own("household", obs["household"], act["household"], new["household"], parts)
    for i in range(3):
        a_i = act["household"].clone()
        a_i[:, i] = new["household"][:, i]
        want = m.joint_summary(obs, {**act, "household": a_i})
        assert torch.allclose(got[:, i], want, atol=1e-6)
