"""Chapter 3's recipes: a small coordination task on which a centralized critic should help, and
one function that trains several learners on several seeds and measures them the same way
(evaluation reward, critic loss, spread across seeds).

    from macrobook.recipes.six_sector import SignalGame, compare_learners
    table = compare_learners(lambda: SignalGame(num_envs=32), {"MADDPG": make_maddpg, "DDPG": make_ddpg},
                             seeds=[0, 1, 2], iterations=300)

The coordination task (:class:`SignalGame`): a leader sees a signal ``x`` and is paid
``-(a_L - x)^2``; each follower sees the same signal and is paid ``-(a_i - a_L)^2``. The followers'
payoff moves with the leader's action, which keeps changing while the leader learns and explores:
an independent critic ``Q(o_i, a_i)`` must average over it (a moving, noisy target), a centralized
critic ``Q(o_i, a_i, a_L, ...)`` sees it (Lowe et al. 2017, section 4: the environment is stationary
given every agent's action). Theory therefore predicts a lower critic loss for the followers under
MADDPG, and faster coordination at a given budget.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import torch

from ..contract import AgentSpec, Box
from ..envs.base import BatchedEconomy, Transition


@dataclass
class SignalState:
    signal: torch.Tensor        # [E]
    noise: dict                 # {type: [E, n, 1]} observation noise


class SignalGame(BatchedEconomy):
    """Follow a leader who follows a signal: one leader, ``num_followers`` followers, one period a step."""

    macro_units = {"leader_gap": "|a_L - x|", "follower_gap": "mean |a_i - a_L|"}

    def __init__(self, num_followers: int = 3, num_envs: int = 32, device="cpu"):
        super().__init__(num_envs, device)
        self.specs = {"leader": AgentSpec(1, 2, Box(-1.0, 1.0, (1,)), obs_names=("signal", "noise")),
                      "follower": AgentSpec(num_followers, 2, Box(-1.0, 1.0, (1,)), obs_names=("signal", "noise"))}

    def initial_state(self, num_envs: int) -> SignalState:
        x = 0.8 * self.rand(num_envs) - 0.4
        return SignalState(x, {k: 0.1 * self.randn(num_envs, s.count, 1) for k, s in self.specs.items()})

    def observe(self, state=None):
        s = self.state if state is None else state
        return {k: torch.cat([s.signal[:, None, None].expand(-1, sp.count, 1), s.noise[k]], -1)
                for k, sp in self.specs.items()}

    def transition(self, state: SignalState, actions) -> Transition:
        a_l = actions["leader"][..., 0]                      # [E, 1]
        a_f = actions["follower"][..., 0]                    # [E, n]
        rew = {"leader": -(a_l - state.signal[:, None]) ** 2, "follower": -(a_f - a_l) ** 2}
        done = torch.zeros(self.num_envs, dtype=torch.bool, device=self.device)
        macro = {"leader_gap": (a_l[:, 0] - state.signal).abs(), "follower_gap": (a_f - a_l).abs().mean(1)}
        return Transition(self.initial_state(self.num_envs), rew, done, macro)


def compare_learners(make_economy: Callable[[], BatchedEconomy], make_learner: Mapping[str, Callable],
                     seeds: Sequence[int], iterations: int, eval_steps: int = 20, last_fraction: float = 0.2,
                     **train_kw):
    """Train every learner (``make_learner[name](specs, seed)``) on every seed with the same economy,
    budget and Controller (``maddpg.train``). Returns a pandas DataFrame with one row per (learner,
    seed): ``reward/<type>`` (deterministic evaluation, mean per agent per period) and
    ``critic_loss/<type>`` (mean over the last ``last_fraction`` of training)."""
    import pandas as pd

    from ..algos.maddpg import evaluate, train

    rows = []
    for name, make in make_learner.items():
        for seed in seeds:
            econ = make_economy()
            learner = make(econ.specs, seed)
            log = train(econ, learner, iterations=iterations, seed=seed, **train_kw)
            _, rew = evaluate(econ, learner.policy(), steps=eval_steps, seed=10_000 + seed)
            tail = log[log.iteration >= int((1 - last_fraction) * iterations)]
            row = {"learner": name, "seed": seed}
            row.update({f"reward/{k}": v for k, v in rew.items()})
            row.update({c: float(tail[c].mean()) for c in log.columns if c.startswith("critic_loss/")})
            rows.append(row)
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- the six-sector economy's recipe
# Chapter 3's learners, their settings, one measurement of a trained learner (everything the
# scorecard needs), shared by the notebook and ``python -m macrobook train/scorecard six_sector``.

#: the chapter's three learners
ALGOS = ("MADDPG", "independent DDPG", "SAC")

#: the stabilisers MADDPG and independent DDPG use in the chapter (measured in the chapter's
#: "what we tried" section; every one is from the literature, none changes a reward)
STABILISERS = dict(normalize_actions=True, action_l2=0.1, target_noise=0.1, target_noise_clip=0.25)


def make_learner(algo: str, specs, seed: int, num_envs: int, iterations: int, device="cpu", **overrides):
    """The chapter's learner ``algo`` (one of :data:`ALGOS`) for an economy's ``specs``. ``overrides``
    replace any config field (the "what we tried" experiments switch stabilisers off one at a time)."""
    from ..algos.maddpg import MADDPG, MADDPGConfig
    from ..algos.sac import SAC, SACConfig

    starts = min(512, num_envs * iterations // 4)
    if algo == "SAC":
        kw = dict(actor_lr=3e-4, critic_lr=1e-3, learning_starts=starts, batch_size=128, gamma=0.95, tau=0.01,
                  reward_scale={"central_bank": 0.1})
        kw.update(overrides)
        return SAC(specs, SACConfig(**kw), device=device, seed=seed)
    if algo not in ALGOS:
        from ..config import ConfigError
        raise ConfigError(f"algo must be one of {list(ALGOS)}, got {algo!r}")
    kw = dict(centralized=algo == "MADDPG", critic_input="full", actor_lr=1e-4, critic_lr=1e-3,
              learning_starts=starts, batch_size=128, exploration_sigma=0.15, gamma=0.95, tau=0.01,
              reward_scale={"central_bank": 0.1}, **STABILISERS)
    kw.update(overrides)
    return MADDPG(specs, MADDPGConfig(**kw), device=device, seed=seed)


#: the chapter's experiments: economy shock, size, persistence
EXPERIMENTS = {"fiscal stimulus": ("government_spending", 0.05, 0.8),
               "rate shock": ("policy_rate", 0.0025, 0.8),
               "foreign demand shock": ("foreign_demand", -0.10, 0.9)}

#: the parts of nominal GDP the rate-shock decomposition reports
GDP_PARTS = ("consumption", "investment", "government_spending", "exports", "imports", "gdp")


def output_response(econ, policy, shock: str, size: float, rho: float, seed: int = 1, horizon: int = 8):
    """Real GDP response ``[horizon, E]`` in pp of potential (common random numbers, 8 quarters of burn-in)."""
    from ..analysis.impulse import impulse_response, shock_path

    irf = impulse_response(econ, policy, shock_path(lambda e, v: e.set_shock(shock, v), size, rho), horizon=horizon,
                           burn_in=8, seed=seed, variables=["output_gap"])
    return 100 * irf.per_env["output_gap"]


def rate_decomposition(econ, policy, seed: int = 1, quarters: int = 4) -> dict:
    """The rate shock's effect on nominal GDP by part, % of the baseline's nominal GDP, mean over
    the first ``quarters``; plus the exchange rate (%) and the policy rate (pp a year)."""
    from ..analysis.impulse import impulse_response, shock_path

    name, size, rho = EXPERIMENTS["rate shock"]
    irf = impulse_response(econ, policy, shock_path(lambda e, v: e.set_shock(name, v), size, rho), horizon=quarters,
                           burn_in=8, seed=seed, variables=list(GDP_PARTS) + ["exchange_rate", "policy_rate"],
                           relative=["exchange_rate"])
    w = irf.wide().iloc[:quarters].mean()
    base = irf.baseline["gdp"][:quarters].mean()
    out = {f"{k} (% of GDP)": 100 * w[k] / base for k in GDP_PARTS if k not in ("exports", "imports")}
    out["net exports (% of GDP)"] = 100 * (w["exports"] - w["imports"]) / base
    out["exchange rate (%)"] = 100 * w["exchange_rate"]
    out["policy rate (pp a year)"] = 400 * w["policy_rate"]
    return out


@torch.no_grad()
def measure(econ, policy, seed: int = 20_000, irf_seed: int = 1) -> dict:
    """Everything the six-sector scorecard judges, for one policy ``obs -> actions``, in ``econ``'s
    economies: one deterministic episode from ``reset(seed)`` (sold-out share, inflation, money /
    nominal GDP, the price-rise gain of every firm, mean actions, monetized deficit) and the fiscal
    and rate experiments (``output_response``). Returns ``{"diagnostics": {name: float},
    "actions": {"type: action": mean}, "fiscal": [H, E], "rate": [H, E]}``."""
    import numpy as np

    from ..envs.six_sector import ACTIONS, price_rise_gain, step_draws

    cfg = econ.config
    E = econ.num_envs
    obs = econ.reset(seed=seed)
    quiet = step_draws(cfg, E, lambda *s: torch.full(s, 0.5, dtype=torch.float64),
                       lambda *s: torch.zeros(s, dtype=torch.float64))   # no shocks, no defaults
    rows, acts = [], []
    for _ in range(cfg.episode_len):
        a = policy(obs)
        gain = price_rise_gain(econ.state, a, quiet, econ.shocks, cfg)
        out = econ.step(a)
        f, m = out.info["flows"], out.macro
        rows.append({"sold out (% of firm-quarters)": 100 * float(m["sold_out_share"].mean()),
                     "capacity used (%)": 100 * float(f["capacity_use"].mean()),
                     "household spending (% of wealth + income)": 100 * float(a["household"][..., 0].mean()),
                     "price-rise gain (reward per point)": float(gain.mean()),
                     "|price-rise gain| (reward per point)": float(gain.abs().mean()),
                     "money / nominal GDP": float(m["money_to_gdp"].mean()),
                     "monetized deficit (% of GDP)": 100 * float((f["monetized"] / f["gdp"]).mean()),
                     "current account (% of potential GDP)": 100 * float(m["current_account_to_gdp"].mean()),
                     "inflation (% a year)": 400 * float(m["inflation"].mean()),
                     "unemployment (%)": 100 * float(m["unemployment"].mean()),
                     "real GDP vs reference (%)": 100 * float(m["output_gap"].mean()),
                     "policy rate (% a year)": 400 * float(m["policy_rate"].mean())})
        acts.append({f"{k}: {n}": float(a[k][..., i].float().mean()) for k in ACTIONS for i, n in enumerate(ACTIONS[k][2])})
        obs = out.obs
    d = {k: float(np.mean([r[k] for r in rows])) for k in rows[0] if k != "money / nominal GDP"}
    money = np.array([r["money / nominal GDP"] for r in rows])
    d["money / nominal GDP, max / min over the episode"] = float(money.max() / money.min())
    actions = {k: float(np.mean([r[k] for r in acts])) for k in acts[0]}
    res = {"diagnostics": d, "actions": actions}
    for key, name in (("fiscal", "fiscal stimulus"), ("rate", "rate shock")):
        res[key] = output_response(econ, policy, *EXPERIMENTS[name], seed=irf_seed)
    return res


#: the booked channels through which deposits change (the money identity of the model section), with
#: the sign each enters it
MONEY_CHANNELS = {"loans_issued": 1, "loans_repaid": -1, "seized": -1, "loan_interest_paid": -1,
                  "deposit_interest": 1, "bank_dividends": 1, "reserve_tax": -1, "monetized": 1}


@torch.no_grad()
def nominal_anchor(econ, policy, seed: int = 20_000) -> dict:
    """Where money / nominal GDP and inflation come from under ``policy``: one deterministic episode
    from ``reset(seed)`` (the episode :func:`measure` judges). Returns ``{name: float}``:

    * money / nominal GDP in the first and last quarter and the quarters of its lowest and highest value
      (mean over economies, as the scorecard's drift check reads it);
    * the growth of money (deposits) and of nominal GDP, % a year, first to last quarter; nominal GDP
      split into prices (the domestic price level) and real GDP;
    * public debt in % of annual nominal potential GDP, first and last quarter, and the mean deficit;
    * the change of money over the episode by holder (households', firms' and the foreign sector's
      deposits) and by booked channel (net lending, interest, dividends, the monetized deficit...), each in %
      of the money stock at the start; the changes of loans and of households' bonds, same units;
    * the inflation accounts, % a year: CPI inflation, firms' price change (the learned action, 80% of the
      CPI), import prices in home currency (20%), the policy rate, the real rate (policy rate less last
      quarter's inflation), wage growth, and unemployment less its natural rate (pp).
    """
    import numpy as np

    from ..envs.six_sector import money_stock

    cfg = econ.config
    obs = econ.reset(seed=seed)
    s0 = econ.state
    m0 = money_stock(s0)
    loans0, bonds0 = s0.loans.sum(1), s0.hh_bonds.sum(1)
    hh0, firm0, for0 = s0.hh_deposits.sum(1), s0.firm_deposits.sum(1), s0.foreign_deposits
    booked = {k: torch.zeros_like(m0) for k in MONEY_CHANNELS}
    ratio, gdp, pdom, real, debt, deficit = [], [], [], [], [], []
    acc = {k: [] for k in ("inflation", "price_change", "import_prices", "policy_rate", "real_rate", "wage_growth",
                           "unemployment_gap")}
    cpi_prev, imp_prev = s0.cpi, s0.exchange_rate * s0.foreign_price
    for _ in range(cfg.episode_len):
        before = econ.state
        a = policy(obs)
        out = econ.step(a)
        f, s = out.info["flows"], out.info["state_after"]
        for k, sign in MONEY_CHANNELS.items():
            booked[k] = booked[k] + sign * f[k]
        ratio.append(float(out.macro["money_to_gdp"].mean()))
        gdp.append(f["gdp"])
        pdom.append(s.p_dom)
        real.append(f["real_gdp"])
        debt.append(float(out.macro["debt_to_gdp"].mean()))
        deficit.append(float(out.macro["deficit_to_gdp"].mean()))
        imp = s.exchange_rate * s.foreign_price
        acc["inflation"].append(s.inflation)
        acc["price_change"].append(a["firm"][..., 0].to(s.p_dom.dtype).mean(1))
        acc["import_prices"].append(imp / imp_prev - 1.0)
        acc["policy_rate"].append(s.policy_rate)
        acc["real_rate"].append(s.policy_rate - before.inflation)
        acc["wage_growth"].append(s.wage_growth)
        acc["unemployment_gap"].append(s.unemployment - cfg.natural_unemployment)
        imp_prev = imp
        obs = out.obs
    # s: the last quarter's state, before the economy's auto-reset
    T = cfg.episode_len

    def growth(x0, x1, quarters=T - 1):   # % a year, mean over economies of the log change
        return float(400 * (torch.log(x1 / x0)).mean() / quarters)

    ratio = np.array(ratio)
    pct = lambda x: float((100 * x / m0).mean())   # noqa: E731  % of the initial money stock
    out = {"money / nominal GDP, first quarter": float(ratio[0]), "money / nominal GDP, last quarter": float(ratio[-1]),
           "quarter of the lowest money / nominal GDP": int(ratio.argmin()),
           "quarter of the highest money / nominal GDP": int(ratio.argmax()),
           "money growth (% a year)": growth(m0, money_stock(s), T),
           "nominal GDP growth (% a year)": growth(gdp[0], gdp[-1]),
           "domestic prices growth (% a year)": growth(pdom[0], pdom[-1]),
           "real GDP growth (% a year)": growth(real[0], real[-1]),
           "households' deposits (% of initial money)": pct(s.hh_deposits.sum(1) - hh0),
           "firms' deposits (% of initial money)": pct(s.firm_deposits.sum(1) - firm0),
           "foreign deposits (% of initial money)": pct(s.foreign_deposits - for0),
           "loans (% of initial money)": pct(s.loans.sum(1) - loans0),
           "households' bonds (% of initial money)": pct(s.hh_bonds.sum(1) - bonds0),
           "public debt (% of annual potential GDP), first quarter": 100 * debt[0],
           "public debt (% of annual potential GDP), last quarter": 100 * debt[-1],
           "deficit (% of potential GDP)": 100 * float(np.mean(deficit))}
    out.update({f"booked: {k} (% of initial money)": pct(v) for k, v in booked.items()})
    scale = {"unemployment_gap": 100.0}
    names = {"inflation": "CPI inflation (% a year)", "price_change": "firms' price change (% a year)",
             "import_prices": "import prices (% a year)", "policy_rate": "policy rate (% a year)",
             "real_rate": "real rate (% a year)", "wage_growth": "wage growth (% a year)",
             "unemployment_gap": "unemployment less natural rate (pp)"}
    out.update({names[k]: float(scale.get(k, 400.0) * torch.stack(v).mean()) for k, v in acc.items()})
    return out


def at_box_end(actions: dict, tol: float = 0.02) -> dict:
    """``{"type: action": bool}``: the mean action within ``tol`` x its box's width of an end."""
    from ..envs.six_sector import ACTIONS

    out = {}
    for k, (lo, hi, names) in ACTIONS.items():
        for l_, h_, n in zip(lo, hi, names):
            v = actions[f"{k}: {n}"]
            out[f"{k}: {n}"] = bool(min(abs(v - l_), abs(v - h_)) < tol * (h_ - l_))
    return out


def card_of(m: dict, seed: int) -> dict:
    """The six-sector scorecard of one measurement (:func:`measure`)."""
    from ..analysis.six_sector_scorecard import six_sector_card

    d = m["diagnostics"]
    ends = at_box_end(m["actions"])
    return six_sector_card(seed=seed, sold_out_share=d["sold out (% of firm-quarters)"] / 100,
                           inflation_annual_pct=d["inflation (% a year)"], box_end_share=sum(ends.values()) / len(ends),
                           money_drift=d["money / nominal GDP, max / min over the episode"],
                           fiscal_response=m["fiscal"], rate_response=m["rate"],
                           price_gain=d["price-rise gain (reward per point)"])


# --------------------------------------------------------------------------- the command line
# python -m macrobook train six_sector --output-dir RUN_DIR [--iterations N ...]   (resumable)
# python -m macrobook scorecard RUN_DIR [--json]

NAME = "six_sector"
HELP = "Chapter 3's six-sector economy with MADDPG (or independent DDPG, SAC)"
#: run.json arguments a resumed run must share with its checkpoint (everything but the budget)
STRUCTURAL = ("algo", "seed", "num_envs", "num_households", "num_firms", "episode_len")
ALGO_FLAGS = {"maddpg": "MADDPG", "ddpg": "independent DDPG", "sac": "SAC"}


class SixSectorRunError(SystemExit):
    """A six-sector run directory cannot be used; the message is one line (exit 1)."""


def add_train_arguments(ap) -> None:
    from ..config import int_arg

    ap.add_argument("--output-dir", required=True, help="the run directory (created; resumed when it holds a run)")
    ap.add_argument("--algo", choices=sorted(ALGO_FLAGS), default="maddpg", help="learner (default maddpg)")
    ap.add_argument("--iterations", type=int_arg("--iterations", min=1), default=1200,
                    help="iterations: one quarter in every economy, then one gradient step per type (default 1200)")
    ap.add_argument("--num-envs", type=int_arg("--num-envs", min=1, max=4096), default=32, help="economies (default 32)")
    ap.add_argument("--num-households", type=int_arg("--num-households", min=1, max=1000), default=8)
    ap.add_argument("--num-firms", type=int_arg("--num-firms", min=1, max=100), default=4)
    ap.add_argument("--episode-len", type=int_arg("--episode-len", min=1, max=10_000), default=40)
    ap.add_argument("--seed", type=int_arg("--seed", min=0, max=2**31 - 1), default=0)
    ap.add_argument("--save-every", type=int_arg("--save-every", min=1), default=100,
                    help="iterations between atomic checkpoints (default 100)")
    ap.add_argument("--fresh", action="store_true", help="start over even if RUN_DIR holds a run")
    ap.add_argument("--stop-after", type=int_arg("--stop-after", min=1), default=None,
                    help="stop (with a checkpoint) after this many iterations in this call; the same command "
                         "without it resumes")


def _economy(args, device="cpu"):
    from ..envs.six_sector import SixSectorConfig, SixSectorEconomy

    cfg = SixSectorConfig(num_households=args["num_households"], num_firms=args["num_firms"],
                          episode_len=args["episode_len"])
    return SixSectorEconomy(cfg, num_envs=args["num_envs"], device=device)


def _run_state(learner, econ) -> dict:
    """Every tensor a resumed run needs to continue as if uninterrupted: the replay buffer, the
    learner's and the economy's random streams and the economy's state."""
    import dataclasses

    t = {f"buffer/{k}": v[:len(learner.buffer)] for k, v in learner.buffer.storage.items()}
    gens = {"buffer": learner.buffer.generator, "economy": econ.generator}
    for name in ("noise_generator", "target_generator", "generator"):
        if hasattr(learner, name):
            gens[name] = getattr(learner, name)
    t.update({f"rng/{k}": g.get_state() for k, g in gens.items()})
    t.update({f"econ/{f.name}": getattr(econ.state, f.name) for f in dataclasses.fields(econ.state)})
    return t


def _restore_state(learner, econ, tensors: dict, meta: dict) -> None:
    from ..envs.six_sector import SixSectorState

    buf = learner.buffer
    rows = {k[len("buffer/"):]: v for k, v in tensors.items() if k.startswith("buffer/")}
    if rows:
        buf.storage = {}
        buf.pos, buf.size = 0, 0
        first = next(iter(rows.values()))
        order = torch.arange(first.shape[0])
        # rows were saved in storage order; restore them there and the write position after them
        buf.add(**{k: v[order] for k, v in rows.items()})
        buf.pos, buf.size = int(meta["buffer_pos"]), int(meta["buffer_size"])
    gens = {"buffer": buf.generator, "economy": econ.generator}
    for name in ("noise_generator", "target_generator", "generator"):
        if hasattr(learner, name):
            gens[name] = getattr(learner, name)
    for k, g in gens.items():
        g.set_state(tensors[f"rng/{k}"])
    econ.state = SixSectorState(**{k[len("econ/"):]: v for k, v in tensors.items() if k.startswith("econ/")})
    econ.t = int(meta["econ_t"])


def _read_run(root, for_scorecard: bool = False):
    """``(info, model_path)`` of a six-sector run directory, or a one-line SixSectorRunError."""
    import json
    from pathlib import Path

    root = Path(root)
    what = "scorecard" if for_scorecard else "train six_sector"
    if not root.is_dir():
        raise SixSectorRunError(f"macrobook {what}: {root} is not a directory")
    p = root / "run.json"
    if not p.is_file():
        raise SixSectorRunError(f"macrobook {what}: {root} is not a macrobook run directory (no run.json)")
    try:
        info = json.loads(p.read_text(encoding="utf-8"))
        economy, args = info["economy"], dict(info["args"])
        if economy != NAME:
            raise SixSectorRunError(f"macrobook {what}: {root} is a {economy!r} run, not a {NAME!r} one")
        for k in STRUCTURAL:
            args[k]
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as e:
        raise SixSectorRunError(f"macrobook {what}: {p} is damaged ({type(e).__name__}: {e})") from None
    return info, root / "models" / "last.safetensors"


def train_main(args) -> int:
    """``python -m macrobook train six_sector``: train, checkpoint every ``--save-every`` iterations
    (atomically: weights, optimizers, replay buffer, random streams and the economy's state in one
    file), resume from ``models/last.safetensors`` when RUN_DIR holds a run (the result equals an
    uninterrupted run's), and write ``logs/train_log.csv`` and ``logs/scorecard.json``."""
    import json
    from pathlib import Path

    from ..algos.maddpg import collect_and_learn
    from ..analysis.scorecard import card_json
    from ..io import atomic_write_csv, atomic_write_text, clean_stale_temp, load_checkpoint, load_checkpoint_tensors
    from ..io import read_checkpoint_header, save_checkpoint
    from ..version import __version__

    root = Path(args.output_dir)
    if root.exists() and not root.is_dir():
        raise SixSectorRunError(f"macrobook train six_sector: --output-dir {root} is a file, not a folder")
    run_args = {"algo": ALGO_FLAGS[args.algo], "seed": args.seed, "num_envs": args.num_envs,
                "num_households": args.num_households, "num_firms": args.num_firms, "episode_len": args.episode_len}
    info_path, last = root / "run.json", root / "models" / "last.safetensors"
    resume = info_path.exists() and not args.fresh
    if resume:
        info, last = _read_run(root)
        diff = [k for k in STRUCTURAL if info["args"][k] != run_args[k]]
        if diff:
            raise SixSectorRunError(f"macrobook train six_sector: {root} holds a run with other "
                                    + ", ".join(f"--{k.replace('_', '-')} ({info['args'][k]!r})" for k in diff)
                                    + "; pass the same values or --fresh")
    for d in ("models", "logs"):
        (root / d).mkdir(parents=True, exist_ok=True)
        clean_stale_temp(root / d)
    if args.fresh:
        for p in (last, root / "logs" / "train_log.csv", root / "logs" / "scorecard.json"):
            p.unlink(missing_ok=True)
    atomic_write_text(info_path, json.dumps({"economy": NAME, "args": run_args, "macrobook_version": __version__},
                                            indent=2))
    torch.manual_seed(args.seed)
    econ = _economy(run_args)
    learner = make_learner(run_args["algo"], econ.specs, args.seed, args.num_envs, args.iterations)
    sigma0, sigma_final = learner.config.exploration_sigma, 0.02
    start, rows = 0, []
    obs = econ.reset(seed=args.seed)
    if resume and last.exists():
        try:
            header = read_checkpoint_header(last)
            load_checkpoint(last, learner.modules(), learner.optimizers())
            meta = header["metadata"]
            _restore_state(learner, econ, load_checkpoint_tensors(last, "__state__."), meta)
        except Exception as e:  # a truncated or foreign file
            raise SixSectorRunError(f"macrobook train six_sector: {last} is damaged or not this run's "
                                    f"({type(e).__name__}: {' '.join(str(e).split())}); use --fresh") from None
        start, rows = int(meta["iteration"]), list(meta["log"])
        obs = econ.observe()
    stop = args.iterations if args.stop_after is None else min(args.iterations, start + args.stop_after)
    for it in range(start, stop):
        learner.sigma = sigma0 + (sigma_final - sigma0) * it / max(args.iterations - 1, 1)
        obs, rew, macro, stats = collect_and_learn(econ, learner, obs, 1, 1)
        rows.append({"iteration": it, **{f"reward/{k}": v for k, v in rew.items()}, **stats,
                     **{f"macro/{k}": macro[k] for k in ("output_gap", "inflation", "unemployment")}})
        if (it + 1) % args.save_every == 0 or it + 1 == stop:
            meta = {"iteration": it + 1, "log": rows, "buffer_pos": learner.buffer.pos,
                    "buffer_size": len(learner.buffer), "econ_t": econ.t}
            save_checkpoint(last, learner.modules(), config={"economy": NAME, **run_args}, metadata=meta,
                            optimizers=learner.optimizers(), tensors=_run_state(learner, econ))
    import pandas as pd

    atomic_write_csv(root / "logs" / "train_log.csv", pd.DataFrame(rows))
    if stop < args.iterations:
        print(f"run directory: {root} (stopped after iteration {stop} of {args.iterations}; run the same command "
              "to resume)")
        return 0
    card = scorecard_of_run(root)
    atomic_write_text(root / "logs" / "scorecard.json", card_json(card, indent=2))
    print(f"run directory: {root} ({args.iterations} iterations; scorecard {card['passed']} of {card['total']} "
          "checks passed, logs/scorecard.json)")
    return 0


def scorecard_of_run(run_dir, seed: int = 20_000) -> dict:
    """The six-sector scorecard of a trained run directory (its last checkpoint), measured in
    fresh economies from ``reset(seed)``. Raises SixSectorRunError (one line) for a missing,
    damaged or foreign run directory."""
    from ..io import load_checkpoint

    info, last = _read_run(run_dir, for_scorecard=True)
    if not last.exists():
        raise SixSectorRunError(f"macrobook scorecard: {run_dir} has no trained model (models/last.safetensors)")
    a = info["args"]
    try:
        econ = _economy(a)
        learner = make_learner(a["algo"], econ.specs, int(a["seed"]), int(a["num_envs"]), 1)
        load_checkpoint(last, learner.modules())
    except SystemExit:
        raise
    except Exception as e:
        raise SixSectorRunError(f"macrobook scorecard: {last} is damaged or does not match run.json "
                                f"({type(e).__name__}: {' '.join(str(e).split())})") from None
    card = card_of(measure(econ, learner.policy(deterministic=True), seed=seed), int(a["seed"]))
    card["learner"] = a["algo"]
    return card
