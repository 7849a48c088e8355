"""Structured messages: what agents are asked to return, and robust parsing of what they do return.

Every LLM task asks for one JSON object against a small schema (below). Prices are in
dollars, inflation expectations in percent per year. Backends ignore schemas often: the
reply may wrap the JSON in prose or a code fence, use single quotes, write "2.5%" or
"$3", or omit a field. :func:`parse_reply` finds the first JSON object in the text,
repairs the common slips, checks the fields and ranges, and returns ``(data, problem)``:
``problem`` is None or one of the *fallback kinds* below. It never raises.

Fallback kinds (counted per run in :class:`FallbackCounter`) and what the agent does:

==================  ===============================================  =============================================
kind                meaning                                          fallback
==================  ===============================================  =============================================
``call_failed``     the call itself failed after retries             see the task's fallback
                    (timeout, 429 or 5xx to the end, bad body)
``budget``          the budget stopped the run                       the run stops cleanly
``no_json``         no ``{...}`` object in the reply                 regex for numbers in the prose, else as below
``invalid_json``    braces found but not parseable, even repaired    regex for numbers in the prose, else as below
``missing_field``   a required field is absent                       the field's fallback value
``out_of_range``    a number outside its allowed range               the field's fallback value
==================  ===============================================  =============================================

Field fallbacks: ``decision`` -> "continue" (keep the plan); ``plan`` -> the role's
standing goal; ``message`` -> no message is sent; ``inflation_expectation_percent`` -> the
agent's adaptive-expectations forecast; ``prices_usd`` -> the posted prices; ``reflection`` ->
nothing is stored (the agent reflects again once new memories pass the threshold).
"""
from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any, Dict, Optional, Tuple

FALLBACK_KINDS = ("call_failed", "budget", "no_json", "invalid_json", "missing_field", "out_of_range")

#: the JSON each task asks for (shown to the model inside the prompt)
SCHEMAS: Dict[str, dict] = {
    "react": {"decision": "continue | change", "reason": "one sentence"},
    "plan": {"plan": "one sentence: what you will do in the next steps"},
    "act": {
        "recipient": "an agent name or 'everyone'",
        "message": "what you say, in one to three sentences",
        "inflation_expectation_percent": "number, your expected inflation over the next year, percent",
        "prices_usd": {"basic": "number, dollars", "tech": "number, dollars", "green": "number, dollars"},
    },
    "reflect": {"reflection": "one or two sentences: what you learned"},
}

REQUIRED = {
    "react": ("decision",),
    "plan": ("plan",),
    "act": ("message", "inflation_expectation_percent"),
    "reflect": ("reflection",),
}

#: inflation expectations outside this range (percent per year) are treated as malformed
EXPECTATION_RANGE = (-20.0, 50.0)
PRICE_RANGE = (0.01, 10_000.0)


class FallbackCounter(Counter):
    """Counts fallbacks by kind (a ``collections.Counter`` with every kind present)."""

    def as_dict(self) -> Dict[str, int]:
        return {k: int(self.get(k, 0)) for k in FALLBACK_KINDS}

    @property
    def total(self) -> int:
        return int(sum(self.values()))


_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.S | re.I)
_NUMBER = r"[-+]?\d+(?:\.\d+)?"


def _first_object(text: str) -> Optional[str]:
    """The first balanced ``{...}`` in ``text`` (string-aware), or None."""
    start = text.find("{")
    while start != -1:
        depth, in_str, esc, quote = 0, False, False, ""
        for i in range(start, len(text)):
            ch = text[i]
            if in_str:
                if esc:
                    esc = False
                elif ch == "\\":
                    esc = True
                elif ch == quote:
                    in_str = False
            elif ch in "\"'":
                in_str, quote = True, ch
            elif ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
                if depth == 0:
                    return text[start:i + 1]
        start = text.find("{", start + 1)
    return None


def _repair(blob: str) -> str:
    """Fix the slips models make most: single quotes, trailing commas, % and $ on numbers,
    Python literals."""
    s = blob
    if "'" in s and '"' not in s:
        s = s.replace("'", '"')
    s = re.sub(r",\s*([}\]])", r"\1", s)
    s = re.sub(r":\s*\$\s*(" + _NUMBER + ")", r": \1", s)
    s = re.sub(r":\s*(" + _NUMBER + r")\s*%", r": \1", s)
    s = re.sub(r"\bTrue\b", "true", re.sub(r"\bFalse\b", "false", re.sub(r"\bNone\b", "null", s)))
    return s


def _to_float(v: Any) -> Optional[float]:
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, str):
        m = re.search(_NUMBER, v.replace(",", ""))
        return float(m.group()) if m else None
    return None


def extract_json(text: str) -> Tuple[Optional[dict], Optional[str]]:
    """``(object, None)`` or ``(None, "no_json" | "invalid_json")``."""
    if not isinstance(text, str) or not text.strip():
        return None, "no_json"
    candidates = [m.group(1) for m in _FENCE.finditer(text)] + [text]
    found_braces = False
    for cand in candidates:
        blob = _first_object(cand)
        if blob is None:
            continue
        found_braces = True
        for attempt in (blob, _repair(blob)):
            try:
                obj = json.loads(attempt)
            except json.JSONDecodeError:
                continue
            if isinstance(obj, dict):
                return obj, None
    return None, ("invalid_json" if found_braces or "{" in text else "no_json")


def expectation_from_prose(text: str) -> Optional[float]:
    """The percentage closest to the word "inflation" (within 80 characters), else the one closest
    to "price"; None when there is none. "I expect inflation of around 1.5%" gives 1.5.

    A heuristic, and it can misread: in "Inflation? Hard to say. Rents rose 8%." it returns 8.
    Replies parsed this way are counted (``no_json`` / ``invalid_json``), never silent."""
    if not isinstance(text, str):
        return None
    low = text.lower()
    matches = list(re.finditer(r"(" + _NUMBER + r")\s*(?:%|percent|per cent)", text, re.I))
    for word in ("inflation", "price"):
        anchors = [m.start() for m in re.finditer(word, low)]
        best = None
        for m in matches:
            d = min((abs(a - m.start()) for a in anchors), default=None)
            if d is not None and d <= 80 + len(word) and (best is None or d < best[0]):
                best = (d, float(m.group(1)))
        if best is not None:
            return best[1]
    return None


def parse_reply(task: str, text: str) -> Tuple[dict, Optional[str]]:
    """Parse the reply to ``task`` ("react" | "plan" | "act" | "reflect").

    Returns ``(data, problem)``: ``data`` holds the fields that parsed and passed their checks
    (numbers as floats, ``prices_usd`` as ``{good: float}``), ``problem`` the first fallback
    kind met, or None when the reply was clean.
    """
    obj, problem = extract_json(text)
    data: dict = {}
    if obj is None:
        if task == "act":
            e = expectation_from_prose(text)
            if e is not None and EXPECTATION_RANGE[0] <= e <= EXPECTATION_RANGE[1]:
                data["inflation_expectation_percent"] = e
            data["message"] = text.strip()[:500] if isinstance(text, str) else ""
        return data, problem
    for key in REQUIRED[task]:
        if key not in obj or obj[key] is None or obj[key] == "":
            problem = problem or "missing_field"
    if task == "react":
        d = str(obj.get("decision", "")).strip().lower()
        if d in ("continue", "change"):
            data["decision"] = d
        elif d:
            problem = problem or "out_of_range"
        if isinstance(obj.get("reason"), str):
            data["reason"] = obj["reason"].strip()
    elif task in ("plan", "reflect"):
        key = REQUIRED[task][0]            # "plan" | "reflection"
        if isinstance(obj.get(key), str) and obj[key].strip():
            data[key] = obj[key].strip()
    elif task == "act":
        if isinstance(obj.get("message"), str) and obj["message"].strip():
            data["message"] = obj["message"].strip()
        if isinstance(obj.get("recipient"), str) and obj["recipient"].strip():
            data["recipient"] = obj["recipient"].strip()
        if "inflation_expectation_percent" in obj:
            e = _to_float(obj["inflation_expectation_percent"])
            if e is None or not (EXPECTATION_RANGE[0] <= e <= EXPECTATION_RANGE[1]):
                problem = problem or "out_of_range"
            else:
                data["inflation_expectation_percent"] = e
        prices = obj.get("prices_usd")
        if isinstance(prices, dict):
            good = {}
            for k, v in prices.items():
                p = _to_float(v)
                if p is None or not (PRICE_RANGE[0] <= p <= PRICE_RANGE[1]):
                    problem = problem or "out_of_range"
                else:
                    good[str(k).lower()] = p
            if good:
                data["prices_usd"] = good
    return data, problem
