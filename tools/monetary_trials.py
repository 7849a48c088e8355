"""Design trials of Chapter 4's monetary economy: train, measure, print one JSON line per seed.

    python tools/monetary_trials.py NAME '{"habit": 0.8}' 0,1,2 [PHASES] [IRF_ENVS] >> data/monetary-trials.jsonl

NAME labels the variant; the JSON object overrides fields of ``MonetaryConfig``; PHASES are the
four phase lengths (default 50,20,120,10, the chapter's full setting); IRF_ENVS the economies of the
rate-shock response (default 64). Each line holds the target's three checks (Taylor principle,
output response with its trough, inflation response), the economy-behaves checks and the wall-clock
seconds of training and measuring, and what the central bank's loss says about its response to
inflation in the learned economy: its mean loss per month with the learned private sector under
Taylor rules with ``phi_pi`` 0.5 and 2 (``loss_phi05``, ``loss_phi2``; their paired difference
``loss_gap`` and its standard error over economies, common random numbers) and under its own
learned policy (``loss_learned``), beside the standard deviation of 12-month inflation in the
measurement run (``infl_sd``, pp), for the chapter's "what we tried" table (Chapter 4 reads
``data/monetary-trials.jsonl``). One thread and MKL's strict mode, as the book runs the chapter
(``reproducible_cpu``); the trials recorded before this was set (``strict_mkl: false``) round
differently from the chapter's run and so land elsewhere on each seed.
"""
import dataclasses
import json
import sys
import time

import numpy as np, torch
from macrobook import seed_everything
from macrobook.envs.monetary import MonetaryConfig
from macrobook.recipes.monetary import MonetaryTrainConfig, train_in_phases
from macrobook.analysis import scorecard as sc
from macrobook.train import reproducible_cpu
from macrobook.envs.monetary import MonetaryEconomy
from macrobook.recipes.monetary import TaylorRuleCentralBank
from macrobook.replay import PolicySampler
reproducible_cpu(1)   # MKL's strict mode and one thread, as tools/build_book.py runs the chapter
name = sys.argv[1]; over = json.loads(sys.argv[2]); seeds = [int(x) for x in sys.argv[3].split(",")]
phases = tuple(int(x) for x in (sys.argv[4] if len(sys.argv) > 4 else "50,20,120,10").split(","))
irf_envs = int(sys.argv[5]) if len(sys.argv) > 5 else 64
econ = MonetaryConfig(**over)
MEASURE = dict(num_envs=16, months=132, irf_envs=irf_envs, irf_months=60, shock_at=24, device="cpu")


def loss_by_economy(agents, seed, months=MEASURE["months"], envs=MEASURE["num_envs"], burn_in=12):
    """The central bank's mean loss per month in each economy ``[E]`` (pp^2), after ``burn_in``
    months; the same economies and private-sector draws for every central bank (common random numbers)."""
    e = MonetaryEconomy(dataclasses.replace(econ, sim_length=months + 1), num_envs=envs, device="cpu")
    obs = e.reset(seed=seed); samp = PolicySampler(agents, seed, False); L = []
    with torch.no_grad():
        for t in range(months):
            o = e.step(samp(obs)); obs = o.obs
            if t >= burn_in:
                L.append(o.macro["cb_loss"].double().numpy())
    return np.mean(L, 0)


for s in seeds:
    t0 = time.perf_counter(); seed_everything(s)
    tr, log = train_in_phases(phases, MonetaryTrainConfig(num_envs=16, rollout_len=24), econ, seed=s, device="cpu")
    t1 = time.perf_counter()
    m = sc.measure_monetary(tr.learners, econ, seed=s, **MEASURE)
    card = sc.card_from_measurement(m)
    c = {x["name"]: x for x in card["checks"]}
    # the loss against the central bank's response to inflation, with this seed's learned private sector
    rule = lambda phi: {**tr.learners, "central_bank": TaylorRuleCentralBank(phi_pi=phi, phi_y=0.5, r_star=0.01)}  # noqa: E731
    l05, l2, ll = loss_by_economy(rule(0.5), 900 + s), loss_by_economy(rule(2.0), 900 + s), loss_by_economy(tr.learners, 900 + s)
    gap = l05 - l2
    fr = m["frame"]; yoy = fr[fr["t"] >= 12]["inflation_yoy"].to_numpy()
    hyp = dict(loss_phi05=round(float(l05.mean()), 3), loss_phi2=round(float(l2.mean()), 3), loss_learned=round(float(ll.mean()), 3),
               loss_gap=round(float(gap.mean()), 3), loss_gap_se=round(float(gap.std(ddof=1) / np.sqrt(len(gap))), 3),
               infl_sd=round(float(100 * yoy.std()), 3))
    t2 = time.perf_counter()
    row = dict(variant=name, overrides=over, phases=list(phases), irf_envs=irf_envs, strict_mkl=True, seed=s, phi=round(c["taylor_principle"]["value"], 3), phi_ci=[round(v, 2) for v in c["taylor_principle"]["interval"]],
               taylor=c["taylor_principle"]["pass"], out=round(c["output_response"]["value"], 3), out_hi=round(c["output_response"]["interval"][1], 3),
               trough=c["output_response"]["trough_month"], out_pass=c["output_response"]["pass"],
               infl=round(c["inflation_response"]["value"], 4), infl_hi=round(c["inflation_response"]["interval"][1], 4), infl_pass=c["inflation_response"]["pass"],
               target=bool(c["taylor_principle"]["pass"] and c["output_response"]["pass"] and c["inflation_response"]["pass"]),
               target_no_timing=bool(c["taylor_principle"]["pass"] and c["output_response"]["interval"][1] < 0 and c["inflation_response"]["pass"]),
               sold=round(c["sold_out_share"]["value"], 3), freq=round(c["price_change_frequency"]["value"], 3), interior=m["deviation"]["interior_share"], interior_draws=m["deviation"]["draws"],
               passed=card["passed"], **hyp, t_train=round(t1 - t0), t_measure=round(t2 - t1))
    print(json.dumps(row), flush=True)
