"""macrobook.llm: parsing, memory, cache, budget, offline determinism, and the Diverseland economy."""
import asyncio
import json

import pytest
import torch

from macrobook.config import ConfigError
from macrobook.envs.diverseland import Diverseland
from macrobook.llm import (Budget, CachedClient, CacheMiss, MemoryStream, OfflineBackend, cache_key, hashed_embedding,
                           make_client, parse_reply)
from macrobook.llm.diverseland import DiverselandSimulation, SimulationConfig, format_transcript

torch.set_num_threads(1)


# ------------------------------------------------------------------ parsing
@pytest.mark.parametrize("text, value, problem", [
    ('{"message": "hi", "inflation_expectation_percent": 2.5}', 2.5, None),
    ('Sure! ```json\n{"message": "hi", "inflation_expectation_percent": "3.1%"}\n``` hope that helps', 3.1, None),
    ("{'message': 'hi', 'inflation_expectation_percent': 1.5,}", 1.5, None),          # single quotes, comma
    ("I expect inflation of around 1.5% next year.", 1.5, "no_json"),                 # prose: regex fallback
    ("Tech prices fell 10% this year, but I expect inflation of 2%.", 2.0, "no_json"),  # the closest to inflation
    ("Sorry, no numbers this quarter.", None, "no_json"),
    ('{"message": "hi", "inflation_expectation_percent": 900}', None, "out_of_range"),
    ('{"message": "hi"}', None, "missing_field"),
    ('{"message": "hi", "inflation_expectation_percent": 2.0', None, "invalid_json"),  # truncated
    ("", None, "no_json"),
])
def test_parse_act_reply(text, value, problem):
    data, got = parse_reply("act", text)
    assert got == problem
    assert data.get("inflation_expectation_percent") == value


def test_parse_prices_and_react():
    data, p = parse_reply("act", '{"message": "m", "inflation_expectation_percent": 2, '
                                 '"prices_usd": {"Basic": "$1.25", "tech": 40}}')
    assert p is None and data["prices_usd"] == {"basic": 1.25, "tech": 40.0}
    assert parse_reply("react", '{"decision": "Continue", "reason": "fine"}') == ({"decision": "continue",
                                                                                    "reason": "fine"}, None)
    assert parse_reply("react", '{"decision": "maybe"}')[1] == "out_of_range"


# ------------------------------------------------------------------ memory
def test_memory_retrieval_weighs_relevance_recency_importance():
    m = MemoryStream()
    m.add(0, "the central bank raised the policy rate", 5.0)
    m.add(5, "household B bought tech gadgets", 5.0)
    m.add(5, "the weather was nice", 5.0)
    assert m.retrieve("policy rate decision", t_now=5, k=1)[0].text.startswith("the central bank")
    # with equal relevance the newer memory wins
    assert m.retrieve("nothing in common", t_now=5, k=1)[0].t == 5
    m.add(5, "a very important announcement", 10.0)
    assert m.needs_reflection is False and m.importance_since_reflection == 25.0


# ------------------------------------------------------------------ cache and budget
def _ask(client, content="TASK: plan\nCONTEXT_JSON: {\"goal\": \"g\"}"):
    return asyncio.run(client.chat([{"role": "user", "content": content}]))


def test_cache_hit_miss_and_model_in_key(tmp_path):
    rec = CachedClient(OfflineBackend(seed=0), tmp_path, mode="record")
    r1 = _ask(rec)
    r2 = _ask(rec)
    assert not r1.cached and r2.cached and r1.text == r2.text
    assert rec.usage.calls == 2 and rec.usage.cache_hits == 1
    assert rec.usage.prompt_tokens == r1.prompt_tokens  # the hit cost nothing
    msgs = [{"role": "user", "content": "x"}]
    assert cache_key("u", "model-a", msgs, {}) != cache_key("u", "model-b", msgs, {})
    # replay with the recorded model hits; with another model it misses, clearly
    ok = CachedClient(None, tmp_path, mode="replay", base_url="offline://stand-in", model=OfflineBackend.MODEL)
    assert _ask(ok).text == r1.text
    other = CachedClient(None, tmp_path, mode="replay", base_url="offline://stand-in", model="gpt-4o-mini")
    with pytest.raises(CacheMiss, match="gpt-4o-mini"):
        _ask(other)
    # replayed stand-in replies are still labelled as the stand-in; a replayed model's are not
    assert ok.is_offline and "[offline stand-in]" in ok.label
    assert not other.is_offline and "offline" not in other.label
    with pytest.raises(ConfigError):
        CachedClient(None, tmp_path, mode="replay")


def test_budget_stops_run_cleanly():
    client = make_client("offline", seed=0, budget=Budget(max_tokens=6000))
    res = DiverselandSimulation(client, SimulationConfig(steps=5, seed=0, re_draws=4)).run()
    s = res.summary
    assert s["stopped"] == "budget" and s["steps"] < 5
    assert s["fallbacks"]["budget"] >= 1
    assert res.transcript[-1]["kind"] == "stop"
    assert 6000 - 2000 < s["total_tokens"] <= 6000   # stopped shortly before the limit, never past it (issue 18)


# ------------------------------------------------------------------ determinism and labels
def _run(seed, steps=3, malformed=0.0):
    client = make_client("offline", seed=seed)
    client.malformed_rate = malformed
    return DiverselandSimulation(client, SimulationConfig(steps=steps, seed=seed, re_draws=4)).run()


def test_offline_is_deterministic_and_labelled():
    a, b, c = _run(0), _run(0), _run(1)
    assert json.dumps(a.transcript) == json.dumps(b.transcript)
    assert a.expectations.equals(b.expectations)
    assert json.dumps(a.transcript) != json.dumps(c.transcript)
    text = format_transcript(a.transcript, steps=[1])
    assert "[offline stand-in]" in text and "Household A" in text and "Location: Diverseland" in text
    assert all(r["backend"] in ("[offline stand-in]", "simulation") for r in a.transcript)
    assert a.summary["offline_stand_in"] is True and a.summary["steps"] == 3
    assert (a.expectations["backend"] == "[offline stand-in]").all()
    import matplotlib.pyplot as plt

    from macrobook.llm.diverseland import plot_expectations
    ax = plot_expectations(a.expectations, label="[offline stand-in]")
    assert "[offline stand-in]" in ax.get_title() and "over 3 steps" in ax.get_title()
    plt.close(ax.figure)
    assert list(a.expectations["step"]) == [1, 2, 3]


def test_malformed_replies_fall_back_without_crashing():
    res = _run(0, steps=6, malformed=0.5)
    fb = res.summary["fallbacks"]
    assert fb["no_json"] > 0 and res.summary["steps"] == 6
    # a household whose reply had no JSON still has an expectation: prose regex or adaptive fallback
    cols = ["household_A_percent", "household_B_percent", "household_C_percent"]
    assert res.expectations[cols].notna().all().all()
    stated = res.expectations[[c.replace("percent", "stated") for c in cols]].to_numpy()
    assert (~stated).any()            # some replies named no number: the adaptive fallback was used
    acts = [r for r in res.transcript if r["kind"] == "act" and r["agent"].startswith("Household")]
    assert sum(r["fallback"] == "no_json" and r["expectation_stated"] for r in acts) > 0  # regex recovered


# ------------------------------------------------------------------ the economy
def test_stated_expectations_set_contracts_and_real_rates():
    """What a household states enters the economy: its wage contract this quarter and its real rate."""
    econ = Diverseland(num_envs=2, device="cpu")
    econ.reset(seed=0)
    obs = econ.set_expectations(torch.tensor([[0.02, 0.02, 0.02], [0.06, 0.02, 0.02]]))
    i = econ.specs["household"].obs_names.index("own_real_rate_annual_x10")
    assert float(obs["household"][0, 0, i] - obs["household"][1, 0, i]) == pytest.approx(0.4, abs=1e-5)
    acts = {"household": torch.full((2, 3, 1), 0.6), "firm": torch.full((2, 1, 3), 0.2),
            "government": torch.zeros(2, 1, 1), "central_bank": torch.full((2, 1, 1), 0.04)}
    out = econ.step(acts)
    assert float(out.macro["wage_A"][1]) > float(out.macro["wage_A"][0])          # A's contract
    assert float(out.macro["wage_B"][1]) == pytest.approx(float(out.macro["wage_B"][0]), rel=1e-6)
    assert float(out.macro["price_basic"][1]) > float(out.macro["price_basic"][0])  # markup on unit labour cost
    from macrobook.envs.diverseland import DiverselandConfig
    with pytest.raises(ConfigError, match="preference_own"):
        DiverselandConfig(preference_own=0.1)


def test_parse_plan_and_reflection_fields():
    assert parse_reply("plan", 'Sure: {"plan": "buy cheaper rice"}') == ({"plan": "buy cheaper rice"}, None)
    assert parse_reply("reflect", '{"reflection": "prices rose"}') == ({"reflection": "prices rose"}, None)
    assert parse_reply("reflect", '{"thoughts": "prices rose"}')[1] == "missing_field"


def test_memory_each_component_counts():
    # recency: same text and importance, the newer one scores higher
    m = MemoryStream()
    m.add(0, "inflation report", 5.0)
    m.add(9, "inflation report", 5.0)
    s = m.scores("inflation report", t_now=10)
    assert s[1] > s[0]
    assert abs(float(s[1] - s[0]) - (0.95 ** 1 - 0.95 ** 10)) < 1e-5
    # importance: same time and text, the more important one scores higher, by importance / 10
    m = MemoryStream()
    m.add(3, "a message", 2.0)
    m.add(3, "a message", 9.0)
    s = m.scores("anything", t_now=3)
    assert abs(float(s[1] - s[0]) - 0.7) < 1e-5
    # relevance: hashed embeddings, no download; identical text has cosine 1, disjoint words about 0
    assert abs(float(hashed_embedding("policy rate") @ hashed_embedding("policy rate")) - 1) < 1e-6
    assert abs(float(hashed_embedding("policy rate") @ hashed_embedding("green apples"))) < 0.3


def test_reflections_follow_the_configured_threshold():
    def reflections(threshold, steps):
        cfg = SimulationConfig(steps=steps, seed=0, re_draws=2, reflection_threshold=threshold)
        res = DiverselandSimulation(make_client("offline", seed=0), cfg).run()
        return [r for r in res.transcript if r["kind"] == "reflect"]

    assert reflections(1e9, 3) == []
    every_step = reflections(0.0, 3)
    assert len(every_step) == 6 * 3 and all(r["text"] for r in every_step)   # six agents, every step
    some = reflections(150.0, 8)
    assert 0 < len(some) < 6 * 8


def test_agents_reflect_once_importance_accumulates():
    client = make_client("offline", seed=0)
    sim = DiverselandSimulation(client, SimulationConfig(steps=4, seed=0, re_draws=4, reflection_threshold=20.0))
    res = sim.run()
    refl = [r for r in res.transcript if r["kind"] == "reflect"]
    assert len(refl) >= 6 and all(r["text"].startswith("Over the last steps") for r in refl)
    assert not any(r.get("fallback") for r in refl)


class _SlowCounting(OfflineBackend):
    """The offline stand-in, slowed down, counting how many calls are in flight at once."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self.in_flight = 0
        self.max_in_flight = 0

    async def _chat(self, messages, **params):
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        await asyncio.sleep(0.001 * (len(messages[-1]["content"]) % 7))   # replies arrive out of order
        try:
            return await super()._chat(messages, **params)
        finally:
            self.in_flight -= 1


@pytest.mark.parametrize("limit", [1, 3, 6])
def test_agents_run_concurrently_up_to_the_limit(limit):
    client = _SlowCounting(seed=0)
    res = DiverselandSimulation(client, SimulationConfig(steps=2, seed=0, re_draws=2, concurrency=limit)).run()
    assert client.max_in_flight == limit      # the semaphore binds, and six agents fill it
    # the transcript does not depend on the order in which replies arrive
    ref = DiverselandSimulation(make_client("offline", seed=0), SimulationConfig(steps=2, seed=0, re_draws=2)).run()
    assert [(r["agent"], r["kind"], r["text"]) for r in res.transcript] == \
        [(r["agent"], r["kind"], r["text"]) for r in ref.transcript]


def test_replay_reproduces_a_recorded_run_and_fails_clearly_on_a_miss(tmp_path):
    cfg = SimulationConfig(steps=2, seed=0, re_draws=2)
    rec = DiverselandSimulation(make_client("offline", seed=0, cache_dir=tmp_path), cfg).run()
    rep_client = make_client("replay", cache_dir=tmp_path, model=OfflineBackend.MODEL)
    rep = DiverselandSimulation(rep_client, cfg).run()
    assert [r["text"] for r in rep.transcript] == [r["text"] for r in rec.transcript]
    assert rep.summary["cache_hits"] == rep.summary["calls"] > 0 and rep.summary["total_tokens"] == 0
    assert rep.expectations.drop(columns="backend").equals(rec.expectations.drop(columns="backend"))
    # another model: a clear error at the first call, never another model's answers
    with pytest.raises(CacheMiss, match="gpt-4o-mini"):
        DiverselandSimulation(make_client("replay", cache_dir=tmp_path, model="gpt-4o-mini"), cfg).run()
    # a longer run than was recorded: fails at the first unrecorded step
    with pytest.raises(CacheMiss, match="record it first"):
        DiverselandSimulation(make_client("replay", cache_dir=tmp_path, model=OfflineBackend.MODEL),
                              cfg.replace(steps=3)).run()
    with pytest.raises(ConfigError, match="cache_dir"):
        make_client("replay", model="gpt-4o-mini")


def test_cost_estimate_scales_a_dry_run_and_bounds_it():
    from macrobook.llm.diverseland import estimate_cost

    est = estimate_cost(50, (1.0, 2.0), seed=0, probe_steps=2, max_tokens=300)
    assert est.steps == 50 and est.probe_steps == 2
    assert 6 * 50 <= est.calls <= est.max_calls == 4 * 6 * 50     # at least one call per agent and step
    assert est.usd == pytest.approx((est.prompt_tokens * 1.0 + est.completion_tokens * 2.0) / 1e6)
    assert est.max_usd > est.usd > 0
    assert "$" in str(est) and "offline stand-in" in str(est)
    assert estimate_cost(50, (0.0, 0.0), probe_steps=1).usd == 0.0


def test_simulation_config_errors_name_the_field():
    with pytest.raises(ConfigError, match=r"SimulationConfig.concurrency must be an integer >= 1, got 0"):
        SimulationConfig(concurrency=0)
    with pytest.raises(ConfigError, match="Budget.max_usd"):
        Budget(max_usd=-1.0)
    with pytest.raises(ConfigError, match="backend must be one of"):
        make_client("anthropic")


# ------------------------------------------------------------------ the command line
def test_cli_writes_transcript_expectations_figure_and_summary(tmp_path, capsys):
    import pandas as pd

    from macrobook.cli import main

    out = tmp_path / "run"
    rc = main(["llm", "diverseland", "--steps", "3", "--backend", "offline", "--seed", "0", "--pretrain-steps", "8",
               "--re-draws", "4", "--output-dir", str(out)])
    assert rc == 0
    printed = capsys.readouterr().out
    assert "offline stand-in" in printed and "not a language model" in printed
    lines = [json.loads(l) for l in (out / "transcript.jsonl").read_text().splitlines()]
    assert {r["kind"] for r in lines} >= {"observe", "act", "market"}
    assert all(r["backend"] in ("[offline stand-in]", "simulation") for r in lines)
    frame = pd.read_csv(out / "expectations.csv")
    assert list(frame["step"]) == [1, 2, 3]
    assert {"realized_inflation_percent", "adaptive_percent", "rational_percent", "household_A_percent",
            "household_B_percent", "household_C_percent"} <= set(frame.columns)
    assert (frame["backend"] == "[offline stand-in]").all()
    assert (out / "expectations.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out / "expectations.png").stat().st_size > 10_000
    s = json.loads((out / "summary.json").read_text())
    for key in ("steps", "calls", "cache_hits", "fallbacks", "total_tokens", "prompt_tokens", "completion_tokens",
                "cost_usd"):
        assert key in s, key
    assert s["steps"] == 3 and s["offline_stand_in"] is True and set(s["fallbacks"]) >= {"no_json", "call_failed"}
    # a bad value: exit code 2 and a message naming the field
    assert main(["llm", "diverseland", "--steps", "0", "--output-dir", str(tmp_path / "bad")]) == 2
    assert "--steps must be an integer >= 1, got 0" in capsys.readouterr().err


def test_same_seed_same_numbers_with_pretrained_actors():
    def run(seed):
        sim = DiverselandSimulation(make_client("offline", seed=seed),
                                    SimulationConfig(steps=3, seed=seed, re_draws=4, pretrain_envs=8))
        sim.pretrain(40)     # past learning_starts: the actors take gradient steps
        return sim.run()

    a, b = run(0), run(0)
    assert a.expectations.equals(b.expectations)
    assert json.dumps(a.transcript) == json.dumps(b.transcript)
    assert not a.expectations.equals(run(1).expectations)


def test_unilateral_evaluation_swaps_only_one_type():
    """evaluate_unilateral: the pretrained column is evaluate_actors' reward; with the untrained
    actors equal to the pretrained ones every gain is exactly zero; with different actors for one
    type only, that type's untrained column is its reward with its own actor swapped."""
    from macrobook.llm.diverseland import evaluate_actors, evaluate_unilateral, make_learners

    econ = Diverseland(num_envs=1, device="cpu")
    a, b = make_learners(econ, 0), make_learners(econ, 5)       # two differently initialised sets
    kw = dict(periods=6, num_envs=4)
    same = evaluate_unilateral(a, a, **kw)
    assert (same["gain"] == 0).all()
    ref = evaluate_actors(a, **kw)
    assert all(same.loc[k, "pretrained"] == ref[f"reward/{k}"] for k in econ.specs)
    mixed = evaluate_unilateral(a, b, **kw)
    firm_swapped = evaluate_actors({**a, "firm": b["firm"]}, **kw)
    assert mixed.loc["firm", "untrained"] == firm_swapped["reward/firm"]
    assert mixed.loc["firm", "gain"] != 0
