"""Fixed (non-learned) policies: household spending share x firm action, 50 quarters.
Usage: python probe_fixed_policies.py "config kwargs"."""
import torch, sys
from macrobook.envs.diverseland import Diverseland, DiverselandConfig
kw = eval("dict(%s)" % (sys.argv[1] if len(sys.argv) > 1 else ""))
for s_ in (0.4, 0.6, 0.8):
  for mk in (-0.05, 0.0, 0.05, 0.10, 0.15):
    e = Diverseland(DiverselandConfig(episode_len=10**6, **kw), num_envs=32, device="cpu"); e.reset(seed=0)
    a = {"household": torch.full((32,3,1), s_), "firm": torch.full((32,1,3), mk),
         "government": torch.full((32,1,1), 0.0), "central_bank": torch.full((32,1,1), 0.04)}
    R = {k: 0.0 for k in e.specs}; I = G = 0
    for t in range(50):
        o = e.step(a)
        for k in R: R[k] += float(o.reward[k].mean()) / 50
        I += float(o.macro["inflation_annual"].mean()) * 2; G += float(o.macro["output_gap"].mean()) * 2
    print(f"s {s_} markup {mk:+.2f}", {k: round(v, 3) for k, v in R.items()}, f"infl {I:.2f}% gap {G:.1f}%")
