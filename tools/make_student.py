"""Make student versions of the chapters: the same notebooks with every solution removed.

    python tools/make_student.py [--out _build/student]

Removes ``{solution}`` blocks from markdown cells and drops code cells tagged ``solution``;
keeps the exercises, the code and a note at the top. Outputs are cleared. Hand the files in
_build/student/ to students; grade their submissions with ``tools/grade.py``.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# a MyST solution directive fenced by 3 or more backticks or colons, up to its matching fence
SOLUTION = re.compile(r"^(?P<f>`{3,}|:{3,})\{solution\}[^\n]*\n.*?^(?P=f)[ \t]*$\n?", re.S | re.M)


def strip_solutions(nb: dict) -> tuple[dict, int]:
    removed = 0
    cells = []
    for cell in nb["cells"]:
        if "solution" in cell.get("metadata", {}).get("tags", []):
            removed += 1
            continue
        if cell["cell_type"] == "markdown":
            src = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            new, k = SOLUTION.subn("", src)
            removed += k
            cell = dict(cell, source=new)
        if cell["cell_type"] == "code":
            cell = dict(cell, outputs=[], execution_count=None)
        cells.append(cell)
    note = {"cell_type": "markdown", "metadata": {}, "source":
            "> **Student version.** Solutions have been removed; the exercises are yours to solve."}
    out = dict(nb, cells=cells[:1] + [note] + cells[1:])
    return out, removed


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=str(ROOT / "_build" / "student"))
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for src in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        nb, k = strip_solutions(json.loads(src.read_text()))
        (out / src.name).write_text(json.dumps(nb, indent=1) + "\n")
        print(f"{src.name}: removed {k} solution(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
