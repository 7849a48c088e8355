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
# macrobook.train.REPRODUCIBLE_ENV, written out so the build needs no torch import
REPRODUCIBLE_ENV = {"MKL_CBWR": "AUTO,STRICT", "MKL_DYNAMIC": "FALSE", "OMP_DYNAMIC": "FALSE"}
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
    flag (papermill's injected-parameters cell dropped: the defaults are the full setting), and the
    digest of the code and settings that produced them (:func:`outputs_digest`)."""
    nb = json.loads(Path(executed).read_text())
    nb["cells"] = [c for c in nb["cells"] if "injected-parameters" not in c.get("metadata", {}).get("tags", [])]
    _strip_machine_paths(nb)
    digest = outputs_digest(nb)
    record = {
        "quick": False, "seconds": round(seconds, 1), "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "note": "executed in the full setting; `make book` renders these outputs instead of re-executing",
        "digest": digest["digest"], "digest_files": digest["files"], "digest_cells": outputs_digest_cells(nb)}
    nb["metadata"].setdefault("macrobook", {})["stored_outputs"] = record
    tmp = Path(dest).with_suffix(".tmp")
    tmp.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
    os.replace(tmp, dest)


# ------------------------------------------------------------------ the digest of stored outputs
# Stored outputs are only as good as their match with the code: the digest covers what can change
# them (the notebook's code cells, parameters included, and every macrobook module those cells
# import, followed transitively through the package's own imports) and nothing else, so an edit
# elsewhere in the library does not flag a chapter. Markdown cells are rendered from the source
# as it stands, so prose edits do not flag it either. version.py (a version string) is left out:
# a release does not change a number.
DIGEST_EXCLUDE = {"macrobook/version.py"}


def _code_cells_source(nb: dict) -> list[str]:
    return ["".join(c["source"]) if isinstance(c["source"], list) else c["source"]
            for c in nb["cells"] if c["cell_type"] == "code"
            and "injected-parameters" not in c.get("metadata", {}).get("tags", [])]


def _digested_text(src: str) -> bytes:
    """A code cell as the digest reads it: line endings normalised and package installs (``%pip``,
    ``!pip``: the Colab cell naming a release) left out, since they do not run in the build."""
    lines = [l for l in src.replace("\r\n", "\n").split("\n") if not l.lstrip().startswith(("%pip", "!pip"))]
    return "\n".join(lines).encode()


def _worktree_reader(rel: str) -> str | None:
    f = ROOT / rel
    return f.read_text() if f.is_file() else None


def git_reader(commit: str):
    """A reader of the repository's files as they were at ``commit`` (for recording the digest of
    outputs stored before digests existed: the code of the commit that stored them)."""
    def read(rel: str) -> str | None:
        r = subprocess.run(["git", "show", f"{commit}:{rel}"], cwd=ROOT, capture_output=True, text=True)
        return r.stdout if r.returncode == 0 else None
    return read


def _module_file(name: str, read=_worktree_reader) -> str | None:
    """macrobook.a.b -> "macrobook/a/b.py" or "macrobook/a/b/__init__.py" (None if neither exists)."""
    base = "/".join(name.split("."))
    for cand in (base + ".py", base + "/__init__.py"):
        if read(cand) is not None:
            return cand
    return None


def _imports(source: str, module: str | None = None, is_package: bool = False, read=_worktree_reader) -> set[str]:
    """Names of the macrobook modules a piece of source imports (relative imports resolved from
    ``module``; ``from pkg import name`` counts ``pkg.name`` when that is a module, else ``pkg``)."""
    import ast

    try:
        tree = ast.parse(source)
    except SyntaxError:   # IPython magics in a notebook cell: read them as ``pass``
        tree = ast.parse("\n".join(l[:len(l) - len(l.lstrip())] + "pass" if l.lstrip().startswith(("%", "!")) else l
                                   for l in source.splitlines()))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = (module or "").split(".")
                pkg = parts if is_package else parts[:-1]
                pkg = pkg[:len(pkg) - (node.level - 1)]
                base = ".".join(pkg + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            if not (base == "macrobook" or base.startswith("macrobook.")):
                continue
            for a in node.names:   # a submodule, or a name the package itself defines
                found.add(f"{base}.{a.name}" if _module_file(f"{base}.{a.name}", read) else base)
    return {n for n in found if n == "macrobook" or n.startswith("macrobook.")}


def digest_scope(nb: dict, read=_worktree_reader) -> list[str]:
    """Repository paths of the macrobook modules the notebook's code imports, transitively.

    A package's ``__init__`` on the way to a module is counted itself, but what it imports is followed
    only when code imports a name from the package itself: ``envs/__init__`` re-exports every economy,
    and an edit to Chapter 4's economy must not flag Chapter 6, which imports ``envs.rbc``."""
    todo = set()
    for src in _code_cells_source(nb):
        todo |= _imports(src, read=read)
    seen: dict[str, str] = {}
    parents: set[str] = set()
    while todo:
        name = todo.pop()
        parts = name.split(".")
        parents |= {".".join(parts[:i]) for i in range(1, len(parts))}
        if name in seen:
            continue
        f = _module_file(name, read)
        if f is None:
            continue
        seen[name] = f
        todo |= {m for m in _imports(read(f), name, f.endswith("__init__.py"), read) if m not in seen}
    files = set(seen.values()) | {f for f in (_module_file(p, read) for p in parents - set(seen)) if f}
    return sorted(files - DIGEST_EXCLUDE)


def outputs_digest(nb: dict | Path, read=_worktree_reader) -> dict:
    """``{"digest": sha256 hex, "files": {path: sha256 hex[:16]}}`` of the notebook's code cells and of
    the macrobook files they import (:func:`digest_scope`), line endings normalised; ``read`` gives a
    file's text (default: the working tree; :func:`git_reader` for a past commit)."""
    import hashlib

    if not isinstance(nb, dict):
        nb = json.loads(Path(nb).read_text())
    h = hashlib.sha256()
    for src in _code_cells_source(nb):
        h.update(b"cell\0" + _digested_text(src) + b"\0")
    files = {}
    for rel in digest_scope(nb, read):
        text = read(rel).replace("\r\n", "\n").encode()
        files[rel] = hashlib.sha256(text).hexdigest()[:16]
        h.update(b"file\0" + rel.encode() + b"\0" + text + b"\0")
    return {"digest": h.hexdigest(), "files": files}


def stale_reason(nb_path: Path, read=_worktree_reader) -> str | None:
    """Why a notebook's stored outputs may not match the code it would run now (None: they match).
    Only meaningful for a notebook with stored outputs."""
    nb = json.loads(Path(nb_path).read_text())
    rec = nb.get("metadata", {}).get("macrobook", {}).get("stored_outputs") or {}
    if not rec.get("digest"):
        return "no digest of the code that produced them was recorded"
    now = outputs_digest(nb, read)
    if now["digest"] == rec["digest"]:
        return None
    old = rec.get("digest_files") or {}
    changed = sorted(f for f in set(now["files"]) | set(old) if now["files"].get(f) != old.get(f))
    cells = "the chapter's code cells changed" if outputs_digest_cells(nb) != rec.get("digest_cells") else ""
    parts = [x for x in (cells, ("library files changed: " + ", ".join(changed)) if changed else "") if x]
    return "the code changed since they were stored (" + ("; ".join(parts) or "digest differs") + ")"


def outputs_digest_cells(nb: dict) -> str:
    """The digest of the notebook's code cells alone (parameters included)."""
    import hashlib

    h = hashlib.sha256()
    for src in _code_cells_source(nb):
        h.update(b"cell\0" + _digested_text(src) + b"\0")
    return h.hexdigest()


def record_digest(nb_path: Path, commit: str | None = None) -> dict:
    """Write the digest into a notebook's stored-outputs record: of the code at ``commit`` (the commit
    that stored outputs from before digests existed; its code cells are the notebook's at that commit)
    or of the working tree. Returns the record."""
    nb_path = Path(nb_path)
    nb = json.loads(nb_path.read_text())
    rec = nb["metadata"]["macrobook"]["stored_outputs"]
    if commit:
        read = git_reader(commit)
        then = json.loads(read(nb_path.resolve().relative_to(ROOT).as_posix()))
        d = outputs_digest(then, read)
        rec.update(digest=d["digest"], digest_files=d["files"], digest_cells=outputs_digest_cells(then),
                   digest_commit=commit)
    else:
        d = outputs_digest(nb)
        rec.update(digest=d["digest"], digest_files=d["files"], digest_cells=outputs_digest_cells(nb))
    nb_path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
    return rec


STALE_CELL_MARK = "macrobook-stale-outputs"


def flag_stale(executed: Path, reason: str, date: str) -> None:
    """Put a warning admonition at the top of an executed copy whose stored outputs are stale."""
    nb = json.loads(Path(executed).read_text())
    text = (":::{warning}\n"
            f"The outputs on this page were stored from a full run on {date}, and {reason}. "
            "The numbers and figures below may not be what the current code computes; rerun "
            "`python tools/nbrun.py <this notebook> --full --store` to refresh them.\n:::\n")
    cell = {"cell_type": "markdown", "id": STALE_CELL_MARK, "metadata": {"tags": [STALE_CELL_MARK]}, "source": text}
    cells = [c for c in nb["cells"] if STALE_CELL_MARK not in c.get("metadata", {}).get("tags", [])]
    first_title = next((i for i, c in enumerate(cells) if c["cell_type"] == "markdown"
                        and "".join(c["source"]).lstrip().startswith("# ")), -1)
    cells.insert(first_title + 1, cell)
    nb["cells"] = cells
    Path(executed).write_text(json.dumps(nb, indent=1, ensure_ascii=False))


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
    # bit-reproducible CPU runs from the kernel's start (macrobook.train.REPRODUCIBLE_ENV; a chapter that
    # trains also calls reproducible_cpu(), for readers who run it elsewhere)
    repro_before = {k: os.environ.get(k) for k in REPRODUCIBLE_ENV}
    os.environ.update(REPRODUCIBLE_ENV)
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
        for k, v in repro_before.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    strip_machine_paths(out)
    return out


def _execute_timed(src: Path, out_dir: Path, quick: bool) -> tuple[str, float, list[str]]:
    t0 = time.perf_counter()
    out = execute(src, out_dir, quick)
    return src.name, time.perf_counter() - t0, problems(out)


def execute_all(nbs: list[Path], out_dir: Path, quick: bool, jobs: int = 1):
    """Execute ``nbs`` with ``jobs`` notebooks side by side; yields (name, seconds, problems) as each
    finishes. Each chapter pins its own thread count (one thread, or Chapter 6's ``THREADS``) and its
    own seeds, so running two at once on two cores changes the wall time and no number."""
    if jobs <= 1 or len(nbs) <= 1:
        for nb in nbs:
            yield _execute_timed(nb, out_dir, quick)
        return
    from concurrent.futures import ProcessPoolExecutor, as_completed

    with ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(_execute_timed, nb, out_dir, quick) for nb in nbs]
        for f in as_completed(futures):
            yield f.result()


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


def render_stored(nb: Path, executed_dir: Path, strict: bool = False, read=_worktree_reader) -> list[str]:
    """Copy a chapter with stored outputs into ``executed_dir`` for rendering. Outputs whose digest no
    longer matches the code get a warning line in this log and a warning admonition at the top of
    the page (``strict``: refused instead). Returns the problems found (empty: fine)."""
    executed_dir.mkdir(parents=True, exist_ok=True)
    out = Path(shutil.copy2(nb, executed_dir / nb.name))
    date = stored_outputs(nb)["date"]
    print(f"{nb.name}: rendering the outputs stored from its full run {date}", flush=True)
    reason = stale_reason(nb, read)
    if reason:
        print(f"WARNING: {nb.name}: stored outputs may be stale: {reason}", flush=True)
        if strict:
            out.unlink()
            return [f"stored outputs may be stale: {reason} (refused: --strict-stored)"]
        flag_stale(out, reason, date)
    return problems(out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--quick", action="store_true", help="QUICK=True (tiny budgets, as in CI)")
    mode.add_argument("--full", action="store_true", help="the full setting (what the published book shows)")
    ap.add_argument("--no-execute", action="store_true", help="reuse notebooks already executed into _build/<mode>/notebooks")
    ap.add_argument("--only", nargs="*", help="chapter notebook stems to include (default: all)")
    ap.add_argument("--strict-stored", action="store_true",
                    help="refuse stored outputs whose digest no longer matches the code (default: build them "
                         "with a warning on the page and in this log)")
    ap.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1),
                    help="notebooks executed side by side (default: 2, or 1 on a one-core machine); every "
                         "chapter pins its own thread count, so this changes the wall time, not a number")
    args = ap.parse_args(argv)
    if args.jobs < 1:
        ap.error(f"--jobs must be a whole number >= 1, got {args.jobs}")
    quick = args.quick
    executed_dir = ROOT / "_build" / ("quick" if quick else "full") / "notebooks"
    nbs = [p for p in chapter_notebooks() if not args.only or p.stem in args.only]
    if not args.no_execute:
        bad = {}
        to_run = []
        for nb in nbs:
            if not quick and stored_outputs(nb):
                found = render_stored(nb, executed_dir, strict=args.strict_stored)
                if found:
                    bad[nb.name] = found
            else:
                to_run.append(nb)
        for name, seconds, found in execute_all(to_run, executed_dir, quick, args.jobs):
            print(f"executed {name} in {seconds:.1f} s", flush=True)
            if found:
                bad[name] = found
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
