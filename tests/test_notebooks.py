"""Every chapter notebook runs end to end with QUICK=True and shows no error or warning.

One parametrized test: a new notebook in notebooks/ is picked up without editing this file.
The executed copies land in _build/quick/notebooks, where `make test` then runs nbval on them
and builds the book from them (no notebook is executed a third time).
"""
import re
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
from build_book import ROOT, chapter_notebooks, execute, problems, stored_outputs  # noqa: E402

QUICK_LIMIT_S = 120  # each notebook's quick run must stay under 2 minutes on an ordinary laptop core
# 2,000,000 turns of a plain Python loop take about 0.1 s on an ordinary laptop core (CPython 3.11).
# CI sandboxes can be many times slower (importing torch alone took 80 s on one); the limit is
# scaled by this machine's measured slowness, capped so that it never stops meaning something.
REFERENCE_LOOP_S = 0.10
MAX_SLOWDOWN = 8.0


def _slowdown() -> float:
    best = float("inf")
    for _ in range(3):
        t0, s = time.perf_counter(), 0
        for i in range(2_000_000):
            s += i
        best = min(best, time.perf_counter() - t0)
    return min(MAX_SLOWDOWN, max(1.0, best / REFERENCE_LOOP_S))


@pytest.mark.notebook
@pytest.mark.parametrize("nb", chapter_notebooks(), ids=lambda p: p.stem)
def test_notebook_runs_quick(nb):
    slowdown = _slowdown()
    t0 = time.perf_counter()
    out = execute(nb, ROOT / "_build" / "quick" / "notebooks", quick=True)
    elapsed = time.perf_counter() - t0
    assert problems(out) == [], f"{nb.name} printed errors or warnings: {problems(out)}"
    limit = QUICK_LIMIT_S * slowdown
    print(f"{nb.name}: {elapsed:.0f} s with QUICK=True; limit {limit:.0f} s (machine slowdown x{slowdown:.1f})")
    assert elapsed < limit, f"{nb.name} took {elapsed:.0f} s with QUICK=True (limit {limit:.0f} s = {QUICK_LIMIT_S} s x slowdown {slowdown:.1f})"


def test_every_notebook_is_in_the_toc():
    toc = (ROOT / "_toc.yml").read_text()
    missing = [nb.name for nb in chapter_notebooks() if f"notebooks/{nb.stem}" not in toc]
    assert missing == [], f"notebooks not listed in _toc.yml: {missing}"


@pytest.mark.parametrize("nb", chapter_notebooks(), ids=lambda p: p.stem)
def test_notebook_conventions(nb):
    """Parameters cell first, QUICK/SEED/DEVICE knobs, committed without outputs (unless it opted in to
    stored full-run outputs), no secrets."""
    import json

    cells = json.loads(nb.read_text())["cells"]
    code = [c for c in cells if c["cell_type"] == "code"]
    assert code and "parameters" in code[0].get("metadata", {}).get("tags", []), "first code cell must be tagged 'parameters'"
    src = "".join(code[0]["source"])
    for knob in ("QUICK", "SEED", "DEVICE"):
        assert knob in src, f"parameters cell lacks {knob}"
    stored = stored_outputs(nb)
    if stored is None:
        assert all(not c.get("outputs") for c in code), "commit notebooks without outputs (the build executes them)"
    else:  # the explicit opt-in (build_book.store_outputs): a clean, complete run of the full setting
        assert stored.get("quick") is False, "stored outputs must come from the full setting (QUICK=False)"
        assert not any("injected-parameters" in c.get("metadata", {}).get("tags", []) for c in cells)
        assert all(c.get("execution_count") for c in code), "stored outputs must come from a complete run"
        assert problems(nb) == [], f"the stored outputs show errors or warnings: {problems(nb)}"
        pm_meta = json.loads(nb.read_text()).get("metadata", {}).get("papermill", {})
        leaked = sorted(k for k in ("input_path", "output_path", "environment_variables") if k in pm_meta)
        assert not leaked, f"stored outputs keep papermill's {leaked} (paths of the machine that ran them)"
    text = nb.read_text()
    assert not re.search(r"sk-[A-Za-z0-9]{20,}", text), "something that looks like an API key is in the notebook"
    assert sum(1 for c in cells if c["cell_type"] == "markdown" and "".join(c["source"]).lstrip().startswith("# ")) == 1
