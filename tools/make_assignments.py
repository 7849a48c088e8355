"""Autograded assignments, one per chapter, with otter-grader.

    python tools/make_assignments.py                 # what `make assignments` runs
    python tools/make_assignments.py --check         # also grade a correct and an incorrect submission

Each master notebook in assignments/ (otter-grader's format: ``# BEGIN QUESTION`` ... raw cells,
``# BEGIN SOLUTION`` blocks, test cells of ``assert`` statements, ``# HIDDEN`` ones graded only by
the instructor) is turned by ``otter assign`` into _build/assignments/<name>/:

- ``student/<name>.ipynb``: the notebook to hand out (solutions replaced by ``...``, public tests
  behind ``grader.check("q1")``);
- ``autograder/<name>-autograder_*.zip``: what grades a submission, with the hidden tests;
- ``autograder/<name>.ipynb``: the notebook with the solutions.

Grade a submission with ``otter run -a <zip> -o <folder> submission.ipynb`` (no Docker, no network;
the grading environment needs ``macrobook`` importable). ``--check`` grades the solutions notebook
(every question must score full points) and an incorrect submission written from the master's
metadata ``macrobook.incorrect`` (one question answered wrongly: it must not).
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MASTERS = ROOT / "assignments"
OUT = ROOT / "_build" / "assignments"


def _otter() -> str:
    exe = Path(sys.executable).with_name("otter")
    return str(exe) if exe.exists() else "otter"


def masters() -> list[Path]:
    return sorted(MASTERS.glob("ch[0-9]_*.ipynb"))


def assign(master: Path, out_root: Path = OUT) -> Path:
    """Run ``otter assign`` on one master; return its output folder."""
    out = out_root / master.stem
    shutil.rmtree(out, ignore_errors=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([_otter(), "assign", "--no-run-tests", str(master), str(out)], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=master.parent)
    return out


def autograder_zip(out: Path) -> Path:
    zips = sorted((out / "autograder").glob("*-autograder_*.zip"))
    if len(zips) != 1:
        raise FileNotFoundError(f"expected one autograder zip in {out / 'autograder'}, found {zips}")
    return zips[0]


def incorrect_submission(master: Path, out: Path) -> Path:
    """The solutions notebook with one question answered wrongly (the master says which and how)."""
    spec = json.loads(master.read_text())["metadata"]["macrobook"]["incorrect"]
    nb = json.loads((out / "autograder" / master.name).read_text())
    marker = f"# question {spec['question']}"
    hits = [c for c in nb["cells"] if c["cell_type"] == "code" and "".join(c["source"]).startswith(marker)]
    if len(hits) != 1:
        raise ValueError(f"{master.name}: {len(hits)} cells answer {spec['question']}")
    hits[0]["source"] = spec["code"]
    for c in nb["cells"]:
        if c["cell_type"] == "code":
            c["outputs"], c["execution_count"] = [], None
    path = out / "submissions" / f"incorrect-{master.name}"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(nb, indent=1))
    return path


def correct_submission(master: Path, out: Path) -> Path:
    path = out / "submissions" / f"correct-{master.name}"
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(out / "autograder" / master.name, path)
    return path


def grade(zip_path: Path, submission: Path) -> dict:
    """Grade with ``otter run``; return {question: (score, max_score)}."""
    res_dir = submission.parent / (submission.stem + "-results")
    shutil.rmtree(res_dir, ignore_errors=True)
    res_dir.mkdir(parents=True)
    subprocess.run([_otter(), "run", "-a", str(zip_path), "-o", str(res_dir), str(submission)], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    tests = json.loads((res_dir / "results.json").read_text())["tests"]
    return {t["name"]: (t["score"], t["max_score"]) for t in tests if "max_score" in t}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=str(OUT))
    ap.add_argument("--check", action="store_true", help="grade a correct and an incorrect submission of each")
    ap.add_argument("--only", nargs="*", help="master stems (default: all)")
    args = ap.parse_args(argv)
    bad = 0
    for m in masters():
        if args.only and m.stem not in args.only:
            continue
        out = assign(m, Path(args.out))
        print(f"{m.stem}: {out / 'student' / m.name}, {autograder_zip(out).name}", flush=True)
        if args.check:
            for kind, sub in (("correct", correct_submission(m, out)), ("incorrect", incorrect_submission(m, out))):
                scores = grade(autograder_zip(out), sub)
                got, best = sum(s for s, _ in scores.values()), sum(p for _, p in scores.values())
                ok = (got == best) if kind == "correct" else (got < best)
                bad += not ok
                print(f"  {kind:9} submission: {got:g} / {best:g} {'ok' if ok else 'WRONG'} {scores}", flush=True)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
