"""The Diverseland scenario: six LLM-augmented agents in the batched Diverseland economy.

Households A, B and C (basic, tech and green goods), a firm with three products, a
government that announces a stimulus and a central bank that sets the policy rate. Each agent type
has a DDPG actor (:mod:`macrobook.algos.ddpg`) that chooses the numbers; the language side (a
language model, or the offline stand-in) reasons, plans, talks and *states* inflation expectations.
The stated expectations are not only read by the actors: they set each household's wage contract
and its ex-ante real rate in the economy (:mod:`macrobook.envs.diverseland`).

    client = make_client("offline", seed=0)
    sim = DiverselandSimulation(client, SimulationConfig(steps=50, seed=0))
    sim.pretrain()                 # textbook starting rules distilled, then DDPG in 64 parallel economies
    result = sim.run()             # or: result = await sim.arun() inside a notebook
    print(format_transcript(result.transcript, steps=[1]))
    plot_expectations(result.expectations, label=client.label)

Starting rules (:func:`starting_rules`): before DDPG pretraining, each actor is fitted to a textbook
rule (behaviour cloning), so that learning starts from a sensible economy rather than from random
networks: households spend less when their own ex-ante real rate is higher (the sign of the Euler
equation), the firm charges the fringe's markup, the government leans against a negative output
gap and the central bank follows a Taylor (1993) rule. DDPG then trains all four together.

Benchmarks in ``result.expectations`` (percent per year):

* ``adaptive``: E_t = E_{t-1} + gain (pi_t - E_{t-1}) (Cagan 1956) on realized inflation;
* ``rational``: the model-consistent forecast of inflation over the next four quarters, the
  mean over ``re_draws`` simulated continuations of the current state under the agents' own
  decision rules (Muth 1961), computed in one batched economy;
* ``realized_next_year``: the inflation that actually followed (known only afterwards).
"""
from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional

import torch

from ..algos.ddpg import DDPG, DDPGConfig
from ..config import Config, check, check_float, check_int
from ..envs.diverseland import (CB_OBS, GOODS, GOV_OBS, HOUSEHOLD_OBS, HOUSEHOLDS, Diverseland,
                                 DiverselandConfig, annualize)
from .agent import Event, LLMAgent, Persona
from .client import BudgetExceeded, ChatClient
from .protocol import safe_display
from .memory import MemoryStream
from .messages import FallbackCounter

PERSONAS = [
    Persona("Household A", "household",
            "Buy traditional basic goods at better prices. Declare in each message the prices I would pay in "
            "dollars and my inflation expectation in percent.",
            "You mostly buy traditional basic goods (food, clothing).", "basic", "backward", ("basic",)),
    Persona("Household B", "household",
            "Buy tech goods at better prices. Declare in each message the prices I would pay in dollars and my "
            "inflation expectation in percent.",
            "You mostly buy tech goods (phones, computers).", "tech", "optimist", ("tech",)),
    Persona("Household C", "household",
            "Buy green sustainable goods at better prices. Declare in each message the prices I would pay in "
            "dollars and my inflation expectation in percent.",
            "You mostly buy green sustainable goods.", "green", "newsreader", ("green",)),
    Persona("Firm", "firm",
            "Develop a market strategy for our three products: traditional basic goods, tech goods and green "
            "sustainable goods. Declare our prices in dollars and our price expectations in each message.",
            "You produce and sell three goods.", None, "", ("price", "demand")),
    Persona("Government", "government", "Introduce and explain a stimulus package in Diverseland.",
            "You set fiscal transfers to households.", None, "", ("stimulus", "output")),
    Persona("Central Bank", "central_bank",
            "Review and adjust interest rates to keep inflation near the target and the economy stable.",
            "You set the policy rate.", None, "", ("rate", "inflation")),
]
AGENT_TYPES = ("household", "firm", "government", "central_bank")
ROLE_TYPES = {"household": "household", "firm": "firm", "government": "government", "central_bank": "central_bank"}


@dataclass
class SimulationConfig(Config):
    steps: int = 50
    seed: int = 0
    concurrency: int = 4              # LLM calls in flight at once
    re_draws: int = 64                # continuations for the rational-expectations benchmark
    adaptive_gain: float = 0.3        # of the adaptive-expectations benchmark
    pretrain_envs: int = 64
    reflection_threshold: float = 150.0     # summed importance (1-10 each) of new memories; 150 as in Park et al. (2023)
    #: the agent types DDPG pretraining trains; the households keep their starting rule (see the chapter)
    train_types: tuple = ("firm", "government", "central_bank")

    def validate(self) -> None:
        check_int(self, "steps", min=1)
        check_int(self, "seed", min=0)
        check_int(self, "concurrency", min=1)
        check_int(self, "re_draws", min=1)
        check_float(self, "adaptive_gain", min=0.0, max=1.0)
        check_int(self, "pretrain_envs", min=1)
        check_float(self, "reflection_threshold", min=0.0)
        check(isinstance(self.train_types, (tuple, list)) and all(t in AGENT_TYPES for t in self.train_types), self,
              "train_types", f"a tuple of agent types from {AGENT_TYPES}")


@dataclass
class SimulationResult:
    transcript: List[dict]
    expectations: "object"            # pandas DataFrame, one row per step
    summary: dict
    #: one dict per completed step: {"step": t, "obs": {type: [n, obs_dim]}, "actions": {type: [n, ...]}},
    #: the observations the DDPG actors saw (stated expectations included) and the numbers they chose
    history: List[dict] = field(default_factory=list)


def make_learners(econ: Diverseland, seed: int = 0, config: Optional[DDPGConfig] = None) -> Dict[str, DDPG]:
    cfg = config or DDPGConfig(batch_size=128, learning_starts=256, gradient_steps=4, exploration_sigma=0.1)
    return {k: DDPG(spec, cfg, device=econ.device, seed=seed + 10 * i) for i, (k, spec) in enumerate(econ.specs.items())}


#: parameters of the textbook starting rules (see :func:`starting_rules`)
RULES = {"spend_share": 0.6, "real_rate_sensitivity": 0.5, "neutral_real_rate": 0.02, "firm_markup": 0.2,
         "stimulus_per_gap": 0.25, "taylor_inflation": 1.5, "taylor_gap": 0.5, "rate_smoothing": 0.5}


def starting_rules(obs: Dict[str, torch.Tensor], target: float = 0.02, rules: Optional[dict] = None) -> Dict[str, torch.Tensor]:
    """Textbook rules for every agent type, from the observations ``{type: [E, n, d]}``.

    * household: spending share ``0.6 - 0.5 (r_i - 0.02)``, ``r_i`` its own ex-ante real rate per year:
      a higher real rate makes saving more attractive (the sign of the consumption Euler equation);
    * firm: the fringe's markup, 0.2, the flexible-price optimum ``1/(e-1)`` at ``e = 6``;
    * government: a transfer of a quarter of a negative output gap (none when the gap is positive);
    * central bank: Taylor (1993): ``i = 0.02 + E pi + 1.5 (pi - target) + 0.5 gap``, half-way from
      last quarter's rate.
    These are starting points for learning, not the book's answer: :func:`warm_start` fits the DDPG
    actors to them, and DDPG pretraining then changes them."""
    r = {**RULES, **(rules or {})}
    h = obs["household"]
    E = h.shape[0]
    real_rate = h[..., HOUSEHOLD_OBS.index("own_real_rate_annual_x10")] / 10
    share = (r["spend_share"] - r["real_rate_sensitivity"] * (real_rate - r["neutral_real_rate"])).clamp(0.2, 1.0)
    cb = obs["central_bank"][:, 0]
    infl, gap, mean_e, prev = (cb[:, CB_OBS.index(k)] / 10 for k in
                               ("inflation_annual_x10", "output_gap_x10", "mean_expectation_annual_x10",
                                "policy_rate_annual_x10"))
    taylor = r["neutral_real_rate"] + mean_e + r["taylor_inflation"] * (infl - target) + r["taylor_gap"] * gap
    rate = (r["rate_smoothing"] * prev + (1 - r["rate_smoothing"]) * taylor).clamp(0.0, 0.12)
    gov_gap = obs["government"][:, 0, GOV_OBS.index("output_gap_x10")] / 10
    stim = (-r["stimulus_per_gap"] * gov_gap).clamp(0.0, 0.05)
    return {"household": share.unsqueeze(-1), "firm": torch.full((E, 1, 3), r["firm_markup"], device=h.device),
            "government": stim.reshape(E, 1, 1), "central_bank": rate.reshape(E, 1, 1)}


def warm_start(econ: Diverseland, learners: Dict[str, DDPG], periods: int = 24, epochs: int = 150, seed: int = 0,
               noise: float = 0.5) -> Dict[str, float]:
    """Fit every actor (and its target) to :func:`starting_rules` by least squares on the states the
    rules visit in ``econ`` (behaviour cloning). The rules play with Gaussian noise of ``noise`` times
    half their action box, so the states cover more than the rules' own path. Returns the final mean
    squared error per type, in units of the action."""
    gen = torch.Generator().manual_seed(seed)
    target = econ.config.inflation_target_annual
    obs = econ.reset(seed=seed)
    states = {k: [] for k in econ.specs}
    with torch.no_grad():
        for _ in range(periods):
            a = starting_rules(obs, target)
            for k in econ.specs:
                states[k].append(obs[k])
            noisy = {}
            for k, spec in econ.specs.items():
                low, high = (b.to(econ.device) for b in spec.action.bounds())
                eps = noise * (high - low) / 2 * torch.randn(a[k].shape, generator=gen)
                noisy[k] = torch.minimum(torch.maximum(a[k] + eps, low), high)
            obs = econ.step(noisy).obs
    errors = {}
    for k, lrn in learners.items():
        x = torch.cat(states[k]).reshape(-1, econ.specs[k].obs_dim)
        y = starting_rules({**{j: torch.cat(states[j]) for j in econ.specs}}, target)[k].reshape(x.shape[0], -1)
        opt = torch.optim.Adam(lrn.actor.parameters(), lr=3e-3)
        for _ in range(epochs):
            loss = ((lrn.actor(x).reshape(y.shape) - y) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        lrn.actor_target.load_state_dict(lrn.actor.state_dict())
        errors[k] = float(loss.detach())
    return errors


def pretrain(econ: Diverseland, learners: Dict[str, DDPG], steps: int, seed: int = 0, learn_every: int = 4,
             train: Optional[tuple] = None) -> "object":
    """Train all four DDPG learners together in ``econ`` (many economies at once) for ``steps``
    periods; the households' expectations evolve adaptively (the economy's own rule), so the
    actors learn with an expectations input that carries information. An episode's end is a time
    limit, not the end of the world: the critic bootstraps from the observation before the restart
    (``info["final_obs"]``), so households value what they save. Returns a DataFrame log."""
    import pandas as pd

    obs = econ.reset(seed=seed)
    rows = []
    for t in range(steps):
        actions = {k: learners[k].act(obs[k])[0] for k in econ.specs}
        out = econ.step(actions)
        next_obs = out.info.get("final_obs", out.obs)
        for k, lrn in learners.items():
            if train is None or k in train:
                lrn.store(obs[k], actions[k], out.reward[k], next_obs[k], torch.zeros_like(out.reward[k]))  # truncation
        obs = out.obs
        if (t + 1) % learn_every == 0:
            stats = {k: lrn.learn() for k, lrn in learners.items() if train is None or k in train}
            rows.append({"step": t + 1, **{f"reward/{k}": float(out.reward[k].mean()) for k in econ.specs},
                         **{f"critic_loss/{k}": s["critic_loss"] for k, s in stats.items()},
                         "inflation_annual": float(out.macro["inflation_annual"].mean())})
    return pd.DataFrame(rows)


def _policy(learners: Dict[str, DDPG]):
    def act(obs):
        return {k: learners[k].act(o, deterministic=True)[0] for k, o in obs.items()}
    return act


@torch.no_grad()
def evaluate_actors(learners: Dict[str, DDPG], economy_config: Optional[DiverselandConfig] = None, periods: int = 50,
                    num_envs: int = 64, seed: int = 123, device: str = "cpu") -> Dict[str, float]:
    """How the actors do when they play deterministically for ``periods`` quarters in ``num_envs``
    fresh economies (household expectations follow the economy's own adaptive rule). Returns the
    mean reward per agent type (``reward/<type>``) and the mean of the macro numbers a reader
    checks first: inflation, the policy rate, the stimulus, the firm's price growth, the
    households' spending share and the output gap (percent)."""
    cfg = (economy_config or DiverselandConfig()).replace(episode_len=10**9)
    econ = Diverseland(cfg, num_envs=num_envs, device=device)
    obs = econ.reset(seed=seed)
    policy = _policy(learners)
    sums: Dict[str, float] = {}

    def add(key, value):
        sums[key] = sums.get(key, 0.0) + float(value) / periods

    for _ in range(periods):
        a = policy(obs)
        out = econ.step(a)
        obs = out.obs
        for k in econ.specs:
            add(f"reward/{k}", out.reward[k].mean())
        add("inflation_annual_percent", 100 * out.macro["inflation_annual"].mean())
        add("policy_rate_annual_percent", 100 * out.macro["policy_rate_annual"].mean())
        add("stimulus_percent_of_output", 100 * out.macro["stimulus_share"].mean())
        add("firm_markup_percent", 100 * a["firm"].mean())
        add("household_spending_share", a["household"].mean())
        add("output_gap_percent", 100 * out.macro["output_gap"].mean())
    return sums


def evaluate_unilateral(learners: Dict[str, DDPG], untrained: Dict[str, DDPG],
                        economy_config: Optional[DiverselandConfig] = None, periods: int = 50, num_envs: int = 64,
                        seed: int = 123, device: str = "cpu") -> "object":
    """Did pretraining help each agent type *given what the others learned*? For each type, its
    own mean reward (as in :func:`evaluate_actors`) when it plays its pretrained actor and when it
    plays its untrained one, the other types playing their pretrained actors in both cases: a
    unilateral comparison, the one a best response is judged by. (Comparing everyone pretrained
    with everyone untrained mixes in what the others' learning did to each agent.) Returns a
    DataFrame indexed by type with columns ``pretrained``, ``untrained`` and ``gain``."""
    import pandas as pd

    kw = dict(economy_config=economy_config, periods=periods, num_envs=num_envs, seed=seed, device=device)
    base = evaluate_actors(learners, **kw)
    rows = {}
    for k in learners:
        alone = evaluate_actors({**learners, k: untrained[k]}, **kw)
        rows[k] = {"pretrained": base[f"reward/{k}"], "untrained": alone[f"reward/{k}"]}
    frame = pd.DataFrame(rows).T
    frame["gain"] = frame["pretrained"] - frame["untrained"]
    return frame


@dataclass
class CostEstimate:
    """What a run of ``steps`` steps would cost, from an offline dry run of ``probe_steps`` steps.

    ``calls``/``prompt_tokens``/``completion_tokens``/``usd``: scaled from the dry run (the
    stand-in's replies are short; a model's may be longer). ``max_calls``/``max_usd``: an upper
    bound, every agent making all four calls every step, each prompt ``margin`` times the longest
    prompt of the dry run, each reply ``max_tokens`` long. Token counts are estimates (about four
    characters a token)."""

    steps: int
    probe_steps: int
    calls: int
    prompt_tokens: int
    completion_tokens: int
    usd: float
    max_calls: int
    max_usd: float
    price_per_mtok: tuple

    def __str__(self) -> str:
        pin, pout = self.price_per_mtok
        return (f"about ${self.usd:.2f} for {self.steps} steps ({self.calls} calls, "
                f"{self.prompt_tokens + self.completion_tokens} tokens, scaled from a {self.probe_steps}-step dry run "
                f"on the offline stand-in), at most ${self.max_usd:.2f} ({self.max_calls} calls with every reply "
                f"max_tokens long); prices ${pin}/${pout} per million input/output tokens")


def estimate_cost(steps: int, price_per_mtok: tuple, learners: Optional[Dict[str, DDPG]] = None, seed: int = 0,
                  economy_config: Optional[DiverselandConfig] = None, probe_steps: int = 3, max_tokens: int = 300,
                  margin: float = 1.25) -> CostEstimate:
    """Estimate a run's cost *before* any paid call, by running the same agents for ``probe_steps``
    steps on the offline stand-in (free, no network) and scaling its calls and tokens."""
    from .client import make_client

    probe_steps = max(1, min(probe_steps, steps))
    client = make_client("offline", seed=seed)
    probe = DiverselandSimulation(client, SimulationConfig(steps=probe_steps, seed=seed, re_draws=1),
                                  economy_config, learners)
    res = probe.run()
    u = client.usage
    done = max(1, res.summary["steps"])
    scale = steps / done
    pin, pout = (float(x) for x in price_per_mtok)
    calls, pt, ct = round(u.calls * scale), round(u.prompt_tokens * scale), round(u.completion_tokens * scale)
    max_calls = 4 * len(PERSONAS) * steps
    max_prompt = margin * u.max_prompt_tokens
    return CostEstimate(steps=steps, probe_steps=done, calls=calls, prompt_tokens=pt, completion_tokens=ct,
                        usd=(pt * pin + ct * pout) / 1e6, max_calls=max_calls,
                        max_usd=max_calls * (max_prompt * pin + max_tokens * pout) / 1e6, price_per_mtok=(pin, pout))


class DiverselandSimulation:
    def __init__(self, client: ChatClient, config: SimulationConfig | None = None,
                 economy_config: DiverselandConfig | None = None, learners: Optional[Dict[str, DDPG]] = None,
                 device: str = "cpu"):
        self.client = client
        self.config = config or SimulationConfig()
        self.economy_config = economy_config or DiverselandConfig(episode_len=10**6)
        self.device = device
        self.econ = Diverseland(self.economy_config, num_envs=1, device=device)
        self.learners = learners or make_learners(self.econ, self.config.seed)
        self.fallbacks = FallbackCounter()
        self.pretrain_log = None
        self.warm_start_errors: Optional[Dict[str, float]] = None

    def warm_start(self) -> Dict[str, float]:
        """Fit the actors to the textbook starting rules (:func:`warm_start`); returns the fit errors."""
        cfg = self.economy_config.replace(episode_len=self.config.steps)
        econ = Diverseland(cfg, num_envs=self.config.pretrain_envs, device=self.device)
        self.warm_start_errors = warm_start(econ, self.learners, seed=self.config.seed)
        return self.warm_start_errors

    def pretrain(self, steps: int = 400, warm: bool = True) -> "object":
        """Starting rules (unless ``warm`` is false or :meth:`warm_start` ran already), then DDPG
        pretraining in ``pretrain_envs`` parallel economies (see :func:`pretrain`)."""
        if warm and self.warm_start_errors is None:
            self.warm_start()
        cfg = self.economy_config.replace(episode_len=self.config.steps)
        econ = Diverseland(cfg, num_envs=self.config.pretrain_envs, device=self.device)
        self.pretrain_log = pretrain(econ, self.learners, steps, seed=self.config.seed, train=tuple(self.config.train_types))
        return self.pretrain_log

    def run(self) -> SimulationResult:
        """Run synchronously (from a script, or from a notebook whose event loop is running)."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(self.arun())
        box: dict = {}
        th = threading.Thread(target=lambda: box.setdefault("r", asyncio.run(self.arun())))
        th.start()
        th.join()
        return box["r"]

    async def arun(self) -> SimulationResult:
        import pandas as pd

        c, econ = self.config, self.econ
        sem = asyncio.Semaphore(c.concurrency)
        agents = [LLMAgent(p, self.client, sem, self.fallbacks,
                           MemoryStream(reflection_threshold=c.reflection_threshold)) for p in PERSONAS]
        policy = _policy(self.learners)
        obs = econ.reset(seed=c.seed)
        target_pct = 100 * self.economy_config.inflation_target_annual
        stated = [float(v) for v in 100 * econ.state.expectation_annual[0]]    # initial: the economy's own
        adaptive = target_pct
        events: List[Event] = []
        transcript: List[dict] = []
        rows: List[dict] = []
        history: List[dict] = []
        stopped = "completed"
        last_rate, last_stim = float(econ.state.policy_rate_annual[0]), 0.0
        last_prices = econ.state.prices[0, :, 0].clone()
        t0 = time.perf_counter()
        steps_done = 0
        for t in range(1, c.steps + 1):
            s = econ.state
            # 1. numbers from the DDPG actors, which see last step's stated expectations
            obs = econ.set_expectations(torch.tensor([stated], device=econ.device) / 100)
            with torch.no_grad():
                actions = policy(obs)
            markup = actions["firm"][0, 0]
            new_prices = s.prices[0, :, 0].tolist()        # the firm's posted prices, as the quarter opens
            rate = float(actions["central_bank"][0, 0, 0])
            stim = float(actions["government"][0, 0, 0])
            spend = actions["household"][0, :, 0].tolist()
            infl_pct = 100 * float(annualize(s.inflation)[0])
            good_pct = (100 * annualize(s.prices[0, :, 0] / last_prices - 1)).tolist()
            last_prices = s.prices[0, :, 0].clone()
            news = []
            if abs(rate - last_rate) >= 0.0025:
                news.append(f"the central bank moved the policy rate to {100 * rate:.2f}%")
            if stim - last_stim >= 0.005:
                news.append(f"the government raised the stimulus to {100 * stim:.1f}% of output")
            last_sender = next((e.sender for e in reversed(events) if e.recipient == "Firm"), None)
            # 2. the LLM side, all agents concurrently
            contexts, fallback_e = [], []
            for i, a in enumerate(agents):
                p = a.persona
                ctx = {"step": t, "name": p.name, "role": p.role, "persona": p.expectation_style, "goal": p.goal,
                       "prices_usd": {g: round(x, 2) for g, x in zip(GOODS, new_prices)},
                       "inflation_last_percent": round(infl_pct, 2), "target_percent": target_pct,
                       "policy_rate_percent": round(100 * rate, 2), "stimulus_percent": round(100 * stim, 2),
                       "stimulus_announced": stim >= 0.005, "policy_news": news,
                       "headline": f"inflation {infl_pct:.1f}%"}
                if p.role == "household":
                    ctx["preferred_good"] = p.preferred_good
                    ctx["own_good_inflation_percent"] = round(good_pct[i], 2)
                    ctx["stated_expectation_percent"] = round(stated[i], 2)
                    ctx["my_numbers"] = {"spend_share_of_cash": round(spend[i], 3)}
                    gain = self.economy_config.expectation_gains[i]
                    fallback_e.append(stated[i] + gain * (infl_pct - stated[i]))   # adaptive fallback
                else:
                    mean_e = sum(stated) / 3
                    ctx["stated_expectation_percent"] = round(mean_e, 2)
                    ctx["my_numbers"] = {"firm": {"markup_over_unit_labour_cost": [round(float(x), 4) for x in markup]},
                                         "government": {"stimulus_share": round(stim, 4)},
                                         "central_bank": {"policy_rate_annual": round(rate, 4)}}[p.role]
                    if p.role == "firm":
                        ctx["last_sender"] = last_sender
                    fallback_e.append(mean_e)
                contexts.append(ctx)
            results = await asyncio.gather(*[a.run_step(t, events, ctx, fe)
                                             for a, ctx, fe in zip(agents, contexts, fallback_e)],
                                           return_exceptions=True)
            if any(isinstance(r, BudgetExceeded) for r in results):
                stopped = "budget"
                transcript.append({"step": t, "agent": "system", "location": "Diverseland", "kind": "stop",
                                   "text": "Budget spent: the run stops here.", "backend": self.client.label})
                break
            for r in results:
                if isinstance(r, BaseException):
                    raise r  # a bug, not an LLM problem: those are handled inside the agents
            events = []
            for r in results:
                transcript.extend(r.records)
                if r.message is not None:
                    events.append(r.message)
            # 3. the economy moves
            out = econ.step(actions)
            infl_now = 100 * float(out.macro["inflation_annual"][0])
            re_pct = 100 * econ.rational_expectation(policy, num_draws=c.re_draws)
            adaptive = adaptive + c.adaptive_gain * (infl_now - adaptive)
            stated = [results[i].expectation_percent for i in range(3)]
            events.append(Event(t, "Market", "everyone",
                                "Market report: prices " + ", ".join(f"{g} ${x:.2f}" for g, x in
                                                                     zip(GOODS, out.info["prices"][0, :, 0].tolist()))
                                + f"; inflation {infl_now:.1f}% a year; policy rate {100 * rate:.2f}%.", kind="market"))
            transcript.append({"step": t, "agent": "Market", "location": "Diverseland", "kind": "market",
                               "text": events[-1].text, "backend": "simulation"})
            row = {"step": t, "backend": self.client.label, "realized_inflation_percent": infl_now, "adaptive_percent": adaptive,
                   "rational_percent": re_pct, "policy_rate_percent": 100 * rate, "stimulus_percent": 100 * stim,
                   "output_gap_percent": 100 * float(out.macro["output_gap"][0]),
                   "wage_index": float(out.macro["wage_index"][0]), "cpi": float(out.macro["cpi"][0]),
                   "real_spending": float(out.macro["real_spending"][0])}
            for i, h in enumerate(HOUSEHOLDS):
                key = h.split()[-1]
                row[f"household_{key}_percent"] = stated[i]
                row[f"household_{key}_stated"] = bool(results[i].stated)
            rows.append(row)
            history.append({"step": t, "obs": {k: v[0].detach().cpu().clone() for k, v in obs.items()},
                            "actions": {k: v[0].detach().cpu().clone() for k, v in actions.items()}})
            last_rate, last_stim = rate, stim
            steps_done = t
        frame = pd.DataFrame(rows)
        if len(frame):
            # inflation over the four quarters that followed each step (NaN at the end)
            g = 1 + frame["realized_inflation_percent"] / 100
            q = g ** 0.25
            fwd = [float(q[t + 1:t + 5].prod() - 1) * 100 if t + 4 < len(q) else float("nan") for t in range(len(q))]
            frame["realized_next_year_percent"] = fwd
        u = self.client.usage
        summary = {"scenario": "diverseland", "backend": self.client.label, "model": self.client.model,
                   "base_url": self.client.base_url, "offline_stand_in": self.client.is_offline,
                   "steps_requested": c.steps, "steps": steps_done, "stopped": stopped, "seed": c.seed,
                   **u.summary(), "fallbacks": self.fallbacks.as_dict(), "fallbacks_total": self.fallbacks.total,
                   "wall_s": round(time.perf_counter() - t0, 3)}
        return SimulationResult(transcript, frame, summary, history)


# --------------------------------------------------------------------------- views
_HEADINGS = {"observe": "👁 Observe", "react": "React", "plan": "Plan", "act_start": "Action In Progress",
             "act": "Action Response", "reflect": "Reflection", "market": "Market", "stop": "Stop"}


def format_transcript(records: List[dict], steps=None, agents=None, width: int = 110) -> str:
    """The seed's transcript view: one block per agent and step (agent, location, then the
    observe / react / act lines). Replies from the offline stand-in carry its label."""
    import textwrap

    out, current = [], None
    for r in records:
        if steps is not None and r["step"] not in steps:
            continue
        if agents is not None and r["agent"] not in agents:
            continue
        key = (r["step"], r["agent"])
        if key != current:
            current = key
            label = "" if r["backend"] == "simulation" else f"   {r['backend']}"
            out += ["", f"{r['agent']}  (step {r['step']}){label}", "📍 Location: Diverseland"]
        text = r["text"]
        if r["kind"] == "act_start":
            text = text.removeprefix("Action In Progress: ")
        line = safe_display(f"{_HEADINGS.get(r['kind'], r['kind'])}: {text}")  # no bidi tricks on screen
        if r.get("fallback"):
            line += f"   [fallback: {r['fallback']}]"
        out += textwrap.wrap(line, width, subsequent_indent="    ") or [line]
    return "\n".join(out).strip("\n")


def plot_expectations(frame, label: str = "", ax=None, title: Optional[str] = None):
    """Seed 000's figure: each household's stated expectation vs realized inflation, with the
    adaptive and rational-expectations benchmarks (percent per year against the step)."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(9, 4.8))
    x = frame["step"]
    ax.plot(x, frame["realized_inflation_percent"], color="black", lw=2, label="realized inflation")
    ax.plot(x, frame["adaptive_percent"], color="grey", ls="--", label="adaptive expectations")
    ax.plot(x, frame["rational_percent"], color="grey", ls=":", lw=2, label="rational expectations")
    colors = {"A": "tab:orange", "B": "tab:blue", "C": "tab:green"}
    goods = {"A": "basic", "B": "tech", "C": "green"}
    for k, col in colors.items():
        y = frame[f"household_{k}_percent"]
        ax.plot(x, y, color=col, marker="o", ms=3, lw=1, label=f"household {k} ({goods[k]} goods), stated")
        fb = ~frame[f"household_{k}_stated"].astype(bool)
        if fb.any():
            ax.scatter(x[fb], y[fb], facecolors="none", edgecolors=col, s=50, zorder=3)
    n = len(frame)
    ax.set_title(title or f"Simulated inflation expectations over {n} steps" + (f"\n{label}" if label else ""))
    ax.set_xlabel("step (quarter)")
    ax.set_ylabel("inflation, percent per year")
    ax.legend(fontsize=8, ncol=2)
    return ax


# --------------------------------------------------------------------------- the hybrid link, graded
def grade_hybrid_link(learners: Dict[str, DDPG], economy_config: Optional[DiverselandConfig] = None,
                      num_envs: int = 64, quarters: int = 50, start: int = 8, duration: int = 4, horizon: int = 8,
                      seed: int = 0, device: str = "cpu") -> dict:
    """The hybrid link graded with common random numbers, under the actors ``learners`` (deterministic).

    In ``num_envs`` economies (expectations by the economy's adaptive rule), household A states
    1 pp more than its own forecast for ``duration`` quarters from quarter ``start``
    (:func:`macrobook.analysis.hybrid.paired_effect`); separately, the policy rate is 100 bp higher for
    those quarters. A ``quarters``-long simulation of the same economies supplies the output gap and
    inflation. Returns ``{"expectation", "rate", "series", "card"}``, the card in the scorecard schema."""
    from ..analysis.hybrid import diverseland_scorecard, paired_effect, simulate

    cfg = (economy_config or DiverselandConfig()).replace(episode_len=10**9)
    make = lambda: Diverseland(cfg, num_envs=num_envs, device=device)  # noqa: E731
    policy = _policy(learners)
    kw = dict(start=start, duration=duration, horizon=horizon, seed=seed)
    expectation = paired_effect(make, policy, "stated_expectation_A", 0.01, **kw)
    rate = paired_effect(make, policy, "policy_rate", 0.01, **kw)
    series = simulate(make, policy, quarters, seed=seed)
    card = diverseland_scorecard(expectation, rate, series, cfg.inflation_target_annual, seed)
    return {"expectation": expectation, "rate": rate, "series": series, "card": card}
