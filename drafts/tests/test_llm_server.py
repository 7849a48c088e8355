"""The real ``openai`` client against a small OpenAI-compatible server started by the test.

The server (stdlib http.server on 127.0.0.1, in a thread, a bounded number of requests)
serves chat completions by a fixed script: good replies, a slow reply (past the client's
timeout), a 429 then success, a 500, a malformed body, a body with missing fields, and prose
without JSON. The Diverseland simulation must finish every time and count its fallbacks.
"""
import itertools
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

openai = pytest.importorskip("openai")

from macrobook.llm import OpenAIBackend, OpenAIConfig, Usage  # noqa: E402
from macrobook.llm.diverseland import DiverselandSimulation, SimulationConfig  # noqa: E402

SECRET = "sk-test-never-print-me-1234567890"
SCRIPT = ["ok", "ok", "slow", "ok", "429", "ok", "500", "500", "ok", "malformed", "missing", "prose", "ok", "prose"]


def _answer(task):
    return {"react": {"decision": "continue", "reason": "all fine"},
            "plan": {"plan": "keep buying"},
            "reflect": {"reflection": "prices rose"},
            }.get(task, {"recipient": "Firm", "message": "Hello, I expect 2.2% inflation.",
                         "inflation_expectation_percent": 2.2, "prices_usd": {"basic": 2.0}})


class _Server:
    def __init__(self, script, max_requests=400):
        self.script = itertools.cycle(script)
        self.lock = threading.Lock()
        self.count = 0
        self.max_requests = max_requests
        self.auth = set()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):  # quiet
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.auth.add(self.headers.get("Authorization", ""))
                with outer.lock:
                    outer.count += 1
                    mode = next(outer.script)
                task = re.search(r"TASK: (\w+)", body["messages"][-1]["content"]).group(1)
                if mode == "slow":
                    time.sleep(3.0)  # past the client's timeout: the client gives up and retries
                    mode = "ok"
                if mode in ("429", "500"):
                    return self._send(int(mode), {"error": {"message": "try later", "type": "server"}})
                if mode == "malformed":
                    return self._send(200, None, raw=b'{"choices": [{"message": {"content": "trunc')
                if mode == "missing":
                    return self._send(200, {"id": "x", "object": "chat.completion"})
                content = ("I think inflation will be moderate." if mode == "prose"
                           else json.dumps(_answer(task)))
                self._send(200, {"id": "c1", "object": "chat.completion", "created": 0, "model": body["model"],
                                 "choices": [{"index": 0, "finish_reason": "stop",
                                              "message": {"role": "assistant", "content": content}}],
                                 "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120}})

            def _send(self, status, obj, raw=None):
                data = raw if raw is not None else json.dumps(obj).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client timed out and left

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.timeout = 0.2
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self):
        deadline = time.time() + 120  # stops itself, whatever happens to the test
        while not self.stop.is_set() and self.count < self.max_requests and time.time() < deadline:
            self.httpd.handle_request()
        self.httpd.server_close()

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(timeout=5)


def _client(url, usage=None):
    cfg = OpenAIConfig(base_url=url, model="test-model", timeout_s=2.0, max_retries=1, backoff_base_s=0.001,
                       backoff_max_s=0.01)
    return OpenAIBackend(cfg, usage=usage, price_per_mtok=(1.0, 2.0))


def test_simulation_survives_a_misbehaving_server(monkeypatch, capsys):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    with _Server(SCRIPT) as srv:
        client = _client(srv.url)
        res = DiverselandSimulation(client, SimulationConfig(steps=3, seed=0, concurrency=1, re_draws=4)).run()
    s = res.summary
    assert s["steps"] == 3 and s["stopped"] == "completed"
    fb = s["fallbacks"]
    assert fb["call_failed"] >= 1          # 500 twice in a row: out of retries
    assert fb["no_json"] >= 1              # prose without JSON (twice per script cycle)
    assert s["retries"] >= 2               # the 429 and the slow reply were retried
    assert s["failed_calls"] == fb["call_failed"]
    assert s["prompt_tokens"] > 0 and s["cost_usd"] > 0
    # the key went to the server, and nowhere else
    assert f"Bearer {SECRET}" in srv.auth
    dumped = json.dumps(res.transcript) + json.dumps(s) + repr(client) + capsys.readouterr().out
    assert SECRET not in dumped
    assert all(r["backend"] in ("[test-model]", "simulation") for r in res.transcript)


@pytest.mark.parametrize("mode, kind", [("500", "http_500"), ("malformed", None), ("missing", "bad_response"),
                                        ("429", "rate_limited")])
def test_each_failure_becomes_an_llm_error(mode, kind):
    import asyncio

    from macrobook.llm import LLMError

    with _Server([mode], max_requests=10) as srv:
        client = _client(srv.url)
        with pytest.raises(LLMError) as e:
            asyncio.run(client.chat([{"role": "user", "content": "TASK: plan"}]))
    if kind:
        assert e.value.kind == kind
    assert client.usage.failed_calls == 1
