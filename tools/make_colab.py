"""Colab copies of the chapters: the same notebooks with their MyST markup turned into plain Markdown.

    python tools/make_colab.py            # writes colab/NN_*.ipynb (committed; the launch button opens them)
    python tools/make_colab.py --check    # exit 1 if a committed copy is not what the chapters give now

Colab renders Markdown, not MyST: an ``{exercise}`` block would show as raw markup with its solution
in plain view, and ``{cite}`` as a role. In the copies (as d2l does for its Colab notebooks):

- an exercise becomes **Exercise N.k** followed by its text (numbered per chapter, as in the book);
- a solution is folded in an HTML ``<details>`` block (Colab renders it closed);
- ``{cite}`key``` becomes "(Author Year)" from book/references.bib, ``{ref}``/``{doc}`` become text;
- an admonition or note becomes a quoted block with its title in bold;
- ``{glue:text}`` values, which only the book fills in, point to the printed outputs instead;
- outputs are cleared (a Colab user runs the notebook) and the first cell says where the copy comes from.

Code cells are kept as they are, except that the install cell names the release ``v<version>``
(macrobook/version.py) instead of whatever the main branch holds.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_student import _blocks  # noqa: E402  (fences parsed as MyST parses them)

OUT = ROOT / "colab"
REPO = "macrobook/macrobook"
# The install cell of a copy names a release: the tag v<version> of the package version below (create the
# tag when publishing a release; bumping macrobook/version.py and rerunning this tool moves every copy).
UNPINNED = re.compile(r'"macrobook @ git\+https://github\.com/' + re.escape(REPO) + r'(?:@[^"]*)?"')


def pinned_install() -> str:
    version = re.search(r'__version__ = "([^"]+)"', (ROOT / "macrobook" / "version.py").read_text()).group(1)
    return f'"macrobook @ git+https://github.com/{REPO}@v{version}"'


def bibliography(path: Path = ROOT / "book" / "references.bib") -> dict:
    """{key: "Author Year"} from a BibTeX file (first author's last name; "et al." beyond two)."""
    refs = {}
    for m in re.finditer(r"@\w+\{([^,\s]+),(.*?)\n\}", path.read_text(), re.S):
        key, body = m.group(1), m.group(2)
        author = re.search(r"author\s*=\s*\{(.*?)\}\s*,?\s*\n", body, re.S)
        year = re.search(r"year\s*=\s*\{?(\d{4})", body)
        names = [a.strip() for a in re.sub(r"[{}]", "", author.group(1)).split(" and ")] if author else []
        last = [n.split(",")[0].strip() if "," in n else n.split()[-1] for n in names if n]
        who = last[0] if len(last) == 1 else " and ".join(last) if len(last) == 2 else f"{last[0]} et al." if last else key
        refs[key] = f"{who} {year.group(1) if year else ''}".strip()
    return refs


def _directive(lines: list[str], start: int, end: int):
    """(name, argument, options, body) of the fenced directive on lines[start..end]."""
    m = re.match(r"\s*(`{3,}|:{3,})\{([\w:-]+)\}\s*(.*)", lines[start])
    name, arg = m.group(2), m.group(3).strip()
    body, opts, i = lines[start + 1:end], {}, 0
    while i < len(body) and re.match(r"\s*:[\w-]+:", body[i]):
        k, _, v = body[i].strip()[1:].partition(":")
        opts[k] = v.strip()
        i += 1
    return name, arg, opts, body[i:]


def convert_markdown(text: str, chapter: int, counter: list[int], refs: dict) -> str:
    lines = text.splitlines(keepends=True)
    blocks = [b for b in _blocks(lines) if b[2].startswith("{")]
    # outermost directives only; nested ones are converted when their body is
    outer = [b for b in blocks if not any(o[0] < b[0] and b[1] < o[1] for o in blocks)]
    out, pos = [], 0
    for start, end, _ in sorted(outer):
        out.append("".join(lines[pos:start]))
        name, arg, opts, body = _directive(lines, start, end)
        inner = convert_markdown("".join(body), chapter, counter, refs).strip("\n")
        if name == "exercise":
            counter[0] += 1
            title = f"**Exercise {chapter}.{counter[0]}**" + (f" ({arg})" if arg else "")
            out.append(f"{title}\n\n{inner}\n")
        elif name == "solution":
            out.append(f"<details>\n<summary>Solution</summary>\n\n{inner}\n\n</details>\n")
        elif name in ("admonition", "note", "tip", "warning", "important", "seealso"):
            title = arg if name == "admonition" else name.capitalize()
            quoted = "\n".join("> " + line if line.strip() else ">" for line in inner.splitlines())
            out.append(f"> **{title}**\n>\n{quoted}\n")
        elif name in ("math",):
            out.append(f"$$\n{inner}\n$$\n")
        else:   # a directive Colab cannot show: keep its content
            out.append(inner + "\n")
        pos = end + 1
    out.append("".join(lines[pos:]))
    text = "".join(out)
    text = re.sub(r"\{cite(?::[tp])?\}`([^`]+)`",
                  lambda m: "(" + "; ".join(refs.get(k.strip(), k.strip()) for k in m.group(1).split(",")) + ")", text)
    text = re.sub(r"\{glue:text\}`[^`]+`", "(the value printed by the code above)", text)
    text = re.sub(r"\{(?:ref|doc|numref|eq)\}`(?:([^`<]+?)\s*<[^>]+>|([^`]+))`",
                  lambda m: (m.group(1) or m.group(2)).split("/")[-1], text)
    return text


def colab_copy(nb_path: Path, refs: dict) -> dict:
    nb = json.loads(nb_path.read_text())
    chapter = int(nb_path.name[:2])
    counter = [0]
    cells = []
    for cell in nb["cells"]:
        cell = dict(cell)
        src = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        if cell["cell_type"] == "markdown":
            src = convert_markdown(src, chapter, counter, refs)
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
            src = UNPINNED.sub(pinned_install(), src)
        cell["source"] = src.splitlines(keepends=True)
        cells.append(cell)
    note = {"cell_type": "markdown", "id": "colab-note", "metadata": {}, "source": [
        f"*This is the Colab copy of `notebooks/{nb_path.name}`, generated by `tools/make_colab.py` (exercises as "
        "Markdown, solutions folded, citations as text). The book renders the original; Runtime -> Change runtime "
        "type -> GPU makes the larger settings fast.*"]}
    meta = {k: v for k, v in nb["metadata"].items() if k in ("kernelspec", "language_info")}
    meta["accelerator"] = "GPU"
    meta["colab"] = {"provenance": []}
    return {"cells": cells[:1] + [note] + cells[1:], "metadata": meta, "nbformat": 4,
            "nbformat_minor": nb.get("nbformat_minor", 5)}


def render(nb: dict) -> str:
    return json.dumps(nb, indent=1, ensure_ascii=False) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="compare with the committed copies instead of writing")
    args = ap.parse_args(argv)
    refs = bibliography()
    stale = []
    OUT.mkdir(exist_ok=True)
    for src in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        text = render(colab_copy(src, refs))
        dest = OUT / src.name
        if args.check:
            if not dest.exists() or dest.read_text() != text:
                stale.append(dest.name)
        else:
            dest.write_text(text)
            print(dest.relative_to(ROOT))
    if stale:
        print("Colab copies out of date (run `python tools/make_colab.py`): " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
