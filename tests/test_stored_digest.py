"""Stored chapter outputs carry the digest of the code that produced them, and a build flags (or,
with --strict-stored, refuses) stored outputs whose digest no longer matches (tools/build_book.py)."""
import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
import build_book as bb  # noqa: E402

# a small fake package: the chapter imports a (which imports b); c is unrelated; the package's
# __init__ re-exports c, as envs/__init__ re-exports every economy
TREE = {
    "macrobook/__init__.py": "from .config import Config\n",
    "macrobook/config.py": "class Config: pass\n",
    "macrobook/envs/__init__.py": "from .c import C\nfrom .a import A\n",
    "macrobook/envs/a.py": "from ..config import Config\nfrom .b import helper\nA = 1\n",
    "macrobook/envs/b.py": "def helper():\n    return 2\n",
    "macrobook/envs/c.py": "C = 3\n",
}


def _nb(*code):
    cells = [{"cell_type": "markdown", "metadata": {}, "source": "# Title"}]
    cells += [{"cell_type": "code", "metadata": {}, "source": src, "outputs": [], "execution_count": i + 1}
              for i, src in enumerate(code)]
    return {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def reader(tree):
    return lambda rel: tree.get(rel)


NB = _nb("%matplotlib inline\nif True:\n    %pip install x\nfrom macrobook.envs.a import A\nprint(A)")


def test_scope_follows_imports_but_not_package_reexports():
    files = bb.digest_scope(NB, reader(TREE))
    assert files == ["macrobook/__init__.py", "macrobook/config.py", "macrobook/envs/__init__.py",
                     "macrobook/envs/a.py", "macrobook/envs/b.py"]
    # importing a name from the package itself follows the package's imports
    assert "macrobook/envs/c.py" in bb.digest_scope(_nb("from macrobook.envs import C"), reader(TREE))


def test_digest_changes_with_the_code_in_scope_only():
    d0 = bb.outputs_digest(NB, reader(TREE))
    assert bb.outputs_digest(NB, reader({**TREE, "macrobook/envs/c.py": "C = 4\n"}))["digest"] == d0["digest"]
    assert bb.outputs_digest(NB, reader({**TREE, "macrobook/envs/b.py": "def helper():\n    return 3\n"}))["digest"] != d0["digest"]
    edited = _nb(NB["cells"][1]["source"].replace("print(A)", "print(A + 1)"))
    assert bb.outputs_digest(edited, reader(TREE))["digest"] != d0["digest"]
    release = _nb(NB["cells"][1]["source"].replace("%pip install x", "%pip install x==0.2"))
    assert bb.outputs_digest(release, reader(TREE))["digest"] == d0["digest"]   # an install line runs no code here
    prose = json.loads(json.dumps(NB))
    prose["cells"][0]["source"] = "# Another title"
    assert bb.outputs_digest(prose, reader(TREE))["digest"] == d0["digest"]


def _stored(tmp_path, tree):
    nb = json.loads(json.dumps(NB))
    d = bb.outputs_digest(nb, reader(tree))
    nb["metadata"]["macrobook"] = {"stored_outputs": {"quick": False, "seconds": 1.0, "date": "2026-01-01 00:00 UTC",
                                                      "digest": d["digest"], "digest_files": d["files"],
                                                      "digest_cells": bb.outputs_digest_cells(nb)}}
    p = tmp_path / "06_x.ipynb"
    p.write_text(json.dumps(nb))
    return p


def test_stale_reason_names_the_changed_file(tmp_path):
    p = _stored(tmp_path, TREE)
    assert bb.stale_reason(p, reader(TREE)) is None
    assert bb.stale_reason(p, reader({**TREE, "macrobook/envs/c.py": "C = 9\n"})) is None
    why = bb.stale_reason(p, reader({**TREE, "macrobook/envs/b.py": "def helper():\n    return 0\n"}))
    assert "macrobook/envs/b.py" in why and "code cells" not in why
    nb = json.loads(p.read_text())
    del nb["metadata"]["macrobook"]["stored_outputs"]["digest"]
    p.write_text(json.dumps(nb))
    assert "no digest" in bb.stale_reason(p, reader(TREE))


def test_build_flags_stale_outputs_on_the_page_and_in_the_log(tmp_path, capsys):
    p = _stored(tmp_path, TREE)
    changed = {**TREE, "macrobook/envs/a.py": TREE["macrobook/envs/a.py"] + "A = 2\n"}
    out_dir = tmp_path / "executed"
    assert bb.render_stored(p, out_dir, read=reader(changed)) == []
    log = capsys.readouterr().out
    assert "WARNING: 06_x.ipynb: stored outputs may be stale" in log and "macrobook/envs/a.py" in log
    page = json.loads((out_dir / "06_x.ipynb").read_text())
    warn = [c for c in page["cells"] if bb.STALE_CELL_MARK in c["metadata"].get("tags", [])]
    assert len(warn) == 1 and warn[0]["source"].startswith(":::{warning}") and "macrobook/envs/a.py" in warn[0]["source"]
    assert page["cells"][0]["source"] == "# Title" and page["cells"][1] is not None
    # the source notebook is untouched, and --strict-stored refuses
    assert not any(bb.STALE_CELL_MARK in c["metadata"].get("tags", []) for c in json.loads(p.read_text())["cells"])
    found = bb.render_stored(p, tmp_path / "strict", strict=True, read=reader(changed))
    assert found and "refused" in found[0] and not (tmp_path / "strict" / "06_x.ipynb").exists()


def test_build_renders_matching_outputs_without_a_warning(tmp_path, capsys):
    p = _stored(tmp_path, TREE)
    assert bb.render_stored(p, tmp_path / "ok", strict=True, read=reader(TREE)) == []
    assert "WARNING" not in capsys.readouterr().out
    page = json.loads((tmp_path / "ok" / "06_x.ipynb").read_text())
    assert not any(bb.STALE_CELL_MARK in c["metadata"].get("tags", []) for c in page["cells"])


@pytest.mark.parametrize("nb", [p for p in bb.chapter_notebooks() if bb.stored_outputs(p)], ids=lambda p: p.stem)
def test_every_stored_chapter_records_a_digest(nb):
    """A chapter with stored outputs names the code that produced them (the build compares it)."""
    rec = bb.stored_outputs(nb)
    assert rec.get("digest") and rec.get("digest_files") and rec.get("digest_cells")
    assert all(f.startswith("macrobook/") for f in rec["digest_files"])


def test_real_chapter_scope_is_narrow():
    """Chapter 6's scope holds its economy, recipe and learner, and no other chapter's economy."""
    nb = json.loads((bb.NOTEBOOKS / "06_rbc_general_equilibrium.ipynb").read_text())
    files = bb.digest_scope(nb)
    for f in ("macrobook/envs/rbc.py", "macrobook/recipes/rbc.py", "macrobook/algos/ppo.py", "macrobook/train.py"):
        assert f in files
    for f in ("macrobook/envs/monetary.py", "macrobook/envs/six_sector.py", "macrobook/recipes/monetary.py"):
        assert f not in files


def test_store_outputs_records_a_matching_digest(tmp_path):
    """What store_outputs() writes matches the code as it stands (the build then shows no warning)."""
    nb = _nb("from macrobook.envs.rbc import RBCConfig\nprint(RBCConfig().num_firms)")
    nb["cells"][1]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "10\n"}]
    executed = tmp_path / "executed.ipynb"
    executed.write_text(json.dumps(nb))
    dest = tmp_path / "06_x.ipynb"
    bb.store_outputs(executed, dest, seconds=1.0)
    rec = bb.stored_outputs(dest)
    assert "macrobook/envs/rbc.py" in rec["digest_files"] and bb.stale_reason(dest) is None
