"""Train Cournot firms through the PettingZoo adapter, with code that knows nothing of macrobook.

The loop below is what any PettingZoo user writes: ``reset`` -> a dict of observations keyed by
agent name -> a dict of actions -> ``step`` -> dicts of rewards, terminations and truncations.
Each firm has its own small policy (independent REINFORCE, a plain PyTorch MLP), trained on the
returns of its episodes; macrobook appears only in the two lines that build the environment.

    python examples/pettingzoo_reinforce.py --episodes 300
"""
from __future__ import annotations

import argparse

import numpy as np
import torch


def train(env, episodes: int = 200, lr: float = 0.01, seed: int = 0):
    """Independent REINFORCE for every agent of a PettingZoo ParallelEnv with discrete actions.
    Returns the mean reward per agent and step of each episode."""
    torch.manual_seed(seed)
    policies, optims = {}, {}
    for a in env.possible_agents:
        d, n = env.observation_space(a).shape[0], env.action_space(a).n
        policies[a] = torch.nn.Sequential(torch.nn.Linear(d, 32), torch.nn.Tanh(), torch.nn.Linear(32, n))
        optims[a] = torch.optim.Adam(policies[a].parameters(), lr=lr)
    history = []
    for ep in range(episodes):
        obs, _ = env.reset(seed=seed + ep)
        logps = {a: [] for a in env.possible_agents}
        rewards = {a: [] for a in env.possible_agents}
        while env.agents:
            actions = {}
            for a in env.agents:
                dist = torch.distributions.Categorical(logits=policies[a](torch.as_tensor(obs[a])))
                act = dist.sample()
                logps[a].append(dist.log_prob(act))
                actions[a] = int(act)
            obs, rew, term, trunc, _ = env.step(actions)
            for a, r in rew.items():
                rewards[a].append(r)
        for a in env.possible_agents:
            r = torch.tensor(rewards[a])
            ret = torch.flip(torch.cumsum(torch.flip(r, [0]), 0), [0])      # return to go
            adv = (ret - ret.mean()) / (ret.std() + 1e-8)
            loss = -(torch.stack(logps[a]) * adv).sum()
            optims[a].zero_grad()
            loss.backward()
            optims[a].step()
        history.append(float(np.mean([np.mean(v) for v in rewards.values()])))
    return history


def main(argv=None):
    from macrobook.adapters import to_pettingzoo
    from macrobook.envs.cournot import CournotConfig, CournotEconomy

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--episodes", type=int, default=300)
    args = ap.parse_args(argv)
    env = to_pettingzoo(CournotEconomy(CournotConfig(num_firms=2, episode_length=8), device="cpu"))
    hist = train(env, episodes=args.episodes)
    k = max(1, len(hist) // 5)
    print(f"mean profit per firm and period: first {k} episodes {np.mean(hist[:k]):.3f}, "
          f"last {k} episodes {np.mean(hist[-k:]):.3f}")
    return hist


if __name__ == "__main__":
    main()
