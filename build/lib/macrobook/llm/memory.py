"""An agent's memory: an event stream retrieved by recency, importance and relevance.

Following Park et al. (2023, {cite}`park2023generative`, section 4.1) and GPTeam, a memory
is scored as

    score = w_recency * decay**(t_now - t_memory) + w_importance * importance / 10
            + w_relevance * cos(embed(query), embed(memory))

with equal weights by default. Relevance uses *hashed embeddings*: words and word pairs
hashed into a fixed-size vector (the "hashing trick", Weinberger et al. 2009), so nothing
is downloaded and the same text always gives the same vector. Importance (1-10) is rated
by a transparent rule (:func:`rate_importance`) instead of an extra LLM call per event.
"""
from __future__ import annotations

import functools
import hashlib
import math
import re
from dataclasses import dataclass, field
from typing import List, Optional, Sequence

import torch

_WORD = re.compile(r"[a-z0-9]+(?:\.[0-9]+)?")
_STOP = frozenset("a an the of to and or in on for at by is are be was were it this that we our i you your "
                  "with as from will would can could should my me".split())


def tokenize(text: str) -> List[str]:
    return [w for w in _WORD.findall(text.lower()) if w not in _STOP]


def hashed_embedding(text: str, dim: int = 256) -> torch.Tensor:
    """Unit vector of hashed unigram and bigram counts (signed hashing to reduce collisions)."""
    return _hashed_embedding(text, dim).clone()


@functools.lru_cache(maxsize=8192)
def _hashed_embedding(text: str, dim: int) -> torch.Tensor:
    v = [0.0] * dim
    words = tokenize(text)
    for gram in words + [f"{a}_{b}" for a, b in zip(words, words[1:])]:
        h = int.from_bytes(hashlib.blake2b(gram.encode(), digest_size=8).digest(), "little")
        v[h % dim] += 1.0 if (h >> 63) & 1 else -1.0
    t = torch.tensor(v)
    n = t.norm()
    return t / n if n > 0 else t


def rate_importance(text: str, agent_name: str, keywords: Sequence[str] = ()) -> float:
    """Importance on 1-10 by rule: messages to this agent, policy news, its own goods and
    numbers matter more. (GPTeam asks the LLM for this number; a rule costs nothing and is
    reproducible, at the price of missing nuance.)"""
    t = text.lower()
    score = 2.0
    if agent_name.lower() in t:
        score += 3.0
    if any(w in t for w in ("rate", "stimulus", "inflation", "policy")):
        score += 2.0
    if any(k.lower() in t for k in keywords):
        score += 1.5
    score += min(2.0, 0.5 * len(re.findall(r"\d", t)) / 2)
    return float(min(10.0, max(1.0, score)))


@dataclass
class MemoryEntry:
    t: int
    text: str
    importance: float
    kind: str = "observation"   # observation | reflection | plan | action
    embedding: Optional[torch.Tensor] = field(default=None, repr=False)


class MemoryStream:
    """An append-only list of memories with scored retrieval and a reflection trigger.

    ``reflection_threshold``: when the summed importance of memories added since the last
    reflection passes it, ``needs_reflection`` becomes True (Park et al. 2023 use 150 on their
    scale; GPTeam 500). The agent then writes a reflection and calls ``mark_reflected``.
    """

    def __init__(self, decay: float = 0.95, weights=(1.0, 1.0, 1.0), dim: int = 256,
                 reflection_threshold: float = 40.0):
        self.entries: List[MemoryEntry] = []
        self.decay = decay
        self.weights = weights
        self.dim = dim
        self.reflection_threshold = reflection_threshold
        self.importance_since_reflection = 0.0

    def __len__(self) -> int:
        return len(self.entries)

    def add(self, t: int, text: str, importance: float, kind: str = "observation") -> MemoryEntry:
        e = MemoryEntry(t, text, float(importance), kind, hashed_embedding(text, self.dim))
        self.entries.append(e)
        self._emb = None
        if kind != "reflection":
            self.importance_since_reflection += e.importance
        return e

    @property
    def needs_reflection(self) -> bool:
        return self.importance_since_reflection >= self.reflection_threshold

    def mark_reflected(self) -> None:
        self.importance_since_reflection = 0.0

    def scores(self, query: str, t_now: int) -> torch.Tensor:
        """Score of every memory for ``query`` at time ``t_now`` (one vectorised pass)."""
        if not self.entries:
            return torch.zeros(0)
        w_rec, w_imp, w_rel = self.weights
        ts = torch.tensor([e.t for e in self.entries], dtype=torch.float32)
        imp = torch.tensor([e.importance for e in self.entries])
        if getattr(self, "_emb", None) is None or len(self._emb) != len(self.entries):
            self._emb = torch.stack([e.embedding for e in self.entries])  # rebuilt only after additions
        emb = self._emb
        q = hashed_embedding(query, self.dim)
        recency = self.decay ** (t_now - ts).clamp_min(0)
        relevance = emb @ q
        return w_rec * recency + w_imp * imp / 10.0 + w_rel * relevance

    def retrieve(self, query: str, t_now: int, k: int = 5) -> List[MemoryEntry]:
        """The ``k`` best memories for ``query``; ties go to the newer memory."""
        s = self.scores(query, t_now)
        if len(s) == 0:
            return []
        # stable ordering: by score, then recency (index), so retrieval is deterministic
        order = sorted(range(len(s)), key=lambda i: (-round(float(s[i]), 6), -i))
        return [self.entries[i] for i in order[:k]]

    def since(self, t: int) -> List[MemoryEntry]:
        return [e for e in self.entries if e.t >= t]
