"""Make student versions of the chapters: the same notebooks with every solution removed.

    python tools/make_student.py [--out _build/student]

Removes ``{solution}`` blocks from markdown cells and drops code cells tagged ``solution``;
keeps the exercises, the code and a note at the top. Outputs are cleared. Hand the files in
_build/student/ to students. The autograded versions of the chapters' exercises live in
assignments/ (``make assignments``; see the instructors page for what they check).

Fences are parsed as MyST parses them: a directive's body (``{solution}``, ``{exercise}``) is
Markdown and may hold fenced code, which must then be fenced with fewer backticks than the
directive (``````{solution}`` around ``````python``). A fence left open at the end of a cell
is an error here, because MyST would render everything after it as code (or, inside a solution,
outside its dropdown).
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FENCE = re.compile(r"^(?P<indent>[ ]{0,3})(?P<fence>`{3,}|:{3,})(?P<info>.*)$")


class FenceError(ValueError):
    """A markdown cell whose fences do not balance."""


def _blocks(lines: list[str], offset: int = 0):
    """Yield ``(start, end, info)`` for every fenced block, end inclusive, nested ones included.

    As markdown-it (MyST's parser) reads them: a block's content is literal up to the first line
    that closes it (the same character, at least as long, nothing after it), whatever fences it
    seems to hold; a directive's body (info ``{name}``) is then parsed again for nested blocks.
    So a ``````python`` block inside a ``````{solution}`` closes the solution early."""
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i].rstrip("\n"))
        if not m or (m.group("fence")[0] == "`" and "`" in m.group("info")):
            i += 1
            continue
        fence, info = m.group("fence"), m.group("info").strip()
        for j in range(i + 1, len(lines)):
            c = FENCE.match(lines[j].rstrip("\n"))
            if c and c.group("fence")[0] == fence[0] and len(c.group("fence")) >= len(fence) and not c.group("info").strip():
                break
        else:
            raise FenceError(f"line {offset + i + 1}: the fence {fence}{info} is never closed "
                             "(a fence inside a directive must be shorter than the directive's own)")
        yield offset + i, offset + j, info
        if info.startswith("{"):
            yield from _blocks(lines[i + 1:j], offset + i + 1)
        i = j + 1


def strip_solution_blocks(text: str) -> tuple[str, int]:
    """``text`` without its ``{solution}`` directives (their whole fenced block); the count removed."""
    lines = text.splitlines(keepends=True)
    drop = set()
    removed = 0
    for start, end, info in sorted(_blocks(lines)):
        if info.startswith("{solution}") and start not in drop:
            drop.update(range(start, end + 1))
            removed += 1
    kept = "".join(line for i, line in enumerate(lines) if i not in drop)
    return re.sub(r"\n{3,}", "\n\n", kept), removed


def strip_solutions(nb: dict) -> tuple[dict, int]:
    removed = 0
    cells = []
    for k, cell in enumerate(nb["cells"]):
        if "solution" in cell.get("metadata", {}).get("tags", []):
            removed += 1
            continue
        if cell["cell_type"] == "markdown":
            src = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            try:
                new, n = strip_solution_blocks(src)
            except FenceError as e:
                raise FenceError(f"cell {k}: {e}") from None
            removed += n
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
