"""Train Cournot firms with TorchRL's own PPO (MAPPO-style), through the TorchRL adapter.

Everything that learns here is TorchRL's: ``MultiAgentMLP`` networks (one set of parameters shared
by the firms, as in MAPPO), a ``TanhNormal`` ``ProbabilisticActor``, ``ClipPPOLoss`` and its GAE
value estimator. macrobook supplies only the environment: a batch of 64 Cournot markets as one
TorchRL environment of batch size [64], the firms in one group with tensors [64, N, ...].

    python examples/torchrl_ppo.py --iterations 60

The first policies, close to uniform over the grid [0, (a - c) / b], flood the market; the firms
learn to cut output toward the Cournot-Nash quantity (a - c) / (b (N + 1)) and their profits rise
to the Nash profit (with 2 firms and the default a = 10, b = c = 1: quantity 3, profit 9).
"""
from __future__ import annotations

import argparse

import torch


def train(env, iterations: int = 40, frames: int = 16, lr: float = 3e-3, seed: int = 0, values=None):
    """MAPPO on a TorchRL multi-agent environment with one group of agents (Categorical or Box
    actions). Returns (mean reward per agent and step, mean action) for each iteration; ``values``
    maps a Categorical action's index to what it means (the quantity), else the index is reported."""
    from tensordict.nn import TensorDictModule
    from tensordict.nn.distributions import NormalParamExtractor
    from torchrl.data import Categorical
    from torchrl.envs.utils import ExplorationType, set_exploration_type
    from torchrl.modules import MultiAgentMLP, ProbabilisticActor, TanhNormal
    from torchrl.objectives import ClipPPOLoss, ValueEstimators

    torch.manual_seed(seed)
    group = next(iter(env.action_spec.keys()))
    act_spec = env.action_spec[group, "action"]
    discrete = isinstance(act_spec, Categorical)
    n_agents = act_spec.shape[-1] if discrete else act_spec.shape[-2]
    obs_dim = env.observation_spec[group, "observation"].shape[-1]
    act_dim = 1 if discrete else act_spec.shape[-1]

    if discrete:        # Categorical over the quantity grid
        n_out = act_spec.space.n
        net = MultiAgentMLP(n_agent_inputs=obs_dim, n_agent_outputs=n_out, n_agents=n_agents, centralized=False,
                            share_params=True, depth=2, num_cells=32, activation_class=torch.nn.Tanh)
        policy = ProbabilisticActor(
            TensorDictModule(net, in_keys=[(group, "observation")], out_keys=[(group, "logits")]),
            spec=act_spec, in_keys={"logits": (group, "logits")}, out_keys=[(group, "action")],
            distribution_class=torch.distributions.Categorical,
            return_log_prob=True, log_prob_key=(group, "sample_log_prob"))
    else:               # TanhNormal on the Box
        net = torch.nn.Sequential(
            MultiAgentMLP(n_agent_inputs=obs_dim, n_agent_outputs=2 * act_dim, n_agents=n_agents, centralized=False,
                          share_params=True, depth=2, num_cells=32, activation_class=torch.nn.Tanh),
            NormalParamExtractor())
        policy = ProbabilisticActor(
            TensorDictModule(net, in_keys=[(group, "observation")], out_keys=[(group, "loc"), (group, "scale")]),
            spec=act_spec, in_keys=[(group, "loc"), (group, "scale")], out_keys=[(group, "action")],
            distribution_class=TanhNormal,
            # one agent's bounds (the spec holds them for the whole [B, N] batch)
            distribution_kwargs={"low": act_spec.space.low.reshape(-1, act_dim)[0],
                                 "high": act_spec.space.high.reshape(-1, act_dim)[0]},
            return_log_prob=True, log_prob_key=(group, "sample_log_prob"))
    critic = TensorDictModule(
        MultiAgentMLP(n_agent_inputs=obs_dim, n_agent_outputs=1, n_agents=n_agents, centralized=True,
                      share_params=True, depth=2, num_cells=32, activation_class=torch.nn.Tanh),
        in_keys=[(group, "observation")], out_keys=[(group, "state_value")])

    loss = ClipPPOLoss(actor_network=policy, critic_network=critic, clip_epsilon=0.2, entropy_coeff=1e-3,
                       normalize_advantage=True, normalize_advantage_exclude_dims=(-2,))  # per agent
    loss.set_keys(reward=(group, "reward"), action=(group, "action"), value=(group, "state_value"),
                  sample_log_prob=(group, "sample_log_prob"), done=(group, "done"),
                  terminated=(group, "terminated"))
    loss.make_value_estimator(ValueEstimators.GAE, gamma=0.9, lmbda=0.95)
    optim = torch.optim.Adam(loss.parameters(), lr=lr)

    history = []
    env.set_seed(seed)
    for _ in range(iterations):
        # sample from the policy (TorchRL's default interaction type is its deterministic mode)
        with torch.no_grad(), set_exploration_type(ExplorationType.RANDOM):
            td = env.rollout(frames, policy=policy, break_when_any_done=False)
            # the agents' done flags (TorchRL's multi-agent losses read them per agent)
            for key in ("done", "terminated"):
                flag = td.get(("next", key))
                td.set(("next", group, key), flag.unsqueeze(-1).expand(td.get(("next", group, "reward")).shape))
            loss.value_estimator(td, params=loss.critic_network_params, target_params=loss.target_critic_network_params)
        flat = td.reshape(-1)
        for _ in range(4):
            out = loss(flat)
            total = out["loss_objective"] + out["loss_critic"] + out["loss_entropy"]
            optim.zero_grad()
            total.backward()
            torch.nn.utils.clip_grad_norm_(loss.parameters(), 1.0)
            optim.step()
        act = td.get((group, "action"))
        act = values[act] if (discrete and values is not None) else act.float()
        history.append((float(td.get(("next", group, "reward")).mean()), float(act.mean())))
    return history


def main(argv=None):
    from macrobook.adapters import to_torchrl
    from macrobook.envs.cournot import CournotConfig, CournotEconomy

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--iterations", type=int, default=60)
    ap.add_argument("--action-space", choices=["discrete", "box"], default="discrete")
    args = ap.parse_args(argv)
    cfg = CournotConfig(num_firms=2, episode_length=8, num_quantities=19, action_space=args.action_space)
    env = to_torchrl(CournotEconomy(cfg, num_envs=64, device="cpu"), group_map="agents")
    hist = train(env, iterations=args.iterations, values=cfg.quantity_grid())
    nash = (cfg.demand_intercept - cfg.marginal_cost) / (cfg.demand_slope * (cfg.num_firms + 1))
    for i in range(0, len(hist), max(1, len(hist) // 10)):
        print(f"iteration {i:3d}: profit per firm and step {hist[i][0]:6.2f}, mean quantity {hist[i][1]:5.2f}")
    print(f"last: profit {hist[-1][0]:.2f}, quantity {hist[-1][1]:.2f} (Cournot-Nash quantity {nash:.2f})")


if __name__ == "__main__":
    main()
