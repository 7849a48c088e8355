"""Learners, one readable file each: q_learning, reinforce, a2c, ppo, ddpg, maddpg."""
