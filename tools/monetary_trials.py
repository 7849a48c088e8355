"""Design trials of Chapter 4's monetary economy: train, measure, print one JSON line per seed.

    python tools/monetary_trials.py NAME '{"habit": 0.8}' 0,1,2 [PHASES] [IRF_ENVS] >> data/monetary-trials.jsonl

NAME labels the variant; the JSON object overrides fields of ``MonetaryConfig``; PHASES are the
four phase lengths (default 50,20,40,10, the chapter's full setting); IRF_ENVS the economies of the
rate-shock response (default 64). Each line holds the target's three checks (Taylor principle,
output response with its trough, inflation response), the economy-behaves checks and the wall-clock
seconds of training and measuring, for the chapter's "what we tried" table (Chapter 4 reads
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
reproducible_cpu(1)   # MKL's strict mode and one thread, as tools/build_book.py runs the chapter
name = sys.argv[1]; over = json.loads(sys.argv[2]); seeds = [int(x) for x in sys.argv[3].split(",")]
phases = tuple(int(x) for x in (sys.argv[4] if len(sys.argv) > 4 else "50,20,40,10").split(","))
irf_envs = int(sys.argv[5]) if len(sys.argv) > 5 else 64
econ = MonetaryConfig(**over)
MEASURE = dict(num_envs=16, months=132, irf_envs=irf_envs, irf_months=60, shock_at=24, device="cpu")
for s in seeds:
    t0 = time.perf_counter(); seed_everything(s)
    tr, log = train_in_phases(phases, MonetaryTrainConfig(num_envs=16, rollout_len=24), econ, seed=s, device="cpu")
    t1 = time.perf_counter()
    m = sc.measure_monetary(tr.learners, econ, seed=s, **MEASURE)
    card = sc.card_from_measurement(m)
    c = {x["name"]: x for x in card["checks"]}
    t2 = time.perf_counter()
    row = dict(variant=name, overrides=over, phases=list(phases), irf_envs=irf_envs, strict_mkl=True, seed=s, phi=round(c["taylor_principle"]["value"], 3), phi_ci=[round(v, 2) for v in c["taylor_principle"]["interval"]],
               taylor=c["taylor_principle"]["pass"], out=round(c["output_response"]["value"], 3), out_hi=round(c["output_response"]["interval"][1], 3),
               trough=c["output_response"]["trough_month"], out_pass=c["output_response"]["pass"],
               infl=round(c["inflation_response"]["value"], 4), infl_hi=round(c["inflation_response"]["interval"][1], 4), infl_pass=c["inflation_response"]["pass"],
               target=bool(c["taylor_principle"]["pass"] and c["output_response"]["pass"] and c["inflation_response"]["pass"]),
               target_no_timing=bool(c["taylor_principle"]["pass"] and c["output_response"]["interval"][1] < 0 and c["inflation_response"]["pass"]),
               sold=round(c["sold_out_share"]["value"], 3), freq=round(c["price_change_frequency"]["value"], 3), interior=m["deviation"]["interior_share"],
               passed=card["passed"], t_train=round(t1 - t0), t_measure=round(t2 - t1))
    print(json.dumps(row), flush=True)
