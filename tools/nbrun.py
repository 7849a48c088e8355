"""Run one or more chapter notebooks with papermill, QUICK=True by default, and report problems.

    python tools/nbrun.py notebooks/02_multi_agent_rl.ipynb [--full]
"""
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build_book import ROOT, execute, problems  # noqa: E402

if __name__ == "__main__":
    full = "--full" in sys.argv
    rc = 0
    for arg in [a for a in sys.argv[1:] if not a.startswith("--")]:
        t0 = time.perf_counter()
        out = execute(Path(arg).resolve(), ROOT / "_build" / ("full" if full else "quick") / "notebooks", not full)
        p = problems(out)
        print(f"{arg}: {time.perf_counter() - t0:.1f} s -> {out}" + ("" if not p else "\n  " + "\n  ".join(p)))
        rc |= bool(p)
    sys.exit(rc)
