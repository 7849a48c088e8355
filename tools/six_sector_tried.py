"""Chapter 3's "what we tried": train MADDPG on the six-sector economy with one set of learner
stabilisers and one seed, in the chapter's full setting (32 economies, 1,200 iterations), measure
it with the chapter's scorecard, and add the row to data/six_sector_tried.csv (the chapter reads
and glues that table; the book build does not re-run these trainings, about 1-2 CPU minutes each).

    python tools/six_sector_tried.py VARIANT SEED      # VARIANT: one of VARIANTS below

Same code, seed, thread count and floating-point environment give the same row. The rows in
data/six_sector_tried.csv were made with torch's defaults, not in the book build's MKL strict
reproducibility mode (``MKL_CBWR=AUTO,STRICT MKL_DYNAMIC=FALSE OMP_DYNAMIC=FALSE``,
tools/build_book.py); with those set, the chapter's setting on seed 2 gave the chapter's own seed-2
row (3 of 7 checks, inflation 5.94% a year, when the tax rule's debt response was 0.2), so set them to
match the build. The rows of the cheaper schedules, of the unscaled central-bank reward and of the tax
rule were made in that mode. Each run also adds where money / nominal GDP and inflation came from
(``macrobook.recipes.six_sector.nominal_anchor``) to data/six_sector_anchor.csv.
"""
import fcntl
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from macrobook.algos.maddpg import train  # noqa: E402
from macrobook.envs.six_sector import SixSectorConfig, SixSectorEconomy  # noqa: E402
from macrobook.recipes.six_sector import at_box_end, card_of, make_learner, measure, nominal_anchor  # noqa: E402

#: name -> MADDPGConfig fields replacing the chapter's (macrobook.recipes.six_sector.STABILISERS)
VARIANTS = {
    "paper (no stabilisers)": dict(normalize_actions=False, action_l2=0.0, target_noise=0.0),
    "stabilisers, penalty 1e-3": dict(action_l2=1e-3),
    "stabilisers, penalty 1e-3, twin critics, type gradient": dict(action_l2=1e-3, twin_critics=True,
                                                                   actor_gradient="type"),
    "stabilisers, penalty 0.05, type gradient": dict(action_l2=0.05, actor_gradient="type"),
    # (0.05 and 1e-3 replace the chapter's penalty; every other field is the chapter's)
    "stabilisers, penalty 0.05": dict(action_l2=0.05),
    "stabilisers, penalty 0.1 (design run)": dict(action_l2=0.1),
    # the chapter's penalty with a cheaper training schedule: the same 38,400 simulated quarters per learner
    # (32 economies x 1,200 quarters), but one gradient step per 2 quarters (600 steps) instead of one per quarter
    "chapter's learner, one gradient step per 2 quarters": dict(_schedule=(32, 600, 2)),
    "chapter's learner, 48 economies x 800 quarters": dict(_schedule=(48, 800, 1)),
    # the central bank's reward enters its critic unscaled (the chapter scales it by 0.1)
    "one gradient step per 2 quarters, central bank's reward unscaled": dict(_schedule=(32, 600, 2),
                                                                           reward_scale={}),
    "stabilisers, penalty 0.1, central bank's reward unscaled": dict(reward_scale={}),
    # the economy's changes (the chapter's learner): the passive tax rule's response to the debt gap. The chapter
    # uses 0.5 (macrobook.envs.six_sector.SixSectorConfig); its first version used 0.2
    "chapter's learner, tax rule's debt response 1.0": dict(_economy=dict(tax_debt_response=1.0)),
    "chapter's learner, tax rule's debt response 0.2 (before)": dict(_economy=dict(tax_debt_response=0.2)),
    "chapter's learner, tax rule's debt response 0.5": dict(_economy=dict(tax_debt_response=0.5)),
}
#: every variant above the tax rule's was trained and measured in the economy with the tax rule's first
#: response, 0.2: they keep it, so that the script still reproduces their rows
FIRST_RULE = dict(tax_debt_response=0.2)
for _name, _over in VARIANTS.items():
    _over.setdefault("_economy", dict(FIRST_RULE))
# the chapter's own setting (macrobook.recipes.six_sector.STABILISERS) is trained by the chapter's run on
# every seed, which adds its rows itself; "(design run)" rows are the same setting trained by this script
OUT = ROOT / "data" / "six_sector_tried.csv"
#: where money / nominal GDP and inflation came from, per row of OUT (where measured)
ANCHOR = ROOT / "data" / "six_sector_anchor.csv"
COLUMNS = ["variant", "seed", "passed", "total", "box_ends", "actions", "sold_out_pct", "inflation_pct",
           "money_drift", "fiscal_pp", "rate_pp", "price_gain"]


def run(variant: str, seed: int) -> dict:
    torch.set_num_threads(1)
    over = dict(VARIANTS[variant])
    envs, iterations, steps = over.pop("_schedule", (32, 1200, 1))   # economies, iterations, quarters per iteration
    economy = dict(num_households=8, num_firms=4, episode_len=40, **over.pop("_economy", {}))   # the economy's changes
    econ = SixSectorEconomy(SixSectorConfig(**economy), num_envs=envs, device="cpu")
    learner = make_learner("MADDPG", econ.specs, seed, envs, iterations * steps, **over)
    train(econ, learner, iterations=iterations, steps_per_iteration=steps, gradient_steps=1, seed=seed,
          sigma_final=0.02)
    if envs != 32:   # measured in the chapter's 32 economies
        econ = SixSectorEconomy(SixSectorConfig(**economy), num_envs=32, device="cpu")
    m = measure(econ, learner.policy(deterministic=True))
    append_anchor(variant, seed, nominal_anchor(econ, learner.policy(deterministic=True)))
    card = card_of(m, seed)
    v = {c["name"]: c["value"] for c in card["checks"]}
    ends = at_box_end(m["actions"])
    return {"variant": variant, "seed": seed, "passed": card["passed"], "total": card["total"],
            "box_ends": sum(ends.values()), "actions": len(ends), "sold_out_pct": 100 * v["sold_out_share"],
            "inflation_pct": v["mean_inflation"], "money_drift": v["money_drift"],
            "fiscal_pp": v["fiscal_output_response"], "rate_pp": v["rate_output_response"],
            "price_gain": v["price_foc"]}


def append_anchor(variant: str, seed: int, anchor: dict) -> None:
    """Add (or replace) the row of ``(variant, seed)`` in data/six_sector_anchor.csv: where money / nominal
    GDP and inflation came from (``macrobook.recipes.six_sector.nominal_anchor``), one column per measure."""
    import pandas as pd

    row = pd.DataFrame([{"variant": variant, "seed": seed, **anchor}])
    old = pd.read_csv(ANCHOR) if ANCHOR.exists() else row.iloc[:0]
    old = old[~((old.variant == variant) & (old.seed == seed))]
    pd.concat([old, row], ignore_index=True).to_csv(ANCHOR, index=False, float_format="%.6g")


def append(row: dict) -> None:
    OUT.parent.mkdir(exist_ok=True)
    with open(OUT, "a+", encoding="utf-8") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        f.seek(0)
        lines = [ln for ln in f.read().splitlines() if ln]
        if not lines:
            lines = [",".join(COLUMNS)]
        key = f'"{row["variant"]}",{row["seed"]},'
        lines = [ln for ln in lines if not ln.startswith(key)]
        cells = [f'"{row["variant"]}"'] + [f"{row[c]:.6g}" if isinstance(row[c], float) else str(row[c])
                                           for c in COLUMNS[1:]]
        lines.append(",".join(cells))
        f.seek(0)
        f.truncate()
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in VARIANTS or not sys.argv[2].isdigit():
        sys.exit(f"usage: python tools/six_sector_tried.py VARIANT SEED; VARIANT one of {list(VARIANTS)}")
    row = run(sys.argv[1], int(sys.argv[2]))
    append(row)
    print(row)
