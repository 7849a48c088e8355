"""Chapter 6's cross-seed relations under designs the chapter does not use: train the open economy in the
chapter's full setting (900 iterations of 16 economies, 64 hidden units, the curricula) for each seed,
measure every firm as the chapter does (mean price and units sold to consumers, wage and hours, over two
evaluation episodes) and fit the paper's two relations (Curry et al. 2022, Fig. 7) over the firms of all
the seeds; adds one row per design and seed set to data/rbc_relations_tried.csv.

    python tools/rbc_relations_tried.py VARIANT [SEEDS...]      # VARIANT: one of VARIANTS; seeds default 0 1 2

About 100 s a run on two cores in the chapter's setting (about 12 and 17 minutes for the two 10x variants). Set ``MKL_CBWR=AUTO,STRICT MKL_DYNAMIC=FALSE OMP_DYNAMIC=FALSE`` (the book
build's floating-point environment; :func:`macrobook.train.reproducible_cpu` sets them) and two threads to
match the chapter: the "chapter's setting" row then repeats the chapter's stored fit.
"""
import csv
import fcntl
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from macrobook.train import reproducible_cpu  # noqa: E402

#: name -> RBCTrainConfig fields replacing the chapter's
VARIANTS = {
    "chapter's setting": {},
    # firms start once the consumers' policy entropy is at most 90% of uniform play's, or at half the run
    "consumer gate 0.9": dict(consumer_gate=0.9, gate_deadline=0.5),
    # ten times the chapter's samples, in the authors' 128 economies per iteration (the curricula and the
    # entropy schedule are fractions of the run, so they stretch with it)
    "10x samples, 128 economies": dict(num_envs=128, iterations=1125),
    # ten times the chapter's samples and ten times its updates: 9,000 iterations of 16 economies
    "10x samples, 10x iterations": dict(iterations=9000),
}
OUT = ROOT / "data" / "rbc_relations_tried.csv"
FIELDS = ["variant", "seeds", "price_sales_slope", "price_sales_r2", "wage_hours_slope", "wage_hours_r2",
          "mean_price", "mean_consumer_entropy", "firm_start", "seconds"]


def fit(x, y):
    x, y = np.asarray(x, float), np.asarray(y, float)
    if x.std() == 0 or y.std() == 0:
        return float("nan"), float("nan")
    return float(np.polyfit(x, y, 1)[0]), float(np.corrcoef(x, y)[0, 1] ** 2)


def main(argv):
    if not argv or argv[0] not in VARIANTS:
        sys.exit(f"rbc_relations_tried: VARIANT must be one of {sorted(VARIANTS)}")
    variant, seeds = argv[0], [int(s) for s in argv[1:]] or [0, 1, 2]
    reproducible_cpu(2)
    from macrobook.recipes.rbc import RBCTrainConfig, make_trainer, rollout_summary

    points, ent, starts, t0 = [], [], [], time.perf_counter()
    for s in seeds:
        cfg = RBCTrainConfig(**{"iterations": 900, "num_envs": 16, "hidden": 64, **VARIANTS[variant]})
        tr = make_trainer(cfg, seed=s, device="cpu")
        tr.progress = False
        log = tr.train(cfg.iterations)
        ent.append(float(log["entropy/consumer"].dropna().iloc[-10:].mean()))
        starts.append(tr.curriculum.start("firm"))
        S = rollout_summary(tr, episodes=2, seed=1000 + s, num_envs=16)      # as the chapter's train_run
        for f in range(10):
            points.append({k: S[f"firm_{k}"][:, f].mean().item() for k in ("price", "sales", "wage", "hours")})
    for k in ("price", "sales", "wage", "hours"):
        if np.std([p[k] for p in points]) == 0:     # a fit over it is undefined (nan): say which
            print(f"every firm of every seed has the same mean {k}, {points[0][k]:g}: no fit against it")
    ps = fit([p["price"] for p in points], [p["sales"] for p in points])
    wh = fit([p["wage"] for p in points], [p["hours"] for p in points])
    row = {"variant": variant, "seeds": " ".join(map(str, seeds)),
           "price_sales_slope": round(ps[0], 4), "price_sales_r2": round(ps[1], 4),
           "wage_hours_slope": round(wh[0], 4), "wage_hours_r2": round(wh[1], 4),
           "mean_price": round(float(np.mean([p["price"] for p in points])), 1),
           "mean_consumer_entropy": round(float(np.mean(ent)), 3), "firm_start": " ".join(map(str, starts)),
           "seconds": round(time.perf_counter() - t0, 1)}
    print(row)
    with open(OUT, "a+", newline="") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        fh.seek(0)
        new = not fh.read(1)
        w = csv.DictWriter(fh, fieldnames=FIELDS)
        if new:
            w.writeheader()
        w.writerow(row)


if __name__ == "__main__":
    main(sys.argv[1:])
