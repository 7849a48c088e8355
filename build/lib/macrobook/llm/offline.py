"""The offline stand-in: deterministic, rule-based persona replies in the LLM message format.

It is **not a language model**. It reads the machine-readable ``CONTEXT_JSON`` line that every
prompt carries (:func:`macrobook.llm.agent.build_prompt`), applies a short rule per role and
task, and writes a reply in the same JSON format a model is asked for, wrapped in a sentence
of prose (as models often do, so the parser is exercised). Its expectation rules are simple
heuristics chosen to give the three households different, recognisable behaviour:

* Household A (basic goods) extrapolates the recent inflation of basic goods (backward-looking);
* Household B (tech goods) blends headline inflation with the central bank's target and
  shades it down (tech prices tend to fall);
* Household C (green goods) anchors on the target but adds half a point when a stimulus is
  announced (it reads the news).

Each reply is seeded by (seed, agent, step, task) alone, never by call order, so concurrent
agents give the same transcript every run. ``malformed_rate`` makes a seeded share of *act*
replies come back as prose without JSON (half of them still naming the expectation in words,
half naming no number), to show both fallback paths without a real model.
"""
from __future__ import annotations

import hashlib
import json
import random
import re
from typing import Any, Optional

from .protocol import OFFLINE_LABEL, ChatClient, ChatReply, Messages, Usage, estimate_tokens, messages_tokens

GOOD_UNITS = {"basic": "baskets of basic goods", "tech": "tech gadgets", "green": "green products"}


def _ctx(messages: Messages) -> tuple[str, dict]:
    text = "\n".join(m.get("content", "") for m in messages)
    task = re.search(r"^TASK:\s*(\w+)", text, re.M)
    ctx = re.search(r"^CONTEXT_JSON:\s*(\{.*\})\s*$", text, re.M)
    try:
        c = json.loads(ctx.group(1)) if ctx else {}
    except json.JSONDecodeError:
        c = {}
    return (task.group(1).lower() if task else "act"), c


class OfflineBackend(ChatClient):
    """Rule-based replies; ``label`` is ``[offline stand-in]`` and travels with every reply."""

    MODEL = "offline-rules-v1"

    def __init__(self, seed: int = 0, usage: Optional[Usage] = None, malformed_rate: float = 0.0):
        super().__init__(usage)
        self.seed = int(seed)
        self.malformed_rate = float(malformed_rate)
        self.base_url = "offline://stand-in"
        self.model = self.MODEL
        self.label = OFFLINE_LABEL

    @property
    def is_offline(self) -> bool:
        return True

    def _rng(self, *parts: Any) -> random.Random:
        h = hashlib.sha256(json.dumps([self.seed, *parts]).encode()).digest()
        return random.Random(int.from_bytes(h[:8], "little"))

    async def _chat(self, messages: Messages, **params: Any) -> ChatReply:
        task, c = _ctx(messages)
        rng = self._rng(c.get("name", ""), c.get("step", 0), task)
        body = getattr(self, f"_{task}", self._act)(c, rng)
        if task == "act" and rng.random() < self.malformed_rate:
            # a model that ignored the schema: prose only. Half the time the prose still names the
            # expectation (the parser's regex recovers it), half the time it names no number at all
            # (the agent falls back to its adaptive forecast).
            if rng.random() < 0.5:
                text = body.get("message", "") + " Anyway, I am not sure about the numbers."
            else:
                text = "Sorry, I would rather not commit to any numbers this quarter."
        else:
            text = f"Here is my answer as JSON: {json.dumps(body)}"
        return ChatReply(text=text, prompt_tokens=messages_tokens(messages), completion_tokens=estimate_tokens(text),
                         model=self.MODEL, estimated_tokens=True, backend="offline")

    # ------------------------------------------------------------------ rules per task
    def _react(self, c: dict, rng: random.Random) -> dict:
        news = c.get("policy_news", [])
        surprise = abs(c.get("inflation_last_percent", 0.0) - c.get("stated_expectation_percent", 0.0))
        if news and c.get("role") in ("household", "firm"):
            return {"decision": "change", "reason": f"Policy news changes my outlook: {news[0]}"}
        if surprise > 2.0:
            return {"decision": "change",
                    "reason": f"Inflation of {c.get('inflation_last_percent', 0.0):.1f}% is far from what I expected."}
        return {"decision": "continue",
                "reason": "The recent events do not require an immediate response; my plan is still relevant."}

    def _plan(self, c: dict, rng: random.Random) -> dict:
        goal = c.get("goal", "Keep doing what I do.")
        news = c.get("policy_news", [])
        if news:
            return {"plan": f"{goal} Take into account that {news[0]}."}
        if c.get("step", 1) > 1:
            return {"plan": f"{goal} Inflation was {c.get('inflation_last_percent', 0.0):.1f}% last quarter: "
                            "weigh it in my next expectation."}
        return {"plan": goal}

    def _reflect(self, c: dict, rng: random.Random) -> dict:
        return {"reflection": (f"Over the last steps inflation was {c.get('inflation_last_percent', 0.0):.1f}% "
                               f"and the policy rate {c.get('policy_rate_percent', 0.0):.1f}%; "
                               f"I expected {c.get('stated_expectation_percent', 0.0):.1f}%.")}

    def _expectation(self, c: dict, rng: random.Random) -> float:
        headline = c.get("inflation_last_percent", 2.0)
        target = c.get("target_percent", 2.0)
        prev = c.get("stated_expectation_percent", target)
        good_inf = c.get("own_good_inflation_percent", headline)
        persona = c.get("persona", "")
        noise = rng.gauss(0.0, 0.3)
        if persona == "backward":
            e = 0.5 * good_inf + 0.3 * prev + 0.2 * headline
        elif persona == "optimist":
            e = 0.5 * headline + 0.5 * target - 0.5
        elif persona == "newsreader":
            e = 0.5 * target + 0.5 * headline + (0.5 if c.get("stimulus_announced") else 0.0)
        else:  # firms and policymakers: half-way between the target and recent inflation
            e = 0.5 * target + 0.5 * headline
        return round(e + noise, 1)

    def _act(self, c: dict, rng: random.Random) -> dict:
        role, name = c.get("role", "household"), c.get("name", "agent")
        e = self._expectation(c, rng)
        prices = {g: round(float(p), 2) for g, p in c.get("prices_usd", {}).items()}
        if role == "household":
            good = c.get("preferred_good", "basic")
            want = round(prices.get(good, 1.0) * (0.97 if rng.random() < 0.5 else 1.0), 2)
            msg = (f"Good day, Firm. I would like to buy {GOOD_UNITS.get(good, good)} at ${want:.2f} each. "
                   f"I expect inflation of around {e:.1f}% over the next year.")
            return {"recipient": "Firm", "message": msg, "inflation_expectation_percent": e,
                    "prices_usd": {good: want}}
        if role == "firm":
            who = c.get("last_sender") or "everyone"
            listed = ", ".join(f"{g} goods at ${p:.2f}" for g, p in prices.items())
            msg = (f"Good day, {who}. We offer {listed}. We anticipate prices to rise by "
                   f"around {e:.1f}% over the next year.")
            return {"recipient": who, "message": msg, "inflation_expectation_percent": e, "prices_usd": prices}
        if role == "government":
            s = c.get("stimulus_percent", 0.0)
            msg = (f"Good day, everyone. We are providing a stimulus of {s:.1f}% of output to support demand "
                   f"and stability. We expect inflation of about {e:.1f}%.")
            return {"recipient": "everyone", "message": msg, "inflation_expectation_percent": e}
        r = c.get("policy_rate_percent", 0.0)
        msg = (f"Good day, everyone. After reviewing conditions we set the policy rate at {r:.2f}% a year. "
               f"We expect inflation of {e:.1f}% against our target of {c.get('target_percent', 2.0):.1f}%.")
        return {"recipient": "everyone", "message": msg, "inflation_expectation_percent": e}
