"""Student versions of the real chapters: every solution gone, every exercise kept, no stray fence.

Chapter 2's solutions hold fenced Python inside a fenced {solution}: the case where a naive
fence matcher once leaked an answer into the student notebook (and MyST printed it outside the
dropdown in the book)."""
import json
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from make_student import FenceError, _blocks, strip_solution_blocks, strip_solutions  # noqa: E402

CHAPTERS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def _markdown(nb):
    return ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown"]


def _solution_bodies(text):
    """The body lines of each {solution} block, as MyST reads them."""
    lines = text.splitlines(keepends=True)
    return ["".join(lines[s + 1:e]) for s, e, info in _blocks(lines) if info.startswith("{solution}")]


@pytest.mark.parametrize("nb_path", CHAPTERS, ids=lambda p: p.stem)
def test_student_version_of_each_chapter(nb_path):
    nb = json.loads(nb_path.read_text())
    md = "\n".join(_markdown(nb))
    bodies = [b for cell in _markdown(nb) for b in _solution_bodies(cell)]
    out, removed = strip_solutions(nb)
    student = "\n".join(_markdown(out))
    assert removed == md.count("{solution}") == len(bodies)
    assert "{solution}" not in student
    assert student.count("{exercise}") == md.count("{exercise}")
    for body in bodies:   # no line of any solution's text survives (beyond blank lines and bare fences)
        for line in body.splitlines():
            line = line.strip()
            if len(line) > 25 and not re.fullmatch(r"[`:]+\w*", line):
                assert line not in student, f"{nb_path.name}: solution text leaked: {line!r}"
    for cell in _markdown(out):   # every fence in the student version still balances
        list(_blocks(cell.splitlines(keepends=True)))


def test_chapter2_nested_fences_and_the_old_bug():
    nb = json.loads((ROOT / "notebooks" / "02_multi_agent_rl.ipynb").read_text())
    cells = [c for c in _markdown(nb) if "{solution}" in c and "```python" in c]
    assert len(cells) >= 3, "Chapter 2 should have solutions with fenced code inside"
    for cell in cells:
        new, n = strip_solution_blocks(cell)
        assert n == 1 and "```python" not in new and "{exercise}" in new
        # the form the chapter once had: the solution fenced with as many backticks as its code
        broken = cell.replace("````", "```")
        with pytest.raises(FenceError, match="never closed"):
            strip_solution_blocks(broken)


def test_solution_inside_another_directive_is_removed():
    text = ("`````{admonition} Try it\n````{exercise}\n:label: x\nDo it.\n````\n\n"
            "````{solution} x\n```python\nanswer = 42\n```\nBecause.\n````\n`````\n")
    new, n = strip_solution_blocks(text)
    assert n == 1 and "answer = 42" not in new and "Because." not in new and "Do it." in new
