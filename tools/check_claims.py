"""Check that what the book's pages and the README say agrees with what the chapters computed.

    python tools/check_claims.py                       # against the record of the last full build
    python tools/check_claims.py --executed _build/full/notebooks --write-record   # after `make book`

``book/claims.yml`` lists statements made outside the chapters (intro, preface, frontiers,
instructors, README) together with the computed quantity each depends on. For every claim this
tool takes the quantity from a chapter, renders the sentence the page must contain from it, and
fails when the page does not contain that sentence. A quantity comes from one of:

- ``glue: NAME``     a value the chapter stored with myst-nb's ``glue`` (its text/plain output);
- ``output: REGEX``  the first group of a regular expression over the chapter's printed outputs;
- ``meta: a.b.c``    a field of the notebook's metadata (e.g. ``macrobook.stored_outputs.seconds``);
- ``table: FILE``    with ``row: {column: value}`` and ``column: NAME``: a cell of a committed CSV file that a
  tool writes (e.g. ``data/rbc_relations_tried.csv``), from the last row that matches ``row`` (the files
  are append-only logs, so the last row is the latest run). Such a claim names no chapter.

A claim's ``says`` is either a format string (``"{value:.0f} minutes"``; ``scale`` multiplies the
value first) or a mapping from the value's ``sign`` (``negative``/``zero``/``positive``) or from
the value itself (``map``) to the sentence.

Claims about the full setting need the chapters executed with ``QUICK=False``. ``make book`` does
that and refreshes ``data/claims-full.json``, the committed record of those values (chapters whose
full-run outputs are committed, like Chapter 6, are read directly). ``make test`` checks every claim
against that record, so an edited sentence that no longer matches the computed value fails CI, and a
full build whose results moved fails ``make book`` until the sentence is updated.
"""
from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
CLAIMS = ROOT / "book" / "claims.yml"
RECORD = ROOT / "data" / "claims-full.json"


def _texts(nb: dict) -> str:
    out = []
    for cell in nb.get("cells", []):
        for o in cell.get("outputs", []):
            if o.get("output_type") == "stream":
                out.append("".join(o.get("text", "")))
            elif "data" in o:
                out.append("".join(o["data"].get("text/plain", "")))
    return "\n".join(out)


def _glued(nb: dict) -> dict:
    found = {}
    for cell in nb.get("cells", []):
        for o in cell.get("outputs", []):
            book = o.get("metadata", {}).get("scrapbook", {})
            if book.get("name") is not None:   # under papermill the mime type carries a prefix
                key = book.get("mime_prefix", "") + "text/plain"
                found[book["name"]] = "".join(o.get("data", {}).get(key, ""))
    return found


def _number(text):
    if isinstance(text, (int, float)):
        return text
    t = str(text).strip().strip("'\"")
    try:
        return float(t)
    except ValueError:
        return t


def extract(claim: dict, nb: dict):
    """The quantity a claim depends on, from one executed notebook (None when it is not there)."""
    src = claim["source"]
    if "glue" in src:
        v = _glued(nb).get(src["glue"])
        return None if v is None else _number(v)
    if "output" in src:
        m = re.search(src["output"], _texts(nb))
        return None if m is None else _number(m.group(1))
    if "meta" in src:
        v = nb.get("metadata", {})
        for key in src["meta"].split("."):
            if not isinstance(v, dict) or key not in v:
                return None
            v = v[key]
        return _number(v)
    raise ValueError(f"claim {claim['id']}: source must be glue, output or meta, got {src}")


def from_table(claim: dict, root: Path = ROOT):
    """The quantity of a ``table`` claim: ``column`` of the last row of the CSV matching ``row``."""
    src = claim["source"]
    path = root / src["table"]
    if not path.exists():
        return None
    with open(path, newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if all(r.get(k) == str(v) for k, v in src["row"].items())]
    if not rows:
        return None
    if src["column"] not in rows[-1]:
        raise ValueError(f"claim {claim['id']}: {src['table']} has no column {src['column']!r}")
    return _number(rows[-1][src["column"]])


def _where(claim: dict) -> str:
    return claim.get("chapter") or claim["source"].get("table", "?")


def sentence(claim: dict, value) -> str:
    """The words the page must contain, given the computed value."""
    says = claim["says"]
    if isinstance(says, str):
        v = value * claim["scale"] if "scale" in claim else value
        return says.format(value=v)
    if "sign" in says:
        key = "negative" if value < 0 else "positive" if value > 0 else "zero"
        return says["sign"][key]
    if "map" in says:
        return says["map"][str(value)]
    raise ValueError(f"claim {claim['id']}: says must be a format string, a sign map or a value map")


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def load_claims(path: Path = CLAIMS) -> list[dict]:
    claims = yaml.safe_load(Path(path).read_text())
    ids = [c["id"] for c in claims]
    if len(set(ids)) != len(ids):
        raise ValueError("claim ids must be unique")
    return claims


def notebook_for(chapter: str, executed: Path | None) -> dict | None:
    """The executed chapter: a committed full run (stored outputs) first, else ``executed``."""
    committed = ROOT / "notebooks" / f"{chapter}.ipynb"
    nb = json.loads(committed.read_text())
    if nb.get("metadata", {}).get("macrobook", {}).get("stored_outputs"):
        return nb
    if executed is not None and (Path(executed) / f"{chapter}.ipynb").exists():
        return json.loads((Path(executed) / f"{chapter}.ipynb").read_text())
    return None


def values(claims: list[dict], executed: Path | None = None, record: dict | None = None) -> dict:
    """{claim id: value}: from the executed notebooks when given, else from the record."""
    out = {}
    for c in claims:
        if "table" in c["source"]:
            out[c["id"]] = from_table(c)
            continue
        nb = notebook_for(c["chapter"], executed)
        if nb is not None:
            out[c["id"]] = extract(c, nb)
        elif record is not None and c["id"] in record.get("values", {}):
            out[c["id"]] = record["values"][c["id"]]
        else:
            out[c["id"]] = None
    return out


def check(claims: list[dict], vals: dict, root: Path = ROOT) -> list[str]:
    """Every disagreement, as one line each (empty when every claim holds)."""
    bad = []
    for c in claims:
        v = vals.get(c["id"])
        if v is None:
            how = ("run the tool that writes it" if "table" in c["source"] else "run `make book`, which records it")
            bad.append(f"{c['id']}: no computed value for it in {_where(c)} ({how})")
            continue
        want = sentence(c, v)
        for f in c["files"]:
            if _flat(want) not in _flat((root / f).read_text()):
                bad.append(f"{c['id']}: {f} does not say \"{want}\" ({_where(c)} computed {v!r})")
    return bad


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--executed", help="folder of notebooks executed in the full setting (default: use the record)")
    ap.add_argument("--write-record", action="store_true", help=f"store the values in {RECORD.relative_to(ROOT)}")
    ap.add_argument("--claims", default=str(CLAIMS))
    args = ap.parse_args(argv)
    claims = load_claims(Path(args.claims))
    record = json.loads(RECORD.read_text()) if RECORD.exists() else {"values": {}}
    vals = values(claims, Path(args.executed) if args.executed else None, record)
    if args.write_record:
        by_id = {c["id"]: c for c in claims}
        merged = dict(record.get("values", {}))
        merged.update({k: v for k, v in vals.items() if v is not None and "table" not in by_id[k]["source"]})
        merged = {k: merged[k] for k in sorted(merged) if k in {c["id"] for c in claims}}
        RECORD.parent.mkdir(parents=True, exist_ok=True)
        RECORD.write_text(json.dumps({"note": "values the full-setting build computed for book/claims.yml "
                                               "(written by tools/check_claims.py --write-record)",
                                      "values": merged}, indent=1, sort_keys=False) + "\n")
    bad = check(claims, vals)
    for c in claims:
        print(f"{'ok ' if not any(b.startswith(c['id'] + ':') for b in bad) else 'BAD'} {c['id']}: "
              f"{_where(c)} computed {vals.get(c['id'])!r}")
    if bad:
        print("\nclaims that disagree with what the chapters computed:\n  " + "\n  ".join(bad), file=sys.stderr)
        return 1
    print(f"{len(claims)} claims agree with what the chapters computed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
