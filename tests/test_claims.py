"""What the intro, preface, frontiers, instructors page and README say agrees with what the chapters
computed (book/claims.yml, tools/check_claims.py), and the check fails when a sentence or a computed
value moves."""
import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import check_claims as cc  # noqa: E402


def _current():
    claims = cc.load_claims()
    record = json.loads(cc.RECORD.read_text())
    return claims, record, cc.values(claims, None, record)


def test_every_claim_agrees_with_what_the_build_computed():
    claims, _, vals = _current()
    assert len(claims) >= 8
    assert cc.check(claims, vals) == []


def test_every_claim_has_a_recorded_or_stored_value():
    claims, record, vals = _current()
    missing = [c["id"] for c in claims if vals[c["id"]] is None]
    assert missing == [], f"no computed value for {missing}: run `make book` (it records them)"
    stale = sorted(set(record["values"]) - {c["id"] for c in claims})
    assert stale == [], f"the record holds values for claims no longer listed: {stale}"


def test_a_sentence_edited_to_disagree_fails(tmp_path):
    claims, _, vals = _current()
    for rel in {f for c in claims for f in c["files"]}:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, tmp_path / rel)
    assert cc.check(claims, vals, root=tmp_path) == []
    intro = tmp_path / "book" / "intro.md"
    text = intro.read_text()
    minutes = round(vals["ch6-full-run-minutes"] / 60)
    intro.write_text(text.replace(f"took {minutes}\nminutes", f"took {minutes - 5}\nminutes")
                     .replace(f"took {minutes} minutes", f"took {minutes - 5} minutes"))
    bad = cc.check(claims, vals, root=tmp_path)
    assert any(b.startswith("ch6-full-run-minutes: book/intro.md") for b in bad), bad


def test_a_computed_value_that_moves_fails():
    """A new full build in which Chapter 5's firm sets its markup on the other side of the fringe's, or
    Chapter 3's MADDPG leads in two sectors, makes the pages wrong until they are edited."""
    claims, _, vals = _current()
    flipped = -0.4 if vals["ch5-pretrained-firm-prices"] > 0 else 0.4
    moved = dict(vals, **{"ch5-pretrained-firm-prices": flipped, "ch3-maddpg-clearly-ahead": 2.0})
    bad = cc.check(claims, moved)
    assert any(b.startswith("ch5-pretrained-firm-prices: book/frontiers.md") for b in bad), bad
    assert any(b.startswith("ch3-maddpg-clearly-ahead: README.md") for b in bad), bad


def test_values_come_from_the_notebooks_outputs_glue_and_metadata():
    nb = {"metadata": {"macrobook": {"stored_outputs": {"seconds": 120.0}}},
          "cells": [{"cell_type": "code", "outputs": [
              {"output_type": "stream", "name": "stdout", "text": "MADDPG clearly ahead in 3 sector(s)\n"},
              {"output_type": "display_data", "metadata": {"scrapbook": {"name": "err", "mime_prefix": ""}},
               "data": {"text/plain": "0.125"}},
              {"output_type": "display_data",
               "metadata": {"scrapbook": {"name": "pm", "mime_prefix": "application/papermill.record/"}},
               "data": {"application/papermill.record/text/plain": "0.5"}}]}]}
    assert cc.extract({"id": "a", "source": {"output": r"ahead in (\d+) sector"}}, nb) == 3.0
    assert cc.extract({"id": "b", "source": {"glue": "err"}}, nb) == 0.125
    assert cc.extract({"id": "b2", "source": {"glue": "pm"}}, nb) == 0.5   # glued under papermill
    assert cc.extract({"id": "c", "source": {"meta": "macrobook.stored_outputs.seconds"}}, nb) == 120.0
    assert cc.sentence({"id": "d", "says": "took {value:.0f} minutes", "scale": 1 / 60}, 120.0) == "took 2 minutes"
    assert cc.sentence({"id": "e", "says": {"sign": {"negative": "cuts", "zero": "keeps", "positive": "raises"}}}, -1) == "cuts"


def test_table_claims_read_the_last_matching_row_and_fail_when_it_moves(tmp_path):
    """A claim about a tool's committed CSV (a design the chapter does not use) takes its value from the
    latest row for that design; a rerun whose number moved makes the README wrong until it is edited."""
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "t.csv").write_text("variant,slope\na,1.5\nb,-2.0\na,0.25\n")
    claim = {"id": "t", "source": {"table": "data/t.csv", "row": {"variant": "a"}, "column": "slope"},
             "says": "slope {value:+.2f} here", "files": ["README.md"]}
    assert cc.from_table(claim, root=tmp_path) == 0.25
    assert cc.from_table(dict(claim, source=dict(claim["source"], row={"variant": "zz"})), root=tmp_path) is None
    (tmp_path / "README.md").write_text("the slope +0.25 here")
    assert cc.check([claim], {"t": 0.25}, root=tmp_path) == []
    bad = cc.check([claim], {"t": 1.5}, root=tmp_path)
    assert bad and bad[0].startswith("t: README.md does not say \"slope +1.50 here\" (data/t.csv computed 1.5)"), bad
    missing = cc.check([claim], {"t": None}, root=tmp_path)
    assert missing and "run the tool that writes it" in missing[0]
