"""The Colab copies in colab/ are what tools/make_colab.py makes of the current chapters, show no
MyST markup, fold every solution, and install a pinned macrobook."""
import json
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import make_colab  # noqa: E402

CHAPTERS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def test_colab_copies_are_current():
    assert make_colab.main(["--check"]) == 0, "run `python tools/make_colab.py` and commit colab/"


@pytest.mark.parametrize("nb", CHAPTERS, ids=lambda p: p.stem)
def test_colab_copy_is_plain_markdown(nb):
    copy = json.loads((ROOT / "colab" / nb.name).read_text())
    md = "\n".join("".join(c["source"]) for c in copy["cells"] if c["cell_type"] == "markdown")
    src = "\n".join("".join(c["source"]) for c in json.loads(nb.read_text())["cells"] if c["cell_type"] == "markdown")
    assert not re.search(r"\{(exercise|solution|cite|ref|doc|glue:text|admonition|note)\}", md), \
        re.findall(r".{30}\{(?:exercise|solution|cite|ref|doc|glue:text|admonition|note)\}.{30}", md)[:3]
    n_ex, n_sol = src.count("{exercise}"), src.count("{solution}")
    chapter = int(nb.name[:2])
    assert [f"{chapter}.{k}" for k in range(1, n_ex + 1)] == re.findall(r"\*\*Exercise (\d+\.\d+)\*\*", md)
    assert md.count("<details>") == md.count("</details>") == n_sol
    assert all(not c.get("outputs") for c in copy["cells"] if c["cell_type"] == "code")


def test_convert_folds_solutions_with_nested_code_and_cites_as_text():
    refs = {"curry2022": "Curry et al. 2022"}
    text = ("See {cite}`curry2022`.\n\n```{exercise}\n:label: x\nDo it.\n```\n\n"
            "````{solution} x\n:class: dropdown\n```python\nanswer = 42\n```\nBecause.\n````\n")
    out = make_colab.convert_markdown(text, 3, [0], refs)
    assert "(Curry et al. 2022)" in out and "**Exercise 3.1**" in out
    sol = out[out.index("<details>"):out.index("</details>")]
    assert "answer = 42" in sol and "Because." in sol and ":class:" not in out


@pytest.mark.parametrize("folder", ["colab", "notebooks"])
def test_install_cell_names_the_release(folder):
    """The Colab copies and the chapters themselves (the book offers them as downloads) install the
    released macrobook, the tag v<version>, never whatever the main branch holds."""
    version = re.search(r'__version__ = "([^"]+)"', (ROOT / "macrobook" / "version.py").read_text()).group(1)
    for nb in CHAPTERS:
        code = "\n".join("".join(c["source"]) for c in json.loads((ROOT / folder / nb.name).read_text())["cells"]
                         if c["cell_type"] == "code")
        installs = re.findall(r'%pip install[^\n]*', code)
        assert installs, f"{nb.name}: no install cell"
        for line in installs:
            assert f"@v{version}\"" in line, line
