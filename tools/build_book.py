"""Execute the chapter notebooks and build the HTML book.

    python tools/build_book.py --full               # what `make book` runs: QUICK=False
    python tools/build_book.py --quick              # QUICK=True everywhere (minutes)
    python tools/build_book.py --quick --no-execute # build from copies `make test` already executed
    python tools/build_book.py --quick --only 02_multi_agent_rl   # one chapter, for authors

Every notebook is executed once by papermill into _build/<quick|full>/notebooks/; the book is
then built by Jupyter Book from a staged copy of the sources holding those executed notebooks,
with Jupyter Book's own execution switched off, so nothing runs twice. The HTML lands in
_build/html. Warnings are errors (-W -n --keep-going). Every executed notebook loses papermill's
record of this machine's paths; the build fails if a page loads anything from the network (MathJax
and the widget JavaScript are served by the book itself). After a ``--full`` build the claims in
book/claims.yml are checked against what the chapters computed and data/claims-full.json records
those values (tools/check_claims.py).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
NOTEBOOKS = ROOT / "notebooks"
CELL_TIMEOUT = 1800  # seconds; training cells in the full setting take minutes


def chapter_notebooks() -> list[Path]:
    return sorted(p for p in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


# A chapter whose full setting needs more than a CPU build can give (Chapter 6) may be committed
# WITH the outputs of its full run: the explicit opt-in is the notebook metadata
# {"macrobook": {"stored_outputs": {"quick": false, ...}}}, written only by store_outputs().
# `--full` then renders those stored outputs instead of executing the chapter; `--quick` and the
# papermill test still execute it from the committed source like every other chapter.
def stored_outputs(nb_path: Path) -> dict | None:
    """The record of the stored full run, or None for an ordinary (output-free) chapter."""
    meta = json.loads(Path(nb_path).read_text()).get("metadata", {}).get("macrobook", {})
    return meta.get("stored_outputs") or None


def store_outputs(executed: Path, dest: Path, seconds: float) -> None:
    """Write a notebook executed with QUICK=False back to ``dest`` with its outputs and the opt-in
    flag (papermill's injected-parameters cell dropped: the defaults are the full setting)."""
    nb = json.loads(Path(executed).read_text())
    nb["cells"] = [c for c in nb["cells"] if "injected-parameters" not in c.get("metadata", {}).get("tags", [])]
    _strip_machine_paths(nb)
    nb["metadata"].setdefault("macrobook", {})["stored_outputs"] = {
        "quick": False, "seconds": round(seconds, 1), "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "note": "executed in the full setting; `make book` renders these outputs instead of re-executing"}
    tmp = Path(dest).with_suffix(".tmp")
    tmp.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
    os.replace(tmp, dest)


PAPERMILL_MACHINE_KEYS = ("input_path", "output_path", "environment_variables")


def _strip_machine_paths(nb: dict) -> bool:
    """Drop papermill's record of where it ran (absolute paths of this machine) from a notebook."""
    pm_meta = nb.get("metadata", {}).get("papermill", {})
    found = [k for k in PAPERMILL_MACHINE_KEYS if k in pm_meta]
    for key in found:
        pm_meta.pop(key)
    return bool(found)


def strip_machine_paths(nb_path: Path) -> None:
    """Rewrite an executed notebook without papermill's paths: the book offers every executed chapter
    as a download, and a reader must not receive this machine's file layout."""
    nb = json.loads(Path(nb_path).read_text())
    if _strip_machine_paths(nb):
        Path(nb_path).write_text(json.dumps(nb, indent=1, ensure_ascii=False))


def execute(src: Path, out_dir: Path, quick: bool, extra_params: dict | None = None) -> Path:
    """Run one notebook with papermill (QUICK parameter set), in the notebooks/ folder."""
    import papermill as pm

    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / src.name
    params = {"QUICK": bool(quick)}
    params.update(extra_params or {})
    # the kernel inherits our environment: figures must render inline even if a test runner set Agg
    env_before = os.environ.get("MPLBACKEND")
    os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    # macrobook.widgets draws its sliders as precomputed client-side HTML (no kernel behind the page)
    os.environ["MACROBOOK_STATIC"] = "1"
    try:
        pm.execute_notebook(
            str(src), str(out), parameters=params, cwd=str(src.parent), kernel_name="python3",
            progress_bar=False, execution_timeout=CELL_TIMEOUT, log_output=False,
        )
    finally:
        if env_before is None:
            os.environ.pop("MPLBACKEND", None)
        else:
            os.environ["MPLBACKEND"] = env_before
        os.environ.pop("MACROBOOK_STATIC", None)
    strip_machine_paths(out)
    return out


def problems(nb_path: Path) -> list[str]:
    """Error outputs, tracebacks and warnings printed by any cell of an executed notebook."""
    nb = json.loads(nb_path.read_text())
    found = []
    for i, cell in enumerate(nb["cells"]):
        for o in cell.get("outputs", []):
            if o.get("output_type") == "error":
                found.append(f"cell {i}: {o.get('ename')}: {o.get('evalue')}")
            elif o.get("output_type") == "stream" and o.get("name") == "stderr":
                text = "".join(o.get("text", ""))
                if "Traceback" in text or "Warning" in text or "Error" in text:
                    found.append(f"cell {i}: stderr: {text.strip()[:300]}")
    return found


def _hide_injected_parameters(nb_path: Path) -> None:
    """Papermill adds a cell with the parameters it injected (``QUICK = False``): the reader already
    sees the chapter's own parameters cell, so the book hides the injected one (tag ``remove-cell``)."""
    nb = json.loads(nb_path.read_text())
    changed = False
    for cell in nb["cells"]:
        tags = cell.setdefault("metadata", {}).setdefault("tags", [])
        if "injected-parameters" in tags and "remove-cell" not in tags:
            tags.append("remove-cell")
            changed = True
    if changed:
        nb_path.write_text(json.dumps(nb, indent=1, ensure_ascii=False))


def stage(executed_dir: Path, stage_dir: Path, only: list[str] | None = None) -> Path:
    """Copy the book sources to ``stage_dir`` with the executed notebooks and execution off."""
    import yaml

    if stage_dir.exists():
        shutil.rmtree(stage_dir)
    stage_dir.mkdir(parents=True)
    shutil.copytree(ROOT / "book", stage_dir / "book")
    (stage_dir / "notebooks").mkdir()
    for nb in executed_dir.glob("*.ipynb"):
        shutil.copy2(nb, stage_dir / "notebooks" / nb.name)
        _hide_injected_parameters(stage_dir / "notebooks" / nb.name)
        strip_machine_paths(stage_dir / "notebooks" / nb.name)
    shutil.copytree(ROOT / "_static", stage_dir / "_static")   # macrobook.css: Jupyter Book adds it to every page
    for extra in ("figures",):
        if (NOTEBOOKS / extra).exists():
            shutil.copytree(NOTEBOOKS / extra, stage_dir / "notebooks" / extra)
    cfg = yaml.safe_load((ROOT / "_config.yml").read_text())
    cfg.setdefault("execute", {})["execute_notebooks"] = "off"
    (stage_dir / "_config.yml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())

    def entries(items):
        for c in items:
            yield c
            yield from entries(c.get("sections", []))

    if only:
        def keep(entries):
            kept = []
            for c in entries:
                if c["file"].startswith("notebooks/") and Path(c["file"]).stem not in only:
                    continue
                if "sections" in c:   # chapters sit as sections under their part openers
                    c["sections"] = keep(c["sections"])
                    if not c["sections"]:
                        del c["sections"]
                kept.append(c)
            return kept

        for part in toc.get("parts", []):
            part["chapters"] = keep(part["chapters"])
        toc["parts"] = [p for p in toc["parts"] if p["chapters"]]
    # every notebook the toc names must have been executed
    for part in toc.get("parts", []):
        for c in entries(part["chapters"]):
            f = c["file"]
            if f.startswith("notebooks/") and not (stage_dir / (f if f.endswith(".ipynb") else f + ".ipynb")).exists():
                raise SystemExit(f"{f} is in _toc.yml but was not executed (looked in {executed_dir})")
    (stage_dir / "_toc.yml").write_text(yaml.safe_dump(toc, sort_keys=False))
    return stage_dir


def build(stage_dir: Path) -> None:
    out = ROOT / "_build"
    shutil.rmtree(out / "html", ignore_errors=True)
    shutil.rmtree(stage_dir / "_build", ignore_errors=True)
    jb = Path(sys.executable).with_name("jupyter-book")
    cmd = [str(jb), "build", str(stage_dir), "-W", "-n", "--keep-going", "--all"]
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True)
    shutil.copytree(stage_dir / "_build" / "html", out / "html")
    for page in (out / "html").rglob("*.html"):
        _drop_duplicate_inline_scripts(page)
    renumber_exercises(out / "html")
    point_colab_at_copies(out / "html")
    if any("widgets/embed-amd.js" in p.read_text(errors="replace") for p in (out / "html").rglob("*.html")):
        from vendor_js import vendor   # pages with saved widget state: serve the widget manager ourselves
        vendor(out / "html" / "_static" / "widgets")
    remote = remote_assets(out / "html")
    if remote:
        raise SystemExit("pages load assets from the network (the book must work offline):\n  " + "\n  ".join(remote))
    print(f"HTML book: {out / 'html' / 'index.html'}")


def _drop_duplicate_inline_scripts(page: Path) -> None:
    """sphinx-thebe's set-up runs twice under Jupyter Book 1 and writes ``const THEBE_JS_URL = ...``
    into every page twice: the second copy is a SyntaxError in the reader's console. Keep the first
    of identical inline scripts."""
    text = page.read_text(errors="replace")
    seen, changed = set(), False

    def once(m):
        nonlocal changed
        if m.group(0) in seen:
            changed = True
            return ""
        seen.add(m.group(0))
        return m.group(0)

    new = re.sub(r"<script>const THEBE_JS_URL[^<]*</script>", once, text)
    if changed:
        page.write_text(new)


def point_colab_at_copies(html_dir: Path) -> int:
    """The Colab launch button opens the generated copy in colab/ (plain Markdown exercises, folded
    solutions: tools/make_colab.py), not the MyST source in notebooks/. Returns the links changed."""
    link = re.compile(r"(https://colab\.research\.google\.com/github/[^\"']+?/blob/[^\"'/]+/)notebooks/(\d\d_[\w-]+\.ipynb)")
    changed = 0
    for page in Path(html_dir).rglob("*.html"):
        text = page.read_text(errors="replace")
        new, n = link.subn(lambda m: m.group(1) + "colab/" + m.group(2), text)
        if n:
            page.write_text(new)
            changed += n
    return changed


def renumber_exercises(html_dir: Path) -> dict:
    """Number exercises per chapter (Exercise 2.3) instead of across the book (Exercise 7).

    sphinx-exercise counts exercises over the whole book; a chapter page ``notebooks/NN_*.html`` is
    Chapter NN, so its k-th exercise becomes ``NN.k``, on its own page and in every reference to it.
    Returns the map from the book-wide number to the chapter number."""
    caption = re.compile(r'(<span class="caption-number">)Exercise (\d+) (</span>)')
    mapping = {}
    for page in sorted((Path(html_dir) / "notebooks").glob("[0-9][0-9]_*.html")):
        chapter = int(page.name[:2])
        for k, m in enumerate(caption.finditer(page.read_text(errors="replace")), start=1):
            mapping[m.group(2)] = f"{chapter}.{k}"
    if not mapping:
        return mapping
    word = re.compile(r"\bExercise (\d+)\b")
    for page in Path(html_dir).rglob("*.html"):
        text = page.read_text(errors="replace")
        new = word.sub(lambda m: f"Exercise {mapping.get(m.group(1), m.group(1))}", text)
        if new != text:
            page.write_text(new)
    return mapping


# a script, stylesheet, image or frame fetched from another host when a page is read
_REMOTE = re.compile(r"""<(?:script|img|iframe)\b[^>]*\bsrc=["'](?:https?:)?//[^"']+|"""
                     r"""<link\b[^>]*\bhref=["'](?:https?:)?//[^"']+\.(?:css|js)\b[^"']*""", re.I)


def remote_assets(html_dir: Path) -> list[str]:
    """Every reference to an asset on another host in the built pages (links to read are fine)."""
    found = []
    for page in sorted(Path(html_dir).rglob("*.html")):
        for m in _REMOTE.finditer(page.read_text(errors="replace")):
            found.append(f"{page.relative_to(html_dir)}: {m.group(0)[:160]}")
    return found


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--quick", action="store_true", help="QUICK=True (tiny budgets, as in CI)")
    mode.add_argument("--full", action="store_true", help="the full setting (what the published book shows)")
    ap.add_argument("--no-execute", action="store_true", help="reuse notebooks already executed into _build/<mode>/notebooks")
    ap.add_argument("--only", nargs="*", help="chapter notebook stems to include (default: all)")
    args = ap.parse_args(argv)
    quick = args.quick
    executed_dir = ROOT / "_build" / ("quick" if quick else "full") / "notebooks"
    nbs = [p for p in chapter_notebooks() if not args.only or p.stem in args.only]
    if not args.no_execute:
        bad = {}
        for nb in nbs:
            t0 = time.perf_counter()
            if not quick and stored_outputs(nb):
                executed_dir.mkdir(parents=True, exist_ok=True)
                out = Path(shutil.copy2(nb, executed_dir / nb.name))
                print(f"{nb.name}: rendering the outputs stored from its full run {stored_outputs(nb)['date']}", flush=True)
                if problems(out):
                    bad[nb.name] = problems(out)
                continue
            out = execute(nb, executed_dir, quick)
            print(f"executed {nb.name} in {time.perf_counter() - t0:.1f} s", flush=True)
            if problems(out):
                bad[nb.name] = problems(out)
        if bad:
            for k, v in bad.items():
                print(f"{k}:\n  " + "\n  ".join(v), file=sys.stderr)
            return 1
    build(stage(executed_dir, ROOT / "_build" / "stage", args.only))
    if not quick:   # the pages' claims about the full setting, against what this build computed
        import check_claims
        return check_claims.main(["--executed", str(executed_dir), "--write-record"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
