"""What every chat backend shares: the reply, usage and budget records, token estimates, the
``ChatClient`` interface and the label of the offline stand-in. The OpenAI-compatible client
(:mod:`.client`) and the offline stand-in (:mod:`.offline`) both build on this module."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

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

#: query parameters of a server URL that carry credentials
_SECRET_QUERY = re.compile(r"(key|token|secret|password|passwd|pwd|auth|signature|sig|credential)", re.I)


def redact_url(url: Optional[str]) -> Optional[str]:
    """``url`` with its credentials replaced by ``***``: a user and password before the host
    (``https://user:pass@host``) and query parameters named like a key or token
    (``?api_key=...``). What is printed, stored in summaries, transcripts and cache entries, and
    used in cache keys; only the client itself sees the real URL."""
    if not url:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return "***"
    netloc = parts.netloc
    if "@" in netloc:
        netloc = "***@" + netloc.rsplit("@", 1)[1]
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(k, "***" if _SECRET_QUERY.search(k) else v) for k, v in pairs], safe="*")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def url_secrets(url: Optional[str]) -> List[str]:
    """The credential strings inside ``url`` (to scrub them from error messages)."""
    if not url:
        return []
    try:
        parts = urlsplit(url)
    except ValueError:
        return [url]
    out = []
    if "@" in parts.netloc:
        userinfo = parts.netloc.rsplit("@", 1)[0]
        out += [userinfo] + [x for x in userinfo.split(":") if x]
    out += [v for k, v in parse_qsl(parts.query, keep_blank_values=True) if _SECRET_QUERY.search(k) and v]
    return sorted(set(out), key=len, reverse=True)


def scrub(text: str, secrets: List[str]) -> str:
    for s_ in secrets:
        text = text.replace(s_, "***")
    return text


#: Unicode controls that reorder displayed text (Trojan Source, CVE-2021-42574) or hide it
_BIDI = re.compile("[\u061c\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def safe_display(text: str) -> str:
    """``text`` for a terminal or a page: bidirectional and zero-width control characters from a
    server are shown as visible ``<U+202E>`` marks instead of silently reordering what a reader
    sees. Stored transcripts keep the server's text as it came; this is applied when showing."""
    return _BIDI.sub(lambda m: f"<U+{ord(m.group()):04X}>", text)


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
    reserved_tokens: tuple = (0, 0)  # (prompt, completion) tokens of calls in flight, at their upper bounds

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

    def _cost(self, prompt: int, completion: int) -> float:
        pin, pout = self.price_per_mtok
        return (prompt * pin + completion * pout) / 1e6

    def reserve(self, prompt_tokens: int, completion_bound: int) -> tuple:
        """Before a call: claim its worst case (its prompt and the longest reply it may get) so that
        concurrent calls cannot together pass the budget; raise BudgetExceeded if the claim would.
        Returns the claim, to :meth:`release` once the call has ended."""
        b = self.budget
        rp, rc = self.reserved_tokens
        tokens = self.total_tokens + rp + rc + prompt_tokens + completion_bound
        cost = self.cost_usd + self._cost(rp + prompt_tokens, rc + completion_bound)
        if b.max_tokens is not None and tokens > b.max_tokens:
            raise BudgetExceeded(f"token budget: {self.total_tokens} spent + {rp + rc} in flight + up to "
                                 f"{prompt_tokens + completion_bound} for the next call > {b.max_tokens}")
        if b.max_usd is not None and cost > b.max_usd:
            raise BudgetExceeded(f"cost budget: ${self.cost_usd:.4f} spent, ${cost:.4f} with the calls in flight "
                                 f"and the next one > ${b.max_usd:.4f}")
        claim = (int(prompt_tokens), int(completion_bound))
        self.reserved_tokens = (rp + claim[0], rc + claim[1])
        return claim

    def release(self, claim: tuple) -> None:
        rp, rc = self.reserved_tokens
        self.reserved_tokens = (rp - claim[0], rc - claim[1])

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
    max_reply_tokens: int = 300  # the longest reply a call may bring (what a budget reserves for it)

    def __init__(self, usage: Optional[Usage] = None):
        self.usage = usage or Usage()

    def reply_bound(self, params: Dict[str, Any]) -> int:
        return int(params.get("max_tokens") or self.max_reply_tokens)

    async def chat(self, messages: Messages, **params: Any) -> ChatReply:
        self.usage.check_budget()
        claim = self.usage.reserve(messages_tokens(messages), self.reply_bound(params))
        try:
            reply = await self._chat(messages, **params)
        except LLMError:
            self.usage.failed_calls += 1
            raise
        finally:
            self.usage.release(claim)
        self.usage.add(reply)
        return reply

    async def _chat(self, messages: Messages, **params: Any) -> ChatReply:  # pragma: no cover
        raise NotImplementedError

    @property
    def is_offline(self) -> bool:
        return False
