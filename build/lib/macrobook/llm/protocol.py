"""What every chat backend shares: the reply, usage and budget records, token estimates, the
``ChatClient`` interface and the label of the offline stand-in. The OpenAI-compatible client
(:mod:`.client`) and the offline stand-in (:mod:`.offline`) both build on this module."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from ..config import ConfigError

Messages = List[Dict[str, str]]

#: US dollars per million tokens (input, output), from the providers' public price pages;
#: pass ``price_per_mtok`` to override, e.g. for a model not listed. Local servers cost 0.
PRICES_PER_MTOK: Dict[str, tuple] = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-3.5-turbo": (0.50, 1.50),
}

OFFLINE_LABEL = "[offline stand-in]"


class LLMError(RuntimeError):
    """A chat call failed after its retries (transport error, bad status, unusable reply)."""

    def __init__(self, kind: str, message: str):
        super().__init__(f"{kind}: {message}")
        self.kind = kind


class CacheMiss(LLMError):
    """Replay mode found no cached reply for a request."""

    def __init__(self, message: str):
        super().__init__("cache_miss", message)


class BudgetExceeded(RuntimeError):
    """The run has spent its token or dollar budget; no further calls are made."""


@dataclass
class ChatReply:
    """One reply: its text, token counts (``estimated`` when the backend gave none) and origin."""

    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    model: str = ""
    cached: bool = False
    estimated_tokens: bool = False
    backend: str = ""


def estimate_tokens(text: str) -> int:
    """About four characters per token for English text (OpenAI's rule of thumb)."""
    return max(1, (len(text) + 3) // 4)


def messages_tokens(messages: Messages) -> int:
    return sum(estimate_tokens(m.get("content", "")) + 4 for m in messages)


@dataclass
class Budget:
    """Stop before spending more than ``max_usd`` dollars or ``max_tokens`` tokens (None: no limit)."""

    max_usd: Optional[float] = None
    max_tokens: Optional[int] = None

    def __post_init__(self):
        if self.max_usd is not None and (not isinstance(self.max_usd, (int, float)) or self.max_usd < 0):
            raise ConfigError(f"Budget.max_usd must be a number >= 0 or None, got {self.max_usd!r}")
        if self.max_tokens is not None and (not isinstance(self.max_tokens, int) or self.max_tokens < 0):
            raise ConfigError(f"Budget.max_tokens must be an integer >= 0 or None, got {self.max_tokens!r}")


@dataclass
class Usage:
    """Running totals for one run. ``cost_usd`` uses ``price_per_mtok`` = (input, output)."""

    price_per_mtok: tuple = (0.0, 0.0)
    budget: Budget = field(default_factory=Budget)
    calls: int = 0
    cache_hits: int = 0
    retries: int = 0
    failed_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    estimated_tokens: bool = False
    max_prompt_tokens: int = 0      # the longest prompt so far (for cost bounds)

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    @property
    def cost_usd(self) -> float:
        pin, pout = self.price_per_mtok
        return (self.prompt_tokens * pin + self.completion_tokens * pout) / 1e6

    def check_budget(self) -> None:
        """Raise BudgetExceeded when the budget is already spent (checked before each call)."""
        b = self.budget
        if b.max_usd is not None and self.cost_usd >= b.max_usd:
            raise BudgetExceeded(f"cost budget spent: ${self.cost_usd:.4f} >= ${b.max_usd:.4f}")
        if b.max_tokens is not None and self.total_tokens >= b.max_tokens:
            raise BudgetExceeded(f"token budget spent: {self.total_tokens} >= {b.max_tokens}")

    def add(self, reply: ChatReply) -> None:
        self.calls += 1
        if reply.cached:
            self.cache_hits += 1
            return  # a cached reply costs nothing
        self.prompt_tokens += reply.prompt_tokens
        self.completion_tokens += reply.completion_tokens
        self.max_prompt_tokens = max(self.max_prompt_tokens, reply.prompt_tokens)
        self.estimated_tokens = self.estimated_tokens or reply.estimated_tokens

    def summary(self) -> dict:
        return {
            "calls": self.calls,
            "cache_hits": self.cache_hits,
            "retries": self.retries,
            "failed_calls": self.failed_calls,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.total_tokens,
            "tokens_estimated": self.estimated_tokens,
            "cost_usd": round(self.cost_usd, 6),
            "price_per_mtok_usd": list(self.price_per_mtok),
        }


def price_for(model: str, override: Optional[tuple] = None) -> tuple:
    """(input, output) dollars per million tokens for ``model``; (0, 0) when unknown (local servers)."""
    if override is not None:
        return tuple(float(x) for x in override)
    return PRICES_PER_MTOK.get(model, (0.0, 0.0))


# --------------------------------------------------------------------------- the interface
class ChatClient:
    """Base class: ``chat`` checks the budget, calls ``_chat`` and records usage."""

    base_url: str = ""
    model: str = ""
    label: str = ""  # shown next to every reply this client produced

    def __init__(self, usage: Optional[Usage] = None):
        self.usage = usage or Usage()

    async def chat(self, messages: Messages, **params: Any) -> ChatReply:
        self.usage.check_budget()
        try:
            reply = await self._chat(messages, **params)
        except LLMError:
            self.usage.failed_calls += 1
            raise
        self.usage.add(reply)
        return reply

    async def _chat(self, messages: Messages, **params: Any) -> ChatReply:  # pragma: no cover
        raise NotImplementedError

    @property
    def is_offline(self) -> bool:
        return False
