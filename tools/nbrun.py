"""Run one or more chapter notebooks with papermill, QUICK=True by default, and report problems.

    python tools/nbrun.py notebooks/02_multi_agent_rl.ipynb [--full]
    python tools/nbrun.py notebooks/06_rbc_general_equilibrium.ipynb --full --store
        # a clean full run is written back into the source notebook with its outputs (see
        # build_book.store_outputs): only for chapters whose full run a build cannot afford
"""
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build_book import ROOT, execute, problems, store_outputs  # noqa: E402

if __name__ == "__main__":
    full = "--full" in sys.argv
    rc = 0
    for arg in [a for a in sys.argv[1:] if not a.startswith("--")]:
        t0 = time.perf_counter()
        out = execute(Path(arg).resolve(), ROOT / "_build" / ("full" if full else "quick") / "notebooks", not full)
        p = problems(out)
        print(f"{arg}: {time.perf_counter() - t0:.1f} s -> {out}" + ("" if not p else "\n  " + "\n  ".join(p)))
        rc |= bool(p)
        if "--store" in sys.argv and full and not p:
            store_outputs(out, Path(arg).resolve(), time.perf_counter() - t0)
            print(f"stored the outputs in {arg}")
    sys.exit(rc)
