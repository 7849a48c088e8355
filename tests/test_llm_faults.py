"""LLM faults from issue 18: failed calls replay, budgets hold under concurrency, credentials in a
server URL never leave the client, and bidi control characters are shown, not obeyed."""
import asyncio
import json

from macrobook.llm import Budget, CachedClient, ChatReply, LLMError, OfflineBackend, OpenAIBackend, OpenAIConfig, Usage, make_client
from macrobook.llm.diverseland import DiverselandSimulation, SimulationConfig, format_transcript
from macrobook.llm.protocol import redact_url, safe_display


class _Flaky(OfflineBackend):
    """The offline stand-in, but every third distinct request fails as a server error would."""

    async def _chat(self, messages, **params):
        if sum(map(ord, messages[-1]["content"])) % 3 == 0:
            raise LLMError("http_500", "server error")
        return await super()._chat(messages, **params)


def test_a_recording_with_failed_calls_replays(tmp_path):
    """Finding: a recording with any failed call could not be replayed (cache miss). Before:
    CacheMiss at the first failed request."""
    cfg = SimulationConfig(steps=2, seed=0, re_draws=2)
    inner = _Flaky(seed=0)
    rec = DiverselandSimulation(CachedClient(inner, tmp_path, mode="record"), cfg).run()
    assert rec.summary["failed_calls"] > 0          # the recording did see failures
    rep = DiverselandSimulation(make_client("replay", cache_dir=tmp_path, model=OfflineBackend.MODEL), cfg).run()
    assert [(r["text"], r.get("fallback")) for r in rep.transcript] == \
        [(r["text"], r.get("fallback")) for r in rec.transcript]
    assert rep.summary["failed_calls"] == rec.summary["failed_calls"] and rep.summary["total_tokens"] == 0


class _Slow(OfflineBackend):
    async def _chat(self, messages, **params):
        await asyncio.sleep(0.01)
        return ChatReply(text="{}", prompt_tokens=60, completion_tokens=40, model=self.MODEL, backend="test")


def test_token_budget_is_not_overshot_by_concurrent_calls():
    """Finding: --budget-tokens 300 stopped at 560 tokens (calls in flight all passed the check).
    Before: 10 concurrent calls of 100 tokens spent 1000 against a budget of 300."""
    client = _Slow(seed=0, usage=Usage(budget=Budget(max_tokens=300)))
    client.max_reply_tokens = 40

    async def many():
        return await asyncio.gather(*[client.chat([{"role": "user", "content": "x" * 200}]) for _ in range(10)],
                                    return_exceptions=True)

    results = asyncio.run(many())
    done = [r for r in results if isinstance(r, ChatReply)]
    assert 1 <= len(done) and client.usage.total_tokens <= 300
    assert client.usage.reserved_tokens == (0, 0)


def test_token_budget_holds_in_the_simulation():
    client = _Slow(seed=0, usage=Usage(budget=Budget(max_tokens=1500)))
    client.max_reply_tokens = 40
    res = DiverselandSimulation(client, SimulationConfig(steps=5, seed=0, re_draws=2, concurrency=6)).run()
    assert res.summary["stopped"] != "completed" and 0 < res.summary["total_tokens"] <= 1500


def test_credentials_in_the_server_url_are_redacted_everywhere(tmp_path, capsys, monkeypatch):
    """Finding: a key inside --base-url was printed and saved in summary.json. Before: the URL
    with the key appeared in stdout, summary.json and every cache entry."""
    from macrobook.cli import main

    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    url = "http://alice:PASSWORD-XYZ@127.0.0.1:9/v1?api_key=QUERYKEY-XYZ&region=eu"
    assert redact_url(url) == "http://***@127.0.0.1:9/v1?api_key=***&region=eu"
    backend = OpenAIBackend(OpenAIConfig(base_url=url, model="m", timeout_s=0.2, max_retries=0))
    assert "XYZ" not in repr(backend) + backend.base_url
    rc = main(["llm", "diverseland", "--backend", "openai", "--base-url", url, "--model", "m", "--steps", "1",
               "--pretrain-steps", "0", "--re-draws", "2", "--max-retries", "0", "--timeout", "0.2",
               "--cache-dir", str(tmp_path / "cache"), "--output-dir", str(tmp_path / "run")])
    out = capsys.readouterr()
    assert rc == 0
    files = "".join(p.read_text(errors="replace") for p in tmp_path.rglob("*") if p.is_file() and p.suffix != ".png")
    assert "127.0.0.1:9" in out.out and "127.0.0.1:9" in files     # the server is named ...
    assert "XYZ" not in out.out + out.err + files                    # ... its credentials are not


def test_bidi_controls_are_neutralised_when_shown():
    """Finding: server text with bidi control characters was shown verbatim. Before: the transcript
    view printed U+202E, which reverses what a reader sees."""
    evil = "I expect 2% \u202einflation\u202c, \u2066ok\u2069"
    rec = {"step": 1, "agent": "A", "kind": "act", "text": evil, "backend": "[m]"}
    shown = format_transcript([rec])
    assert "<U+202E>" in shown and not any(c in shown for c in "\u202e\u202c\u2066\u2069")
    assert safe_display("plain text") == "plain text"
