"""Every chapter's otter-grader assignment builds, and grading tells a right answer from a wrong one.

For each master in assignments/: ``otter assign`` writes the student notebook and the autograder zip;
``otter run`` (local, no Docker, no network) grades the solutions notebook, which must score full
points, and a submission with one question answered wrongly (the master's metadata says which and
how), which must not. The student notebook must not contain the solutions.
"""
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import make_assignments as ma  # noqa: E402

CHAPTERS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def test_every_chapter_has_an_assignment_with_three_questions_and_hidden_tests():
    stems = {m.stem.split("_", 1)[1] for m in ma.masters()}
    assert stems == {c.stem.split("_", 1)[1] for c in CHAPTERS}
    for m in ma.masters():
        cells = json.loads(m.read_text())["cells"]
        raw = ["".join(c["source"]) for c in cells if c["cell_type"] == "raw"]
        code = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
        assert sum(r.startswith("# BEGIN QUESTION") for r in raw) >= 3, m.name
        assert any(c.startswith("# HIDDEN") for c in code), f"{m.name} has no hidden test"
        assert json.loads(m.read_text())["metadata"]["macrobook"]["incorrect"]["question"]


@pytest.mark.notebook
@pytest.mark.parametrize("master", ma.masters(), ids=lambda p: p.stem)
def test_grading_tells_right_from_wrong(master, tmp_path):
    out = ma.assign(master, tmp_path)
    student = json.loads((out / "student" / master.name).read_text())
    solution = json.loads((out / "autograder" / master.name).read_text())
    answers = ["".join(c["source"]) for c in solution["cells"] if "".join(c["source"]).startswith("# question ")]
    handed_out = "\n".join("".join(c["source"]) for c in student["cells"])
    assert len(answers) >= 3
    for a in answers:
        body = [line for line in a.splitlines()[1:] if line.strip() and "SOLUTION" not in line]
        assert not any(line in handed_out for line in body if len(line) > 20), f"{master.name}: a solution is in the student notebook"
    zip_path = ma.autograder_zip(out)
    right = ma.grade(zip_path, ma.correct_submission(master, out))
    wrong = ma.grade(zip_path, ma.incorrect_submission(master, out))
    got, best = sum(s for s, _ in right.values()), sum(p for _, p in right.values())
    assert best >= 3 and got == best, f"{master.name}: the solutions scored {right}"
    q = json.loads(master.read_text())["metadata"]["macrobook"]["incorrect"]["question"]
    assert wrong[q][0] < wrong[q][1], f"{master.name}: the wrong answer to {q} scored {wrong[q]}"
    assert sum(s for s, _ in wrong.values()) < best


def test_the_instructors_page_lists_every_question_with_its_points():
    import re

    page = (ROOT / "book" / "instructors.md").read_text()
    table = [line for line in page.splitlines() if line.startswith("| ")]
    listed, current = set(), None
    for row in table:
        cols = [c.strip() for c in row.strip("|").split("|")]
        if cols[0].startswith("`"):
            current = cols[0].strip("`")
        m = re.match(r"(q\d+) \((\d+)\)", cols[1]) if len(cols) > 1 else None
        if m and current:
            listed.add((current, m.group(1), int(m.group(2))))
    actual = set()
    for m in ma.masters():
        for c in json.loads(m.read_text())["cells"]:
            src = "".join(c["source"])
            if c["cell_type"] == "raw" and src.startswith("# BEGIN QUESTION"):
                q = re.search(r"name: (\w+)", src).group(1)
                pts = int(re.search(r"points: (\d+)", src).group(1))
                actual.add((m.stem, q, pts))
    assert listed == actual, (sorted(listed ^ actual))
