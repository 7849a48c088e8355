"""The real ``openai`` client against a small OpenAI-compatible server started by the test.

The server (stdlib http.server on 127.0.0.1, in a thread, a bounded number of requests)
serves chat completions by a fixed script: good replies, a slow reply (past the client's
timeout), a 429 then success, a 500, a malformed body, a body with missing fields, a reply
whose JSON lacks the required fields, and prose without JSON. The Diverseland simulation must
finish every time and count its fallbacks. The command line is driven against it too.
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
SCRIPT = ["ok", "ok", "slow", "ok", "429", "ok", "500", "500", "ok", "malformed", "missing", "prose", "ok", "prose",
          "partial"]
TIMEOUT_S = 1.0     # the client's timeout per request
SLOW_S = 1.5        # a slow reply takes this long: past the timeout


@pytest.fixture(autouse=True)
def _local_only(monkeypatch):
    # Requests to 127.0.0.1 must never go through a proxy from the environment.
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)


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
                    time.sleep(SLOW_S)  # past the client's timeout: the client gives up and retries
                    mode = "ok"
                if mode in ("429", "500"):
                    return self._send(int(mode), {"error": {"message": "try later", "type": "server"}})
                if mode == "malformed":
                    return self._send(200, None, raw=b'{"choices": [{"message": {"content": "trunc')
                if mode == "missing":
                    return self._send(200, {"id": "x", "object": "chat.completion"})
                content = {"prose": "I think inflation will be moderate.",
                           "partial": json.dumps({"recipient": "Firm"}),     # valid JSON, required fields absent
                           }.get(mode, json.dumps(_answer(task)))
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
    cfg = OpenAIConfig(base_url=url, model="test-model", timeout_s=TIMEOUT_S, max_retries=1, backoff_base_s=0.001,
                       backoff_max_s=0.01)
    return OpenAIBackend(cfg, usage=usage, price_per_mtok=(1.0, 2.0))


def test_simulation_survives_a_misbehaving_server(monkeypatch, capsys, caplog):
    import logging

    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    with _Server(SCRIPT) as srv:
        client = _client(srv.url)
        res = DiverselandSimulation(client, SimulationConfig(steps=3, seed=0, concurrency=1, re_draws=4)).run()
    s = res.summary
    assert s["steps"] == 3 and s["stopped"] == "completed"
    fb = s["fallbacks"]
    assert fb["call_failed"] >= 1          # 500 twice in a row: out of retries
    assert fb["no_json"] >= 1              # prose without JSON (twice per script cycle)
    assert fb["missing_field"] >= 1        # JSON without the fields the task asked for
    assert s["retries"] >= 2               # the 429 and the slow reply were retried
    assert s["failed_calls"] == fb["call_failed"]
    assert s["prompt_tokens"] > 0 and s["cost_usd"] > 0
    # the key went to the server, and nowhere else
    assert f"Bearer {SECRET}" in srv.auth
    captured = capsys.readouterr()
    dumped = (json.dumps(res.transcript) + json.dumps(s) + repr(client) + captured.out + captured.err
              + caplog.text + res.expectations.to_csv())
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


@pytest.mark.parametrize("first", ["429", "slow"])
def test_retry_with_backoff_then_success(first):
    import asyncio

    with _Server([first, "ok"], max_requests=4) as srv:
        client = _client(srv.url)
        reply = asyncio.run(client.chat([{"role": "user", "content": "TASK: plan"}]))
    assert json.loads(reply.text) == {"plan": "keep buying"}
    assert client.usage.retries == 1 and client.usage.failed_calls == 0 and client.usage.calls == 1
    assert client.usage.cost_usd == pytest.approx((100 * 1.0 + 20 * 2.0) / 1e6)   # the server's usage, priced


def test_cli_records_against_a_local_server_then_replays_without_it(tmp_path, monkeypatch, capsys):
    """The CLI with --base-url alone (no key), recording to a cache; then replay with the server gone."""
    from macrobook.cli import main as cli_main

    def main(argv):
        return cli_main(["llm", *argv])

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    common = ["diverseland", "--steps", "2", "--seed", "0", "--pretrain-steps", "8", "--re-draws", "4",
              "--cache-dir", str(tmp_path / "cache")]
    with _Server(["ok", "prose"], max_requests=200) as srv:
        rc = main(common + ["--backend", "openai", "--base-url", srv.url, "--model", "test-model",
                            "--timeout", "2", "--max-retries", "1", "--backoff", "0.001",
                            "--output-dir", str(tmp_path / "live")])
        url = srv.url
    printed = capsys.readouterr().out
    assert rc == 0
    assert printed.index("estimated cost before any call") < printed.index("steps (completed)")
    assert "absent (fine for a local server)" in printed
    live = json.loads((tmp_path / "live" / "summary.json").read_text())
    assert live["steps"] == 2 and live["calls"] > 0 and live["cache_hits"] == 0
    assert live["fallbacks"]["no_json"] >= 1 and live["model"] == "test-model" and not live["offline_stand_in"]
    for f in ("transcript.jsonl", "expectations.csv", "expectations.png"):
        assert (tmp_path / "live" / f).exists()

    rc = main(common + ["--backend", "replay", "--base-url", url, "--model", "test-model",
                        "--output-dir", str(tmp_path / "replay")])
    assert rc == 0
    rep = json.loads((tmp_path / "replay" / "summary.json").read_text())
    assert rep["cache_hits"] == rep["calls"] == live["calls"] and rep["cost_usd"] == 0
    strip = lambda p: [{k: v for k, v in json.loads(x).items() if k != "backend"}  # noqa: E731
                       for x in p.read_text().splitlines()]
    assert strip(tmp_path / "replay" / "transcript.jsonl") == strip(tmp_path / "live" / "transcript.jsonl")

    # the model is part of the key: replaying under another model's name fails clearly
    capsys.readouterr()
    rc = main(common + ["--backend", "replay", "--base-url", url, "--model", "other-model",
                        "--output-dir", str(tmp_path / "wrong")])
    assert rc == 1 and "no cached reply for model='other-model'" in capsys.readouterr().err
    assert not (tmp_path / "wrong" / "summary.json").exists()


def test_cli_against_a_local_server_estimates_first_and_never_writes_the_key(monkeypatch, tmp_path):
    import contextlib
    import io

    from macrobook.cli import main
    from macrobook.llm.client import OpenAIBackend

    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    out, err = io.StringIO(), io.StringIO()
    seen_before_first_call = []
    original = OpenAIBackend._chat

    async def watched(self, messages, **params):
        if not seen_before_first_call:
            seen_before_first_call.append(out.getvalue())
        return await original(self, messages, **params)

    monkeypatch.setattr(OpenAIBackend, "_chat", watched)
    with _Server(SCRIPT) as srv, contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(["llm", "diverseland", "--steps", "2", "--backend", "openai", "--base-url", srv.url,
                   "--model", "test-model", "--price-in", "1.0", "--price-out", "2.0", "--timeout", str(TIMEOUT_S),
                   "--max-retries", "1", "--backoff", "0.001", "--pretrain-steps", "0", "--re-draws", "2",
                   "--concurrency", "1", "--cache-dir", str(tmp_path / "cache"), "--output-dir", str(tmp_path / "run")])
    assert rc == 0, err.getvalue()
    assert "estimated cost before any call: about $" in seen_before_first_call[0]   # before the first request
    s = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert s["steps"] == 2 and s["stopped"] == "completed" and s["fallbacks_total"] >= 1
    assert s["cost_usd"] > 0 and s["offline_stand_in"] is False
    everything = out.getvalue() + err.getvalue() + "".join(
        p.read_text(errors="replace") for p in tmp_path.rglob("*") if p.is_file() and p.suffix != ".png")
    assert SECRET not in everything
    assert "API key (OPENAI_API_KEY): present" in out.getvalue()
