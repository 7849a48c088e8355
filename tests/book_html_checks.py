"""The built book as a reader opens it: from disk, with no network, in a real browser.

Run after the book is built (``make test`` does, after its book build):

    python -m pytest tests/book_html_checks.py

The file name does not start with ``test_`` on purpose: the first pytest session of ``make test``
runs before the book exists. Every chapter page must load with nothing fetched from the network,
no script error, every formula typeset by the MathJax the book ships (no raw ``\\(`` left), every
image loaded, saved widgets rendered, and every scenario slider must change its figure, its text
and its value label when moved. Skipped only where no Chromium is installed (``make browser``
installs Debian's).
"""
import json
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import browser_check  # noqa: E402

HTML = ROOT / "_build" / "html"
CHAPTERS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))

needs_chromium = pytest.mark.skipif(browser_check.find_chromium() is None,
                                    reason="no chromium on PATH: `make browser` installs Debian's (needs root and apt)")


@pytest.fixture(scope="module")
def report():
    if not (HTML / "index.html").exists():
        pytest.fail("the book is not built: run `python tools/build_book.py --quick` first")
    return browser_check.check(HTML)


@needs_chromium
def test_every_chapter_page_works_offline(report):
    for nb in CHAPTERS:
        assert f"notebooks/{nb.stem}.html" in report, f"{nb.stem} has no page in the built book"
    bad = {page: res["failures"] for page, res in report.items() if res["failures"]}
    assert not bad, json.dumps(bad, indent=1)


@needs_chromium
def test_chapter_pages_typeset_their_maths_with_the_shipped_mathjax(report):
    for nb in CHAPTERS:
        res = report[f"notebooks/{nb.stem}.html"]
        assert res["math_spans"] > 0, f"{nb.stem}: no maths found on the page"
        assert res["mathjax_version"].startswith("3."), res.get("mathjax_version")
        assert res["typeset"] >= res["math_spans"] and not res["raw_tex"]


@needs_chromium
def test_each_scenario_slider_changes_what_it_shows(report):
    """A chapter whose notebook calls macrobook.widgets.scenario_slider shows a slider that works."""
    with_slider = [nb for nb in CHAPTERS if "scenario_slider(" in nb.read_text()]
    assert with_slider, "no chapter uses macrobook.widgets.scenario_slider"
    for nb in with_slider:
        sliders = report[f"notebooks/{nb.stem}.html"]["sliders"]
        if not sliders and json.loads(nb.read_text()).get("metadata", {}).get("macrobook", {}).get("stored_outputs"):
            continue   # outputs stored from a full run made before the slider existed (the page says so)
        assert sliders, f"{nb.stem}: the notebook draws a scenario slider but the page has none"
        for s in sliders:
            assert s["moves"], f"{nb.stem}: slider {s['id']} has no control"
            for mv in s["moves"]:
                assert mv["img_changed"] and mv["img_loaded"] and mv["text_changed"], (nb.stem, mv)
                assert mv["label_before"] != mv["label_after"], (nb.stem, mv)


@needs_chromium
def test_the_check_itself_fails_on_a_broken_page(tmp_path):
    """Raw TeX with no MathJax, a missing image, a script from a CDN and a dead slider are all caught."""
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "01_broken.html").write_text(
        '<html><head><script src="https://cdn.example.org/x.js"></script></head><body>'
        '<p><span class="math">\\(x^2\\)</span></p><img src="missing.png">'
        '<div class="mb-scenario-slider" id="s"><input type="range" class="mb-param" min="0" max="1" value="0">'
        '<output class="mb-value">a</output><img class="mb-frame" src="missing.png"><pre class="mb-text">t</pre></div>'
        '</body></html>')
    res = browser_check.check(tmp_path)["notebooks/01_broken.html"]
    text = " | ".join(res["failures"])
    for expected in ("raw TeX", "none typeset", "images not loaded", "did not change the figure", "label did not change"):
        assert expected in text, f"the check missed: {expected} ({text})"
    assert res["remote"] or res["failed"], "the CDN script was neither reported as fetched nor as failed"


def test_downloadable_notebooks_carry_no_machine_paths():
    sources = sorted((HTML / "_sources" / "notebooks").glob("*.ipynb"))
    assert len(sources) == len(CHAPTERS)
    for nb in sources:
        meta = json.loads(nb.read_text()).get("metadata", {}).get("papermill", {})
        assert not {"input_path", "output_path", "environment_variables"} & set(meta), nb.name
        assert not re.search(r'"(/work|/root|/home|/tmp)/', nb.read_text()), f"{nb.name} holds an absolute path"


def test_exercises_are_numbered_per_chapter():
    for nb in CHAPTERS:
        page = (HTML / "notebooks" / f"{nb.stem}.html").read_text()
        found = re.findall(r'<span class="caption-number">Exercise ([\d.]+) </span>', page)
        n = int(nb.stem[:2])
        assert found == [f"{n}.{k}" for k in range(1, len(found) + 1)], (nb.stem, found)
        source = "".join("".join(c["source"]) for c in json.loads(nb.read_text())["cells"])
        assert len(found) == source.count("{exercise}"), (nb.stem, found)
