"""One small chat interface, three backends, a disk cache and an accounting of tokens and cost.

Every backend answers ``await client.chat(messages, **params) -> ChatReply``, where
``messages`` is the OpenAI list of ``{"role": ..., "content": ...}`` dicts:

* :class:`OpenAIBackend`: any OpenAI-compatible server through the ``openai`` package
  (OpenAI itself, or Ollama, vLLM, llama.cpp through ``base_url`` alone). The key is read
  from the ``OPENAI_API_KEY`` environment variable and only from there; it is never printed,
  logged or saved (a local server may need none). Timeouts, and retries with exponential
  backoff on 429 and 5xx replies, are ours (the package's own retries are switched off so
  that retries are counted and the backoff can be made tiny in tests).
* :class:`OfflineBackend` (``macrobook.llm.offline``): a deterministic, rule-based stand-in
  that replies in the same message format. It is *not* a language model, and everything
  that shows its output labels it ``[offline stand-in]``.
* :class:`CachedClient`: wraps either backend. ``mode="record"`` answers from the cache when
  it can and stores new replies; ``mode="replay"`` answers only from the cache and raises
  :class:`CacheMiss` otherwise. The key is a SHA-256 of base_url, model, messages and the
  sampling parameters: unlike GPTeam's cache, the model is part of the key, so switching
  models never silently replays another model's answers.

:class:`Usage` counts calls, tokens, cost, retries and cache hits; with a :class:`Budget`
it raises :class:`BudgetExceeded` *before* a call that would start past the budget, which
the simulation turns into a clean stop.
"""
from __future__ import annotations

import asyncio
import hashlib
import json
import os
import random

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Dict, Optional

from ..config import Config, ConfigError, check_float, check_int
from .protocol import (Budget, BudgetExceeded, CacheMiss, ChatClient, ChatReply, LLMError, Messages, OFFLINE_LABEL, Usage, estimate_tokens, messages_tokens, price_for, redact_url, safe_display, scrub, url_secrets)  # noqa: F401  (re-exported)

@dataclass
class OpenAIConfig(Config):
    """Settings of the OpenAI-compatible backend (no key here: it comes from the environment)."""

    base_url: Optional[str] = None     # None: api.openai.com; e.g. http://localhost:11434/v1 for Ollama
    model: str = "gpt-4o-mini"
    timeout_s: float = 30.0
    max_retries: int = 4
    backoff_base_s: float = 1.0        # waits backoff_base_s * 2**attempt (+ jitter) between tries
    backoff_max_s: float = 30.0
    temperature: float = 0.7
    max_tokens: int = 300
    json_mode: bool = False            # ask for response_format={"type": "json_object"} (not every server has it)

    def validate(self) -> None:
        if self.base_url is not None and (not isinstance(self.base_url, str)
                                          or not self.base_url.startswith(("http://", "https://"))):
            raise ConfigError(f"OpenAIConfig.base_url (--base-url) must be an http:// or https:// URL, "
                              f"got {redact_url(str(self.base_url))!r}")
        if not isinstance(self.model, str) or not self.model:
            raise ConfigError(f"OpenAIConfig.model must be a non-empty string, got {self.model!r}")
        check_float(self, "timeout_s", min=0.0, min_open=True)
        check_int(self, "max_retries", min=0)
        check_float(self, "backoff_base_s", min=0.0)
        check_float(self, "backoff_max_s", min=0.0)
        check_float(self, "temperature", min=0.0, max=2.0)
        check_int(self, "max_tokens", min=1)


class OpenAIBackend(ChatClient):
    """Chat completions from any OpenAI-compatible server, asynchronously, through ``openai``."""

    def __init__(self, config: OpenAIConfig | None = None, usage: Optional[Usage] = None, seed: int = 0,
                 price_per_mtok: Optional[tuple] = None):
        super().__init__(usage)
        try:
            import openai  # noqa: F401  (optional dependency: pip install "macrobook[llm]")
        except ImportError as e:  # pragma: no cover - depends on the environment
            raise ConfigError("backend 'openai' needs the openai package: pip install 'macrobook[llm]'") from e
        self.config = config or OpenAIConfig()
        # credentials inside the URL (user:password@, ?api_key=) reach the server only: the
        # URL this object shows, and that cache keys, summaries and transcripts hold, is redacted
        self.base_url = redact_url(self.config.base_url or "https://api.openai.com/v1")
        self._secrets = url_secrets(self.config.base_url)
        self.max_reply_tokens = self.config.max_tokens
        self.model = self.config.model
        self.label = f"[{self.model}]"
        if price_per_mtok is not None or self.usage.price_per_mtok == (0.0, 0.0):
            self.usage.price_per_mtok = price_for(self.model, price_per_mtok)
        self._rng = random.Random(seed)  # backoff jitter, seeded
        # A local server needs no key, but the package insists on one: pass a placeholder
        # that is not a secret. The real key is read from the environment and kept only
        # inside the openai client object.
        key = os.environ.get("OPENAI_API_KEY") or "not-needed-for-local-servers"
        self._client = openai.AsyncOpenAI(api_key=key, base_url=self.config.base_url,
                                          timeout=self.config.timeout_s, max_retries=0)

    def __repr__(self) -> str:  # never shows the key (self.base_url is redacted)
        return f"OpenAIBackend(base_url={self.base_url!r}, model={self.model!r})"

    def _retryable(self, exc: Exception) -> bool:
        import openai

        if isinstance(exc, (openai.RateLimitError, openai.APITimeoutError, openai.APIConnectionError,
                            openai.InternalServerError)):
            return True
        return isinstance(exc, openai.APIStatusError) and exc.status_code >= 500

    async def _chat(self, messages: Messages, **params: Any) -> ChatReply:
        import openai

        c = self.config
        kwargs = {"temperature": params.get("temperature", c.temperature),
                  "max_tokens": params.get("max_tokens", c.max_tokens)}
        if params.get("json_mode", c.json_mode):
            kwargs["response_format"] = {"type": "json_object"}
        last: Exception | None = None
        for attempt in range(c.max_retries + 1):
            try:
                resp = await self._client.chat.completions.create(model=self.model, messages=messages, **kwargs)
                return self._to_reply(resp, messages)
            except LLMError:
                raise
            except Exception as exc:  # noqa: BLE001 - classified below, never crashes the caller
                last = exc
                if not self._retryable(exc) or attempt == c.max_retries:
                    break
                self.usage.retries += 1
                wait = min(c.backoff_max_s, c.backoff_base_s * 2 ** attempt) * (0.5 + self._rng.random())
                await asyncio.sleep(wait)
        kind = _error_kind(last, openai)
        raise LLMError(kind, scrub(f"{type(last).__name__}: {str(last)[:200]}", self._secrets))

    def _to_reply(self, resp: Any, messages: Messages) -> ChatReply:
        # Servers differ: some omit usage, some send malformed bodies (the openai package then
        # hands back a str or a half-filled object). Anything unusable becomes LLMError("bad_response").
        choices = getattr(resp, "choices", None)
        if not choices:
            raise LLMError("bad_response", "reply has no choices")
        msg = getattr(choices[0], "message", None)
        text = getattr(msg, "content", None) if msg is not None else None
        if not isinstance(text, str):
            raise LLMError("bad_response", "reply has no message content")
        usage = getattr(resp, "usage", None)
        pt = getattr(usage, "prompt_tokens", None) if usage is not None else None
        ct = getattr(usage, "completion_tokens", None) if usage is not None else None
        estimated = not (isinstance(pt, int) and isinstance(ct, int))
        if estimated:
            pt, ct = messages_tokens(messages), estimate_tokens(text)
        return ChatReply(text=text, prompt_tokens=pt, completion_tokens=ct, model=self.model,
                         estimated_tokens=estimated, backend="openai")


def _error_kind(exc: Exception | None, openai: Any) -> str:
    if exc is None:
        return "call_failed"
    if isinstance(exc, openai.RateLimitError):
        return "rate_limited"
    if isinstance(exc, openai.APITimeoutError):
        return "timeout"
    if isinstance(exc, openai.APIConnectionError):
        return "connection_error"
    if isinstance(exc, openai.APIStatusError):
        return f"http_{exc.status_code}"
    return "bad_response"


# --------------------------------------------------------------------------- the cache
def cache_key(base_url: str, model: str, messages: Messages, params: Dict[str, Any]) -> str:
    """SHA-256 of everything that determines a reply: server, model, messages, sampling params."""
    blob = json.dumps({"base_url": base_url, "model": model, "messages": messages, "params": params},
                      sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class CachedClient(ChatClient):
    """Record/replay cache on disk: one JSON file per request, named by its key.

    ``mode="record"``: hit -> cached reply (no cost); miss -> ask ``inner``, store, return.
    ``mode="replay"``: hit -> cached reply; miss -> :class:`CacheMiss` (no network at all).
    ``inner`` may be None in replay mode; then ``base_url`` and ``model`` must be given, since
    they are part of the key.
    """

    def __init__(self, inner: Optional[ChatClient], cache_dir: str | os.PathLike, mode: str = "record",
                 base_url: Optional[str] = None, model: Optional[str] = None, usage: Optional[Usage] = None):
        if mode not in ("record", "replay"):
            raise ConfigError(f"CachedClient.mode must be one of ['record', 'replay'], got {mode!r}")
        if inner is None and (mode != "replay" or base_url is None or model is None):
            raise ConfigError("CachedClient needs an inner client, or mode='replay' with base_url and model")
        super().__init__(usage or (inner.usage if inner is not None else None))
        if inner is not None:
            inner.usage = self.usage  # one account for the run; the inner client must not count twice
        self.inner = inner
        self.mode = mode
        self.cache_dir = Path(cache_dir)
        self.base_url = redact_url(base_url) if base_url is not None else inner.base_url
        self.max_reply_tokens = inner.max_reply_tokens if inner is not None else ChatClient.max_reply_tokens
        self.model = model if model is not None else inner.model
        from .offline import OfflineBackend

        # Replies recorded from the offline stand-in keep its label when replayed: they are
        # still rule-based replies, never a language model's.
        self._offline = inner.is_offline if inner is not None else self.model == OfflineBackend.MODEL
        if self._offline:
            self.label = OFFLINE_LABEL if inner is not None else f"{OFFLINE_LABEL} (replayed)"
        else:
            self.label = inner.label if inner is not None else f"[replay of {self.model}]"
        self.misses = 0

    @property
    def is_offline(self) -> bool:
        """True when the replies come from the offline stand-in (live or replayed)."""
        return self._offline

    def path_for(self, key: str) -> Path:
        return self.cache_dir / key[:2] / f"{key}.json"

    async def chat(self, messages: Messages, **params: Any) -> ChatReply:
        key = cache_key(self.base_url, self.model, messages, params)
        path = self.path_for(key)
        if path.exists():
            try:
                d = json.loads(path.read_text(encoding="utf-8"))
                if "error" in d:
                    # a call that failed while recording: replay fails it the same way (so the
                    # simulation takes the same fallback); recording again tries the server anew
                    if self.mode == "replay":
                        self.usage.failed_calls += 1
                        raise LLMError(str(d["error"]["kind"]), f"{d['error']['message']} (recorded failure, replayed)")
                else:
                    reply = ChatReply(**{**d["reply"], "cached": True})
                    self.usage.add(reply)
                    return reply
            except (json.JSONDecodeError, KeyError, TypeError):
                pass  # a damaged entry counts as a miss and is overwritten in record mode
        self.misses += 1
        if self.mode == "replay":
            self.usage.failed_calls += 1
            first = messages[-1]["content"][:80].replace("\n", " ") if messages else ""
            raise CacheMiss(f"no cached reply for model={self.model!r} base_url={self.base_url!r} "
                            f"key={key[:16]}... (last message starts {first!r}); record it first with "
                            f"backend openai/offline and the same cache directory")
        from ..io import atomic_write_json

        self.usage.check_budget()
        claim = self.usage.reserve(messages_tokens(messages), self.reply_bound(params))
        try:
            reply = await self.inner._chat(messages, **params)
        except LLMError as e:
            self.usage.failed_calls += 1
            atomic_write_json(path, {"key": key, "base_url": self.base_url, "model": self.model,
                                     "messages": messages, "params": params,
                                     "error": {"kind": e.kind, "message": str(e).removeprefix(f"{e.kind}: ")}})
            raise
        finally:
            self.usage.release(claim)
        self.usage.add(reply)
        atomic_write_json(path, {"key": key, "base_url": self.base_url, "model": self.model,
                                 "messages": messages, "params": params,
                                 "reply": {k: v for k, v in asdict(reply).items() if k != "cached"}})
        return reply


def make_client(backend: str, *, seed: int = 0, base_url: Optional[str] = None, model: Optional[str] = None,
                cache_dir: Optional[str] = None, budget: Optional[Budget] = None,
                price_per_mtok: Optional[tuple] = None, **openai_kwargs: Any) -> ChatClient:
    """Build the client for ``backend`` in {"offline", "openai", "replay"}.

    ``openai`` with a ``cache_dir`` records every reply (a later ``replay`` run with the same
    cache_dir, base_url and model needs no server); ``offline`` may also record.
    """
    from .offline import OfflineBackend

    if backend not in ("offline", "openai", "replay"):
        raise ConfigError(f"backend must be one of ['offline', 'openai', 'replay'], got {backend!r}")
    usage = Usage(budget=budget or Budget())
    if backend == "offline":
        inner: ChatClient = OfflineBackend(seed=seed, usage=usage)
    elif backend == "openai":
        cfg = OpenAIConfig(base_url=base_url, model=model or "gpt-4o-mini", **openai_kwargs)
        inner = OpenAIBackend(cfg, usage=usage, seed=seed, price_per_mtok=price_per_mtok)
    else:
        if cache_dir is None:
            raise ConfigError("backend 'replay' needs cache_dir (the directory a recorded run wrote)")
        if model is None:
            raise ConfigError("backend 'replay' needs model (it is part of every cache key)")
        usage.price_per_mtok = price_for(model, price_per_mtok)
        url = base_url or ("offline://stand-in" if model == OfflineBackend.MODEL else "https://api.openai.com/v1")
        return CachedClient(None, cache_dir, mode="replay", base_url=url, model=model, usage=usage)
    if cache_dir is not None:
        return CachedClient(inner, cache_dir, mode="record", usage=usage)
    return inner
