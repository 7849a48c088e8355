"""The LLM-augmented agent loop of seed 000: observe -> react -> plan -> act -> reflect.

An :class:`LLMAgent` has a persona, a :class:`~macrobook.llm.memory.MemoryStream`, a current
plan and a chat client. Each step, :meth:`LLMAgent.run_step`:

1. **observe**: takes the events addressed to it (or to everyone) since the last step and
   writes them to memory with a rule-rated importance;
2. **react**: asks the LLM whether to *continue* the plan or *change* it, with a reason
   (skipped when there is no plan yet);
3. **plan**: asks the LLM for a plan when there is none or the reaction was "change";
4. **act**: asks the LLM for a message (recipient, text, inflation expectation in percent,
   prices in dollars) given the plan, the retrieved memories and the numbers the agent's
   DDPG actor just chose. The LLM reasons and talks; it does not choose the numbers;
5. **reflect**: once the importance of new memories passes a threshold, asks the LLM for a
   reflection, stored as a memory.

Every reply goes through :func:`~macrobook.llm.messages.parse_reply`; a failed call or a
malformed reply is counted by kind and replaced by the documented fallback, so one bad reply
never stops the simulation (only the budget does, cleanly). Calls of all agents run
concurrently under an ``asyncio.Semaphore`` (the concurrency limit); agents emit their
messages into the world only after every agent has finished the step, in a fixed order, so
the transcript does not depend on which server reply arrived first.
"""
from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from .client import BudgetExceeded, CacheMiss, ChatClient, LLMError
from .memory import MemoryStream, rate_importance
from .messages import SCHEMAS, FallbackCounter, parse_reply


@dataclass
class Persona:
    name: str                      # "Household A"
    role: str                      # household | firm | government | central_bank
    goal: str                      # the standing goal, used as the first plan and as the plan fallback
    description: str = ""
    preferred_good: Optional[str] = None
    expectation_style: str = ""    # hint for the offline stand-in: backward | optimist | newsreader
    keywords: tuple = ()


@dataclass
class Event:
    t: int
    sender: str
    recipient: str                 # an agent name or "everyone"
    text: str
    kind: str = "message"          # message | market | policy


@dataclass
class StepOutput:
    message: Optional[Event]
    expectation_percent: float
    stated: bool                   # False when the expectation is the fallback forecast
    records: List[dict] = field(default_factory=list)


def build_prompt(task: str, persona: Persona, context: Dict[str, Any], memories: List[str],
                 plan: Optional[str], events: List[Event]) -> List[Dict[str, str]]:
    """The chat messages for one task. The ``CONTEXT_JSON`` line carries the numbers in a form
    both a model and the offline stand-in can read."""
    system = (f"You are {persona.name}, a {persona.role.replace('_', ' ')} in the economy of Diverseland. "
              f"{persona.description} Your standing goal: {persona.goal} "
              "Always answer with one JSON object and nothing else. Prices are in US dollars; "
              "inflation expectations are numbers in percent per year (write 2.5 for 2.5%).")
    lines = [f"TASK: {task}", "CONTEXT_JSON: " + json.dumps(context, sort_keys=True)]
    if plan:
        lines.append(f"Your current plan: {plan}")
    if events:
        lines.append("New events since your last step:")
        lines += [f"- {e.sender} to {e.recipient}: {e.text}" for e in events]
    if memories:
        lines.append("Relevant memories:")
        lines += [f"- {m}" for m in memories]
    ask = {
        "react": "Decide whether to continue your current plan or change it, and give the reason.",
        "plan": "Write your plan for the next steps.",
        "act": "Act on your plan: write one message. Declare prices in dollars and your inflation expectation "
               "in percent in it.",
        "reflect": "Reflect on your recent memories: what have you learned about the economy?",
    }[task]
    lines.append(ask)
    lines.append("Reply with JSON of this form: " + json.dumps(SCHEMAS[task]))
    return [{"role": "system", "content": system}, {"role": "user", "content": "\n".join(lines)}]


class LLMAgent:
    """One agent: persona, memory, plan, and the five-stage loop."""

    def __init__(self, persona: Persona, client: ChatClient, semaphore: asyncio.Semaphore,
                 fallbacks: FallbackCounter, memory: Optional[MemoryStream] = None, memories_per_prompt: int = 4):
        self.persona = persona
        self.client = client
        self.semaphore = semaphore
        self.fallbacks = fallbacks
        self.memory = memory if memory is not None else MemoryStream()   # an empty stream is falsy (len 0)
        self.memories_per_prompt = memories_per_prompt
        self.plan_text: Optional[str] = None
        self.last_step_t = 0
        self.expectation_percent: Optional[float] = None

    @property
    def name(self) -> str:
        return self.persona.name

    def _rec(self, records: List[dict], t: int, kind: str, text: str, **extra: Any) -> None:
        records.append({"step": t, "agent": self.name, "location": "Diverseland", "kind": kind, "text": text,
                        "backend": self.client.label, **extra})

    async def _ask(self, task: str, context: dict, events: List[Event]) -> tuple[dict, Optional[str]]:
        """One LLM call and its parse. Returns ``(data, problem)``; BudgetExceeded propagates."""
        memories = [m.text for m in self.memory.retrieve(f"{task} {self.persona.goal} {context.get('headline', '')}",
                                                         context["step"], self.memories_per_prompt)]
        messages = build_prompt(task, self.persona, context, memories, self.plan_text, events)
        try:
            async with self.semaphore:
                reply = await self.client.chat(messages)
        except BudgetExceeded:
            self.fallbacks["budget"] += 1
            raise
        except CacheMiss:
            raise  # replay must fail clearly, not be papered over with fallbacks
        except LLMError:
            self.fallbacks["call_failed"] += 1
            return {}, "call_failed"
        data, problem = parse_reply(task, reply.text)
        if problem is not None:
            self.fallbacks[problem] += 1
        return data, problem

    # ------------------------------------------------------------------ the five stages
    def observe(self, t: int, events: List[Event], records: List[dict]) -> List[Event]:
        mine = [e for e in events if e.recipient in (self.name, "everyone") and e.sender != self.name]
        for e in mine:
            text = f"{e.sender} said to {e.recipient}: {e.text}" if e.kind == "message" else e.text
            self.memory.add(t, text, rate_importance(text, self.name, self.persona.keywords))
        self._rec(records, t, "observe", f"Observed {len(mine)} new events since step {self.last_step_t}")
        self.last_step_t = t
        return mine

    async def react(self, t: int, events: List[Event], context: dict, records: List[dict]) -> str:
        """"continue" or "change" (fallback: continue)."""
        if self.plan_text is None:
            return "change"
        data, problem = await self._ask("react", context, events)
        decision = data.get("decision", "continue")
        reason = data.get("reason", "(no reason given: fallback, keep the plan)" if problem else "")
        verb = "continue the current plan" if decision == "continue" else "change the plan"
        self._rec(records, t, "react", f"Decided to {verb}: {reason}", fallback=problem)
        return decision

    async def plan(self, t: int, events: List[Event], context: dict, records: List[dict]) -> str:
        data, problem = await self._ask("plan", context, events)
        self.plan_text = data.get("plan") or self.persona.goal
        self.memory.add(t, f"My plan: {self.plan_text}", 3.0, kind="plan")
        self._rec(records, t, "plan", self.plan_text, fallback=problem)
        return self.plan_text

    async def act(self, t: int, events: List[Event], context: dict, records: List[dict],
                  fallback_expectation_percent: float) -> StepOutput:
        self._rec(records, t, "act_start", f"Action In Progress: {self.plan_text}")
        data, problem = await self._ask("act", context, events)
        stated = "inflation_expectation_percent" in data
        e = float(data["inflation_expectation_percent"]) if stated else float(fallback_expectation_percent)
        self.expectation_percent = e
        msg = None
        text = data.get("message")
        if text:
            recipient = data.get("recipient", "everyone")
            msg = Event(t, self.name, recipient, text)
            self.memory.add(t, f"I said to {recipient}: {text}", 2.0, kind="action")
            self._rec(records, t, "act", f"{self.name} said to {recipient}: '{text}'", fallback=problem,
                      expectation_percent=e, expectation_stated=stated, prices_usd=data.get("prices_usd"),
                      numbers=context.get("my_numbers"))
        else:
            self._rec(records, t, "act", "(no message: fallback)", fallback=problem, expectation_percent=e,
                      expectation_stated=False, numbers=context.get("my_numbers"))
        return StepOutput(msg, e, stated)

    async def reflect(self, t: int, context: dict, records: List[dict]) -> None:
        if not self.memory.needs_reflection:
            return
        data, problem = await self._ask("reflect", context, [])
        self.memory.mark_reflected()
        if data.get("reflection"):
            self.memory.add(t, data["reflection"], 8.0, kind="reflection")
            self._rec(records, t, "reflect", data["reflection"], fallback=problem)

    async def run_step(self, t: int, events: List[Event], context: dict,
                       fallback_expectation_percent: float) -> StepOutput:
        """observe -> react -> (plan) -> act -> (reflect); returns the message to emit and the
        stated expectation, with this agent's transcript records."""
        records: List[dict] = []
        mine = self.observe(t, events, records)
        decision = await self.react(t, mine, context, records)
        if decision == "change":
            await self.plan(t, mine, context, records)
        out = await self.act(t, mine, context, records, fallback_expectation_percent)
        await self.reflect(t, context, records)
        out.records = records
        return out
