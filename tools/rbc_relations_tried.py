"""Chapter 6's cross-seed relations under designs the chapter does not use: train the open economy in the
chapter's full setting (900 iterations of 16 economies, 64 hidden units, the curricula) for each seed,
measure every firm as the chapter does (mean price and units sold to consumers, wage and hours, over two
evaluation episodes) and fit the paper's two relations (Curry et al. 2022, Fig. 7) over the firms of all
the seeds; adds one row per design and seed set to data/rbc_relations_tried.csv.

    python tools/rbc_relations_tried.py VARIANT [SEEDS...]      # VARIANT: one of VARIANTS; seeds default 0 1 2

About 100 s a seed on two cores in the chapter's setting; about 13 minutes a seed for "10x samples, 128
economies" and 18 for "10x samples, 10x iterations". Set ``MKL_CBWR=AUTO,STRICT MKL_DYNAMIC=FALSE
OMP_DYNAMIC=FALSE`` (the book build's floating-point environment; :func:`macrobook.train.reproducible_cpu` sets them) and two threads to
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
          "mean_price", "mean_consumer_entropy", "firm_start", "seconds",
          # added later (empty in older rows): each seed's own slopes, and the variables with no spread
          "price_sales_slope_by_seed", "wage_hours_slope_by_seed", "constant"]


def fit(x, y):
    x, y = np.asarray(x, float), np.asarray(y, float)
    if x.std() == 0 or y.std() == 0:
        return float("nan"), float("nan")
    return float(np.polyfit(x, y, 1)[0]), float(np.corrcoef(x, y)[0, 1] ** 2)


def summarize(variant: str, seeds, points: dict, ent, starts, seconds: float) -> dict:
    """One CSV row: the fits pooled over the firms of all seeds (the chapter's), each seed's own slopes
    (their spread), and the variables that do not vary across firms (a fit against them is nan).
    ``points``: {seed: [{"price", "sales", "wage", "hours"} per firm]}."""
    pooled = [p for s in seeds for p in points[s]]
    col = lambda ps, k: [p[k] for p in ps]  # noqa: E731
    ps = fit(col(pooled, "price"), col(pooled, "sales"))
    wh = fit(col(pooled, "wage"), col(pooled, "hours"))
    by_seed = {rel: " ".join(f"{fit(col(points[s], x), col(points[s], y))[0]:.4g}" for s in seeds)
               for rel, x, y in (("price_sales", "price", "sales"), ("wage_hours", "wage", "hours"))}
    return {"variant": variant, "seeds": " ".join(map(str, seeds)),
            "price_sales_slope": round(ps[0], 4), "price_sales_r2": round(ps[1], 4),
            "wage_hours_slope": round(wh[0], 4), "wage_hours_r2": round(wh[1], 4),
            "mean_price": round(float(np.mean(col(pooled, "price"))), 1),
            "mean_consumer_entropy": round(float(np.mean(ent)), 3), "firm_start": " ".join(map(str, starts)),
            "seconds": round(seconds, 1),
            "price_sales_slope_by_seed": by_seed["price_sales"], "wage_hours_slope_by_seed": by_seed["wage_hours"],
            "constant": " ".join(k for k in ("price", "sales", "wage", "hours") if np.std(col(pooled, k)) == 0)}


def main(argv):
    if not argv or argv[0] not in VARIANTS:
        sys.exit(f"rbc_relations_tried: VARIANT must be one of {sorted(VARIANTS)}")
    variant, seeds = argv[0], [int(s) for s in argv[1:]] or [0, 1, 2]
    reproducible_cpu(2)
    from macrobook.recipes.rbc import RBCTrainConfig, make_trainer, rollout_summary

    points, ent, starts, t0 = {}, [], [], time.perf_counter()
    for s in seeds:
        cfg = RBCTrainConfig(**{"iterations": 900, "num_envs": 16, "hidden": 64, **VARIANTS[variant]})
        tr = make_trainer(cfg, seed=s, device="cpu")
        tr.progress = False
        log = tr.train(cfg.iterations)
        ent.append(float(log["entropy/consumer"].dropna().iloc[-10:].mean()))
        starts.append(tr.curriculum.start("firm"))
        S = rollout_summary(tr, episodes=2, seed=1000 + s, num_envs=16)      # as the chapter's train_run
        points[s] = [{k: S[f"firm_{k}"][:, f].mean().item() for k in ("price", "sales", "wage", "hours")}
                     for f in range(S["firm_price"].shape[1])]
    row = summarize(variant, seeds, points, ent, starts, time.perf_counter() - t0)
    for k in row["constant"].split():
        print(f"every firm of every seed has the same mean {k}: no fit against it")
    print(row)
    append(OUT, row)


def append(path: Path, row: dict) -> None:
    """Add ``row`` to the CSV at ``path`` under a lock; a file written before a column was added is
    rewritten with the current header first (its rows keep their values, the new columns empty)."""
    with open(path, "a+", newline="") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        fh.seek(0)
        old = list(csv.DictReader(fh))
        fh.seek(0)
        header = next(csv.reader(fh), None)
        if header != FIELDS:
            fh.seek(0)
            fh.truncate()
            w = csv.DictWriter(fh, fieldnames=FIELDS)
            w.writeheader()
            w.writerows({k: r.get(k) or "" for k in FIELDS} for r in old)
        csv.DictWriter(fh, fieldnames=FIELDS).writerow(row)


if __name__ == "__main__":
    main(sys.argv[1:])
