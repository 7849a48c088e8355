"""One-step firm reward by markup from a state reached after 30 quarters at markup 5%.
Usage: python probe_one_step.py (needs diverseland_v2.patch applied)"""
import torch
from macrobook.envs.diverseland import Diverseland, DiverselandConfig
E=8
e = Diverseland(DiverselandConfig(episode_len=10**6, money_utility=0.3, money_curvature=0.5), num_envs=E, device="cpu"); e.reset(seed=0)
mid = {"household": torch.full((E,3,1), 0.6), "government": torch.full((E,1,1), 0.0), "central_bank": torch.full((E,1,1), 0.04)}
for t in range(30): e.step({**mid, "firm": torch.full((E,1,3), 0.05)})
st = e.state.clone(); g = e.generator.get_state()
for mk in (-0.05, 0.0, 0.02, 0.05, 0.1, 0.15):
    e.state = st.clone(); e.generator.set_state(g)
    o = e.step({**mid, "firm": torch.full((E,1,3), mk)})
    print(mk, "firm r", round(float(o.reward["firm"].mean()), 4), "gap", round(float(o.macro["output_gap"].mean()), 3), "fill", e.state.fill.mean().item())
