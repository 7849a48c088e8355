"""LLM-augmented agents: clients, memory, structured messages and the observe/react/plan/act/reflect loop.

See the chapter "LLM-augmented agents" (notebooks/05_llm_agents.ipynb). Backends:
``make_client("offline" | "openai" | "replay", ...)``. The offline backend is a rule-based
stand-in, labelled ``[offline stand-in]`` wherever its output is shown.
"""
from .agent import Event, LLMAgent, Persona, build_prompt
from .client import (OFFLINE_LABEL, Budget, BudgetExceeded, CachedClient, CacheMiss, ChatClient, ChatReply,
                     LLMError, OpenAIBackend, OpenAIConfig, Usage, cache_key, make_client)
from .memory import MemoryStream, hashed_embedding, rate_importance
from .messages import FALLBACK_KINDS, FallbackCounter, parse_reply
from .offline import OfflineBackend

__all__ = ["Event", "LLMAgent", "Persona", "build_prompt", "OFFLINE_LABEL", "Budget", "BudgetExceeded",
           "CachedClient", "CacheMiss", "ChatClient", "ChatReply", "LLMError", "OpenAIBackend", "OpenAIConfig",
           "Usage", "cache_key", "make_client", "MemoryStream", "hashed_embedding", "rate_importance",
           "FALLBACK_KINDS", "FallbackCounter", "parse_reply", "OfflineBackend"]
