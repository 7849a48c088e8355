"""The firm alone learns (DDPG) while the others play fixed mid actions.
Usage: [LE=1 GS=16] python probe_firm_alone.py "money_utility=0.3,money_curvature=0.5" STEPS GAMMA
(needs diverseland_v2.patch applied)."""
import os, sys, time

import torch
from macrobook.algos.ddpg import DDPG, DDPGConfig
from macrobook.envs.diverseland import Diverseland, DiverselandConfig
torch.set_num_threads(1)
kw = eval("dict(%s)" % sys.argv[1]); steps = int(sys.argv[2]); gamma = float(sys.argv[3])
cfg = DiverselandConfig(episode_len=50, **kw)
E = 64
econ = Diverseland(cfg, num_envs=E, device="cpu")
f = DDPG(econ.specs["firm"], DDPGConfig(batch_size=128, learning_starts=256, gradient_steps=4, exploration_sigma=0.1, gamma=gamma), seed=0)
mid = {"household": torch.full((E,3,1), 0.6), "government": torch.full((E,1,1), 0.0), "central_bank": torch.full((E,1,1), 0.04)}
obs = econ.reset(seed=0)
for t in range(steps):
    a = f.act(obs["firm"])[0]
    out = econ.step({**mid, "firm": a})
    nxt = out.info.get("final_obs", out.obs)
    f.store(obs["firm"], a, out.reward["firm"], nxt["firm"], out.done.unsqueeze(-1).expand_as(out.reward["firm"]))
    obs = out.obs
    if (t + 1) % int(os.environ.get("LE", 4)) == 0: f.learn(int(os.environ.get("GS", 4)))
    if (t+1) % 100 == 0:
        print(t+1, "markup", [round(x, 3) for x in f.act(obs["firm"], deterministic=True)[0].mean((0,1)).tolist()], "r", round(float(out.reward["firm"].mean()), 3))
