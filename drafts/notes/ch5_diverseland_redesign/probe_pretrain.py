"""All four learners pretrain together, then untrained vs pretrained actors (evaluate_actors).
Usage: [LE=4] python probe_pretrain.py STEPS ENVS SEED "config kwargs" "DDPGConfig kwargs"."""
import torch, sys, time, os, pandas as pd
from macrobook.algos.ddpg import DDPGConfig
from macrobook.envs.diverseland import Diverseland, DiverselandConfig
from macrobook.llm.diverseland import make_learners, pretrain, evaluate_actors
torch.set_num_threads(1)
steps = int(sys.argv[1]); envs = int(sys.argv[2]); seed = int(sys.argv[3])
kw = eval("dict(%s)" % (sys.argv[4] if len(sys.argv) > 4 else ""))
dk = eval("dict(%s)" % (sys.argv[5] if len(sys.argv) > 5 else ""))
le = int(os.environ.get("LE", 4))
cfg = DiverselandConfig(episode_len=50, **kw)
econ = Diverseland(cfg, num_envs=envs, device="cpu")
dcfg = DDPGConfig(**{**dict(batch_size=128, learning_starts=256, gradient_steps=4, exploration_sigma=0.1), **dk})
L = make_learners(econ, seed, dcfg)
before = evaluate_actors(make_learners(econ, seed, dcfg), economy_config=cfg)
t0 = time.process_time()
pretrain(econ, L, steps, seed=seed, learn_every=le)
cpu = time.process_time() - t0
after = evaluate_actors(L, economy_config=cfg)
print(f"cpu {cpu:.1f}s", pd.DataFrame({"untrained": before, "pretrained": after}).round(3).T.to_string())
