"""The instructor tooling: student versions lose their solutions and keep their exercises."""
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
from make_student import strip_solutions  # noqa: E402


def _nb(*cells):
    return {"cells": list(cells), "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def test_strip_solutions_removes_only_solutions():
    md = ("Intro\n\n```{exercise}\n:label: ex-a\nDo X.\n```\n\n"
          "````{solution} ex-a\n:class: dropdown\n```python\nprint(1)\n```\n````\n\nAfter.\n")
    nb = _nb({"cell_type": "markdown", "metadata": {}, "source": "# T"},
             {"cell_type": "markdown", "metadata": {}, "source": md},
             {"cell_type": "code", "metadata": {"tags": ["solution"]}, "source": "x = 1", "outputs": [], "execution_count": 1},
             {"cell_type": "code", "metadata": {}, "source": "y = 2", "outputs": [{"output_type": "stream", "name": "stdout", "text": "2"}], "execution_count": 2})
    out, k = strip_solutions(nb)
    text = json.dumps(out)
    assert k == 2
    assert "{exercise}" in text and "Do X." in text and "After." in text
    assert "{solution}" not in text and "print(1)" not in text and "x = 1" not in text
    assert all(c.get("outputs", []) == [] for c in out["cells"] if c["cell_type"] == "code")


def test_every_chapter_exercise_has_a_solution():
    root = Path(__file__).resolve().parents[1] / "notebooks"
    for nb in sorted(root.glob("[0-9][0-9]_*.ipynb")):
        text = "".join("".join(c["source"]) for c in json.loads(nb.read_text())["cells"] if c["cell_type"] == "markdown")
        n_ex, n_sol = text.count("{exercise}"), text.count("{solution}")
        assert n_ex >= 2, f"{nb.name} has {n_ex} exercises (want at least 2)"
        assert n_sol == n_ex, f"{nb.name}: {n_ex} exercises but {n_sol} solutions"


def test_stored_outputs_is_an_explicit_opt_in(tmp_path):
    """Only a notebook that store_outputs() wrote (the full run, injected parameters dropped) counts as
    stored; an ordinary notebook with stray outputs does not (Chapter 6's full CPU run)."""
    from build_book import store_outputs, stored_outputs

    cells = [{"cell_type": "code", "metadata": {"tags": ["parameters"]}, "source": "QUICK = False", "outputs": [],
              "execution_count": 1},
             {"cell_type": "code", "metadata": {"tags": ["injected-parameters"]}, "source": "QUICK = False",
              "outputs": [], "execution_count": 2},
             {"cell_type": "code", "metadata": {}, "source": "print(1)", "execution_count": 3,
              "outputs": [{"output_type": "stream", "name": "stdout", "text": "1\n"}]}]
    executed = tmp_path / "executed.ipynb"
    executed.write_text(json.dumps(_nb(*cells)))
    plain = tmp_path / "plain.ipynb"
    plain.write_text(json.dumps(_nb(*cells)))
    assert stored_outputs(plain) is None
    dest = tmp_path / "06_x.ipynb"
    store_outputs(executed, dest, seconds=12.3)
    meta = stored_outputs(dest)
    assert meta["quick"] is False and meta["seconds"] == 12.3
    out = json.loads(dest.read_text())
    assert [c["source"] for c in out["cells"]] == ["QUICK = False", "print(1)"]
    assert out["cells"][1]["outputs"][0]["text"] == "1\n"


def test_book_executes_two_notebooks_side_by_side(tmp_path):
    """`make book` runs chapters two at a time (each pins its own threads): the two executions overlap
    in time, every notebook comes back with its outputs, and a failing cell is reported by name."""
    from build_book import execute_all

    src = tmp_path / "src"
    src.mkdir()
    code = ("import time, json\nt0 = time.time()\ntime.sleep(4)\n"
            "print(json.dumps({'start': t0, 'end': time.time()}))")
    for name in ("a", "b"):
        nb = _nb({"cell_type": "code", "metadata": {"tags": ["parameters"]}, "source": "QUICK = False",
                  "outputs": [], "execution_count": None},
                 {"cell_type": "code", "metadata": {}, "source": code, "outputs": [], "execution_count": None})
        nb["metadata"] = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                          "language_info": {"name": "python"}}
        (src / f"{name}.ipynb").write_text(json.dumps(nb))
    out = tmp_path / "out"
    results = {name: found for name, _, found in execute_all(sorted(src.glob("*.ipynb")), out, True, jobs=2)}
    assert results == {"a.ipynb": [], "b.ipynb": []}
    spans = []
    for name in ("a", "b"):
        cell = json.loads((out / f"{name}.ipynb").read_text())["cells"][-1]
        spans.append(json.loads("".join(cell["outputs"][0]["text"])))
    first, second = sorted(spans, key=lambda s: s["start"])
    assert second["start"] < first["end"], "the two notebooks ran one after the other"


def test_rbc_relations_tried_names_its_variants_and_fits_like_the_chapter():
    """tools/rbc_relations_tried.py: an unknown variant is refused in one line naming the choices; its fit is
    the chapter's (slope of a least-squares line and r^2), with no fit where a variable does not vary."""
    import subprocess
    import sys

    import numpy as np

    root = Path(__file__).resolve().parents[1]
    r = subprocess.run([sys.executable, str(root / "tools" / "rbc_relations_tried.py"), "no such design"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode != 0 and "VARIANT must be one of" in r.stderr and "consumer gate 0.9" in r.stderr
    sys.path.insert(0, str(root / "tools"))
    try:
        from rbc_relations_tried import fit
    finally:
        sys.path.remove(str(root / "tools"))
    slope, r2 = fit([1.0, 2.0, 3.0, 4.0], [2.0, 1.0, 0.5, -1.0])
    assert np.isclose(slope, -0.95) and 0.9 < r2 < 1.0
    assert all(np.isnan(fit([1.0, 1.0], [0.0, 2.0])))


def test_rbc_relations_tried_rows_carry_each_seeds_slope_and_name_what_does_not_vary(tmp_path):
    """A row holds the pooled fits, each seed's own slopes (the spread a verdict needs) and the variables
    with no spread across firms; a file written before those columns existed is rewritten, not mixed."""
    import csv
    import sys

    import numpy as np

    root = Path(__file__).resolve().parents[1]
    sys.path.insert(0, str(root / "tools"))
    try:
        import rbc_relations_tried as rt
    finally:
        sys.path.remove(str(root / "tools"))
    firm = lambda price, sales, wage, hours: dict(price=price, sales=sales, wage=wage, hours=hours)  # noqa: E731
    points = {0: [firm(2500.0, 10.0, 10.0, 100.0), firm(2500.0, 20.0, 20.0, 300.0)],
              1: [firm(2500.0, 30.0, 10.0, 50.0), firm(2500.0, 10.0, 20.0, 30.0)]}
    row = rt.summarize("x", [0, 1], points, [20.0, 22.0], [5, 5], 1.0)
    assert row["constant"] == "price" and np.isnan(row["price_sales_slope"])
    assert row["wage_hours_slope_by_seed"] == "20 -2"                  # seed 0: +200/10; seed 1: -20/10
    assert row["price_sales_slope_by_seed"] == "nan nan" and row["mean_consumer_entropy"] == 21.0
    old = tmp_path / "t.csv"
    old.write_text("variant,seeds,price_sales_slope\nold,0 1 2,1.5\n")
    rt.append(old, row)
    got = list(csv.DictReader(old.open()))
    assert list(got[0]) == rt.FIELDS and got[0]["variant"] == "old" and got[0]["price_sales_slope"] == "1.5"
    assert got[0]["constant"] == "" and got[1]["variant"] == "x" and got[1]["wage_hours_slope_by_seed"] == "20 -2"
    rt.append(old, row)                                                # same header now: appended, kept
    assert [r["variant"] for r in csv.DictReader(old.open())] == ["old", "x", "x"]
